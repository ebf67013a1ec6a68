public import Foundation

/// One entry as the cache holds it: how much it takes and when it was last used.
public struct StoredEntry: Sendable, Hashable {
    public let entry: CacheEntry
    /// The bytes of the regular files it is made of (apparent sizes; links and directories
    /// count nothing).
    public let bytes: Int64
    /// The later of its use file's and its own modification times: when a run last used it,
    /// or when it was written.
    public let lastUsed: Date
}

/// What the cache directory holds, read from the disk: every entry of every kind, and the
/// bytes that belong to no entry.
public struct CacheInventory: Sendable {
    /// The cache root.
    public let root: String
    /// Every entry, in kind order, then by name.
    public let entries: [StoredEntry]
    /// Entries with temporaries left by interrupted writers, and the temporaries' bytes
    /// (what a writer of the entry, or prune, removes under the entry's lock).
    public let leftovers: [CacheEntry: Int64]
    /// Entries that are gone but left their lock or use file behind.
    public let orphans: [CacheEntry]
    /// Bytes of regular files under the root that are no entry's: temporaries, files an
    /// older layout left, anything else put there.
    public let otherBytes: Int64

    /// How many entries of `kind` there are and the bytes they take.
    public func usage(_ kind: CacheStore.Kind) -> (entries: Int, bytes: Int64) {
        let ofKind = entries.filter { $0.entry.kind == kind }
        return (ofKind.count, ofKind.reduce(0) { $0 + $1.bytes })
    }

    /// The bytes of every entry.
    public var entryBytes: Int64 { entries.reduce(0) { $0 + $1.bytes } }

    /// Every byte of regular files under the root: the entries and the rest.
    public var totalBytes: Int64 { entryBytes + otherBytes }
}

extension CacheStore {
    /// Walks the cache directory. Within a kind's directory, `<name>.lock` and `<name>.use`
    /// belong to the entry `<name>` and `<name>.tmp-…` is its writers' temporary; any other
    /// name with the kind's suffix is an entry. Nothing is followed through a symbolic link,
    /// and what cannot be read counts as empty. A missing root holds nothing.
    public func inventory() -> CacheInventory {
        var entries: [StoredEntry] = []
        var leftovers: [CacheEntry: Int64] = [:]
        var orphans: [CacheEntry] = []
        var other: Int64 = 0
        let kinds = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.directory, $0) })

        func walk(_ relative: String) {
            let path = relative.isEmpty ? root.path : root.path + "/" + relative
            for name in DirectoryListing.names(path) {
                let child = relative.isEmpty ? name : relative + "/" + name
                if let kind = kinds[child] {
                    collect(kind)
                } else {
                    var info = stat()
                    guard lstat(path + "/" + name, &info) == 0 else { continue }
                    switch info.st_mode & S_IFMT {
                    case S_IFDIR: walk(child)
                    case S_IFREG: other += Int64(info.st_size)
                    default: continue
                    }
                }
            }
        }

        func collect(_ kind: Kind) {
            let directory = self.directory(kind)
            var present: Set<String> = []
            var sidecars: Set<String> = []
            for name in DirectoryListing.names(directory) {
                if let base = Self.sidecarBase(name) {
                    sidecars.insert(base)
                } else if let base = Self.temporaryBase(name) {
                    let bytes = DirectoryListing.regularFileBytes(directory + "/" + name)
                    other += bytes
                    if let owner = Self.entryNamed(kind, base, in: directory) { leftovers[owner, default: 0] += bytes }
                } else if let entry = Self.entryNamed(kind, name, in: directory) {
                    present.insert(name)
                    entries.append(StoredEntry(entry: entry, bytes: DirectoryListing.regularFileBytes(entry.path),
                                               lastUsed: max(DirectoryListing.modified(entry.path), DirectoryListing.modified(entry.usePath))))
                } else {
                    other += DirectoryListing.regularFileBytes(directory + "/" + name)
                }
            }
            for base in sidecars.subtracting(present).sorted() {
                if let entry = Self.entryNamed(kind, base, in: directory) { orphans.append(entry) }
            }
        }

        walk("")
        entries.sort { ($0.entry.kind.order, $0.entry.name) < ($1.entry.kind.order, $1.entry.name) }
        return CacheInventory(root: root.path, entries: entries, leftovers: leftovers, orphans: orphans, otherBytes: other)
    }

    /// `x` for `x.lock` and `x.use`.
    private static func sidecarBase(_ name: String) -> String? {
        for suffix in [".lock", ".use"] where name.hasSuffix(suffix) && name.count > suffix.count {
            return String(name.dropLast(suffix.count))
        }
        return nil
    }

    /// `x` for `x.tmp-<pid>-<random>`.
    private static func temporaryBase(_ name: String) -> String? {
        guard let range = name.range(of: ".tmp-"), range.lowerBound > name.startIndex else { return nil }
        return String(name[..<range.lowerBound])
    }

    /// The entry file `name` names in `kind`'s directory, if it has the kind's suffix.
    private static func entryNamed(_ kind: Kind, _ name: String, in directory: String) -> CacheEntry? {
        guard name.hasSuffix(kind.suffix), name.count > kind.suffix.count, name != ".", name != ".." else { return nil }
        return CacheEntry(kind: kind, directory: directory, name: name)
    }
}

extension CacheStore.Kind {
    /// The position in ``allCases``: the order listings show kinds in.
    var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// Small POSIX walks for the inventory: `lstat` only, never through a link.
enum DirectoryListing {
    /// The names in `path` (no `.`/`..`); empty when it cannot be read.
    static func names(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let item = readdir(directory) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The bytes of every regular file at or under `path`.
    static func regularFileBytes(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return Int64(info.st_size)
        case S_IFDIR: return names(path).reduce(0) { $0 + regularFileBytes(path + "/" + $1) }
        default: return 0
        }
    }

    /// The modification time of `path` itself; the distant past when it is missing.
    static func modified(_ path: String) -> Date {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }
}
