internal import CGit2
import Foundation

/// A git object id (SHA-1), as 40 lower-case hex digits.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible, Comparable {
    public let hex: String

    public init?(hex: String) {
        guard hex.count == 40, hex.allSatisfy(\.isHexDigit) else { return nil }
        self.hex = hex.lowercased()
    }

    init(_ oid: UnsafePointer<git_oid>) {
        var buffer = [CChar](repeating: 0, count: 41)
        _ = git_oid_fmt(&buffer, oid)
        hex = String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var oid: git_oid {
        var oid = git_oid()
        _ = git_oid_fromstr(&oid, hex)
        return oid
    }

    public var description: String { hex }
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.hex < rhs.hex }
}

/// An owned `git_repository` handle. Not thread-safe: used by one thread at a time and
/// freed (`git_repository_free`) when the last reference goes.
final class Repository {
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { git_repository_free(pointer) }

    /// Opens the repository at exactly `path` (`git_repository_open_ext` with no search
    /// upwards, so a broken mirror never silently opens an enclosing repository).
    static func open(_ path: String) throws(GitError) -> Repository {
        LibGit2.ensureInitialized()
        var pointer: OpaquePointer?
        try check(git_repository_open_ext(&pointer, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil), "git_repository_open_ext")
        guard let pointer else { throw GitError(function: "git_repository_open_ext", code: -1, errorClass: 0, message: "no repository") }
        return Repository(pointer)
    }

    /// Creates a repository (`git_repository_init`).
    static func create(_ path: String, bare: Bool) throws(GitError) -> Repository {
        LibGit2.ensureInitialized()
        var pointer: OpaquePointer?
        try check(git_repository_init(&pointer, path, bare ? 1 : 0), "git_repository_init")
        guard let pointer else { throw GitError(function: "git_repository_init", code: -1, errorClass: 0, message: "no repository") }
        return Repository(pointer)
    }

    /// The commit a reference (branch, tag, HEAD) finally points at (`git_reference_peel`).
    func commit(forReference name: String) throws(GitError) -> ObjectID? {
        var ref: OpaquePointer?
        let code = git_reference_lookup(&ref, pointer, name)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_reference_lookup")
        defer { git_reference_free(ref) }
        var object: OpaquePointer?
        let peel = git_reference_peel(&object, ref, GIT_OBJECT_COMMIT)
        // A ref to something that is no commit (a tag of a tree) names no commit; a missing
        // object (ENOTFOUND) means a damaged object store and is an error.
        if peel == GIT_EPEEL.rawValue || peel == GIT_EINVALIDSPEC.rawValue { return nil }
        try check(peel, "git_reference_peel")
        defer { git_object_free(object) }
        return ObjectID(git_object_id(object))
    }

    /// The target of a symbolic reference such as HEAD, if it is one.
    func symbolicTarget(_ name: String) throws(GitError) -> String? {
        var ref: OpaquePointer?
        let code = git_reference_lookup(&ref, pointer, name)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_reference_lookup")
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let target = git_reference_symbolic_target(ref) else { return nil }
        return String(cString: target)
    }

    /// Points a symbolic reference at `target` (`git_reference_symbolic_create`, forced).
    func setSymbolic(_ name: String, to target: String) throws(GitError) {
        var ref: OpaquePointer?
        try check(git_reference_symbolic_create(&ref, pointer, name, target, 1, "hld: default branch"), "git_reference_symbolic_create")
        git_reference_free(ref)
    }

    /// Creates or moves a direct reference (`git_reference_create`, forced).
    func setReference(_ name: String, to id: ObjectID) throws(GitError) {
        var oid = id.oid
        var ref: OpaquePointer?
        try check(git_reference_create(&ref, pointer, name, &oid, 1, "hld: fetch"), "git_reference_create")
        git_reference_free(ref)
    }

    func deleteReference(_ name: String) throws(GitError) {
        var ref: OpaquePointer?
        let code = git_reference_lookup(&ref, pointer, name)
        if code == GIT_ENOTFOUND.rawValue { return }
        try check(code, "git_reference_lookup")
        defer { git_reference_free(ref) }
        try check(git_reference_delete(ref), "git_reference_delete")
    }

