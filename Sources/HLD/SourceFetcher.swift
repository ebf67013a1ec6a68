import CacheStore
import Foundation
import Git
import YAML

/// The one fetcher: everything components point at — git repositories, chart
/// repositories, OCI registries, http manifests — into the cache, through one `Network`
/// (offline check, limiter, mirrors). Only the resolve stage uses it.
final class SourceFetcher: Sendable {
    let store: CacheStore
    let network: Network
    let credentials: GitCredentials
    let diagnostics: any DiagnosticsSink
    let repositories: ChartRepositories
    let registries: OCIRegistries
    private let mirrors: MirrorCacheHolder

    init(cacheRoot: URL, network: Network, credentials: GitCredentials, diagnostics: any DiagnosticsSink,
         gitFetchMode: GitFetchMode = LibGit2.fetchMode(environment: ProcessInfo.processInfo.environment)) {
        self.diagnostics = diagnostics
        // Held until the run lets go of the fetcher (and every copy of its store), after
        // its last render: nothing it fetched can be pruned while it reads it.
        let leases = CacheLeases()
        self.store = CacheStore(root: cacheRoot, leases: leases)
        self.network = network
        self.credentials = credentials
        self.repositories = ChartRepositories(store: store, network: network)
        self.registries = OCIRegistries(store: store, network: network)
        let transfers = TransferReporter(diagnostics: diagnostics)
        self.mirrors = MirrorCacheHolder(options: MirrorCacheOptions(
            root: cacheRoot, offline: network.offline, credentials: credentials, rewrites: network.rewrites,
            transferProgress: { url, stats in transfers.report(url, stats) }, leases: leases, fetchMode: gitFetchMode))
    }

    /// The directory of a `method: git` component: its repository's tree exported, plus
    /// `path` inside it. Relative sources are local repositories next to the declaring
    /// component (not allowed inside a fetched tree).
    /// `locate` says where a setting (`source`, `branch`, `version`) was made, for errors
    /// about it: an environment's config file, or the component definition.
    /// `locked` (`--locked`): the commit comes from `hld.lock` instead of the ref, and the
    /// tree found must be the one it pins.
    func fetchComponent(_ entry: ComponentDefinition, config: ComponentConfig, base: String, treeRoot: String?,
                        locate: (String) -> SourceLocation, locked: PinLookup? = nil, role: LockedPins.Role = .source) async throws(HLDError) -> FetchedDirectory {
        guard let rawSource = config.source ?? entry.source else {
            throw HLDError(entry.location, "subcomponent \(entry.name) has method git but no source")
        }
        var source = rawSource
        if !source.contains("://") && !source.hasPrefix("/") && !source.contains("@") {
            source = URL(fileURLWithPath: base + "/" + source).standardizedFileURL.path
        }
        let url: GitURL
        do {
            url = try GitURL(source)
        } catch {
            throw HLDError(locate("source"), "subcomponent \(entry.name): \(error.detail)").kind(.source).caused(by: error)
        }
        let ref = GitRef(branch: config.branch ?? entry.branch, version: config.version ?? entry.version)
        let path = entry.path ?? ""
        let parts = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        // A lock entry for another ref or path points at the setting that moved.
        let moved = (config.version ?? entry.version) != nil ? "version" : (config.branch ?? entry.branch) != nil ? "branch" : "source"
        let (fetchRef, lockedTree) = try locking(url, ref, path: parts, locked, role, at: locate(moved))
        let cache = try await mirrors.cache()
        let limiter = network.limiter
        diagnostics.progress("\(entry.name): resolving \(url.redacted) (\(fetchRef))")
        do throws(GitSourceError) {
            let (commit, rootTree) = try await limiter.run { () async throws(GitSourceError) in try await cache.locate(url, fetchRef, path: "") }
            let tree = try await cache.tree(url, commit: commit, path: path, ref: fetchRef)
            if let lockedTree, lockedTree != tree.hex {
                throw GitSourceError(url: url.redacted, ref: "\(fetchRef)", kind: .failed, detail: "commit \(commit.hex.prefix(12)) has tree \(tree.hex.prefix(12)) at \(parts.isEmpty ? "its root" : parts), and hld.lock pins tree \(lockedTree.prefix(12)) (the lock was edited by hand)")
            }
            let exported = try await cache.export(url, tree: rootTree).path
            let directory = URL(fileURLWithPath: parts.isEmpty ? exported : exported + "/" + parts).standardizedFileURL.path
            let shown = "\(url.redacted)@\(commit.hex.prefix(12))" + (parts.isEmpty ? "" : "/" + parts)
            let transferred = await cache.downloaded.contains(url.key)
            diagnostics.progress("\(entry.name): \(shown) \(transferred ? "fetched" : "from the cache")")
            return FetchedDirectory(directory: directory, treeRoot: exported, fetchedFrom: "\(url.redacted) (\(ref))", display: shown, treeID: tree.hex,
                                    pin: .git(url: url.redacted, requested: "\(ref)", commit: commit.hex, path: parts, tree: tree.hex))
        } catch {
            let setting: String
            switch error.kind {
            case .refNotFound, .ambiguousRef: setting = (config.version ?? entry.version) != nil ? "version" : "branch"
            case .pathNotFound, .pathEscapes, .notADirectory: setting = "path"
            default: setting = "source"
            }
            throw HLDError(locate(setting), "subcomponent \(entry.name): \(error)").kind(.source).caused(by: error)
        }
    }

