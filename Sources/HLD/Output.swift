import CacheStore
import Foundation
import YAML

/// One output file: its path under the environment directory and its bytes.
public struct RenderedFile: Sendable, Equatable {
    public var path: String
    public var bytes: [UInt8]
    /// The component that writes it.
    public var component: String
}

/// A rendered environment: the directory name and every file, in definition order.
public struct Materialization: Sendable {
    /// `dev`, `prod-east-prod`, or `common` when no environment was named.
    public var environmentName: String
    public var files: [RenderedFile]
    /// The resolved tree it came from.
    public var tree: ResolvedComponent
    /// The run's warnings, in tree order (already handed to the caller's sink).
    public var diagnostics: [Diagnostic] = []
    /// What the run fetched and rendered (shared by the environments of one `--all` run).
    public var statistics = RunStatistics()
    /// The renderers it used (`helm`, `kustomize`) and their versions.
    public var tools: [String: String] = [:]

    /// Every file's content, one after another (what `--stdout` prints).
    public var stream: [UInt8] { files.flatMap(\.bytes) }
}

/// What writing an environment directory did, by file path.
public struct WriteSummary: Sendable, Equatable, Codable {
    public var written: [String] = []
    /// Already on disk with the same bytes (linked, not rewritten).
    public var unchanged: [String] = []
    /// On disk before and no longer produced.
    public var removed: [String] = []
}

/// What `hld install` did: the resolved tree, every source fetched and pinned.
public struct Installation: Sendable {
    public var tree: ResolvedComponent
    public var diagnostics: [Diagnostic]
}

/// What the resolve stage alone produced (`Materializer.resolve`).
public struct Resolution: Sendable {
    /// The project directory (the top-level component's), standardized.
    public var root: String
    /// The environments the config was layered for, highest first (hld.yaml's defaults
    /// when none was named; empty: `common` only).
    public var environments: [String]
    public var tree: ResolvedComponent
    /// The run's warnings, in tree order (already handed to the caller's sink).
    public var diagnostics: [Diagnostic]
}

/// What `--check` found on disk.
public enum FileDifference: Sendable, Equatable, CustomStringConvertible {
    case added(String), removed(String), changed(String)

    public var description: String {
        switch self {
        case .added(let path): return "missing on disk: \(path)"
        case .removed(let path): return "no longer produced: \(path)"
        case .changed(let path): return "differs: \(path)"
        }
    }
}

enum OutputLayout {
    /// Canonical text of a component's documents: `---`, `# Source:`, the document.
    static func text(of documents: [RenderedDocument]) throws(HLDError) -> [UInt8] {
        var bytes: [UInt8] = []
        for document in documents {
            bytes += Array("---\n# Source: \(document.source)\n".utf8)
            do {
                bytes += Array(try document.node.yaml().utf8)
            } catch {
                throw HLDError("\(document.source): cannot write a document: \(error)")
            }
        }
        return bytes
    }

    /// Files for the rendered components, in tree order; two components writing the same
    /// file is an error naming both.
    static func files(_ rendered: [(ResolvedComponent, [RenderedDocument])]) throws(HLDError) -> [RenderedFile] {
        var files: [RenderedFile] = []
        var owners: [String: String] = [:]
        for (component, documents) in rendered where component.definition.type != .component {
            let path = (component.folder + [component.fileName + ".yaml"]).joined(separator: "/")
            if let other = owners[path] {
                throw HLDError("\(other) and \(component.componentPath) both write \(path); rename one of them")
            }
            owners[path] = component.componentPath
            files.append(RenderedFile(path: path, bytes: try text(of: documents), component: component.componentPath))
        }
        return files
    }

