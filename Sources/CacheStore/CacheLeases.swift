import Foundation

/// The cache entries one run is using, each held by a shared `flock` on its use file
/// (``CacheEntry/usePath``) from the moment the store hands the entry out (or the run
/// built it) until the run lets go of this value (or calls ``releaseAll()``).
///
/// Readers of the cache take no writer's lock: a tree exported once is read by every run
/// without one, and a mirror is read while another process updates it. What keeps
/// `hld cache prune` from removing an entry a running process still reads is this lease:
/// prune takes an entry's use file exclusively and without waiting, so it skips every
/// entry some run holds, and a run that asks for an entry while prune is removing it waits
/// the moment that takes and then finds it gone (and fetches or builds it again). A run
/// looks at an entry only after holding it, and holds what it builds before it lets go of
/// the writer's lock.
///
/// The use file is separate from the writers' lock file on purpose: a run holds its leases
/// for its whole length, and a writer's exclusive lock must not wait for that (a mirror is
/// updated in place while other runs read it; two runs each holding one mirror and
/// updating the other's would deadlock). Only prune ever asks for a use file exclusively,
/// and it never waits, so a lease can wait for nothing but a prune's removal.
///
/// Taking a lease also stamps the use file's modification time: when the entry was last
/// used, which prune orders by.
public final class CacheLeases: @unchecked Sendable {
    /// Use file path → the descriptor holding its shared lock; only under `lock`. (An
    /// `NSLock`, a pthread mutex, so that ThreadSanitizer sees it: it does not model
    /// `Synchronization.Mutex`, a raw futex on Linux.)
    private var heldDescriptors: [String: Int32] = [:]
    private let lock = NSLock()
    private func withHeld<Result>(_ body: (inout [String: Int32]) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&heldDescriptors)
    }
    /// At most this many leases (each is one open descriptor); beyond it an entry is only
    /// stamped, so a huge tree of components cannot run the process out of descriptors.
    private let capacity: Int

    public init() {
        capacity = Self.descriptorBudget()
    }

    /// Holds `entry` for this run if it exists (once; later calls return at once) and
    /// stamps its use; returns whether the entry exists now that it is held. A missing
    /// entry is not held (nothing is created for it): whoever builds it holds it right
    /// after installing it, before letting go of the entry's lock, so that no prune comes
    /// in between (prune needs that lock first).
    ///
    /// Waits only while a prune is removing the entry; then it is gone, and false says so.
    /// A cache this user cannot write is used without a lease: nothing can prune it either.
    @discardableResult
    public func hold(_ entry: CacheEntry) -> Bool {
        let path = entry.usePath
        let (known, full) = withHeld { ($0[path] != nil, $0.count >= capacity) }
        if known { return entry.exists }
        guard entry.exists else { return false }
        if full {
            entry.stamp()
            return true
        }
        guard let descriptor = try? FileLock.acquire(path, exclusive: false, wait: true, readOnlyFallback: true) else { return entry.exists }
        futimens(descriptor, nil)
        let duplicate = withHeld { held -> Bool in
            if held[path] != nil { return true }
            held[path] = descriptor
            return false
        }
        // Another task of this run took it meanwhile; closing this descriptor drops only its own lock.
        if duplicate { close(descriptor) }
        return entry.exists
    }

    /// Lets go of every lease.
    public func releaseAll() {
        let descriptors = withHeld { held -> [Int32] in
            defer { held = [:] }
            return Array(held.values)
        }
        for descriptor in descriptors { close(descriptor) }
    }

    deinit { releaseAll() }

    /// Half the descriptors the process may open, after raising its soft limit to the hard
    /// one (capped at 65536), as runtimes that hold many files open do.
    private static func descriptorBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        let wanted = min(limit.rlim_max, 65536)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return max(64, Int(min(limit.rlim_cur, 1 << 20)) / 2)
    }
}
