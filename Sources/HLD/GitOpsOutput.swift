import CacheStore
import Crypto
public import Foundation
public import Git

/// `--into`: where rendered environments are committed instead of written to disk — a
/// GitOps repository (a local path, or with `push` any git URL), a branch and a path in it,
/// each of which may hold `{env}`.
public struct GitOpsTarget: Sendable {
    public var location: String
    /// The branch (default `main`); `{env}` makes one branch per environment.
    public var branch: String
    /// The directory in the branch; nil: the branch's root for one environment (or one
    /// branch per environment), `{env}` for several environments on one branch.
    public var path: String?
    /// Fetch the branch, commit on its tip and push (the location is a remote).
    public var push: Bool
    /// The commit message's first part; the provenance trailers follow it.
    public var message: String?
    public var author: Signature

    public init(location: String, branch: String = "main", path: String? = nil, push: Bool = false, message: String? = nil, author: Signature) {
        self.location = location
        self.branch = branch
        self.path = path
        self.push = push
        self.message = message
        self.author = author
    }
}

/// One commit `--into` makes (or found unneeded) on one branch.
public struct GitOpsCommit: Sendable {
    public var branch: String
    public var environments: [String]
    /// Where each environment went in the branch.
    public var paths: [String]
    public var outcome: CommitOutcome
}

/// Commits materialized environments into a GitOps repository with libgit2: no work tree,
/// no commit when nothing changed (n+1 runs, one commit), provenance trailers in every
/// commit message.
public enum GitOpsOutput {
    /// A branch's share of the environments: the subtrees to replace and who they are.
    struct Plan {
        var branch: String
        var updates: [TreeUpdate]
        var materializations: [Materialization]
    }

    /// Groups the environments by branch, `{env}` expanded in branch and path.
    static func plan(_ materializations: [Materialization], target: GitOpsTarget) throws(HLDError) -> [Plan] {
        let pathPattern = target.path ?? (target.branch.contains("{env}") || materializations.count == 1 ? "" : "{env}")
        var plans: [Plan] = []
        var taken: [String: String] = [:]
        for materialization in materializations {
            let name = materialization.environmentName
            let branch = target.branch.replacingOccurrences(of: "{env}", with: name)
            let path = pathPattern.replacingOccurrences(of: "{env}", with: name).split(separator: "/").joined(separator: "/")
            guard !branch.isEmpty, !branch.hasPrefix("-"), !branch.contains(".."), !branch.contains(" ") else {
                throw HLDError("--branch \(target.branch) gives \(branch.isEmpty ? "an empty name" : branch), which is not a branch name").kind(.output)
            }
            if let other = taken[branch + "\u{0}" + path] {
                throw HLDError("\(other) and \(name) would both go to \(path.isEmpty ? "the root" : path) of branch \(branch): put {env} in --path or --branch").kind(.output)
            }
            taken[branch + "\u{0}" + path] = name
            let files = FileSet(Dictionary(materialization.files.map { ($0.path, $0.bytes) }, uniquingKeysWith: { first, _ in first }))
            let update = TreeUpdate(path: path, files: files)
            if let index = plans.firstIndex(where: { $0.branch == branch }) {
                plans[index].updates.append(update)
                plans[index].materializations.append(materialization)
            } else {
                plans.append(Plan(branch: branch, updates: [update], materializations: [materialization]))
            }
        }
        return plans
    }

    /// Commits (and with `push`, pushes) each branch's environments.
    public static func publish(_ materializations: [Materialization], target: GitOpsTarget, options: MaterializeOptions) async throws(HLDError) -> [GitOpsCommit] {
        let plans = try plan(materializations, target: target)
        let provenance = Provenance(options)
        var commits: [GitOpsCommit] = []
        let remote = try remote(target, options: options)
        for plan in plans {
            let message = provenance.message(target.message, plan.materializations)
            let outcome: CommitOutcome
            do {
                if let (cache, url) = remote {
                    outcome = try await cache.publish(plan.updates, to: url, branch: plan.branch, message: message, author: target.author)
                } else {
                    outcome = try Committer.commit(plan.updates, repository: localPath(target, options: options), branch: plan.branch, message: message, author: target.author)
                }
            } catch {
                throw HLDError("--into \(GitURL.redact(target.location)): \(error)").kind(.output).caused(by: error)
            }
            commits.append(GitOpsCommit(branch: plan.branch, environments: plan.materializations.map(\.environmentName),
                                        paths: plan.updates.map(\.path), outcome: outcome))
        }
        return commits
    }