    /// Replaces `<root>/<name>` with exactly `files`: written into a temporary sibling,
    /// then swapped in with one rename, so readers see the old tree or the new one.
    @discardableResult
    static func write(_ files: [RenderedFile], name: String, root: String) throws(HLDError) -> WriteSummary {
        let fm = FileManager.default
        var summary = WriteSummary()
        let target = root + "/" + name
        let temporary = "\(root)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { InFlight.untrack(temporary) }
        // A run that was killed (not interrupted: that one cleans up) left its half-built tree.
        let stale = InFlight.removeStale(in: root, prefix: ".\(name).tmp-")
        if !stale.isEmpty {
            throw HLDError("cannot remove \(stale.joined(separator: ", ")), left by an earlier run that was killed; remove it and run again").kind(.output)
        }
        do {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw HLDError("cannot write the output under \(root): \(reason(error))")
        }
        // The tree on disk already is exactly `files`: it stays as it is (a warm run makes
        // no new tree, no swap, no new inodes; the swap alone cost a third of such a run).
        if Self.holds(exactly: files, target) {
            summary.unchanged = files.map(\.path)
            return summary
        }
        // Made and registered in one step: an interrupt's sweep removes it, or it is never made.
        guard let made = InFlight.creating(temporary, { mkdir(temporary, 0o755) }) else { throw HLDError("stopped").kind(.output) }
        guard made == 0 else { throw HLDError("cannot write the output under \(root): \(String(cString: strerror(errno)))") }
        do {
            var directories = Set<String>()
            for file in files {
                if InFlight.isStopping { throw HLDError("stopped").kind(.output) }
                let path = temporary + "/" + file.path
                let parent = (path as NSString).deletingLastPathComponent
                if !directories.contains(parent) {
                    try Self.makeDirectories(parent, below: temporary, shownAs: target, made: &directories)
                }
                // A file that is already on disk with these bytes is linked, not written
                // again: an unchanged run creates no new inodes.
                let previous = target + "/" + file.path
                if let existing = fm.contents(atPath: previous), existing.elementsEqual(file.bytes), link(previous, path) == 0 {
                    summary.unchanged.append(file.path)
                    continue
                }
                if let failure = Self.create(path, file.bytes) {
                    throw HLDError("cannot write \(target)/\(file.path): \(String(cString: strerror(failure)))")
                }
                summary.written.append(file.path)
            }
            let produced = Set(files.map(\.path))
            summary.removed = Self.regularFiles(under: target).filter { !produced.contains($0) }
            try swap(temporary, into: target)
            return summary
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error as? HLDError ?? HLDError("cannot write \(target): \(reason(error))")
        }
    }

