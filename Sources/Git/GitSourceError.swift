/// A git source that could not be fetched or resolved: one line naming the (redacted) URL,
/// the ref asked for, and what went wrong.
public struct GitSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case invalidURL
        /// No server answered (connection refused, unknown host, timeout).
        case unreachable
        /// The server answered but has no such repository.
        case repositoryNotFound
        case authentication
        case refNotFound
        case ambiguousRef
        case pathNotFound
        /// A `path` that leaves the fetched tree through `..`.
        case pathEscapes
        /// A `path` that names a file or symbolic link instead of a directory, or goes
        /// through a symbolic link (links in fetched trees are not followed).
        case notADirectory
        /// `--offline` and the cache does not have it.
        case notInCache
        case corruptMirror
        case push
        /// Any other libgit2 or file-system failure.
        case failed
    }

    /// The URL, redacted.
    public var url: String
    /// What was asked for: `branch main`, `tag v1.2`, `default branch`, …
    public var ref: String?
    public var kind: Kind
    public var detail: String

    public init(url: String, ref: String?, kind: Kind, detail: String) {
        self.url = GitURL.redact(url)
        self.ref = ref
        self.kind = kind
        self.detail = GitURL.redact(detail)
    }

    public var description: String {
        "\(url)\(ref.map { " (\($0))" } ?? ""): \(detail)"
    }
}

/// What to check out of a repository.
public enum GitRef: Sendable, Hashable, CustomStringConvertible {
    /// The branch the remote's HEAD points at.
    case defaultBranch
    case branch(String)
    case tag(String)
    /// A full or abbreviated commit id.
    case commit(String)
    /// Fabrikate's `version`: a tag if one has this name, else a commit id.
    case version(String)

    /// Fabrikate's fields: `version` wins over `branch`; neither means the default branch.
    public init(branch: String?, version: String?) {
        if let version, !version.isEmpty {
            self = .version(version)
        } else if let branch, !branch.isEmpty {
            self = .branch(branch)
        } else {
            self = .defaultBranch
        }
    }

    public var description: String {
        switch self {
        case .defaultBranch: return "default branch"
        case .branch(let name): return "branch \(name)"
        case .tag(let name): return "tag \(name)"
        case .commit(let id): return "commit \(id)"
        case .version(let value): return "version \(value)"
        }
    }

    /// A full 40-hex-digit commit id, which needs no fetch when the mirror has it.
    var fullCommitID: String? {
        switch self {
        case .commit(let id), .version(let id):
            return id.count == 40 && id.allSatisfy(\.isHexDigit) ? id.lowercased() : nil
        default:
            return nil
        }
    }
}
