internal import CGit2
import CacheStore
public import Foundation

/// One subtree of a commit to replace: the files under `path` (`""`: the whole tree)
/// become exactly `files`; an empty set removes the subtree.
public struct TreeUpdate: Sendable, Equatable {
    public var path: String
    public var files: FileSet

    public init(path: String, files: FileSet) {
        self.path = path
        self.files = files
    }

    /// `path` split into names, refusing anything that is not a plain relative path.
    func components() throws(GitSourceError) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        guard !path.hasPrefix("/"), !parts.contains(where: { $0 == "." || $0 == ".." || $0 == ".git" }) else {
            throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "--path must be a relative path inside the repository")
        }
        return parts
    }
}

extension Committer {
    /// Commits `updates` onto `branch` of the repository at `repository` (bare or not;
    /// created bare when missing), without a work tree: everything outside the updated
    /// subtrees stays as the tip has it. No commit when the tree would not change. The
    /// branch moves only from the tip this read (a concurrent writer makes it fail, never
    /// lose a commit).
    public static func commit(_ updates: [TreeUpdate], repository: String, branch: String, message: String, author: Signature) throws(GitSourceError) -> CommitOutcome {
        let repo: Repository
        do {
            repo = FileManager.default.fileExists(atPath: repository)
                ? try Repository.open(repository) : try Repository.create(repository, bare: true)
        } catch {
            throw GitSourceError(url: repository, ref: "branch \(branch)", kind: .failed, detail: "cannot open the repository: \(error.message)")
        }
        return try commit(updates, in: repo, at: repository, branch: branch, message: message, author: author, moveRef: true)
    }

    /// The bytes of every file under `path` of `branch`'s tip (paths relative to `path`);
    /// nil when the branch does not exist.
    public static func files(in repository: String, branch: String, path: String) throws(GitSourceError) -> [String: [UInt8]]? {
        do {
            let repo = try Repository.open(repository)
            guard let tip = try repo.commit(forReference: "refs/heads/" + branch) else { return nil }
            var tree: ObjectID? = try repo.tree(ofCommit: tip)
            for part in try TreeUpdate(path: path, files: FileSet()).components() {
                tree = try tree.flatMap { id in try repo.entries(ofTree: id).first { $0.name == part && $0.kind == .directory }?.id }
            }
            var files: [String: [UInt8]] = [:]
            func walk(_ id: ObjectID, _ prefix: String) throws {
                for entry in try repo.entries(ofTree: id) {
                    switch entry.kind {
                    case .directory: try walk(entry.id, prefix + entry.name + "/")
                    case .file, .executable: files[prefix + entry.name] = try repo.blob(entry.id)
                    case .symlink, .submodule: continue
                    }
                }
            }
            if let tree { try walk(tree, "") }
            return files
        } catch let error as GitSourceError {
            throw error
        } catch {
            throw GitSourceError(url: repository, ref: "branch \(branch)", kind: .failed, detail: "cannot read the branch: \(error)")
        }
    }

    static func commit(_ updates: [TreeUpdate], in repo: Repository, at shown: String, branch: String, message: String, author: Signature,
                       moveRef: Bool) throws(GitSourceError) -> CommitOutcome {
        func failure(_ detail: String) -> GitSourceError {
            GitSourceError(url: shown, ref: "branch \(branch)", kind: .failed, detail: detail)
        }
        do {
            let refName = "refs/heads/" + branch
            let parent = try repo.commit(forReference: refName)
            var tree = try parent.map { try repo.tree(ofCommit: $0) }
            for update in updates {
                let replacement = update.files.files.isEmpty ? nil : try buildTree(update.files, in: repo)
                tree = try replace(update.components()[...], in: tree, with: replacement, repo: repo)
            }
            let root = try tree ?? emptyTree(in: repo)
            if let parent, try repo.tree(ofCommit: parent) == root { return .unchanged(parent) }
            let commit = try createCommit(in: repo, ref: nil, tree: root, parent: parent, message: message, author: author)
            if moveRef {
                // Compare-and-swap: only from the parent this read.
                var new = commit.oid
                var out: OpaquePointer?
                let code: Int32
                if let parent {
                    var old = parent.oid
                    code = git_reference_create_matching(&out, repo.pointer, refName, &new, 1, &old, "hld: commit")
                } else {
                    code = git_reference_create(&out, repo.pointer, refName, &new, 0, "hld: commit")
                }
                if code == GIT_EEXISTS.rawValue || code == GIT_EMODIFIED.rawValue {
                    throw failure("the branch moved while hld was committing (another writer); run hld again")
                }
                try check(code, "git_reference_create_matching")
                git_reference_free(out)
            }
            return .created(commit)
        } catch let error as GitSourceError {
            throw error
        } catch let error as GitError {
            throw failure("cannot commit: \(error.message)")
        } catch {
            throw failure("cannot commit: \(error)")
        }
    }

