import Crypto
public import Foundation

/// hld's one on-disk cache (`$HLD_CACHE_DIR`, …), shared by the git and the HLD layers and
/// by concurrent hld processes.
///
/// Every entry lives in its kind's directory (``Kind/directory``). Writers hold the entry's
/// `flock` (``CacheEntry/lock(_:)``), build the new content in a temporary sibling and
/// rename it into place, so a reader sees the old entry or the new one, never half of one,
/// and a killed writer leaves only a temporary that the next writer removes. Entries that
/// can be checked are checked on every read: a damaged one is discarded and reported as
/// missing, so the caller fetches it again.
///
/// Every use of an entry is recorded in its use file (``CacheEntry/usePath``), and with
/// ``leases`` the entries whose paths the store hands out are held for the run, so that
/// `hld cache prune` can remove what was not used lately and never what a run is reading.
public struct CacheStore: Sendable {
    /// What an entry holds, and so where it lives. The directory names are the ones earlier
    /// hld versions used, so an existing cache stays valid.
    public enum Kind: String, Sendable, CaseIterable {
        /// One bare mirror per normalized git URL (`<name>.git`), updated in place under its lock.
        case gitMirrors
        /// One exported, read-only directory per git tree id.
        case gitTrees
        /// Helm chart archives by the sha256 of their bytes (`<hex>.tgz`).
        case chartArchives
        /// Helm repository `index.yaml` files by repository URL (`<hash>.yaml`).
        case chartIndexes
        /// What an `oci://` reference and version resolved to (manifest and layer digests).
        case ociRecords
        /// http manifest URL → content digest.
        case httpURLs
        /// http manifests by the sha256 of their bytes.
        case httpObjects
        /// Generator output by a hash of everything that determines it.
        case renders
        /// Chart directories with their dependencies added, by chart content.
        case assembledCharts
        /// Tool versions by executable identity.
        case tools

        /// The directory under the cache root, relative to it.
        public var directory: String {
            switch self {
            case .gitMirrors: "git/mirrors"
            // v2: trees exported before links were judged on the whole tree may hold links
            // that leave it; a new directory has every tree exported again.
            case .gitTrees: "git/trees-v2"
            case .chartArchives: "helm/charts"
            case .chartIndexes: "helm/indexes"
            case .ociRecords: "helm/oci"
            case .httpURLs: "http/urls"
            case .httpObjects: "http/objects"
            case .renders: "renders"
            case .assembledCharts: "helm/assembled"
            case .tools: "tools"
            }
        }

        /// Appended to every entry name of this kind.
        public var suffix: String {
            switch self {
            case .gitMirrors: ".git"
            case .chartArchives: ".tgz"
            case .chartIndexes: ".yaml"
            default: ""
            }
        }
    }

    /// The cache root.
    public let root: URL
    /// The run's leases: entries it uses are held until it ends. Without, uses are only
    /// stamped (a one-off command, a test).
    public let leases: CacheLeases?

    public init(root: URL, leases: CacheLeases? = nil) {
        self.root = root
        self.leases = leases
    }

    /// Records that this run uses `entry`, whose path it is about to read or has just built
    /// (then with the entry's lock still held): with ``leases``, holds it for the run, so
    /// that no prune removes it meanwhile; without, stamps it. Returns whether the entry
    /// exists (looked at once held: a prune may have removed it just before).
    @discardableResult
    public func use(_ entry: CacheEntry) -> Bool {
        if let leases { return leases.hold(entry) }
        guard entry.exists else { return false }
        entry.stamp()
        return true
    }

    /// The absolute directory holding entries of `kind`.
    public func directory(_ kind: Kind) -> String {
        root.appendingPathComponent(kind.directory).path
    }

    // MARK: entries

    /// The entry `<name><suffix>` of `kind`. `name` is one path component that the program
    /// chose (a tree id, a mirror name): not empty, no `/`, not `.`/`..`, not ending in
    /// `.lock` or `.use`. (A name that begins with another entry's name and `.tmp-` would be taken
    /// for that entry's leftover; hashes and ids never do.)
    public func entry(_ kind: Kind, name: String) -> CacheEntry {
        let file = name + kind.suffix
        precondition(!name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
                     && !file.hasSuffix(".lock") && !file.hasSuffix(".use"), "not a cache entry name: \(name)")
        return CacheEntry(kind: kind, directory: directory(kind), name: file)
    }

    /// The entry for an arbitrary `key` (a URL, a list of render inputs): its name is the
    /// sha256 of the key, so no key can leave the directory or collide with another.
    public func entry(_ kind: Kind, key: String) -> CacheEntry {
        entry(kind, name: Self.sha256(Array(key.utf8)))
    }

    /// The content-addressed entry of `digest` (64 hex digits, any case); nil for anything
    /// else, which the store cannot hold.
    public func entry(_ kind: Kind, digest: String) -> CacheEntry? {
        let hex = digest.lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return entry(kind, name: hex)
    }

    // MARK: content-addressed entries

