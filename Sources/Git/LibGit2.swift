internal import CGit2
import Synchronization

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
    /// A CA file given before is applied here, so that a run that never touches git never
    /// pays for parsing the bundle (`SSL_CERT_FILE` is set on many CI machines).
    private static let initialized: Bool = {
        let ready = git_libgit2_init() > 0
        let file = state.withLock { state in
            state.initialized = true
            return state.certificateFile
        }
        if let file { applyCertificates(file) }
        return ready
    }()

    private struct State {
        var initialized = false
        var certificateFile: String?
        var certificateFailure: GitError?
    }

    private static let state = Mutex(State())

    /// Initializes libgit2 if that has not happened yet.
    public static func ensureInitialized() {
        _ = initialized
    }

    private static func applyCertificates(_ path: String) {
        let code = hld_git_set_ssl_cert_file(path)
        let failure = code < 0 ? GitError.last("git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)", code: code) : nil
        state.withLock { $0.certificateFailure = failure }
    }

    /// Why the CA file given to ``trustCertificates(inFile:)`` could not be used; every
    /// connection refuses to start then (no fallback to other certificates).
    static var certificateFailure: GitError? {
        ensureInitialized()
        return state.withLock { $0.certificateFailure }
    }

    /// The version libgit2 reports at run time (`git_libgit2_version`).
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// The version libgit2 reports at run time, as numbers.
    static var versionNumbers: (major: Int, minor: Int, revision: Int) {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = git_libgit2_version(&major, &minor, &revision)
        return (Int(major), Int(minor), Int(revision))
    }

    /// Whether shallow fetches work here: hld was compiled against headers that have
    /// `git_fetch_options.depth` and the libgit2 it runs with is 1.7 or newer.
    public static var canFetchShallow: Bool {
        let (major, minor, _) = versionNumbers
        return hld_git_headers_have_depth() == 1 && (major > 1 || (major == 1 && minor >= 7))
    }

    /// Whether shallow fetches work over git:// and ssh:// too. libgit2 1.7 and 1.8 send
    /// their wants a second time after the shallow list on these stateful connections,
    /// which git's upload-pack refuses ("expected SHA1 list"); 1.9 does not. Over
    /// http(s), where every request repeats the wants, 1.7 and 1.8 work.
    static var canFetchShallowOverStatefulTransports: Bool {
        let (major, minor, _) = versionNumbers
        return canFetchShallow && (major > 1 || minor >= 9)
    }

    /// Whether a fetch from `transport` may be shallow here.
    static func canFetchShallow(from transport: GitURL) -> Bool {
        transport.isStateful ? canFetchShallowOverStatefulTransports : canFetchShallow
    }

    /// How git repositories are fetched in a process with `environment`: shallow and
    /// only the refs a tree needs where libgit2 can, unless `HLD_GIT_SHALLOW` is `0`,
    /// `false`, `no` or `off`; otherwise whole mirrors.
    public static func fetchMode(environment: [String: String]) -> GitFetchMode {
        if let value = environment["HLD_GIT_SHALLOW"], ["0", "false", "no", "off"].contains(value.lowercased()) {
            return .full(reason: "HLD_GIT_SHALLOW=\(value)")
        }
        guard canFetchShallow else {
            let headers = hld_git_headers_have_depth() == 1
            return .full(reason: headers ? "libgit2 \(version) has no shallow fetch; 1.7 or newer has"
                                         : "hld was built against libgit2 headers without shallow fetch (before 1.7)")
        }
        return .shallow
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

    /// Makes the PEM file at `path` the CA certificates HTTPS fetches and pushes trust,
    /// instead of the bundle libgit2 was built to read. Verification itself is never
    /// turned off: hld sets no certificate callback.
    /// Applied when libgit2 is first initialized (at once if it already is).
    public static func trustCertificates(inFile path: String) {
        let now = state.withLock { state in
            state.certificateFile = path
            return state.initialized
        }
        if now { applyCertificates(path) }
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

/// How hld fetches a git repository into its mirror.
public enum GitFetchMode: Sendable, Equatable, CustomStringConvertible {
    /// Only the refs the tree asks for, with depth 1; deepened when a pinned commit needs
    /// more history (libgit2 1.7 and newer).
    case shallow
    /// Every branch and tag with its whole history (libgit2 before 1.7, or asked for).
    case full(reason: String)

    public var description: String {
        switch self {
        case .shallow:
            guard !LibGit2.canFetchShallowOverStatefulTransports else { return "shallow, only the refs needed" }
            return "shallow, only the refs needed (over git:// and ssh:// only the refs needed, with their history: libgit2 \(LibGit2.version) cannot fetch shallow over them; 1.9 can)"
        case .full(let reason): return "full mirrors (\(reason))"
        }
    }
}