    /// `base` with the subtree at `path` replaced by `replacement` (nil: removed); nil when
    /// nothing is left.
    private static func replace(_ path: ArraySlice<String>, in base: ObjectID?, with replacement: ObjectID?, repo: Repository) throws -> ObjectID? {
        guard let name = path.first else { return replacement }
        var baseObject: OpaquePointer?
        if let base {
            var oid = base.oid
            try check(git_tree_lookup(&baseObject, repo.pointer, &oid), "git_tree_lookup")
        }
        defer { if baseObject != nil { git_tree_free(baseObject) } }
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, repo.pointer, baseObject), "git_treebuilder_new")
        defer { git_treebuilder_free(builder) }
        var existing: ObjectID?
        if let entry = git_treebuilder_get(builder, name), git_tree_entry_filemode(entry) == GIT_FILEMODE_TREE {
            existing = ObjectID(git_tree_entry_id(entry))
        }
        if let child = try replace(path.dropFirst(), in: existing, with: replacement, repo: repo) {
            var oid = child.oid
            try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_TREE), "git_treebuilder_insert")
        } else if git_treebuilder_get(builder, name) != nil {
            try check(git_treebuilder_remove(builder, name), "git_treebuilder_remove")
        }
        guard git_treebuilder_entrycount(builder) > 0 else { return nil }
        var oid = git_oid()
        try check(git_treebuilder_write(&oid, builder), "git_treebuilder_write")
        return ObjectID(&oid)
    }

    private static func emptyTree(in repo: Repository) throws -> ObjectID {
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, repo.pointer, nil), "git_treebuilder_new")
        defer { git_treebuilder_free(builder) }
        var oid = git_oid()
        try check(git_treebuilder_write(&oid, builder), "git_treebuilder_write")
        return ObjectID(&oid)
    }
}

extension MirrorCache {
    /// Publishes `updates` to `branch` of the remote repository at `url`: the branch is
    /// fetched into its mirror, the commit made on its tip there (no work tree), and pushed;
    /// when the push is refused (someone else pushed first), the tip is fetched again, the
    /// commit made anew on it and pushed once more. No commit, and no push, when the tip
    /// already holds the tree. `message` is asked for once per attempt.
    public func publish(_ updates: [TreeUpdate], to url: GitURL, branch: String, message: String, author: Signature,
                        attempts: Int = 2) async throws(GitSourceError) -> CommitOutcome {
        let options = self.options
        let entry = mirrorEntry(for: url)
        let path = mirrorPath(for: url)
        var attempt = 0
        while true {
            attempt += 1
            let outcome = try await Self.blocking { () throws(GitSourceError) -> (CommitOutcome, GitSourceError?) in
                let transport = try GitURL(options.rewrites.apply(url.original))
                _ = try MirrorStore.update(url: url, transport: transport, mirror: entry, credentials: options.credentials,
                                           wants: options.fetchMode == .shallow ? .refs([.branch(branch)]) : .everything,
                                           shallow: LibGit2.canFetchShallow(from: transport))
                let lock: CacheEntryLock
                do {
                    lock = try entry.lock(.exclusive)
                } catch {
                    throw GitSourceError(url: url.redacted, ref: "branch \(branch)", kind: .failed, detail: "\(error)")
                }
                defer { lock.release() }
                let repo: Repository
                do throws(GitError) {
                    repo = try Repository.open(path)
                } catch {
                    throw GitSourceError(url: url.redacted, ref: "branch \(branch)", kind: .corruptMirror, detail: "cannot open the mirror: \(error.message)")
                }
                let outcome = try Committer.commit(updates, in: repo, at: url.redacted, branch: branch, message: message, author: author, moveRef: false)
                guard case .created(let commit) = outcome else { return (outcome, nil) }
                // Pushed from a private ref, so the mirror's branches keep mirroring the remote.
                let temporary = "refs/hld/publish/\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                do throws(GitError) {
                    try repo.setReference(temporary, to: commit)
                } catch {
                    throw GitSourceError(url: url.redacted, ref: "branch \(branch)", kind: .failed, detail: "cannot prepare the push: \(error.message)")
                }
                defer { try? repo.deleteReference(temporary) }
                do throws(GitSourceError) {
                    let connection = try RemoteConnection(repository: repo, url: transport, credentials: options.credentials, direction: GIT_DIRECTION_PUSH)
                    try connection.push(["\(temporary):refs/heads/\(branch)"])
                } catch where error.kind == .push {
                    return (outcome, error.with(ref: .branch(branch)))
                } catch {
                    throw error.with(ref: .branch(branch))
                }
                // The mirror's branch now is what the remote has.
                try? repo.setReference("refs/heads/" + branch, to: commit)
                return (outcome, nil)
            }
            guard let refusal = outcome.1 else { return outcome.0 }
            if attempt >= attempts {
                throw GitSourceError(url: url.redacted, ref: "branch \(branch)", kind: .push,
                                     detail: "\(refusal.detail); hld fetched the new tip and committed again, and the push was refused again: try again later")
            }
        }
    }
}

extension MirrorCache {
    /// The mirror of `url` with `branches` fetched now (whatever this run fetched before),
    /// for reading them as the remote has them.
    public func refreshed(_ url: GitURL, branches: [String]) async throws(GitSourceError) -> String {
        let options = self.options
        let entry = mirrorEntry(for: url)
        try await Self.blocking { () throws(GitSourceError) in
            let transport = try GitURL(options.rewrites.apply(url.original))
            _ = try MirrorStore.update(url: url, transport: transport, mirror: entry, credentials: options.credentials,
                                       wants: options.fetchMode == .shallow ? .refs(branches.map(GitRef.branch)) : .everything,
                                       shallow: LibGit2.canFetchShallow(from: transport))
        }
        return mirrorPath(for: url)
    }
}