    /// `--check --into`: how each environment's files differ from what its branch holds at
    /// its path (the branch read now: fetched first when it is a remote).
    public static func differences(_ materializations: [Materialization], target: GitOpsTarget, options: MaterializeOptions) async throws(HLDError) -> [[FileDifference]] {
        let plans = try plan(materializations, target: target)
        let remote = try remote(target, options: options)
        var result: [[FileDifference]] = []
        do {
            let repository: String
            if let (cache, url) = remote { repository = try await cache.refreshed(url, branches: plans.map(\.branch)) } else { repository = try localPath(target, options: options) }
            for plan in plans {
                for (update, materialization) in zip(plan.updates, plan.materializations) {
                    let committed: [String: [UInt8]] = FileManager.default.fileExists(atPath: repository)
                        ? try Committer.files(in: repository, branch: plan.branch, path: update.path) ?? [:] : [:]
                    var differences: [FileDifference] = []
                    for file in materialization.files {
                        guard let old = committed[file.path] else { differences.append(.added(file.path)); continue }
                        if old != file.bytes { differences.append(.changed(file.path)) }
                    }
                    let produced = Set(materialization.files.map(\.path))
                    for path in committed.keys.sorted() where !produced.contains(path) { differences.append(.removed(path)) }
                    result.append(differences)
                }
            }
        } catch {
            throw HLDError("--into \(GitURL.redact(target.location)): \(error)").kind(.output).caused(by: error)
        }
        return result
    }

    /// The mirror cache and URL of a target that is pushed to; nil for a local repository.
    private static func remote(_ target: GitOpsTarget, options: MaterializeOptions) throws(HLDError) -> (MirrorCache, GitURL)? {
        guard target.push else {
            if target.location.contains("://") {
                throw HLDError("--into \(GitURL.redact(target.location)) is a remote repository: add --push to commit there").kind(.output)
            }
            return nil
        }
        do {
            let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
            let location = target.location.contains("://") || target.location.hasPrefix("/") || target.location.contains("@")
                ? target.location : URL(fileURLWithPath: target.location, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/")).standardizedFileURL.path
            let url = try GitURL(location)
            let project = try ProjectFile.load(in: root)
            let rewrites = URLRewrites(project.mirrors).merging(try URLRewrites.fromEnvironment(options.processEnvironment))
            let access = try AccessFile.load(root + "/access.yaml")
            let cache = try MirrorCache(options: MirrorCacheOptions(
                root: options.cacheRoot, offline: false, credentials: GitCredentials(accessTokens: access, environment: options.processEnvironment),
                rewrites: rewrites, fetchMode: LibGit2.fetchMode(environment: options.processEnvironment)))
            return (cache, url)
        } catch let error as HLDError {
            throw error
        } catch {
            throw HLDError("--into \(GitURL.redact(target.location)): \(error)").kind(.output).caused(by: error)
        }
    }

    private static func localPath(_ target: GitOpsTarget, options: MaterializeOptions) throws(HLDError) -> String {
        URL(fileURLWithPath: target.location, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/")).standardizedFileURL.path
    }
}

/// What every `--into` commit message says of where it came from, as git trailers
/// (`git interpret-trailers --parse` reads them back).
struct Provenance {
    var commit: String
    var dirty: Bool?
    var lockHash: String?

    init(_ options: MaterializeOptions) {
        let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
        if let repository = try? WorkingRepository.discover(containing: root), let head = try? repository.head() {
            commit = head.hex
            dirty = repository.isDirty()
        } else {
            commit = "none"
            dirty = nil
        }
        lockHash = options.lockFile != nil
            ? FileManager.default.contents(atPath: root + "/" + LockFile.fileName).map { "sha256:" + SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() }
            : nil
    }

    func message(_ subject: String?, _ materializations: [Materialization]) -> String {
        let names = materializations.map(\.environmentName)
        var lines = [subject ?? "hld: materialize \(names.joined(separator: ", "))", ""]
        lines.append("Hld-Commit: \(commit)")
        if let dirty { lines.append("Hld-Dirty: \(dirty)") }
        lines.append("Hld-Environments: \(names.joined(separator: " "))")
        lines.append("Hld-Version: \(BuildInfo.hldVersion)")
        var tools: [String: String] = [:]
        for materialization in materializations { tools.merge(materialization.tools) { first, _ in first } }
        for name in tools.keys.sorted() { lines.append("Hld-\(name.prefix(1).uppercased() + name.dropFirst()): \(tools[name]!)") }
        if let lockHash {
            lines.append("Hld-Lock: \(lockHash)")
        } else {
            for materialization in materializations {
                for component in materialization.tree.flattened {
                    for pin in component.pins where !pin.isLocal {
                        lines.append("Hld-Pin: \(materialization.environmentName) \(component.lockKey) \(pin.sourceIdentity) \(pin.resolvedFull)")
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Pin {
    /// The pinned part in full: a commit id, `version sha256:…`, `sha256:…`.
    var resolvedFull: String {
        switch self {
        case .git(_, _, let commit, _, _): return commit
        case .chart(_, _, _, let version, let digest), .oci(_, _, let version, _, let digest): return "\(version) sha256:\(digest)"
        case .http(_, let digest): return "sha256:\(digest)"
        case .local(let path): return path
        }
    }
}
