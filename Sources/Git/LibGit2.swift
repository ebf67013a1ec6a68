internal import CGit2

/// An error from libgit2: the C function that failed, libgit2's error class and message.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public var function: String
    public var code: Int
    public var errorClass: Int
    public var message: String

    public var description: String { "\(message) (\(function) failed with code \(code))" }

    /// Reads libgit2's per-thread last error right after `function` returned `code`.
    static func last(_ function: String, code: Int32) -> GitError {
        let error = git_error_last()
        let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown libgit2 error"
        return GitError(function: function, code: Int(code), errorClass: Int(error?.pointee.klass ?? 0), message: message)
    }
}

/// Checks a libgit2 return code: negative is an error, read at once on this thread.
@inline(__always)
func check(_ code: Int32, _ function: String) throws(GitError) {
    if code < 0 { throw GitError.last(function, code: code) }
}

/// Process-wide libgit2 state.
public enum LibGit2 {
    /// `git_libgit2_init` once per process, before any other call; the library stays
    /// initialized until exit (shutting it down while tasks may still use it buys nothing).
    private static let initialized: Bool = git_libgit2_init() > 0

    /// Initializes libgit2 if that has not happened yet.
    public static func ensureInitialized() {
        _ = initialized
    }

    /// The version libgit2 reports at run time (`git_libgit2_version`).
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// Transports and features compiled into this libgit2 (`git_libgit2_features`).
    public static var features: [String] {
        let flags = UInt32(bitPattern: git_libgit2_features())
        var names: [String] = []
        if flags & GIT_FEATURE_THREADS.rawValue != 0 { names.append("threads") }
        if flags & GIT_FEATURE_HTTPS.rawValue != 0 { names.append("https") }
        if flags & GIT_FEATURE_SSH.rawValue != 0 { names.append("ssh") }
        return names
    }

    /// Points libgit2's global, XDG and system config lookups at `directory`, so that no
    /// config outside what hld sets (a user's `url.*.insteadOf`, say) changes its behaviour.
    public static func isolateConfiguration(in directory: String) throws(GitError) {
        ensureInitialized()
        for level in [GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_PROGRAMDATA] {
            try check(hld_git_set_config_search_path(level, directory), "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
        }
    }

    /// Where libgit2 currently looks for the global config (`GIT_OPT_GET_SEARCH_PATH`).
    public static func globalConfigSearchPath() throws(GitError) -> String {
        ensureInitialized()
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(hld_git_get_config_search_path(GIT_CONFIG_LEVEL_GLOBAL, &buffer), "git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH)")
        guard let pointer = buffer.ptr else { return "" }
        return String(cString: pointer)
    }
}
