internal import CGit2
import Foundation

/// Lends a `git_strarray` over `strings` for the duration of `body`.
func withStrarray<R>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) throws -> R) rethrows -> R {
    var cStrings: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    return try cStrings.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}

/// What a remote advertises: its branches and tags, and the branch its HEAD names.
struct Advertisement: Sendable, Equatable {
    var refs: [String: ObjectID]
    var defaultBranch: String?
}

/// How much history a fetch asks for.
enum FetchDepth: Int32, Sendable {
    /// Everything the wanted tips reach (`GIT_FETCH_DEPTH_FULL`).
    case full = 0
    /// Only the wanted tips themselves.
    case tip = 1
    /// The whole history of a shallow repository (`GIT_FETCH_DEPTH_UNSHALLOW`).
    case unshallow = 2147483647
}

/// An open connection to a remote (`git_remote_create_anonymous` + `git_remote_connect`):
/// an in-memory remote, so no URL is ever written into the repository's config.
/// Confined to the thread that made it; disconnected and freed on deinit.
final class RemoteConnection {
    private let remote: OpaquePointer
    private let session: CredentialSession
    private var callbacks = git_remote_callbacks()
    let url: GitURL

    init(repository: Repository, url: GitURL, credentials: GitCredentials, direction: git_direction) throws(GitSourceError) {
        self.url = url
        session = CredentialSession(url: url, credentials: credentials)
        // libgit2 reports a missing local repository as "unsupported URL protocol".
        if let local = url.localPath, !FileManager.default.fileExists(atPath: local) {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .repositoryNotFound, detail: "repository not found (no such directory \(local))")
        }
        if let failure = LibGit2.certificateFailure {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "libgit2 cannot use the CA file hld was given: \(failure.message)")
        }
        var remote: OpaquePointer?
        let created = git_remote_create_anonymous(&remote, repository.pointer, url.transport)
        guard created == 0, let remote else {
            throw Self.classify(GitError.last("git_remote_create_anonymous", code: created), url: url, session: nil)
        }
        self.remote = remote
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.credentials = acquireCredential
        callbacks.payload = Unmanaged.passUnretained(session).toOpaque()
        var proxy = git_proxy_options()
        git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
        let code = git_remote_connect(remote, direction, &callbacks, &proxy, nil)
        // On failure, deinit (which runs once every property is set) frees the remote.
        if code < 0 { throw Self.classify(GitError.last("git_remote_connect", code: code), url: url, session: session) }
    }

    deinit {
        git_remote_disconnect(remote)
        git_remote_free(remote)
    }

    /// The refs the remote advertises (`git_remote_ls`), peeled tag entries left out, and
    /// its default branch (`git_remote_default_branch`).
    func advertisement() throws(GitSourceError) -> Advertisement {
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        let code = git_remote_ls(&heads, &count, remote)
        guard code == 0 else { throw Self.classify(GitError.last("git_remote_ls", code: code), url: url, session: session) }
        var refs: [String: ObjectID] = [:]
        for index in 0..<count {
            guard let head = heads?[index] else { continue }
            let name = String(cString: head.pointee.name)
            guard name.hasPrefix("refs/heads/") || name.hasPrefix("refs/tags/"), !name.hasSuffix("^{}") else { continue }
            refs[name] = withUnsafePointer(to: head.pointee.oid) { ObjectID($0) }
        }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        var defaultBranch: String?
        if git_remote_default_branch(&buffer, remote) == 0, let pointer = buffer.ptr {
            defaultBranch = String(cString: pointer)
        }
        return Advertisement(refs: refs, defaultBranch: defaultBranch)
    }

    /// Downloads and indexes what `refspecs` need (`git_remote_download`); refs are
    /// updated by the caller from the advertisement. `depth`: 0 for whole history, else
    /// that many commits from each wanted tip (``FetchDepth``); only where libgit2 has it.
    func download(_ refspecs: [String], depth: FetchDepth = .full, progress: (@Sendable (TransferProgress) -> Void)? = nil) throws(GitSourceError) {
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        if depth != .full, hld_git_fetch_options_set_depth(&options, depth.rawValue) != 0 {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "this libgit2 cannot fetch shallow (it is older than 1.7)")
        }
        options.callbacks = callbacks
        session.onTransfer = progress
        defer { session.onTransfer = nil }
        if progress != nil {
            options.callbacks.transfer_progress = { stats, payload in
                guard let stats, let payload else { return 0 }
                let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
                session.onTransfer?(TransferProgress(
                    receivedObjects: Int(stats.pointee.received_objects), totalObjects: Int(stats.pointee.total_objects),
                    indexedObjects: Int(stats.pointee.indexed_objects), receivedBytes: Int(stats.pointee.received_bytes)))
                return 0
            }
        }
        options.prune = GIT_FETCH_NO_PRUNE
        options.update_fetchhead = 0
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        let code = withStrarray(refspecs) { git_remote_download(remote, $0, &options) }
        if code < 0 { throw Self.classify(GitError.last("git_remote_download", code: code), url: url, session: session) }
    }

    /// Pushes `refspecs` (`git_remote_push`); a ref the server refuses is an error.
    func push(_ refspecs: [String]) throws(GitSourceError) {
        final class Rejections { var messages: [String] = [] }
        let rejections = Rejections()
        var pushCallbacks = callbacks
        let context = PushContext(session: session, rejections: { rejections.messages.append($0) })
        pushCallbacks.payload = Unmanaged.passUnretained(context).toOpaque()
        pushCallbacks.push_update_reference = { refname, status, payload in
            guard let payload, let status else { return 0 }
            let context = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            context.rejections("\(refname.map { String(cString: $0) } ?? "?"): \(String(cString: status))")
            return 0
        }
        pushCallbacks.credentials = { out, url, user, allowed, payload in
            guard let payload else { return GIT_PASSTHROUGH.rawValue }
            let context = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            return acquireCredential(out, url, user, allowed, Unmanaged.passUnretained(context.session).toOpaque())
        }
        var options = git_push_options()
        git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION))
        options.callbacks = pushCallbacks
        let code = withExtendedLifetime(context) { withStrarray(refspecs) { git_remote_push(remote, $0, &options) } }
        if code < 0 {
            var error = Self.classify(GitError.last("git_remote_push", code: code), url: url, session: session)
            if error.kind == .failed { error.kind = .push }
            throw error
        }
        if !rejections.messages.isEmpty {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .push, detail: "the server refused the push: " + rejections.messages.joined(separator: "; "))
        }
    }

    /// Sorts a libgit2 failure into what a user can act on.
    static func classify(_ error: GitError, url: GitURL, session: CredentialSession?) -> GitSourceError {
        if let detail = session?.failureDetail {
            return GitSourceError(url: url.redacted, ref: nil, kind: .authentication, detail: detail)
        }
        let message = error.message
        let lower = message.lowercased()
        let kind: GitSourceError.Kind
        // libgit2's ownership check (GIT_EOWNER; git calls its setting safe.directory).
        if error.code == -36 || lower.contains("safe.directory") || lower.contains("not owned by current user") {
            return GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: """
                the repository is owned by another user, and libgit2 refuses to open it (the check git \
                lets safe.directory relax; hld reads no git configuration): run hld as the repository's \
                owner, or make the user running hld own it (chown -R)
                """)
        }
        // GIT_ECERTIFICATE, or the TLS library's own failure (GIT_ERROR_SSL).
        if error.code == -17 || error.errorClass == 16 {
            return GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: TLSAdvice.untrusted(message))
        }
        if lower.contains("no space left on device") || lower.contains("disk quota exceeded") {
            return GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "the disk is full (\(message))")
        }
        // Status codes as libgit2 words them: a path or pack name holding "401" is not one.
        if lower.contains("status code: 401") || lower.contains("authentication") {
            kind = .authentication
        } else if lower.contains("status code: 404") || lower.contains("not found") || lower.contains("not exported")
                    || lower.contains("could not find repository") || lower.contains("failed to resolve path")
                    || lower.contains("not a git repository") || lower.contains("does not appear to be")
                    || lower.contains("no such repository") {
            kind = .repositoryNotFound
        } else if lower.contains("connect") || lower.contains("refused") || lower.contains("resolve address")
                    || lower.contains("timed out") || lower.contains("unreachable") || lower.contains("early eof") {
            kind = .unreachable
        } else {
            kind = .failed
        }
        let detail: String
        switch kind {
        case .repositoryNotFound: detail = "repository not found (\(message))"
        case .unreachable: detail = "cannot reach the server (\(message))"
        case .authentication: detail = "authentication failed (\(message))"
        default: detail = message
        }
        return GitSourceError(url: url.redacted, ref: nil, kind: kind, detail: detail)
    }
}

/// What the push callbacks need; lives for one `git_remote_push` call.
private final class PushContext {
    let session: CredentialSession
    let rejections: (String) -> Void

    init(session: CredentialSession, rejections: @escaping (String) -> Void) {
        self.session = session
        self.rejections = rejections
    }
}
