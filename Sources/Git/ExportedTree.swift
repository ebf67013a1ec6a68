import Foundation

/// Checks on directories inside an exported (fetched) tree.
public enum ExportedTree {
    /// True when `path` is `root` or lies below it once every symbolic link in both is
    /// resolved (`realpath(3)` on each), so a path such as `<root>/sub/link/..` whose link
    /// leads elsewhere is judged by where it really is, not by how it is spelled. False when
    /// either does not exist (or cannot be resolved): check existence first when a missing
    /// directory needs its own error. Relative paths are taken from the current directory,
    /// as `realpath` does.
    public static func contains(_ path: String, root: String) -> Bool {
        guard let resolvedRoot = resolved(root), let resolvedPath = resolved(path) else { return false }
        if resolvedPath == resolvedRoot { return true }
        return resolvedPath.hasPrefix(resolvedRoot.hasSuffix("/") ? resolvedRoot : resolvedRoot + "/")
    }

    /// `realpath(path, NULL)`, copied into a Swift string.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
