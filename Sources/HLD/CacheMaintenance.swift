public import CacheStore
public import Foundation
public import Git

/// `hld cache info` and `hld cache prune`: what the cache holds, and removing what was not
/// used lately while keeping what the project's `hld.lock` pins.
public enum CacheMaintenance {
    /// What a prune did, and what it kept for the lock file.
    public struct PruneOutcome: Sendable {
        public var report: PruneReport
        /// The lock file whose pins were kept; nil when the project has none.
        public var lockFile: String?
        /// The cache entries those pins name (present in the cache or not).
        public var pinned: Set<CacheEntry>
    }

    /// Every entry of the cache at `cacheRoot`, read from the disk.
    public static func inventory(cacheRoot: URL) -> CacheInventory {
        CacheStore(root: cacheRoot).inventory()
    }

    /// Prunes the cache at `cacheRoot` by `limits` (see ``CacheStore/prune(_:keeping:dryRun:now:)``),
    /// keeping every entry the `hld.lock` in `projectDirectory` pins. A lock file that cannot
    /// be read stops the prune: without its pins, what it keeps cannot be known.
    public static func prune(cacheRoot: URL, projectDirectory: String, limits: PruneLimits, dryRun: Bool,
                             now: Date = Date()) throws(HLDError) -> PruneOutcome {
        let lock = try LockFile.load(in: projectDirectory)
        // Mirror rules that point at this machine: those repositories are read in place.
        let project = try ProjectFile.load(in: projectDirectory)
        let rewrites: URLRewrites
        do {
            rewrites = URLRewrites(project.mirrors).merging(try URLRewrites.fromEnvironment(ProcessInfo.processInfo.environment))
        } catch {
            throw HLDError("\(error)")
        }
        let pinned = lock.map { pinnedEntries($0, cacheRoot: cacheRoot, rewrites: rewrites) } ?? []
        let report = CacheStore(root: cacheRoot).prune(limits, keeping: pinned, dryRun: dryRun, now: now)
        return PruneOutcome(report: report, lockFile: lock.map { _ in projectDirectory + "/" + LockFile.fileName }, pinned: pinned)
    }

    /// The entries `materialize --frozen` reads for the pins of `lock`, in every section:
    /// the mirror of each pinned git URL and the exported tree of each pinned commit, which
    /// is stored under the commit's root tree (read from the mirror; the tree a pin names
    /// is the one at its `path`, kept too), the archives of pinned charts (Helm repository
    /// and OCI) and the content of pinned http manifests, each by digest. Values that name
    /// no entry (a hand-edited lock) name nothing.
    public static func pinnedEntries(_ lock: LockFile, cacheRoot: URL, rewrites: URLRewrites = URLRewrites()) -> Set<CacheEntry> {
        let store = CacheStore(root: cacheRoot)
        var entries: Set<CacheEntry> = []
        let pins = lock.sections.values.flatMap { $0.components.values.flatMap(\.pins) }
        for pin in Set(pins) {
            switch pin {
            case .git(let url, _, let commit, _, let tree):
                if let id = ObjectID(hex: tree) { entries.insert(store.entry(.gitTrees, name: id.hex)) }
                guard let url = try? GitURL(url) else { continue }
                if (try? MirrorCache.localRepository(url, rewrites: rewrites)) == nil {
                    entries.insert(MirrorCache.mirrorEntry(for: url, in: store))
                }
                if let commit = ObjectID(hex: commit), let root = MirrorCache.rootTree(of: commit, url: url, rewrites: rewrites, in: store) {
                    entries.insert(store.entry(.gitTrees, name: root.hex))
                }
            case .chart(_, _, _, _, let digest), .oci(_, _, _, _, let digest):
                if let entry = store.entry(.chartArchives, digest: bareDigest(digest)) { entries.insert(entry) }
            case .http(_, let digest):
                if let entry = store.entry(.httpObjects, digest: bareDigest(digest)) { entries.insert(entry) }
            case .local:
                continue
            }
        }
        return entries
    }

    private static func bareDigest(_ digest: String) -> String {
        digest.hasPrefix("sha256:") ? String(digest.dropFirst("sha256:".count)) : digest
    }

    // MARK: limits as written

    /// A size as `--max-size` takes it: bytes (`1048576`), or a number with `K`, `M`, `G` or
    /// `T` (powers of 1024; `KB`, `KiB` and lower case read the same), fractions allowed
    /// (`1.5G`); nil for anything else, a negative size included.
    public static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        var unit = trimmed.dropFirst(number.count).lowercased()
        for suffix in ["ib", "b"] where unit.hasSuffix(suffix) && (unit.count > suffix.count || suffix == "b") {
            unit = String(unit.dropLast(suffix.count))
            break
        }
        let scales: [String: Double] = ["": 1, "k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024, "t": 1024 * 1024 * 1024 * 1024]
        guard !number.isEmpty, number.first != ".", let value = Double(number), let scale = scales[unit] else { return nil }
        let bytes = (value * scale).rounded(.down)
        guard bytes.isFinite, bytes < Double(Int64.max) else { return nil }
        return Int64(bytes)
    }

    /// An age as `--older-than` takes it: a number with `s`, `m`, `h`, `d` or `w`
    /// (`30d`, `12h`, `90m`, `0s`), fractions allowed; in seconds, nil for anything else.
    public static func parseAge(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        let units: [String: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400]
        guard !number.isEmpty, number.first != ".", let value = Double(number),
              let unit = units[String(trimmed.dropFirst(number.count)).lowercased()] else { return nil }
        let seconds = value * unit
        return seconds.isFinite ? seconds : nil
    }
}