    /// Creates `directory` and its parents up to, not including, `base`, one `mkdir` at a
    /// time: if `base` is gone (an interrupt removed it) this fails rather than making it again.
    /// `made`: the directories made so far, which are not asked for again.
    private static func makeDirectories(_ directory: String, below base: String, shownAs shown: String, made: inout Set<String>) throws(HLDError) {
        guard directory.count > base.count else { return }
        var path = base
        for component in directory.dropFirst(base.count + 1).split(separator: "/") {
            path += "/" + component
            guard made.insert(path).inserted else { continue }
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw HLDError("cannot create \(shown + path.dropFirst(base.count)): \(String(cString: strerror(errno)))").kind(.output)
            }
        }
    }

    /// Writes a new file of `bytes`, mode 0644; the errno of what failed, or nil. (Not
    /// `FileManager.createFile`: it says only that it failed, not why — a full disk must
    /// be named as such.)
    private static func create(_ path: String, _ bytes: [UInt8]) -> Int32? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        var failure: Int32?
        if fchmod(fd, 0o644) != 0 { failure = errno }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while failure == nil, offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno != EINTR { failure = errno }
                } else {
                    offset += written
                }
            }
        }
        if close(fd) != 0, failure == nil { failure = errno }
        return failure
    }

    private static func reason(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as NSError).localizedDescription
    }

    /// Moves `temporary` to `target`; an existing `target` is exchanged atomically
    /// (`renameat2(RENAME_EXCHANGE)`) and then removed.
    private static func swap(_ temporary: String, into target: String) throws(HLDError) {
        guard FileManager.default.fileExists(atPath: target) else {
            guard rename(temporary, target) == 0 else { throw HLDError("cannot create \(target): \(String(cString: strerror(errno)))") }
            return
        }
        if let exchange = renameExchange, exchange(AT_FDCWD, temporary, AT_FDCWD, target, 2 /* RENAME_EXCHANGE */) == 0 {
            // The new tree is in place; the old one, now at `temporary`, must go too.
            CacheStore.removeTree(temporary)
            if FileManager.default.fileExists(atPath: temporary) {
                throw HLDError("the new output is in \(target), but the old tree moved to \(temporary) cannot be removed (check its permissions) and is left there").kind(.output)
            }
            return
        }
        let old = temporary + ".old"
        guard rename(target, old) == 0 else { throw HLDError("cannot replace \(target): \(String(cString: strerror(errno)))") }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = rename(old, target)
            throw HLDError("cannot replace \(target): \(reason)")
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    /// glibc's `renameat2`, looked up at run time (Swift's Glibc module hides it).
    private static let renameExchange: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
    }()

    /// How the files on disk under `<root>/<name>` differ from `files`.
    static func differences(_ files: [RenderedFile], name: String, root: String) -> [FileDifference] {
        let target = root + "/" + name
        let fm = FileManager.default
        var differences: [FileDifference] = []
        var expected = Set<String>()
        for file in files {
            expected.insert(file.path)
            guard let data = fm.contents(atPath: target + "/" + file.path) else {
                differences.append(.added(name + "/" + file.path))
                continue
            }
            if [UInt8](data) != file.bytes { differences.append(.changed(name + "/" + file.path)) }
        }
        for path in regularFiles(under: target) where !expected.contains(path) { differences.append(.removed(name + "/" + path)) }
        return differences
    }

    /// The files under `directory`, relative, sorted.
    /// Whether `target` holds exactly `files`: the same regular files with the same bytes,
    /// and no other file, link or directory than those their paths need.
    private static func holds(exactly files: [RenderedFile], _ target: String) -> Bool {
        var needed = Set<String>()
        for file in files {
            var parent = (file.path as NSString).deletingLastPathComponent
            while !parent.isEmpty, needed.insert(parent).inserted { parent = (parent as NSString).deletingLastPathComponent }
        }
        let found = entries(under: target)
        guard found.others.isEmpty, Set(found.directories) == needed, found.files == files.map(\.path).sorted() else { return false }
        return files.allSatisfy { file in FileManager.default.contents(atPath: target + "/" + file.path)?.elementsEqual(file.bytes) == true }
    }

    static func regularFiles(under directory: String) -> [String] {
        entries(under: directory).files
    }

    /// Everything under `directory` (relative paths): regular files (sorted; a link to one
    /// counts as one), directories, and anything else (a link to elsewhere, a socket, …).
    private static func entries(under directory: String) -> (files: [String], directories: [String], others: [String]) {
        var files: [String] = [], directories: [String] = [], others: [String] = []
        // readdir directly: this runs on every write, over the whole previous tree.
        func walk(_ relative: String) {
            let path = relative.isEmpty ? directory : directory + "/" + relative
            guard let handle = opendir(path) else { return }
            var subdirectories: [String] = []
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                let child = relative.isEmpty ? name : relative + "/" + name
                switch Int32(entry.pointee.d_type) {
                case Int32(DT_REG): files.append(child)
                case Int32(DT_DIR): subdirectories.append(child)
                default:
                    // A link or an unknown type: what it leads to decides.
                    var info = stat()
                    guard stat(directory + "/" + child, &info) == 0 else {
                        others.append(child)
                        continue
                    }
                    let unknown = entry.pointee.d_type == UInt8(DT_UNKNOWN)
                    if info.st_mode & S_IFMT == S_IFREG { files.append(child) }
                    if info.st_mode & S_IFMT == S_IFDIR, unknown { subdirectories.append(child) }
                    if !unknown || info.st_mode & S_IFMT != S_IFREG && info.st_mode & S_IFMT != S_IFDIR { others.append(child) }
                }
            }
            closedir(handle)
            directories += subdirectories
            subdirectories.forEach(walk)
        }
        walk("")
        return (files.sorted(), directories, others)
    }
}
