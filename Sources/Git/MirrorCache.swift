public import CacheStore
public import Foundation

/// Where and how the git cache works.
public struct MirrorCacheOptions: Sendable {
    /// The cache root (`$HLD_CACHE_DIR`, …); git data lives under `<root>/git`.
    public var root: URL
    /// Use only what the cache has; never contact a server.
    public var offline: Bool
    public var credentials: GitCredentials
    public var rewrites: URLRewrites
    /// Let libgit2 read the user's and system git configuration (off: hld behaves the same
    /// on every machine, whatever `url.*.insteadOf` a user has).
    public var useUserGitConfig: Bool
    /// Told how a transfer is going (libgit2's transfer progress), for the URL as written.
    public var transferProgress: (@Sendable (GitURL, TransferProgress) -> Void)?
    /// The run's leases: the mirrors and trees it uses are held until it ends, so that no
    /// prune removes them meanwhile.
    public var leases: CacheLeases?

    public init(root: URL, offline: Bool = false, credentials: GitCredentials = GitCredentials(),
                rewrites: URLRewrites = URLRewrites(), useUserGitConfig: Bool = false,
                transferProgress: (@Sendable (GitURL, TransferProgress) -> Void)? = nil, leases: CacheLeases? = nil) {
        self.transferProgress = transferProgress
        self.leases = leases
        self.root = root
        self.offline = offline
        self.credentials = credentials
        self.rewrites = rewrites
        self.useUserGitConfig = useUserGitConfig
    }
}

/// How a fetch is going: libgit2's transfer statistics.
public struct TransferProgress: Sendable, Equatable {
    public var receivedObjects: Int
    public var totalObjects: Int
    public var indexedObjects: Int
    public var receivedBytes: Int
}

/// A git source resolved to immutable ids and a directory on disk.
public struct ResolvedSource: Sendable, Hashable {
    public var url: GitURL
    public var ref: GitRef
    public var commit: ObjectID
    /// The tree at `path` inside `commit`.
    public var tree: ObjectID
    public var path: String
    /// The exported, read-only directory of `tree`.
    public var directory: URL
}

