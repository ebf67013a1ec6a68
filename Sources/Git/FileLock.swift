import Foundation

/// An advisory lock on a file (`flock`), held until the value is released. Serializes
/// hld processes (and threads) that share one cache entry.
final class FileLock {
    private let descriptor: Int32

    /// Blocks until the lock on `path` (created if missing) is held.
    init(_ path: String, shared: Bool = false) throws(GitSourceError) {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        while flock(fd, shared ? LOCK_SH : LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "cannot lock: \(reason)")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// File-system steps shared by the cache: removal of read-only trees, atomic rename.
enum CacheFiles {
    /// Removes `path` recursively, first making read-only directories writable again.
    static func remove(_ path: String) {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) else { return }
        if let walker = fm.enumerator(atPath: path) {
            chmod(path, 0o755)
            for case let relative as String in walker {
                let full = path + "/" + relative
                var info = stat()
                if lstat(full, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { chmod(full, 0o755) }
            }
        }
        try? fm.removeItem(atPath: path)
    }

    /// Removes leftovers of interrupted runs: `<name>.tmp-*` siblings of `path`.
    static func removeTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let prefix = url.lastPathComponent + ".tmp-"
        let parent = url.deletingLastPathComponent().path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            remove(parent + "/" + name)
        }
    }

    /// A fresh temporary sibling name for `path`.
    static func temporary(for path: String) -> String {
        "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
