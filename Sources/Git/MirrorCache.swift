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
    /// Shallow and only the refs needed, or whole mirrors (``LibGit2/fetchMode(environment:)``).
    public var fetchMode: GitFetchMode

    public init(root: URL, offline: Bool = false, credentials: GitCredentials = GitCredentials(),
                rewrites: URLRewrites = URLRewrites(), useUserGitConfig: Bool = false,
                transferProgress: (@Sendable (GitURL, TransferProgress) -> Void)? = nil, leases: CacheLeases? = nil,
                fetchMode: GitFetchMode = LibGit2.fetchMode(environment: ProcessInfo.processInfo.environment)) {
        self.fetchMode = fetchMode
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
/// entries of the shared ``CacheStore``. A repository on this machine (a `file://` URL or a
/// path, also as a mirror rule's target) is read in place: no mirror, its refs read anew
/// each run.
///
/// Within one `MirrorCache` (one run), each ref of a URL is fetched at most once, however
/// many components ask and however many ask at the same time; refs of one URL asked for
/// while a fetch of it runs are fetched together next (whole mirrors: one fetch per URL).
/// A full commit id the mirror already has needs no fetch at all. File locks make
/// concurrent hld processes safe.
public actor MirrorCache {
    public nonisolated let options: MirrorCacheOptions
    private let store: CacheStore
    /// Per URL key: the fetches of this run (see ``ensureFetched(_:_:)``).
    private var queues: [String: FetchQueue] = [:]
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

    /// The root tree of `commit` of the repository at `url`: read from the repository
    /// itself when `rewrites` make `url` one on this machine (read in place, never
    /// mirrored), else from its mirror in `store`, as ``rootTree(of:inMirror:)``.
    public static func rootTree(of commit: ObjectID, url: GitURL, rewrites: URLRewrites, in store: CacheStore) -> ObjectID? {
        if let local = try? localRepository(url, rewrites: rewrites) {
            return (try? Repository.open(local)).flatMap { try? $0.tree(ofCommit: commit) }
        }
        return rootTree(of: commit, inMirror: mirrorEntry(for: url, in: store))
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
        @Sendable func work(_ path: String) throws(GitSourceError) -> (commit: ObjectID, tree: ObjectID?) {
            guard let treePath else { return (try MirrorStore.resolve(ref, url: url, path: path), nil) }
            let (commit, tree) = try MirrorStore.locate(ref, treePath: treePath, url: url, path: path)
            return (commit, tree)
        }
        if let local = try localRepository(url) {
            do {
                return try await Self.blocking { () throws(GitSourceError) in
                    try Self.openInPlace(local, url: url)
                    return try work(local)
                }
            } catch {
                throw error.with(ref: ref)
            }
        }
        let mirror = mirrorEntry(for: url)
        let path = mirror.path
        let present = store.use(mirror)
        if present, let full = ref.fullCommitID, let id = ObjectID(hex: full),
           try await Self.blocking({ MirrorStore.openComplete(path)?.contains(id) ?? false }) {
            return try await Self.blocking { () throws(GitSourceError) in try work(path) }
        }
        do {
            try await ensureFetched(url, options.fetchMode == .shallow ? .ref(ref) : .everything)
        } catch {
            throw error.with(ref: ref)
        }
        // Held now if it was missing before and another process's fetch made it meanwhile.
        store.use(mirror)
        do {
            return try await Self.blocking { () throws(GitSourceError) in try work(path) }
        } catch where error.kind == .corruptMirror && !options.offline {
            // Objects the refs need are unreadable: fetch the whole mirror again, once.
            try await rebuild(url, ref: ref)
            return try await Self.blocking { () throws(GitSourceError) in try work(path) }
        }
    }

    /// The repository on this machine that `url` names once mirror rules are applied (a
    /// `file://` URL or a path): read in place, never mirrored. nil for network remotes.
    private nonisolated func localRepository(_ url: GitURL) throws(GitSourceError) -> String? {
        try Self.localRepository(url, rewrites: options.rewrites)
    }

    /// The repository on this machine `url` names under `rewrites`, if it names one. As
    /// git does, `repo` also finds `repo.git` (and `repo.git` finds `repo`).
    public static func localRepository(_ url: GitURL, rewrites: URLRewrites) throws(GitSourceError) -> String? {
        let transport = try GitURL(rewrites.apply(url.original))
        guard let path = transport.localPath else { return nil }
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let other = trimmed.hasSuffix(".git") ? String(trimmed.dropLast(4)) : trimmed + ".git"
        let fm = FileManager.default
        return !fm.fileExists(atPath: trimmed) && fm.fileExists(atPath: other) ? other : trimmed
    }

    /// Checks that the repository at `path` exists and opens, with the reason when not
    /// (a missing directory, libgit2's ownership check).
    private static func openInPlace(_ path: String, url: GitURL) throws(GitSourceError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .repositoryNotFound, detail: "repository not found (no such directory \(path))")
        }
        do {
            _ = try Repository.open(path)
        } catch {
            throw RemoteConnection.classify(error, url: url, session: nil)
        }
    }

    /// The repository `url`'s objects are read from: the one on this machine it names, or
    /// its mirror (recorded as used by this run).
    private nonisolated func repositoryPath(_ url: GitURL) throws(GitSourceError) -> String {
        try localRepository(url) ?? usedMirror(url)
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
                try MirrorStore.update(url: url, transport: transport, mirror: mirror, credentials: options.credentials,
                                       wants: options.fetchMode == .shallow ? .refs([ref]) : .everything,
                                       shallow: LibGit2.canFetchShallow(from: transport), recreate: true, leases: options.leases,
                                       progress: Self.progress(options, url))
            }
            recordDownload(url)
        } catch {
            throw error.with(ref: ref)
        }
    }

    /// The tree id of `path` inside `commit`.
    public func tree(_ url: GitURL, commit: ObjectID, path: String, ref: GitRef? = nil) async throws(GitSourceError) -> ObjectID {
        let mirror = try repositoryPath(url)
        return try await Self.blocking { () throws(GitSourceError) in
            try MirrorStore.tree(at: path, commit: commit, url: url, ref: ref?.description, mirror: mirror)
        }
    }

    /// One file's bytes at `path` in `commit`, read from the object database without
    /// exporting anything; nil when there is no such file.
    public func readFile(_ url: GitURL, commit: ObjectID, path: String, ref: GitRef? = nil) async throws(GitSourceError) -> [UInt8]? {
        let mirror = try repositoryPath(url)
        return try await Self.blocking { () throws(GitSourceError) in
            try MirrorStore.readFile(at: path, commit: commit, url: url, ref: ref?.description, mirror: mirror)
        }
    }

    /// How two commits of the mirrored repository relate: `a` descends from `b`, `b` from
    /// `a`, or neither (unrelated, or diverged). A shallow mirror gets its whole history
    /// first (unless offline), so the answer is the one a whole mirror gives.
    public func relation(_ url: GitURL, _ a: ObjectID, _ b: ObjectID) async -> CommitRelation {
        guard let mirror = try? repositoryPath(url) else { return .unrelated }
        if !options.offline, a != b, (try? await Self.blocking({ MirrorStore.openComplete(mirror)?.isShallow ?? false })) == true {
            try? await ensureFetched(url, .everything)
        }
        return (try? await Self.blocking { () throws(GitSourceError) -> CommitRelation in
            guard let repository = try? Repository.open(mirror) else { return .unrelated }
            return CommitRelation(a, b, in: repository)
        }) ?? .unrelated
    }

    /// The read-only directory holding `tree`, exported on first use and shared by every
    /// user of the same tree.
    public func export(_ url: GitURL, tree: ObjectID) async throws(GitSourceError) -> URL {
        let mirror = try repositoryPath(url)
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

    /// What a component needs fetched: one ref, or the whole repository.
    enum Want: Hashable, Sendable {
        case ref(GitRef)
        case everything
    }

    /// One URL's fetches in this run: at most one runs at a time (they share a mirror);
    /// wants that arrive meanwhile wait in `queued` and go together in the next.
    struct FetchQueue {
        var running = false
        var queued: [Want] = []
        var waiting: [Want: [CheckedContinuation<Result<Void, GitSourceError>, Never>]] = [:]
        var finished: [Want: Result<Void, GitSourceError>] = [:]
    }

    /// Fetches what `want` needs of `url` into its mirror, once per run; concurrent callers
    /// share the fetch.
    private func ensureFetched(_ url: GitURL, _ want: Want) async throws(GitSourceError) {
        if options.offline {
            let path = mirrorEntry(for: url).path
            guard try await Self.blocking({ MirrorStore.isComplete(path) }) else {
                throw GitSourceError(url: url.redacted, ref: nil, kind: .notInCache, detail: "not in the cache and --offline forbids fetching it")
            }
            return
        }
        if let result = queues[url.key]?.finished[want] ?? queues[url.key]?.finished[.everything] { return try result.get() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, GitSourceError>, Never>) in
            var queue = queues[url.key, default: FetchQueue()]
            if queue.waiting[want] == nil { queue.queued.append(want) }
            queue.waiting[want, default: []].append(continuation)
            queues[url.key] = queue
            startNextFetch(url)
        }
        try result.get()
    }

    /// Starts a fetch of every queued want of `url`, unless one is running.
    private func startNextFetch(_ url: GitURL) {
        guard var queue = queues[url.key], !queue.running, !queue.queued.isEmpty else { return }
        let batch = queue.queued
        queue.queued = []
        queue.running = true
        queues[url.key] = queue
        let refs = batch.compactMap { if case .ref(let ref) = $0 { ref } else { nil } }
        let wants: MirrorStore.Wants = batch.contains(.everything) ? .everything : .refs(refs)
        let mirror = mirrorEntry(for: url)
        let options = self.options
        Task {
            let result: Result<Void, GitSourceError>
            do throws(GitSourceError) {
                let transport = try GitURL(options.rewrites.apply(url.original))
                self.recordContact(url)
                let outcome = try await Self.blocking { () throws(GitSourceError) in
                    try MirrorStore.update(url: url, transport: transport, mirror: mirror, credentials: options.credentials, wants: wants,
                                           shallow: LibGit2.canFetchShallow(from: transport), leases: options.leases, progress: Self.progress(options, url))
                }
                if outcome.downloaded { self.recordDownload(url) }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            self.finishFetch(url, batch, result)
        }
    }

    private func finishFetch(_ url: GitURL, _ batch: [Want], _ result: Result<Void, GitSourceError>) {
        guard var queue = queues[url.key] else { return }
        for want in batch {
            queue.finished[want] = result
            for continuation in queue.waiting.removeValue(forKey: want) ?? [] { continuation.resume(returning: result) }
        }
        queue.running = false
        queues[url.key] = queue
        startNextFetch(url)
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
