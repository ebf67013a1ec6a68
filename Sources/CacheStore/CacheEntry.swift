import Foundation

/// One entry of the cache: a file or directory `<kind directory>/<name>`, its lock file
/// `<name>.lock` and use file `<name>.use` beside it, and the temporaries
/// `<name>.tmp-<pid>-<random>` writers build it in.
///
/// The building blocks here do not lock by themselves: a writer holds ``lock(_:)`` while a
/// temporary of the entry exists, which is what makes ``removeLeftovers()`` safe (every
/// temporary it finds belongs to a writer that died).
public struct CacheEntry: Sendable, Hashable, CustomStringConvertible {
    public let kind: CacheStore.Kind
    /// The directory holding the entry.
    public let directory: String
    /// The entry's file name, suffix included (`<hex>.tgz`, `<name>.git`).
    public let name: String

    init(kind: CacheStore.Kind, directory: String, name: String) {
        self.kind = kind
        self.directory = directory
        self.name = name
    }

    /// The absolute path of the entry.
    public var path: String { directory + "/" + name }

    /// The lock file beside the entry, which writers lock. Only `hld cache prune` removes it,
    /// while holding it, with the entry; a locker that waited on the removed file notices
    /// and locks the new one (see ``lock(_:)``).
    public var lockPath: String { path + ".lock" }

    /// The use file beside the entry: its modification time is when a run last used the
    /// entry, and every run using it holds a shared `flock` on it (``CacheLeases``), which
    /// keeps `hld cache prune` away.
    public var usePath: String { path + ".use" }

    public var description: String { path }

    /// The entry is there (a file, a directory or a link).
    public var exists: Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    // MARK: locking

    /// Shared locks may be held together; an exclusive lock excludes every other lock.
    public enum LockMode: Sendable {
        case shared
        case exclusive
    }

    /// Blocks until this process holds the entry's `flock` in `mode` (creating the kind's
    /// directory and the lock file if needed). The lock is held until
    /// ``CacheEntryLock/release()`` or until the returned value is gone; write
    /// `defer { lock.release() }` right after taking it.
    public func lock(_ mode: LockMode = .exclusive) throws(CacheStoreError) -> CacheEntryLock {
        try makeDirectory()
        guard let descriptor = try FileLock.acquire(lockPath, exclusive: mode == .exclusive, wait: true) else {
            throw CacheStoreError(what: "lock", path: lockPath, reason: "the lock is held")
        }
        return CacheEntryLock(descriptor: descriptor)
    }

    /// ``lock(_:)`` exclusively without waiting: nil when another holder (a writer, another
    /// process's prune) has the lock.
    public func tryLock() throws(CacheStoreError) -> CacheEntryLock? {
        try makeDirectory()
        return try FileLock.acquire(lockPath, exclusive: true, wait: false).map(CacheEntryLock.init(descriptor:))
    }

    /// Records that the entry was used now: the use file's modification time, set
    /// explicitly (atime is not kept on `noatime` mounts), the file created if missing.
    /// Quietly does nothing where the cache cannot be written.
    public func stamp() {
        let fd = open(usePath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        futimens(fd, nil)
        close(fd)
    }

    /// Creates the kind's directory (and the cache root) if missing.
    public func makeDirectory() throws(CacheStoreError) {
        try Self.makeDirectories(directory)
    }

    /// `mkdir -p`, naming the first directory that cannot be made and why.
    private static func makeDirectories(_ path: String) throws(CacheStoreError) {
        func isDirectory() -> Bool {
            var info = stat()
            return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }
        if mkdir(path, 0o755) == 0 { return }
        switch errno {
        case EEXIST where isDirectory():
            return
        case EEXIST:
            throw CacheStoreError(what: "create the cache directory", path: path, reason: String(cString: strerror(ENOTDIR)))
        case ENOENT:
            let parent = (path as NSString).deletingLastPathComponent
            guard !parent.isEmpty, parent != path else { throw .system("create the cache directory", path) }
            try makeDirectories(parent)
            if mkdir(path, 0o755) == 0 || (errno == EEXIST && isDirectory()) { return }
            throw .system("create the cache directory", path)
        default:
            throw .system("create the cache directory", path)
        }
    }

    // MARK: temporaries

    /// A fresh temporary sibling: `<name>.tmp-<pid>-<random>`, in the same directory so that
    /// renaming it into place is atomic.
    public func temporaryPath() -> String {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        InFlight.track(temporary)
        return temporary
    }

    /// A fresh, empty temporary sibling directory (see ``temporaryPath()``), created and
    /// registered in one step so that an interrupt's sweep either removes it or it is never
    /// made. Whatever is built inside must create nothing recursively from above it: once
    /// the sweep has removed it, writes into it fail instead of bringing it back.
    public func temporaryDirectory() throws(CacheStoreError) -> String {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let result = InFlight.creating(temporary, { mkdir(temporary, 0o755) }) else {
            throw CacheStoreError(what: "build", path: path, reason: "the process is being stopped")
        }
        guard result == 0 else {
            InFlight.untrack(temporary)
            throw .system("create", temporary)
        }
        return temporary
    }

    /// Removes the temporaries interrupted writers left (call with the exclusive lock held).
    public func removeLeftovers() {
        let prefix = name + ".tmp-"
        for sibling in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where sibling.hasPrefix(prefix) {
            CacheStore.removeTree(directory + "/" + sibling)
        }
    }

    /// Removes the entry (a read-only tree too); its lock file stays.
    public func remove() {
        CacheStore.removeTree(path)
    }

    /// Renames a finished `temporary` (from ``temporaryPath()``) to the entry: atomic, the
    /// entry appears whole or not at all, with its use file stamped. On failure the
    /// temporary is removed.
    public func install(_ temporary: String) throws(CacheStoreError) {
        defer { InFlight.untrack(temporary) }
        guard rename(temporary, path) == 0 else {
            let error = CacheStoreError.system("move into place", path)
            CacheStore.removeTree(temporary)
            throw error
        }
        stamp()
    }

    // MARK: files

    /// The entry's bytes, or nil when it is missing or not a readable file.
    public func read() -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Replaces the entry with a file holding exactly `bytes`, mode `permissions`: written
    /// to a temporary sibling (no fsync: the cache may lose a recent entry on a crash,
    /// never hold a half one) and renamed into place. Call with the exclusive lock held.
    public func write(_ bytes: [UInt8], permissions: Int = 0o644) throws(CacheStoreError) {
        let temporary = temporaryPath()
        guard let fd = InFlight.creating(temporary, { open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600) }) else {
            throw CacheStoreError(what: "write", path: path, reason: "the process is being stopped")
        }
        guard fd >= 0 else {
            InFlight.untrack(temporary)
            throw .system("create", temporary)
        }
        var failure: CacheStoreError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = Foundation.write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = .system("write", temporary)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(fd, mode_t(permissions)) != 0 { failure = .system("set the mode of", temporary) }
        if close(fd) != 0, failure == nil { failure = .system("write", temporary) }
        if let failure {
            unlink(temporary)
            InFlight.untrack(temporary)
            throw failure
        }
        try install(temporary)
    }

