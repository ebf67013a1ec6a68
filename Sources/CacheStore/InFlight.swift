import Foundation

/// Paths this process is writing and would leave behind if it were stopped now —
/// temporary cache entries, the run's scratch directory (which holds merged values, maybe
/// secrets), an output tree being built. An interrupt handler removes them before exit.
public enum InFlight {
    private final class Paths: @unchecked Sendable {
        // Guarded by `lock`; the class is Sendable because every access takes it.
        let lock = NSLock()
        var set: Set<String> = []
        var stopping = false
    }

    /// True once the process is being stopped: writers stop adding files.
    public static var isStopping: Bool { paths.lock.withLock { paths.stopping } }

    /// Registers `path` and runs `create` (which makes it) unless the process is being
    /// stopped, atomically with respect to `removeAll`: a temporary is either made and
    /// registered before the sweep, which then removes it, or not made at all.
    public static func creating<T>(_ path: String, _ create: () -> T) -> T? {
        paths.lock.withLock {
            guard !paths.stopping else {
                paths.set.remove(path)
                return nil
            }
            paths.set.insert(path)
            return create()
        }
    }

    private static let paths = Paths()

    /// Registers `path` (a file or a directory) as being written.
    public static func track(_ path: String) {
        paths.lock.withLock { _ = paths.set.insert(path) }
    }

    /// `path` is finished (renamed into place) or removed.
    public static func untrack(_ path: String) {
        paths.lock.withLock { _ = paths.set.remove(path) }
    }

    /// Removes what killed processes left in `directory`: entries named `<prefix><pid>-…`
    /// whose process is gone (a SIGKILL leaves no chance to clean up). Returns what it could
    /// not remove.
    @discardableResult
    public static func removeStale(in directory: String, prefix: String) -> [String] {
        var failed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = directory + "/" + name
            CacheStore.removeTree(path)
            if FileManager.default.fileExists(atPath: path) { failed.append(path) }
        }
        return failed
    }

    /// Removes everything still registered: for an interrupt, just before the process exits.
    public static func removeAll() {
        let all = paths.lock.withLock {
            paths.stopping = true
            return paths.set
        }
        // Work still running may add a file to a directory while it is being removed: try
        // again until everything is gone (or a few times, for what cannot be removed).
        for _ in 0..<10 {
            for path in all { CacheStore.removeTree(path) }
            if !all.contains(where: { FileManager.default.fileExists(atPath: $0) }) { return }
            usleep(10_000)
        }
    }
}