    /// Every direct reference under `refs/heads/` and `refs/tags/` with its target.
    func branchesAndTags() throws(GitError) -> [String: ObjectID] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, pointer, "refs/*"), "git_reference_iterator_glob_new")
        defer { git_reference_iterator_free(iterator) }
        var refs: [String: ObjectID] = [:]
        while true {
            var ref: OpaquePointer?
            let code = git_reference_next(&ref, iterator)
            if code == GIT_ITEROVER.rawValue { break }
            try check(code, "git_reference_next")
            defer { git_reference_free(ref) }
            guard let name = git_reference_name(ref).map({ String(cString: $0) }),
                  name.hasPrefix("refs/heads/") || name.hasPrefix("refs/tags/"),
                  let target = git_reference_target(ref) else { continue }
            refs[name] = ObjectID(target)
        }
        return refs
    }

    /// A commit by full or abbreviated id (`git_object_lookup_prefix`); nil when absent.
    func commit(prefix: String) throws(GitError) -> ObjectID? {
        guard prefix.count >= 4, prefix.count <= 40, prefix.allSatisfy(\.isHexDigit) else { return nil }
        var oid = git_oid()
        try check(git_oid_fromstrn(&oid, prefix, prefix.utf8.count), "git_oid_fromstrn")
        var object: OpaquePointer?
        let code = git_object_lookup_prefix(&object, pointer, &oid, prefix.utf8.count, GIT_OBJECT_ANY)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_object_lookup_prefix")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        let peel = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
        if peel == GIT_ENOTFOUND.rawValue || peel == GIT_EINVALIDSPEC.rawValue { return nil }
        try check(peel, "git_object_peel")
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// True when `commit` has `ancestor` in its history (`git_graph_descendant_of`); false
    /// when not, or when either is missing.
    func isDescendant(_ commit: ObjectID, of ancestor: ObjectID) -> Bool {
        var a = commit.oid, b = ancestor.oid
        return git_graph_descendant_of(pointer, &a, &b) == 1
    }

    /// True when the repository holds only part of its history (a `shallow` file lists
    /// the commits whose parents it lacks).
    var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }

    /// True when the object database has this object.
    func contains(_ id: ObjectID) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0 else { return false }
        defer { git_odb_free(odb) }
        var oid = id.oid
        return git_odb_exists(odb, &oid) == 1
    }

    /// The root tree of a commit.
    func tree(ofCommit id: ObjectID) throws(GitError) -> ObjectID {
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, pointer, &oid), "git_commit_lookup")
        defer { git_commit_free(commit) }
        return ObjectID(git_commit_tree_id(commit))
    }

    /// The entries of a tree, in git's order.
    func entries(ofTree id: ObjectID) throws(GitError) -> [TreeEntry] {
        var oid = id.oid
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, pointer, &oid), "git_tree_lookup")
        defer { git_tree_free(tree) }
        let count = git_tree_entrycount(tree)
        var entries: [TreeEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let mode = git_tree_entry_filemode(entry)
            let kind: TreeEntry.Kind
            switch mode {
            case GIT_FILEMODE_TREE: kind = .directory
            case GIT_FILEMODE_BLOB_EXECUTABLE: kind = .executable
            case GIT_FILEMODE_LINK: kind = .symlink
            case GIT_FILEMODE_COMMIT: kind = .submodule
            default: kind = .file
            }
            entries.append(TreeEntry(name: String(cString: git_tree_entry_name(entry)), id: ObjectID(git_tree_entry_id(entry)), kind: kind))
        }
        return entries
    }

    /// The bytes of a blob (`git_blob_rawcontent`), lent to `body` without copying.
    func withBlob<R>(_ id: ObjectID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        return try body(UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size))
    }

    func blob(_ id: ObjectID) throws -> [UInt8] {
        try withBlob(id) { Array($0.bindMemory(to: UInt8.self)) }
    }

    /// The parents a commit's own object names (`parent` lines of the raw object, read
    /// from the object database: not what a shallow graft makes of it); nil when the
    /// object is missing or no commit.
    func recordedParents(of id: ObjectID) -> [ObjectID]? {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0 else { return nil }
        defer { git_odb_free(odb) }
        var oid = id.oid
        var object: OpaquePointer?
        guard git_odb_read(&object, odb, &oid) == 0 else { return nil }
        defer { git_odb_object_free(object) }
        guard git_odb_object_type(object) == GIT_OBJECT_COMMIT, let data = git_odb_object_data(object) else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: Int(git_odb_object_size(object)))
        var parents: [ObjectID] = []
        // The header ends at the first empty line; parent lines follow the tree line.
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("parent "), let parent = ObjectID(hex: String(text.dropFirst(7))) { parents.append(parent) }
        }
        return parents
    }
}

/// One entry of a git tree.
struct TreeEntry: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case file, executable, symlink, directory, submodule }
    var name: String
    var id: ObjectID
    var kind: Kind
}