/// The persistent, content-addressed git cache: one bare mirror per normalized URL
/// (`<root>/git/mirrors/`), one exported directory per tree id (`<root>/git/trees-v2/`), both
/// entries of the shared ``CacheStore``.
///
/// Within one `MirrorCache` (one run), each URL is fetched at most once, however many
/// components ask and however many ask at the same time; a full commit id the mirror
/// already has needs no fetch at all. File locks make concurrent hld processes safe.
public actor MirrorCache {
    public let options: MirrorCacheOptions
    private let store: CacheStore
    private var fetches: [String: Task<Void, any Error>] = [:]
    /// Keys of the URLs this cache contacted a server for, in order.
    public private(set) var contacted: [String] = []
    /// Keys of the URLs whose fetch transferred objects, in order.
    public private(set) var downloaded: [String] = []

    public init(options: MirrorCacheOptions) throws(GitSourceError) {
        self.options = options
        store = CacheStore(root: options.root, leases: options.leases)
        if !options.useUserGitConfig {
            let empty = options.root.appendingPathComponent("git/no-config").path
            do {
                try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
                try LibGit2.isolateConfiguration(in: empty)
            } catch {
                throw GitSourceError(url: empty, ref: nil, kind: .failed, detail: "cannot prepare the git cache: \(error)")
            }
        }
    }

    /// The mirror directory for `url`.
    public nonisolated func mirrorPath(for url: GitURL) -> String {
        mirrorEntry(for: url).path
    }

    /// The cache entry of `url`'s mirror.
    public nonisolated func mirrorEntry(for url: GitURL) -> CacheEntry {
        Self.mirrorEntry(for: url, in: store)
    }

    /// The entry of `url`'s mirror in `store`.
    public static func mirrorEntry(for url: GitURL, in store: CacheStore) -> CacheEntry {
        store.entry(.gitMirrors, name: url.cacheName)
    }

    /// The mirror of `url`, path in hand, used by this run (see ``CacheStore/use(_:)``).
    private nonisolated func usedMirror(_ url: GitURL) -> String {
        let entry = mirrorEntry(for: url)
        store.use(entry)
        return entry.path
    }

    /// The root tree of `commit` in the mirror `entry`, read without fetching, recording a
    /// use or setting anything up in the cache; nil when the mirror or the commit is not
    /// there. (Exported trees are stored by the root tree of their commit.)
    public static func rootTree(of commit: ObjectID, inMirror entry: CacheEntry) -> ObjectID? {
        guard let repository = MirrorStore.openComplete(entry.path) else { return nil }
        return try? repository.tree(ofCommit: commit)
    }

    /// The commit `ref` names, fetching the mirror first (once per run) unless the ref is a
    /// full commit id the mirror already has.
    public func resolve(_ url: GitURL, _ ref: GitRef) async throws(GitSourceError) -> ObjectID {
        try await locate(url, ref, path: nil).commit
    }

    /// The commit `ref` names and the tree id at `path` in it (one mirror handle for both).
    public func locate(_ url: GitURL, _ ref: GitRef, path treePath: String) async throws(GitSourceError) -> (commit: ObjectID, tree: ObjectID) {
        let (commit, tree) = try await locate(url, ref, path: Optional(treePath))
        return (commit, tree ?? commit)
    }

    private func locate(_ url: GitURL, _ ref: GitRef, path treePath: String?) async throws(GitSourceError) -> (commit: ObjectID, tree: ObjectID?) {
        let mirror = mirrorEntry(for: url)
        let path = mirror.path
        let present = store.use(mirror)
        let work = { @Sendable () throws(GitSourceError) -> (commit: ObjectID, tree: ObjectID?) in
            guard let treePath else { return (try MirrorStore.resolve(ref, url: url, path: path), nil) }
            let (commit, tree) = try MirrorStore.locate(ref, treePath: treePath, url: url, path: path)
            return (commit, tree)
        }
        if present, let full = ref.fullCommitID, let id = ObjectID(hex: full),
           try await Self.blocking({ MirrorStore.openComplete(path)?.contains(id) ?? false }) {
            return try await Self.blocking(work)
        }
        do {
            try await ensureFetched(url)
        } catch {
            throw error.with(ref: ref)
        }
        // Held now if it was missing before and another process's fetch made it meanwhile.
        store.use(mirror)
        do {
            return try await Self.blocking(work)
        } catch where error.kind == .corruptMirror && !options.offline {
            // Objects the refs need are unreadable: fetch the whole mirror again, once.
            try await rebuild(url, ref: ref)
            return try await Self.blocking(work)
        }
    }

    /// The transfer progress callback for `url`, when one was asked for.
    private static func progress(_ options: MirrorCacheOptions, _ url: GitURL) -> (@Sendable (TransferProgress) -> Void)? {
        guard let report = options.transferProgress else { return nil }
        return { @Sendable stats in report(url, stats) }
    }

    /// Re-creates a damaged mirror from its remote.
    private func rebuild(_ url: GitURL, ref: GitRef) async throws(GitSourceError) {
        let mirror = mirrorEntry(for: url)
        let options = self.options
        do {
            let transport = try GitURL(options.rewrites.apply(url.original))
            _ = try await Self.blocking { () throws(GitSourceError) in
                try MirrorStore.update(url: url, transport: transport, mirror: mirror, credentials: options.credentials, recreate: true, leases: options.leases,
                                       progress: Self.progress(options, url))
            }
            recordDownload(url)
        } catch {
            throw error.with(ref: ref)
        }
    }

    /// The tree id of `path` inside `commit`.
    public func tree(_ url: GitURL, commit: ObjectID, path: String, ref: GitRef? = nil) async throws(GitSourceError) -> ObjectID {
        let mirror = usedMirror(url)
        return try await Self.blocking { () throws(GitSourceError) in
            try MirrorStore.tree(at: path, commit: commit, url: url, ref: ref?.description, mirror: mirror)
        }
    }

    /// One file's bytes at `path` in `commit`, read from the object database without
    /// exporting anything; nil when there is no such file.
    public func readFile(_ url: GitURL, commit: ObjectID, path: String, ref: GitRef? = nil) async throws(GitSourceError) -> [UInt8]? {
        let mirror = usedMirror(url)
        return try await Self.blocking { () throws(GitSourceError) in
            try MirrorStore.readFile(at: path, commit: commit, url: url, ref: ref?.description, mirror: mirror)
        }
    }

    /// How two commits of the mirrored repository relate: `a` descends from `b`, `b` from
    /// `a`, or neither (unrelated, or diverged).
    public func relation(_ url: GitURL, _ a: ObjectID, _ b: ObjectID) async -> CommitRelation {
        let mirror = usedMirror(url)
        return (try? await Self.blocking { () throws(GitSourceError) -> CommitRelation in
            guard let repository = MirrorStore.openComplete(mirror) else { return .unrelated }
            return CommitRelation(a, b, in: repository)
        }) ?? .unrelated
    }

    /// The read-only directory holding `tree`, exported on first use and shared by every
    /// user of the same tree.
    public func export(_ url: GitURL, tree: ObjectID) async throws(GitSourceError) -> URL {
        let mirror = usedMirror(url)
        let entry = store.entry(.gitTrees, name: tree.hex)
        let leases = options.leases
        let path = try await Self.blocking { () throws(GitSourceError) in
            try MirrorStore.export(tree: tree, url: url, mirror: mirror, entry: entry, leases: leases)
        }
        // Stamped when there are no leases (they stamp what they hold).
        store.use(entry)
        return URL(fileURLWithPath: path)
    }

    /// Resolve, find the tree at `path`, export it: a git source ready to read.
    public func source(_ url: GitURL, _ ref: GitRef, path: String = "") async throws(GitSourceError) -> ResolvedSource {
        let (commit, tree) = try await locate(url, ref, path: path)
        let directory = try await export(url, tree: tree)
        return ResolvedSource(url: url, ref: ref, commit: commit, tree: tree, path: path, directory: directory)
    }

    /// Fetches `url` into its mirror once per run; concurrent callers share the fetch.
    private func ensureFetched(_ url: GitURL) async throws(GitSourceError) {
        if let running = fetches[url.key] {
            do { return try await running.value } catch { throw error as? GitSourceError ?? GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "\(error)") }
        }
        let mirror = mirrorEntry(for: url)
        let path = mirror.path
        let options = self.options
        let task = Task<Void, any Error> {
            if options.offline {
                guard try await Self.blocking({ MirrorStore.isComplete(path) }) else {
                    throw GitSourceError(url: url.redacted, ref: nil, kind: .notInCache, detail: "not in the cache and --offline forbids fetching it")
                }
                return
            }
            let transport = try GitURL(options.rewrites.apply(url.original))
            self.recordContact(url)
            let outcome = try await Self.blocking { () throws(GitSourceError) in
                try MirrorStore.update(url: url, transport: transport, mirror: mirror, credentials: options.credentials, leases: options.leases,
                                       progress: Self.progress(options, url))
            }
            if outcome.downloaded { self.recordDownload(url) }
        }
        fetches[url.key] = task
        do { try await task.value } catch { throw error as? GitSourceError ?? GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "\(error)") }
    }

    private func recordContact(_ url: GitURL) { contacted.append(url.key) }
    private func recordDownload(_ url: GitURL) { downloaded.append(url.key) }

    /// Runs blocking libgit2 or file-system work on a thread outside Swift's cooperative
    /// pool, which a network fetch must never occupy.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws(GitSourceError) -> T) async throws(GitSourceError) -> T {
        let result: Result<T, GitSourceError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result(catching: work))
            }
        }
        return try result.get()
    }
}

extension GitSourceError {
    /// The same error, naming `ref` if it named none.
    func with(ref: GitRef) -> GitSourceError {
        var copy = self
        if copy.ref == nil { copy.ref = ref.description }
        return copy
    }
}

/// How one commit relates to another.
public enum CommitRelation: String, Sendable, Codable {
    /// The first is the second, or descends from it.
    case ahead
    /// The second descends from the first.
    case behind
    /// Neither is in the other's history.
    case unrelated

    init(_ a: ObjectID, _ b: ObjectID, in repository: Repository) {
        if a == b || repository.isDescendant(a, of: b) {
            self = .ahead
        } else if repository.isDescendant(b, of: a) {
            self = .behind
        } else {
            self = .unrelated
        }
    }
}