    /// Stores `bytes` under their sha256 and returns it (lower-case hex). An entry that is
    /// already there and intact is kept.
    @discardableResult
    public func put(_ kind: Kind, _ bytes: [UInt8], permissions: Int = 0o644) throws(CacheStoreError) -> String {
        let digest = Self.sha256(bytes)
        let target = entry(kind, name: digest)
        let lock = try target.lock(.exclusive)
        defer { lock.release() }
        target.removeLeftovers()
        if let existing = target.read(), Self.sha256(existing) == digest {
            use(target)
            return digest
        }
        try target.write(bytes, permissions: permissions)
        use(target)
        return digest
    }

    /// The bytes stored under `digest`, checked against it. A damaged entry is removed and
    /// nil returned, as for a missing one: the caller fetches it again.
    public func get(_ kind: Kind, digest: String) -> [UInt8]? {
        guard let target = entry(kind, digest: digest) else { return nil }
        use(target)
        let expected = String(target.name.dropLast(kind.suffix.count))
        return target.readVerified { Self.sha256($0) == expected ? $0 : nil }
    }

    // MARK: records

    /// The small record stored for `key` (a URL's digest, a tool's version), or nil.
    /// Records are replaced atomically, so one is never half written.
    public func record(_ kind: Kind, key: String) -> [UInt8]? {
        let target = entry(kind, key: key)
        guard let bytes = target.read() else { return nil }
        target.stamp()
        return bytes
    }

    /// Stores (or replaces) the record for `key`.
    public func setRecord(_ kind: Kind, key: String, _ bytes: [UInt8]) throws(CacheStoreError) {
        try entry(kind, key: key).replace(with: bytes)
    }

    // MARK: verified blobs

    private static let verifiedHeader = "hld-verified sha256="

    /// The blob stored for `key`, checked against the checksum it was stored with; a damaged
    /// (or foreign) entry is removed and nil returned.
    public func verifiedBlob(_ kind: Kind, key: String) -> [UInt8]? {
        let target = entry(kind, key: key)
        guard let bytes = target.readVerified(Self.verifiedBody) else { return nil }
        target.stamp()
        return bytes
    }

    /// Stores (or replaces) the blob for `key`, with a checksum header that
    /// ``verifiedBlob(_:key:)`` checks.
    public func setVerifiedBlob(_ kind: Kind, key: String, _ bytes: [UInt8]) throws(CacheStoreError) {
        try entry(kind, key: key).replace(with: Array((Self.verifiedHeader + Self.sha256(bytes) + "\n").utf8) + bytes)
    }

    private static func verifiedBody(_ stored: [UInt8]) -> [UInt8]? {
        guard let newline = stored.firstIndex(of: 0x0A) else { return nil }
        let body = Array(stored[(newline + 1)...])
        return String(decoding: stored[..<newline], as: UTF8.self) == verifiedHeader + sha256(body) ? body : nil
    }

    // MARK: helpers

    /// SHA-256 in lower-case hex.
    public static func sha256(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A key made of `parts`, each length-prefixed, so that no two lists of parts share a key.
    public static func key(_ parts: [String]) -> String {
        parts.map { "\($0.utf8.count):\($0)" }.joined()
    }

    /// Removes `path` recursively (nothing if it is missing), making its read-only
    /// directories writable on the way, as the read-only trees of the cache need. One pass
    /// of `readdir` and `unlinkat` per directory: old output trees are removed on every
    /// run, and Foundation's enumerator plus `removeItem` walked each one twice.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            unlink(path)
            return
        }
        removeDirectory(path, mode: info.st_mode)
    }

    private static func removeDirectory(_ path: String, mode: mode_t) {
        if mode & 0o700 != 0o700 { chmod(path, 0o755) }
        guard let directory = opendir(path) else {
            rmdir(path)
            return
        }
        let fd = dirfd(directory)
        var subdirectories: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                isDirectory = fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFDIR
            }
            if isDirectory {
                subdirectories.append(name)
            } else {
                unlinkat(fd, name, 0)
            }
        }
        closedir(directory)
        for name in subdirectories {
            let child = path + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            removeDirectory(child, mode: info.st_mode)
        }
        rmdir(path)
    }

    /// Makes a copy of a read-only cache tree writable: directories `rwxr-xr-x`, files gain
    /// the owner's write bit; symbolic links are left alone.
    public static func makeWritable(_ path: String) throws(CacheStoreError) {
        chmod(path, 0o755)
        let subpaths: [String]
        do {
            subpaths = try FileManager.default.subpathsOfDirectory(atPath: path)
        } catch {
            throw CacheStoreError(what: "list", path: path, reason: "\(error.localizedDescription)")
        }
        for relative in subpaths {
            let full = path + "/" + relative
            var info = stat()
            guard lstat(full, &info) == 0, info.st_mode & S_IFMT != S_IFLNK else { continue }
            let mode = info.st_mode & S_IFMT == S_IFDIR ? 0o755 : (info.st_mode | 0o200) & 0o7777
            guard chmod(full, mode) == 0 else { throw .system("make writable", full) }
        }
    }
}