    /// An http(s) manifest in the cache, stored by content hash (downloaded once per run;
    /// a non-2xx status is an error; `--offline` uses what the cache has). `pinned`
    /// (`--locked`): the content must hash to it, and comes from the cache when it holds it.
    func httpManifest(_ urlString: String, for component: String, at location: SourceLocation, pinned: String? = nil) async throws(HLDError) -> (path: String, digest: String) {
        let shown = GitURL.redact(urlString)
        guard let scheme = URL(string: urlString)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw HLDError(location, component: component, "source \(shown) is not an http(s) URL")
        }
        if let pinned, let entry = store.entry(.httpObjects, digest: pinned), store.get(.httpObjects, digest: pinned) != nil {
            return (entry.path, pinned)
        }
        // The URL's record names the content's digest; the content is stored by digest.
        if network.offline {
            guard let record = store.record(.httpURLs, key: urlString), let hash = String(validating: record, as: UTF8.self),
                  let entry = store.entry(.httpObjects, digest: hash), store.use(entry), pinned == nil || pinned == hash else {
                throw HLDError(location, component: component, "\(shown)\(pinned.map { " (content sha256:\($0.prefix(12)) that hld.lock pins)" } ?? "") is not in the cache and --offline forbids fetching it").kind(.source)
            }
            guard store.get(.httpObjects, digest: hash) != nil else {
                throw HLDError(location, component: component, "the cached copy of \(shown) was damaged and is discarded; run without --offline to download it again").kind(.source)
            }
            return (entry.path, hash)
        }
        diagnostics.progress("\(component): downloading \(shown)")
        let status: Int, data: Data
        do {
            (status, data) = try await network.get(urlString, what: shown)
        } catch {
            throw HLDError(location, component: component, "\(error.description)").kind(.source).caused(by: error)
        }
        guard (200..<300).contains(status) else {
            throw HLDError(location, component: component, "downloading \(shown) returned HTTP status \(status)\(network.statusAdvice(status, for: urlString))").kind(.source)
        }
        let hash: String
        do {
            hash = try store.put(.httpObjects, [UInt8](data))
            try store.setRecord(.httpURLs, key: urlString, Array(hash.utf8))
        } catch {
            throw HLDError("cannot store \(shown) in the cache: \(error)").kind(.source).caused(by: error)
        }
        if let pinned, pinned != hash {
            throw HLDError(location, component: component, "\(shown) now serves content with sha256 \(hash.prefix(12)), and hld.lock pins \(pinned.prefix(12)): the manifest changed since the lock was written; run hld lock to take the new content").kind(.source)
        }
        return (store.entry(.httpObjects, name: hash).path, hash)
    }
}

extension SourceFetcher {
    /// How commit `a` relates to commit `b` of the repository at `url` (as a pin names it),
    /// read from its mirror; `.unrelated` when the mirror cannot say.
    func relation(_ url: String, _ a: String, _ b: String) async -> CommitRelation {
        guard let parsed = try? GitURL(url), let first = ObjectID(hex: a), let second = ObjectID(hex: b), let cache = try? await mirrors.cache() else {
            return .unrelated
        }
        return await cache.relation(parsed, first, second)
    }

    /// The ref to fetch and the tree to expect: the ref asked for, or under `--locked`
    /// the commit and tree `hld.lock` pins for the same request.
    fileprivate func locking(_ url: GitURL, _ ref: GitRef, path: String, _ locked: PinLookup?, _ role: LockedPins.Role,
                             at location: SourceLocation) throws(HLDError) -> (GitRef, String?) {
        guard let locked else { return (ref, nil) }
        let pin = try locked.pin(.git(url: url.redacted, requested: "\(ref)", commit: "", path: path, tree: ""), role, at: location)
        guard case .git(_, _, let commit, _, let tree)? = pin else { return (ref, nil) }
        return (.commit(commit), tree)
    }

    /// How many git repositories this run transferred objects from.
    func gitDownloads() async -> Int { await mirrors.downloadCount() }
}

/// Creates the git cache on first use, so an HLD without git sources never touches it.
private actor MirrorCacheHolder {
    let options: MirrorCacheOptions
    var instance: MirrorCache?

    init(options: MirrorCacheOptions) { self.options = options }

    func downloadCount() async -> Int {
        guard let instance else { return 0 }
        return await instance.downloaded.count
    }

    func cache() throws(HLDError) -> MirrorCache {
        if let instance { return instance }
        do {
            let created = try MirrorCache(options: options)
            instance = created
            return created
        } catch {
            throw HLDError("\(error)").caused(by: error)
        }
    }
}

/// Git transfer progress as progress messages: one each time a fetch gets another tenth of
/// its objects further, and when it is done — a few lines a fetch, however many callbacks.
final class TransferReporter: @unchecked Sendable {
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var reported: [String: Int] = [:]
    private let diagnostics: any DiagnosticsSink

    init(diagnostics: any DiagnosticsSink) { self.diagnostics = diagnostics }

    func report(_ url: GitURL, _ stats: TransferProgress) {
        guard stats.totalObjects > 0 else { return }
        let done = stats.indexedObjects == stats.totalObjects
        let step = done ? 11 : stats.receivedObjects * 10 / stats.totalObjects
        let due = lock.withLock { () -> Bool in
            guard step > reported[url.key, default: -1] else { return false }
            reported[url.key] = step
            return true
        }
        guard due else { return }
        let mebibytes = String(format: "%.1f", Double(stats.receivedBytes) / 1_048_576)
        diagnostics.progress(done
            ? "fetched \(url.redacted): \(stats.totalObjects) objects, \(mebibytes) MiB"
            : "fetching \(url.redacted): \(stats.receivedObjects)/\(stats.totalObjects) objects, \(mebibytes) MiB")
    }
}
