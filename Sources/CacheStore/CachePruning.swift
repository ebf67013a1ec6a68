public import Foundation

/// What `hld cache prune` removes: entries last used longer ago than ``olderThan``, then,
/// least recently used first, entries until all of them take at most ``maxBytes``.
public struct PruneLimits: Sendable, Equatable {
    /// In seconds; nil: no age limit.
    public var olderThan: TimeInterval?
    /// nil: no size limit.
    public var maxBytes: Int64?

    public init(olderThan: TimeInterval? = nil, maxBytes: Int64? = nil) {
        self.olderThan = olderThan
        self.maxBytes = maxBytes
    }

    /// Whether an entry last used at `lastUsed` goes, with `remaining` bytes of entries
    /// still in the cache. Called in order of last use, so once it says no for one entry it
    /// says no for every later one.
    func selects(lastUsed: Date, remaining: Int64, now: Date) -> Bool {
        if let olderThan, lastUsed < now.addingTimeInterval(-olderThan) { return true }
        if let maxBytes, remaining > maxBytes { return true }
        return false
    }
}

/// What a prune did (or, dry, would do).
public struct PruneReport: Sendable {
    /// Removed entries, least recently used first.
    public var removed: [StoredEntry] = []
    /// Entries the limits selected that another holder has: a writer's lock, or a run's
    /// lease (``CacheLeases``).
    public var skipped: [StoredEntry] = []
    /// Entries the limits selected that the caller keeps (what `hld.lock` pins).
    public var kept: [StoredEntry] = []
    /// Entries that could not be removed, with the system's reason.
    public var failed: [(StoredEntry, String)] = []
    /// Bytes of interrupted writers' temporaries removed with or beside their entries.
    public var leftoverBytes: Int64 = 0
    /// The bytes the entries left take.
    public var remainingBytes: Int64 = 0
    public var dryRun = false

    /// Everything removed: the entries and the leftovers.
    public var freedBytes: Int64 { removed.reduce(0) { $0 + $1.bytes } + leftoverBytes }
}

extension CacheStore {
    /// Removes what `limits` select, least recently used first, except the entries in
    /// `keeping` and every entry another holder has: an entry is removed only with its
    /// lock file and its use file both taken exclusively, without waiting (a writer holds
    /// the first, every run using the entry the second). It is renamed aside under both,
    /// so a run asking for it meanwhile waits only for the rename and then finds it gone,
    /// and deleted once they are released. Temporaries of interrupted writers and the
    /// lock and use files of entries that are gone are removed too, under the same locks.
    /// `dryRun`: removes nothing, and reports what would go (an entry held now is skipped).
    public func prune(_ limits: PruneLimits, keeping: Set<CacheEntry>, dryRun: Bool, now: Date = Date()) -> PruneReport {
        let inventory = inventory()
        var report = PruneReport(dryRun: dryRun)
        for (entry, bytes) in inventory.leftovers.sorted(by: { $0.key.path < $1.key.path }) where sweep(entry, dryRun: dryRun) {
            report.leftoverBytes += bytes
        }
        for entry in inventory.orphans where inventory.leftovers[entry] == nil {
            _ = sweep(entry, dryRun: dryRun)
        }
        var remaining = inventory.entryBytes
        let ordered = inventory.entries.sorted {
            ($0.lastUsed, $0.entry.kind.order, $0.entry.name) < ($1.lastUsed, $1.entry.kind.order, $1.entry.name)
        }
        for stored in ordered {
            guard limits.selects(lastUsed: stored.lastUsed, remaining: remaining, now: now) else { break }
            if keeping.contains(stored.entry) {
                report.kept.append(stored)
                continue
            }
            switch remove(stored.entry, dryRun: dryRun) {
            case .removed:
                report.removed.append(stored)
                remaining -= stored.bytes
            case .held:
                report.skipped.append(stored)
            case .failed(let reason):
                report.failed.append((stored, reason))
            }
        }
        report.remainingBytes = remaining
        return report
    }

    private enum Removal { case removed, held, failed(String) }

    /// Removes `entry` if nobody holds it (see ``prune(_:keeping:dryRun:now:)``); dry, only
    /// looks whether somebody does, creating nothing.
    private func remove(_ entry: CacheEntry, dryRun: Bool) -> Removal {
        if dryRun { return FileLock.isHeld(entry.lockPath) || FileLock.isHeld(entry.usePath) ? .held : .removed }
        let trash: String
        do {
            guard let lock = try entry.tryLock() else { return .held }
            defer { lock.release() }
            guard let use = try FileLock.acquire(entry.usePath, exclusive: true, wait: false) else { return .held }
            defer { close(use) }
            entry.removeLeftovers()
            trash = entry.temporaryPath()
            guard rename(entry.path, trash) == 0 else {
                let reason = String(cString: strerror(errno))
                InFlight.untrack(trash)
                return .failed(reason)
            }
            // Removed while held: whoever waits on them locks the new files (FileLock).
            unlink(entry.usePath)
            unlink(entry.lockPath)
        } catch {
            return .failed(error.reason)
        }
        CacheStore.removeTree(trash)
        InFlight.untrack(trash)
        return .removed
    }

    /// Removes the temporaries interrupted writers left for `entry` and, when the entry is
    /// gone, its lock and use files; true when it could (nobody held them).
    private func sweep(_ entry: CacheEntry, dryRun: Bool) -> Bool {
        if dryRun { return !FileLock.isHeld(entry.lockPath) && (entry.exists || !FileLock.isHeld(entry.usePath)) }
        guard let lock = try? entry.tryLock() else { return false }
        defer { lock.release() }
        if entry.exists {
            entry.removeLeftovers()
            return true
        }
        guard let use = try? FileLock.acquire(entry.usePath, exclusive: true, wait: false) else { return false }
        defer { close(use) }
        entry.removeLeftovers()
        unlink(entry.usePath)
        unlink(entry.lockPath)
        return true
    }
}
