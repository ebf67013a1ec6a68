internal import CGit2
public import Foundation

/// A set of files to commit as a whole tree: relative path → bytes.
public struct FileSet: Sendable, Equatable {
    public var files: [String: [UInt8]]

    public init(_ files: [String: [UInt8]] = [:]) { self.files = files }
}

/// Who a commit is by.
public struct Signature: Sendable, Equatable {
    public var name: String
    public var email: String
    public var date: Date

    public init(name: String, email: String, date: Date = Date()) {
        self.name = name
        self.email = email
        self.date = date
    }
}

/// What a commit request did.
public enum CommitOutcome: Sendable, Equatable {
    case created(ObjectID)
    /// The branch already holds exactly this tree: no commit was made.
    case unchanged(ObjectID)
}

/// Commits rendered files into a repository without a work tree, and pushes them.
public enum Committer {
    /// Makes `files` the whole content of `branch` in the repository at `repository` (bare
    /// or not; created bare if missing): one commit whose parent is the branch's tip, or
    /// none when the tree is unchanged.
    public static func commit(_ files: FileSet, repository: String, branch: String, message: String, author: Signature) throws(GitSourceError) -> CommitOutcome {
        try commit([TreeUpdate(path: "", files: files)], repository: repository, branch: branch, message: message, author: author)
    }

    /// Pushes `branch` of the repository at `repository` to `remote` (fast-forward only),
    /// with the same credentials as fetching.
    public static func push(repository: String, branch: String, to remote: GitURL, credentials: GitCredentials) throws(GitSourceError) {
        let repo: Repository
        do {
            repo = try Repository.open(repository)
        } catch {
            throw GitSourceError(url: repository, ref: "branch \(branch)", kind: .failed, detail: "cannot open the repository: \(error.message)")
        }
        do {
            let connection = try RemoteConnection(repository: repo, url: remote, credentials: credentials, direction: GIT_DIRECTION_PUSH)
            try connection.push(["refs/heads/\(branch):refs/heads/\(branch)"])
        } catch {
            throw error.with(ref: .branch(branch))
        }
    }

    /// Writes blobs and nested trees for `files` (`git_blob_create_from_buffer`,
    /// `git_treebuilder_write`) and returns the root tree id.
    static func buildTree(_ files: FileSet, in repo: Repository) throws -> ObjectID {
        final class Directory {
            var files: [String: [UInt8]] = [:]
            var directories: [String: Directory] = [:]
        }
        let root = Directory()
        for (path, bytes) in files.files {
            let parts = path.split(separator: "/").map(String.init)
            guard !parts.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0 == ".git" }) else {
                throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "not a relative file path inside the repository")
            }
            var directory = root
            for part in parts.dropLast() {
                if directory.files[part] != nil { throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "\(part) is both a file and a directory") }
                let next = directory.directories[part] ?? Directory()
                directory.directories[part] = next
                directory = next
            }
            if directory.directories[parts[parts.count - 1]] != nil {
                throw GitSourceError(url: path, ref: nil, kind: .failed, detail: "is both a file and a directory")
            }
            directory.files[parts[parts.count - 1]] = bytes
        }
        func write(_ directory: Directory) throws -> ObjectID {
            var builder: OpaquePointer?
            try check(git_treebuilder_new(&builder, repo.pointer, nil), "git_treebuilder_new")
            defer { git_treebuilder_free(builder) }
            for (name, bytes) in directory.files {
                var oid = git_oid()
                try check(bytes.withUnsafeBytes { git_blob_create_from_buffer(&oid, repo.pointer, $0.baseAddress, $0.count) }, "git_blob_create_from_buffer")
                try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_BLOB), "git_treebuilder_insert")
            }
            for (name, child) in directory.directories {
                var oid = try write(child).oid
                try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_TREE), "git_treebuilder_insert")
            }
            var oid = git_oid()
            try check(git_treebuilder_write(&oid, builder), "git_treebuilder_write")
            return ObjectID(&oid)
        }
        return try write(root)
    }

    static func createCommit(in repo: Repository, ref: String?, tree: ObjectID, parent: ObjectID?, message: String, author: Signature) throws -> ObjectID {
        var signature: UnsafeMutablePointer<git_signature>?
        let seconds = git_time_t(author.date.timeIntervalSince1970.rounded(.down))
        try check(git_signature_new(&signature, author.name, author.email, seconds, 0), "git_signature_new")
        defer { git_signature_free(signature) }
        var treeOID = tree.oid
        var treeObject: OpaquePointer?
        try check(git_tree_lookup(&treeObject, repo.pointer, &treeOID), "git_tree_lookup")
        defer { git_tree_free(treeObject) }
        var parentObject: OpaquePointer?
        if let parent {
            var oid = parent.oid
            try check(git_commit_lookup(&parentObject, repo.pointer, &oid), "git_commit_lookup")
        }
        defer { if parentObject != nil { git_commit_free(parentObject) } }
        var parents: [OpaquePointer?] = parentObject.map { [$0] } ?? []
        var oid = git_oid()
        try parents.withUnsafeMutableBufferPointer { buffer in
            try check(git_commit_create(&oid, repo.pointer, ref, signature, signature, "UTF-8", message, treeObject,
                                        buffer.count, buffer.baseAddress), "git_commit_create")
        }
        return ObjectID(&oid)
    }
}
