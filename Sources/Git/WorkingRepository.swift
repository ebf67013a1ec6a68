internal import CGit2
import CacheStore
import Foundation

/// The git repository a project directory is in (the HLD repository itself), read through
/// libgit2 without touching its work tree: revisions resolved, trees exported elsewhere.
/// `hld diff --base` and the promoted definitions of `hld.lock` read it.
public struct WorkingRepository: Sendable {
    /// The `.git` directory (or the repository itself when bare).
    public let gitDirectory: String
    /// The work tree's root; nil for a bare repository.
    public let workTree: String?
    /// How errors name the repository.
    private let url: GitURL

    /// The repository that holds `path` (searching upwards, as git does); nil when none does.
    public static func discover(containing path: String) throws(GitSourceError) -> WorkingRepository? {
        LibGit2.ensureInitialized()
        var pointer: OpaquePointer?
        let code = git_repository_open_ext(&pointer, path, 0, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        guard code == 0, let pointer else {
            throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "cannot open the git repository holding it: \(GitError.last("git_repository_open_ext", code: code).message)")
        }
        defer { git_repository_free(pointer) }
        let gitDirectory = URL(fileURLWithPath: String(cString: git_repository_path(pointer))).standardizedFileURL.path
        let workTree = git_repository_workdir(pointer).map { URL(fileURLWithPath: String(cString: $0)).standardizedFileURL.path }
        return WorkingRepository(gitDirectory: gitDirectory, workTree: workTree, url: try GitURL(workTree ?? gitDirectory))
    }

    /// `path` relative to the work tree's root (`""` for the root itself); nil when it is
    /// not inside the work tree.
    public func relativePath(of path: String) -> String? {
        guard let workTree else { return nil }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: workTree).resolvingSymlinksInPath().path
        if resolved == root { return "" }
        guard resolved.hasPrefix(root + "/") else { return nil }
        return String(resolved.dropFirst(root.count + 1))
    }

    /// The commit `revision` names (`HEAD~1`, a branch, a tag, a full or short id), as
    /// `git rev-parse <revision>^{commit}` would.
    public func commit(for revision: String) throws(GitSourceError) -> ObjectID {
        let repository = try open()
        var object: OpaquePointer?
        let code = git_revparse_single(&object, repository.pointer, revision)
        guard code == 0 else {
            let kind: GitSourceError.Kind = code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue ? .refNotFound
                : code == GIT_EAMBIGUOUS.rawValue ? .ambiguousRef : .failed
            let detail = kind == .failed ? GitError.last("git_revparse_single", code: code).message
                : kind == .ambiguousRef ? "\(revision) is ambiguous: give more digits of the commit id"
                : "no revision \(revision) in this repository"
            throw GitSourceError(url: gitDirectory, ref: revision, kind: kind, detail: detail)
        }
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        let peel = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
        guard peel == 0 else {
            throw GitSourceError(url: gitDirectory, ref: revision, kind: .refNotFound, detail: "\(revision) names no commit")
        }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// The commit HEAD points at; nil in a repository with no commit yet.
    public func head() throws(GitSourceError) -> ObjectID? {
        do {
            return try commit(for: "HEAD")
        } catch where error.kind == .refNotFound {
            return nil
        }
    }

    /// True when the work tree differs from HEAD: a modified, added, removed or untracked
    /// (not ignored) file.
    public func isDirty() -> Bool {
        guard workTree != nil, let repository = try? open() else { return false }
        var options = git_status_options()
        git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        guard git_status_list_new(&list, repository.pointer, &options) == 0 else { return true }
        defer { git_status_list_free(list) }
        return git_status_list_entrycount(list) > 0
    }

    /// How commit `a` relates to commit `b` in this repository.
    public func relation(_ a: ObjectID, _ b: ObjectID) -> CommitRelation {
        guard let repository = try? open() else { return .unrelated }
        return CommitRelation(a, b, in: repository)
    }

    /// Writes the whole tree of `commit` into `directory` (which must not exist), writable,
    /// with the same containment rules as any exported tree: links that would leave it are
    /// not created.
    public func export(commit: ObjectID, to directory: String) throws(GitSourceError) {
        let repository = try open()
        let tree: ObjectID
        do {
            tree = try repository.tree(ofCommit: commit)
        } catch {
            throw GitSourceError(url: gitDirectory, ref: commit.hex, kind: .refNotFound, detail: "cannot read commit \(commit.hex): \(error.message)")
        }
        guard mkdir(directory, 0o700) == 0 else {
            throw GitSourceError(url: directory, ref: nil, kind: .failed, detail: "cannot create the directory: \(String(cString: strerror(errno)))")
        }
        do {
            try MirrorStore.write(tree: tree, from: repository, to: directory, url: url)
            try CacheStore.makeWritable(directory)
        } catch let error as GitSourceError {
            throw error
        } catch {
            throw GitSourceError(url: gitDirectory, ref: commit.hex, kind: .failed, detail: "cannot export commit \(commit.hex): \(error)")
        }
    }


    private func open() throws(GitSourceError) -> Repository {
        do {
            return try Repository.open(gitDirectory)
        } catch {
            throw GitSourceError(url: gitDirectory, ref: nil, kind: .failed, detail: "cannot open the repository: \(error.message)")
        }
    }
}
