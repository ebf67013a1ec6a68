import Foundation

/// A cache operation the file system refused: what hld tried, on which path, and the
/// system's reason (`strerror`).
public struct CacheStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, as a verb phrase: `lock`, `write`, `move into place`, …
    public var what: String
    public var path: String
    /// The system's reason, e.g. `Not a directory`.
    public var reason: String

    public init(what: String, path: String, reason: String) {
        self.what = what
        self.path = path
        self.reason = reason
    }

    /// An error for a system call that just failed, with the text of the current `errno`.
    static func system(_ what: String, _ path: String) -> CacheStoreError {
        CacheStoreError(what: what, path: path, reason: String(cString: strerror(errno)))
    }

    /// `cannot lock /cache/helm/charts/….tgz: No space left on device`
    public var description: String { "cannot \(what) \(path): \(reason)" }
}
