import CacheStore
public import Foundation
import Git

/// The project as it is at one commit of the git repository it is in, exported through
/// libgit2 into a private directory (no checkout, the work tree untouched): what
/// `hld diff --base` renders, and where the promoted definitions of `hld.lock` are read.
public struct ProjectSnapshot: Sendable {
    /// The commit exported (full id).
    public let commit: String
    /// The project directory inside the snapshot.
    public let directory: String
    /// The repository's root inside the snapshot.
    public let repositoryRoot: String
    /// The project directory in the working tree it stands for.
    public let project: String
    /// The private directory holding the export (removed by `remove()`).
    private let scratch: String

    static let prefix = "hld-snapshot-"

    /// The project in `project`'s repository as `revision` (`HEAD~1`, a branch, a tag, a
    /// commit id) has it.
    public static func make(project: String, revision: String) throws(HLDError) -> ProjectSnapshot {
        let (repository, relative) = try enclosingRepository(of: project)
        let commit: ObjectID
        do {
            commit = try repository.commit(for: revision)
        } catch {
            throw HLDError("\(revision): \(error.detail) (the repository at \(repository.workTree ?? repository.gitDirectory))").kind(.source)
        }
        return try export(repository, commit: commit, relative: relative, project: project)
    }

    /// The project at `commit` (a full id, as a lock file records it).
    public static func make(project: String, commit hex: String) throws(HLDError) -> ProjectSnapshot {
        let (repository, relative) = try enclosingRepository(of: project)
        guard let commit = ObjectID(hex: hex) else { throw HLDError("\(hex) is not a full commit id").kind(.definition) }
        return try export(repository, commit: commit, relative: relative, project: project)
    }

    /// The repository `project` is in, and the project's path inside its work tree.
    static func enclosingRepository(of project: String) throws(HLDError) -> (WorkingRepository, String) {
        let repository: WorkingRepository?
        do {
            repository = try WorkingRepository.discover(containing: project)
        } catch {
            throw HLDError("\(project): \(error.detail)")
        }
        guard let repository, let relative = repository.relativePath(of: project) else {
            throw HLDError("\(project) is not inside a git repository's work tree; hld reads earlier versions of the definitions from the repository they are committed in").kind(.definition)
        }
        return (repository, relative)
    }

    private static func export(_ repository: WorkingRepository, commit: ObjectID, relative: String, project: String) throws(HLDError) -> ProjectSnapshot {
        let temporary = String(NSTemporaryDirectory().dropLast())
        InFlight.removeStale(in: temporary, prefix: prefix)
        let scratch = temporary + "/" + prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard InFlight.creating(scratch, { mkdir(scratch, 0o700) }) == 0 else {
            throw HLDError("cannot create a private directory in \(temporary): \(InFlight.isStopping ? "the process is being stopped" : String(cString: strerror(errno)))")
        }
        let root = scratch + "/tree"
        do {
            try repository.export(commit: commit, to: root)
        } catch {
            CacheStore.removeTree(scratch)
            InFlight.untrack(scratch)
            throw HLDError("cannot read commit \(commit.hex.prefix(12)) of \(repository.workTree ?? repository.gitDirectory): \(error.detail)").kind(.source)
        }
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard FileManager.default.fileExists(atPath: directory) else {
            CacheStore.removeTree(scratch)
            InFlight.untrack(scratch)
            throw HLDError("commit \(commit.hex.prefix(12)) has no \(relative): the project directory did not exist then").kind(.definition)
        }
        return ProjectSnapshot(commit: commit.hex, directory: directory, repositoryRoot: root,
                               project: URL(fileURLWithPath: project).standardizedFileURL.path, scratch: scratch)
    }

    /// Removes the export.
    public func remove() {
        CacheStore.removeTree(scratch)
        InFlight.untrack(scratch)
    }
}
