import CacheStore
internal import CGit2
import Foundation

/// The synchronous, on-disk half of the cache: one bare mirror per URL and one exported
/// directory per tree. Every function here blocks (network, disk) and is called off the
/// cooperative thread pool; each call opens its own libgit2 handles, so no handle is ever
/// shared between threads.
enum MirrorStore {
    static let marker = "hld-mirror"
    static let defaultBranchFile = "hld-default-branch"
    static let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]

    /// The names of the branches and tags the remote advertised at the last fetch (one
    /// per line): what "there are: …" lists when a mirror holds only some of them.
    static let advertisedFile = "hld-advertised"

    struct FetchOutcome: Sendable {
        /// Objects were transferred (something changed on the remote).
        var downloaded: Bool
    }

    /// What one fetch brings into a mirror (`shallow`: tips alone where history is not needed).
    enum Wants: Sendable, Equatable {
        /// Every branch and tag with its whole history (a shallow mirror is unshallowed).
        case everything
        /// Only what these refs name: a new or shallow mirror gets their tips alone (depth
        /// 1), a whole mirror the new commits; a commit id no ref reaches is fetched by id,
        /// or, where the server refuses that, the mirror gets every ref's whole history.
        case refs([GitRef])
    }

    // MARK: mirrors

    /// Brings the mirror `entry` up to date with the remote (creating it if missing or
    /// broken) for `wants`, under the mirror's file lock.
    /// `leases`: a mirror created here is held for the run before its lock is let go.
    static func update(url: GitURL, transport: GitURL, mirror entry: CacheEntry, credentials: GitCredentials, wants: Wants = .everything,
                       shallow: Bool = false, recreate: Bool = false, leases: CacheLeases? = nil,
                       progress: (@Sendable (TransferProgress) -> Void)? = nil) throws(GitSourceError) -> FetchOutcome {
        let path = entry.path
        let lock = try cacheStep(url) { () throws(CacheStoreError) in try entry.lock(.exclusive) }
        defer { lock.release() }
        // One another process made while this one waited is held before the lock goes.
        leases?.hold(entry)
        entry.removeLeftovers()
        if !recreate, let repository = openComplete(path), refsIntact(repository) {
            removeStaleLocks(in: path)
            do {
                return try fetch(into: repository, path: path, transport: transport, credentials: credentials, wants: wants, shallow: shallow, isNew: false, progress: progress)
            } catch let error where error.kind != .failed && error.kind != .corruptMirror {
                throw error
            } catch {
                // The mirror itself is broken (a killed fetch, a damaged disk): start over.
                entry.remove()
            }
        } else {
            entry.remove()
        }
        let temporary: String
        let created: Repository
        do {
            temporary = try entry.temporaryDirectory()
        } catch {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot create the mirror: \(error)")
        }
        do {
            created = try Repository.create(temporary, bare: true)
        } catch {
            CacheStore.removeTree(temporary)
            InFlight.untrack(temporary)
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot create the mirror: \(error.message)")
        }
        let outcome: FetchOutcome
        do {
            outcome = try fetch(into: created, path: temporary, transport: transport, credentials: credentials, wants: wants, shallow: shallow, isNew: true, progress: progress)
        } catch {
            CacheStore.removeTree(temporary)
            throw error
        }
        do {
            try Data(url.key.utf8).write(to: URL(fileURLWithPath: temporary + "/" + marker))
        } catch {
            CacheStore.removeTree(temporary)
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot store the mirror in the cache: \(error)")
        }
        try cacheStep(url) { () throws(CacheStoreError) in try entry.install(temporary) }
        leases?.hold(entry)
        return outcome
    }

    /// A cache store step whose failure becomes a git source error about `url`.
    private static func cacheStep<T>(_ url: GitURL, _ step: () throws(CacheStoreError) -> T) throws(GitSourceError) -> T {
        do {
            return try step()
        } catch {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: error.description)
        }
    }

    /// A mirror that finished its first fetch and opens.
    static func isComplete(_ path: String) -> Bool { openComplete(path) != nil }

    /// The mirror at `path`, if it finished its first fetch and opens.
    static func openComplete(_ path: String) -> Repository? {
        guard FileManager.default.fileExists(atPath: path + "/" + marker) else { return nil }
        return try? Repository.open(path)
    }

    /// Every branch and tag points at an object the mirror has (a damaged object store
    /// fails this; a fetch would not notice, since the refs match the remote's).
    static func refsIntact(_ repository: Repository) -> Bool {
        guard let refs = try? repository.branchesAndTags() else { return false }
        return refs.values.allSatisfy(repository.contains)
    }

    /// One fetch: list the remote's refs; transfer objects only for the wanted refs that
    /// differ from ours.
    private static func fetch(into repository: Repository, path: String, transport: GitURL, credentials: GitCredentials, wants: Wants,
                              shallow: Bool, isNew: Bool,
                              progress: (@Sendable (TransferProgress) -> Void)?) throws(GitSourceError) -> FetchOutcome {
        let local: [String: ObjectID]
        do {
            local = try repository.branchesAndTags()
        } catch {
            throw GitSourceError(url: transport.redacted, ref: nil, kind: .corruptMirror, detail: "the cached mirror is damaged: \(error.message)")
        }
        let connection = try RemoteConnection(repository: repository, url: transport, credentials: credentials, direction: GIT_DIRECTION_FETCH)
        let advertised = try connection.advertisement()
        var downloaded = false
        do {
            switch wants {
            case .everything:
                downloaded = try fetchEverything(repository, connection, advertised, local: local, path: path, progress: progress)
            case .refs(let refs):
                var names: [String] = []
                var commits: [ObjectID] = []
                var needsHistory = false
                for ref in refs {
                    switch ref {
                    case .defaultBranch: if let name = advertised.defaultBranch { names.append(name) }
                    case .branch(let name): names.append("refs/heads/" + name)
                    case .tag(let name): names.append("refs/tags/" + name)
                    case .version(let value) where advertised.refs["refs/tags/" + value] != nil: names.append("refs/tags/" + value)
                    case .commit(let value), .version(let value):
                        if let id = ref.fullCommitID.flatMap(ObjectID.init(hex:)) {
                            if !repository.contains(id) { commits.append(id) }
                        } else if value.count >= 4, value.allSatisfy(\.isHexDigit), (try? repository.commit(prefix: value)) == nil {
                            // An abbreviated id can only be found in the whole history.
                            needsHistory = true
                        }
                    }
                }
                // A new or shallow mirror takes the tips alone (where shallow fetches work
                // over this transport); a whole one stays whole.
                let depth: FetchDepth = shallow && (isNew || repository.isShallow) ? .tip : .full
                var changed: [(String, ObjectID)] = []
                for name in Set(names).sorted() {
                    if let id = advertised.refs[name] {
                        if local[name] != id { changed.append((name, id)) }
                    } else if local[name] != nil {
                        // Gone from the remote: resolving it must fail, not use the old commit.
                        try repository.deleteReference(name)
                    }
                }
                if !changed.isEmpty {
                    try keepingShallowRoots(repository, path) { () throws(GitSourceError) in
                        try connection.download(changed.map { "+\($0.0):\($0.0)" }, depth: depth, progress: progress)
                    }
                    for (name, id) in changed { try repository.setReference(name, to: id) }
                    downloaded = true
                }
                for id in commits where !needsHistory {
                    // By id, where the server allows it (uploadpack.allowReachableSHA1InWant,
                    // as GitHub and GitLab do); a commit fetched so is kept by a ref of hld's.
                    do {
                        try keepingShallowRoots(repository, path) { () throws(GitSourceError) in try connection.download([id.hex], depth: depth, progress: progress) }
                        downloaded = true
                    } catch {
                        needsHistory = true
                        continue
                    }
                    if repository.contains(id) { try repository.setReference("refs/hld/commits/" + id.hex, to: id) } else { needsHistory = true }
                }
                if needsHistory {
                    // Fetched again on a connection of its own: the one above may be spent.
                    let again = try RemoteConnection(repository: repository, url: transport, credentials: credentials, direction: GIT_DIRECTION_FETCH)
                    let now = try repository.branchesAndTags()
                    if try fetchEverything(repository, again, try again.advertisement(), local: now, path: path, progress: progress) { downloaded = true }
                }
            }
            try record(advertised, in: repository, path: path)
        } catch let error as GitSourceError {
            throw error
        } catch let error as GitError {
            throw GitSourceError(url: transport.redacted, ref: nil, kind: .corruptMirror, detail: "cannot update the mirror: \(error.message)")
        } catch {
            throw GitSourceError(url: transport.redacted, ref: nil, kind: .failed, detail: "cannot update the mirror: \(error)")
        }
        return FetchOutcome(downloaded: downloaded)
    }

    /// Every branch and tag as advertised, with the whole history: refs moved, added and
    /// removed to match; a shallow mirror is unshallowed. True when objects were asked for.
    private static func fetchEverything(_ repository: Repository, _ connection: RemoteConnection, _ advertised: Advertisement,
                                        local: [String: ObjectID], path: String, progress: (@Sendable (TransferProgress) -> Void)?) throws -> Bool {
        let shallow = repository.isShallow
        guard advertised.refs != local || shallow else { return false }
        try keepingShallowRoots(repository, path) { () throws(GitSourceError) in
            try connection.download(refspecs, depth: shallow ? .unshallow : .full, progress: progress)
        }
        for (name, id) in advertised.refs where local[name] != id { try repository.setReference(name, to: id) }
        for name in local.keys where advertised.refs[name] == nil { try repository.deleteReference(name) }
        return true
    }

    /// Runs a download and then repairs the mirror's list of shallow commits: libgit2 1.8
    /// writes only the ones the download made, so a mirror fetched twice would forget
    /// the first tip's missing parents (and fail its next fetch with "object not found").
    /// The list kept: the download's, plus every earlier one that still lacks a parent.
    private static func keepingShallowRoots(_ repository: Repository, _ path: String, _ download: () throws(GitSourceError) -> Void) throws {
        let file = path + "/shallow"
        func roots() -> Set<String> {
            Set(((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        }
        let before = roots()
        try download()
        let after = roots()
        let kept = before.subtracting(after).filter { hex in
            guard let id = ObjectID(hex: hex), let parents = repository.recordedParents(of: id) else { return false }
            return !parents.allSatisfy(repository.contains)
        }
        let merged = after.union(kept)
        guard merged != after else { return }
        try Data((merged.sorted().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// What the remote said besides its objects: its default branch (HEAD and a file, for
    /// resolving offline) and the names of its branches and tags.
    private static func record(_ advertised: Advertisement, in repository: Repository, path: String) throws {
        let defaultBranch = advertised.defaultBranch ?? ""
        let file = path + "/" + defaultBranchFile
        if (try? String(contentsOfFile: file, encoding: .utf8)) != defaultBranch {
            try Data(defaultBranch.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        }
        if let branch = advertised.defaultBranch, try repository.symbolicTarget("HEAD") != branch {
            try repository.setSymbolic("HEAD", to: branch)
        }
        let names = advertised.refs.keys.sorted().joined(separator: "\n")
        let namesFile = path + "/" + advertisedFile
        if (try? String(contentsOfFile: namesFile, encoding: .utf8)) != names {
            try Data(names.utf8).write(to: URL(fileURLWithPath: namesFile), options: .atomic)
        }
    }

    /// A killed process can leave `*.lock` files under refs/; we hold the mirror's flock,
    /// so no live writer owns them.
    private static func removeStaleLocks(in path: String) {
        for candidate in [path + "/HEAD.lock", path + "/packed-refs.lock"] { unlink(candidate) }
        guard let walker = FileManager.default.enumerator(atPath: path + "/refs") else { return }
        for case let relative as String in walker where relative.hasSuffix(".lock") {
            unlink(path + "/refs/" + relative)
        }
    }

    // MARK: resolution

    /// The commit `ref` names in the mirror at `path`.
    static func resolve(_ ref: GitRef, url: GitURL, path: String) throws(GitSourceError) -> ObjectID {
        try resolve(ref, url: url, path: path, in: nil)
    }

    /// The commit `ref` names and the tree at `treePath` in it, with one repository handle.
    static func locate(_ ref: GitRef, treePath: String, url: GitURL, path: String) throws(GitSourceError) -> (ObjectID, ObjectID) {
        let repository: Repository
        do {
            repository = try Repository.open(path)
        } catch {
            throw GitSourceError(url: url.redacted, ref: ref.description, kind: .corruptMirror, detail: "the cached mirror is damaged (\(error.message)); without --offline hld fetches it again")
        }
        let commit = try resolve(ref, url: url, path: path, in: repository)
        return (commit, try tree(at: treePath, commit: commit, url: url, ref: ref.description, in: repository))
    }

    private static func resolve(_ ref: GitRef, url: GitURL, path: String, in open: Repository?) throws(GitSourceError) -> ObjectID {
        func notFound(_ detail: String) -> GitSourceError {
            GitSourceError(url: url.redacted, ref: ref.description, kind: .refNotFound, detail: detail)
        }
        /// A ref the remote had when last asked, but that no fetch brought in (a mirror of
        /// only the refs needed, read offline).
        func unfetched(_ name: String) throws(GitSourceError) {
            let advertised = (try? String(contentsOfFile: path + "/" + advertisedFile, encoding: .utf8))?.split(separator: "\n") ?? []
            guard advertised.contains(Substring(name)) else { return }
            throw GitSourceError(url: url.redacted, ref: ref.description, kind: .notInCache,
                                 detail: "\(ref) is not in the cache (no run fetched it) and --offline forbids fetching it")
        }
        do {
            let repository = try open ?? Repository.open(path)
            switch ref {
            case .defaultBranch:
                // A mirror remembers what its remote said; a repository read in place has its HEAD.
                let remembered = try? String(contentsOfFile: path + "/" + defaultBranchFile, encoding: .utf8)
                let name = try remembered ?? repository.symbolicTarget("HEAD") ?? ""
                guard !name.isEmpty else {
                    throw notFound("the remote does not say which branch is its default; set `branch`")
                }
                guard let commit = try repository.commit(forReference: name) else { throw notFound("default branch \(name) has no commit") }
                return commit
            case .branch(let name):
                guard let commit = try repository.commit(forReference: "refs/heads/" + name) else {
                    try unfetched("refs/heads/" + name)
                    throw notFound("branch \(name) does not exist\(available(try knownRefs(repository, path), "refs/heads/"))")
                }
                return commit
            case .tag(let name):
                guard let commit = try repository.commit(forReference: "refs/tags/" + name) else {
                    try unfetched("refs/tags/" + name)
                    throw notFound("tag \(name) does not exist\(available(try knownRefs(repository, path), "refs/tags/"))")
                }
                return commit
            case .commit(let id), .version(let id):
                if case .version = ref, let commit = try repository.commit(forReference: "refs/tags/" + id) { return commit }
                switch Result(catching: { () throws(GitError) -> ObjectID? in try repository.commit(prefix: id) }) {
                case .success(let commit?): return commit
                case .success(nil): break
                case .failure(let error) where error.code == Int(GIT_EAMBIGUOUS.rawValue):
                    throw GitSourceError(url: url.redacted, ref: ref.description, kind: .ambiguousRef, detail: "\(id) matches more than one object; use more digits")
                case .failure(let error): throw error
                }
                if case .version = ref { throw notFound("no tag or commit \(id)") }
                throw notFound("commit \(id) does not exist")
            }
        } catch let error as GitSourceError {
            throw error
        } catch let error as GitError {
            throw GitSourceError(url: url.redacted, ref: ref.description, kind: .corruptMirror, detail: "the cached mirror is damaged (\(error.message)); without --offline hld fetches it again")
        } catch {
            throw GitSourceError(url: url.redacted, ref: ref.description, kind: .failed, detail: "\(error)")
        }
    }

    /// The branch and tag names the mirror has, and those the remote advertised at the
    /// last fetch (a mirror of only the refs needed holds few of them).
    private static func knownRefs(_ repository: Repository, _ path: String) throws(GitError) -> Set<String> {
        let advertised = (try? String(contentsOfFile: path + "/" + advertisedFile, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        return Set(try repository.branchesAndTags().keys).union(advertised)
    }

    private static func available(_ refs: Set<String>, _ prefix: String) -> String {
        let names = refs.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.sorted()
        guard !names.isEmpty else { return "" }
        let shown = names.prefix(10).joined(separator: ", ")
        return " (there are: \(shown)\(names.count > 10 ? ", …" : ""))"
    }

    /// The components of a `path` inside a fetched tree; `..` may not leave the tree.
    static func components(of path: String) -> [String]? {
        var parts: [String] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(part))
            }
        }
        return parts
    }

    /// The tree id of `path` inside `commit`. Symbolic links are never followed.
    static func tree(at path: String, commit: ObjectID, url: GitURL, ref: String?, mirror: String) throws(GitSourceError) -> ObjectID {
        try tree(at: path, commit: commit, url: url, ref: ref, in: openMirror(mirror, url: url, ref: ref))
    }

    private static func tree(at path: String, commit: ObjectID, url: GitURL, ref: String?, in repository: Repository) throws(GitSourceError) -> ObjectID {
        let root = try rootTree(commit, in: repository, url: url, ref: ref)
        let entry = try walk(repository, from: root, to: path, url: url, ref: ref)
        switch entry.kind {
        case .directory: return entry.id
        case .symlink:
            throw GitSourceError(url: url.redacted, ref: ref, kind: .notADirectory, detail: "path \(path) is a symbolic link; links in fetched trees are not followed")
        case .submodule:
            throw GitSourceError(url: url.redacted, ref: ref, kind: .notADirectory, detail: "path \(path) is a git submodule, which hld does not fetch")
        case .file, .executable:
            throw GitSourceError(url: url.redacted, ref: ref, kind: .notADirectory, detail: "path \(path) is a file, not a directory")
        }
    }

    /// The bytes of the file at `path` in `commit`, straight from the object database; nil
    /// when there is no such file.
    static func readFile(at path: String, commit: ObjectID, url: GitURL, ref: String?, mirror: String) throws(GitSourceError) -> [UInt8]? {
        let repository = try openMirror(mirror, url: url, ref: ref)
        let root = try rootTree(commit, in: repository, url: url, ref: ref)
        let entry: TreeEntry
        do {
            entry = try walk(repository, from: root, to: path, url: url, ref: ref)
        } catch let error where error.kind == .pathNotFound {
            return nil
        }
        guard entry.kind == .file || entry.kind == .executable else {
            if entry.kind == .symlink {
                throw GitSourceError(url: url.redacted, ref: ref, kind: .notADirectory, detail: "\(path) is a symbolic link; links in fetched trees are not followed")
            }
            return nil
        }
        do {
            return try repository.blob(entry.id)
        } catch {
            throw GitSourceError(url: url.redacted, ref: ref, kind: .corruptMirror, detail: "cannot read \(path) from the cached mirror: \(error)")
        }
    }

    private static func openMirror(_ mirror: String, url: GitURL, ref: String?) throws(GitSourceError) -> Repository {
        do {
            return try Repository.open(mirror)
        } catch {
            throw GitSourceError(url: url.redacted, ref: ref, kind: .corruptMirror, detail: "the cached mirror is damaged (\(error.message)); without --offline hld fetches it again")
        }
    }

    private static func rootTree(_ commit: ObjectID, in repository: Repository, url: GitURL, ref: String?) throws(GitSourceError) -> ObjectID {
        do {
            return try repository.tree(ofCommit: commit)
        } catch {
            throw GitSourceError(url: url.redacted, ref: ref, kind: .corruptMirror, detail: "cannot read commit \(commit) from the cached mirror: \(error.message)")
        }
    }

    /// Follows `path` from `root` one component at a time, so the error names the first
    /// component that is missing or not a directory.
    private static func walk(_ repository: Repository, from root: ObjectID, to path: String, url: GitURL, ref: String?) throws(GitSourceError) -> TreeEntry {
        guard let parts = components(of: path) else {
            throw GitSourceError(url: url.redacted, ref: ref, kind: .pathEscapes, detail: "path \(path) leaves the repository through ..")
        }
        var current = TreeEntry(name: "", id: root, kind: .directory)
        var walked: [String] = []
        for part in parts {
            guard current.kind == .directory else {
                let through = walked.joined(separator: "/")
                if current.kind == .symlink {
                    throw GitSourceError(url: url.redacted, ref: ref, kind: .notADirectory, detail: "path \(path) goes through \(through), a symbolic link; links in fetched trees are not followed, so write the path without it")
                }
                throw GitSourceError(url: url.redacted, ref: ref, kind: .pathNotFound, detail: "path \(path) does not exist: \(through) is not a directory")
            }
            let entries: [TreeEntry]
            do {
                entries = try repository.entries(ofTree: current.id)
            } catch {
                throw GitSourceError(url: url.redacted, ref: ref, kind: .corruptMirror, detail: "cannot read a tree from the cached mirror: \(error.message)")
            }
            guard let next = entries.first(where: { $0.name == part }) else {
                let place = walked.isEmpty ? "the repository root" : walked.joined(separator: "/")
                throw GitSourceError(url: url.redacted, ref: ref, kind: .pathNotFound, detail: "path \(path) does not exist (no \(part) in \(place))")
            }
            walked.append(part)
            current = next
        }
        return current
    }

    // MARK: export

    /// The directory holding `tree`, exported once as `entry` (`git/trees-v2/<tree-id>`; atomically:
    /// written to a temporary sibling, made read-only, renamed into place).
    static func export(tree: ObjectID, url: GitURL, mirror: String, entry: CacheEntry, leases: CacheLeases? = nil) throws(GitSourceError) -> String {
        do {
            return try entry.createDirectory(holding: leases) { temporary in
                let repository = try Repository.open(mirror)
                try write(tree: tree, from: repository, to: temporary, url: url)
                chmod(temporary, 0o555)
            }
        } catch let error as GitSourceError {
            throw error
        } catch let error as CacheStoreError {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot store the exported tree in the cache: \(error)")
        } catch {
            throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot export tree \(tree): \(error)")
        }
    }

    /// Writes `tree` into the empty directory `directory`. Every symbolic link is judged on
    /// the whole tree first (`TreeLayout`): one is created only when its target, followed
    /// through the tree's other links, stays inside the tree.
    static func write(tree: ObjectID, from repository: Repository, to directory: String, url: GitURL) throws {
        let (layout, blobs) = try layout(of: tree, in: repository, url: url)
        let links = layout.linkTargets()
        var directories: [String] = []
        for index in 1..<layout.count {
            let path = directory + "/" + layout.path(of: index)
            switch layout.kind(of: index) {
            case .directory:
                guard mkdir(path, 0o755) == 0 else { throw posixError("mkdir", path) }
                directories.append(path)
            case .file(let executable):
                guard let blob = blobs[index] else { continue }
                let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
                guard fd >= 0 else { throw posixError("open", path) }
                defer { close(fd) }
                try repository.withBlob(blob) { bytes in
                    var offset = 0
                    while offset < bytes.count, let base = bytes.baseAddress {
                        let n = Foundation.write(fd, base + offset, bytes.count - offset)
                        if n < 0 { if errno == EINTR { continue }; throw posixError("write", path) }
                        offset += n
                    }
                }
                fchmod(fd, executable ? 0o555 : 0o444)
            case .link(let target):
                // A link that leaves the tree (absolute, climbing above the root, through
                // another link that does, or a loop) is not created at all, so nothing can
                // read through it.
                guard links[index]?.isKept == true else { continue }
                guard symlink(target, path) == 0 else { throw posixError("symlink", path) }
            }
        }
        // Children before parents, once everything is written.
        for path in directories.reversed() { chmod(path, 0o555) }
    }

    /// The whole of `tree` as a `TreeLayout` (link targets read), with each file's blob id
    /// by entry index. Submodules are left out: an export has nothing at their place.
    private static func layout(of tree: ObjectID, in repository: Repository, url: GitURL) throws -> (TreeLayout, [Int: ObjectID]) {
        var layout = TreeLayout()
        var blobs: [Int: ObjectID] = [:]
        var pending = [(tree, TreeLayout.root)]
        while let (id, parent) = pending.popLast() {
            for entry in try repository.entries(ofTree: id) {
                guard TreeLayout.isPlainName(entry.name) else {
                    let prefix = layout.path(of: parent)
                    throw GitSourceError(url: url.redacted, ref: nil, kind: .failed, detail: "cannot export tree \(tree): \(prefix.isEmpty ? "its root" : prefix) holds an entry named \(String(reflecting: entry.name)), which git refuses to check out")
                }
                switch entry.kind {
                case .directory:
                    pending.append((entry.id, layout.add(entry.name, .directory, in: parent)))
                case .file, .executable:
                    blobs[layout.add(entry.name, .file(executable: entry.kind == .executable), in: parent)] = entry.id
                case .symlink:
                    let target = String(decoding: try repository.blob(entry.id), as: UTF8.self)
                    layout.add(entry.name, .link(target), in: parent)
                case .submodule:
                    continue
                }
            }
        }
        return (layout, blobs)
    }

    private static func posixError(_ call: String, _ path: String) -> GitSourceError {
        GitSourceError(url: path, ref: nil, kind: .failed, detail: "\(call) failed: \(String(cString: strerror(errno)))")
    }
}