    /// ``write(_:permissions:)`` under the exclusive lock, removing leftovers first.
    public func replace(with bytes: [UInt8], permissions: Int = 0o644) throws(CacheStoreError) {
        let lock = try lock(.exclusive)
        defer { lock.release() }
        removeLeftovers()
        try write(bytes, permissions: permissions)
    }

    /// The entry's bytes if `verify` accepts them (returning what to hand out); a rejected
    /// entry is removed under the exclusive lock, unless a writer replaced it meanwhile.
    func readVerified(_ verify: ([UInt8]) -> [UInt8]?) -> [UInt8]? {
        guard let stored = read() else { return nil }
        if let good = verify(stored) { return good }
        guard let lock = try? lock(.exclusive) else { return nil }
        defer { lock.release() }
        guard let again = read() else { return nil }
        if let good = verify(again) { return good }
        unlink(path)
        return nil
    }

    // MARK: directories

    /// The entry as a directory, built once: when it is missing, `build` fills the empty
    /// temporary directory it is given (see ``temporaryDirectory()``), and the
    /// result is renamed into place under the exclusive lock. Concurrent callers wait and
    /// find it built. A `build` that throws leaves nothing behind; its error is rethrown
    /// as is, the store's own failures are ``CacheStoreError``. Read-only content is fine:
    /// ``remove()`` can remove it. With `leases`, the entry is held for the run, found or
    /// built (see ``CacheLeases/hold(_:)``).
    @discardableResult
    public func createDirectory(holding leases: CacheLeases? = nil, _ build: (_ temporary: String) throws -> Void) throws -> String {
        if leases?.hold(self) ?? exists { return path }
        let lock = try lock(.exclusive)
        defer { lock.release() }
        if exists {
            leases?.hold(self)
            return path
        }
        removeLeftovers()
        let temporary = try temporaryDirectory()
        do {
            try build(temporary)
        } catch {
            CacheStore.removeTree(temporary)
            InFlight.untrack(temporary)
            throw error
        }
        var info = stat()
        guard !InFlight.isStopping, lstat(temporary, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            CacheStore.removeTree(temporary)
            InFlight.untrack(temporary)
            throw CacheStoreError(what: "build", path: path, reason: "the builder removed its directory")
        }
        try install(temporary)
        leases?.hold(self)
        return path
    }
}

/// A held `flock` on a cache entry's lock file (see ``CacheEntry/lock(_:)``), released by
/// ``release()`` or when the value goes away.
public final class CacheEntryLock {
    private var descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Releases the lock; calling it again does nothing.
    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// `flock` on a file that a holder of its exclusive lock may remove (prune removes an
/// entry's lock and use files with it).
enum FileLock {
    /// Opens `path` (creating it) and locks it, returning the descriptor; nil when `wait`
    /// is false and another holder has a conflicting lock. After locking, the descriptor
    /// must still name the file at `path`: if a remover unlinked it while this caller
    /// waited, the lock guards nothing, and the new file is locked instead.
    /// `readOnlyFallback`: on a cache this user may not write, open the existing file
    /// read-only (a shared `flock` needs no write access).
    static func acquire(_ path: String, exclusive: Bool, wait: Bool, readOnlyFallback: Bool = false) throws(CacheStoreError) -> Int32? {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while true {
            var fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            if fd < 0, readOnlyFallback, errno == EACCES || errno == EROFS { fd = open(path, O_RDONLY | O_CLOEXEC) }
            guard fd >= 0 else { throw .system("open the lock file", path) }
            while flock(fd, operation) != 0 {
                if errno == EINTR { continue }
                if errno == EWOULDBLOCK {
                    close(fd)
                    return nil
                }
                let error = CacheStoreError.system("lock", path)
                close(fd)
                throw error
            }
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_dev == current.st_dev, held.st_ino == current.st_ino {
                return fd
            }
            close(fd)
        }
    }

    /// Whether somebody holds a lock on `path` now (a missing file is held by nobody).
    /// Creates nothing and changes nothing: what a dry run asks.
    static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            return errno == EWOULDBLOCK
        }
        flock(fd, LOCK_UN)
        return false
    }
}
