import Foundation
import Testing
import TestSupport

/// `hld cache info` and `hld cache prune` on the example's cache, with real hld processes
/// materializing beside them. Serialized, and waiting for long runs without holding a
/// thread of the test pool: eight runs at once already load a small machine.
@Suite(.serialized, .timeLimit(.minutes(10))) struct CacheCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    /// The kinds' directories, as the cache layout has them.
    static let kinds = [
        ("gitMirrors", "git/mirrors", ".git"), ("gitTrees", "git/trees-v2", ""), ("chartArchives", "helm/charts", ".tgz"),
        ("chartIndexes", "helm/indexes", ".yaml"), ("ociRecords", "helm/oci", ""), ("httpURLs", "http/urls", ""),
        ("httpObjects", "http/objects", ""), ("renders", "renders", ""), ("assembledCharts", "helm/assembled", ""), ("tools", "tools", ""),
    ]

    struct Info: Decodable {
        struct Kind: Decodable { var kind: String, directory: String, entries: Int, bytes: Int64 }
        var directory: String, kinds: [Kind], otherBytes: Int64, entries: Int, bytes: Int64

        func entries(_ kind: String) -> Int { kinds.first { $0.kind == kind }?.entries ?? -1 }
    }

    struct Prune: Decodable {
        struct Entry: Decodable { var kind: String, name: String, bytes: Int64 }
        var removed: [Entry], skipped: [Entry], kept: [Entry], freedBytes: Int64
    }

    func hld(_ arguments: [String], in cluster: String, cache: String) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", cluster, "--cache-dir", cache] + arguments, environment: Self.environment, timeout: .seconds(120))
    }

    func info(_ cluster: String, _ cache: String) throws -> Info {
        let result = try hld(["cache", "info", "--format", "json"], in: cluster, cache: cache)
        #expect(result.succeeded, "\(result.stderr)")
        return try JSONDecoder().decode(Info.self, from: Data(result.stdout.utf8))
    }

    func prune(_ arguments: [String], _ cluster: String, _ cache: String) throws -> Prune {
        let result = try hld(["cache", "prune", "--format", "json"] + arguments, in: cluster, cache: cache)
        #expect(result.succeeded, "\(result.stderr)")
        return try JSONDecoder().decode(Prune.self, from: Data(result.stdout.utf8))
    }

    func materialize(_ cluster: String, _ cache: String, _ extra: [String] = []) throws {
        let result = try hld(["materialize", "--all", "-q"] + extra, in: cluster, cache: cache)
        #expect(result.succeeded, "\(result.stderr)")
    }

    /// The names of the entries in a kind's directory: no lock, use or temporary files.
    static func entryNames(_ directory: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            !$0.hasSuffix(".lock") && !$0.hasSuffix(".use") && !$0.contains(".tmp-") && $0.hasSuffix(suffix)
        }.sorted()
    }

    /// The sum of the sizes of the regular files at or under `path`, by `find`.
    static func bytes(under path: String) throws -> Int64 {
        let result = try ChildProcess.run("find", [path, "-type", "f", "-printf", "%s\\n"], environment: environment)
        return result.stdout.split(separator: "\n").reduce(0) { $0 + (Int64($1) ?? 0) }
    }

    /// Waits at most `timeout` for `child` to exit, sleeping rather than blocking a thread.
    static func exit(of child: ChildProcess, timeout: Duration) async -> ChildProcess.Termination? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let termination = child.termination { return termination }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return child.termination
    }

    /// Takes `flock` on `path` from this process (as another hld would hold it).
    static func holdLock(_ path: String, exclusive: Bool) -> Int32 {
        let fd = open(path, O_RDWR)
        #expect(fd >= 0 && flock(fd, exclusive ? LOCK_EX : LOCK_SH) == 0, "lock \(path)")
        return fd
    }

    @Test func infoMatchesTheFilesOnDisk() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let daemon = try ExampleCopy.serve(cluster: cluster)
        defer { daemon.stop() }
        let cache = scratch.appending("cache").path
        try materialize(cluster, cache)
        let info = try info(cluster, cache)
        #expect(info.directory == cache)
        #expect(info.kinds.map(\.kind) == Self.kinds.map(\.0))
        for (kind, directory, suffix) in Self.kinds {
            let names = Self.entryNames(cache + "/" + directory, suffix: suffix)
            let reported = try #require(info.kinds.first { $0.kind == kind })
            #expect(reported.entries == names.count, "\(kind)")
            #expect(reported.bytes == (try names.reduce(0) { $0 + (try Self.bytes(under: cache + "/" + directory + "/" + $1)) }), "\(kind)")
        }
        #expect(info.entries("gitMirrors") == 2 && info.entries("gitTrees") > 0 && info.entries("renders") > 0 && info.entries("tools") > 0,
                "the example fills several kinds: \(info.kinds)")
        #expect(info.entries == info.kinds.reduce(0) { $0 + $1.entries })
        #expect(info.bytes == (try Self.bytes(under: cache)))
        #expect(info.otherBytes == 0, "a finished run leaves nothing but entries")

        let text = try hld(["cache", "info"], in: cluster, cache: cache)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "cache directory: \(cache)")
        #expect(lines.contains { $0.hasPrefix("git mirrors") && $0.split(separator: " ").contains("2") }, "\(text.stdout)")
        #expect(lines.last?.hasPrefix("total") == true && lines.last?.split(separator: " ").dropFirst().first == "\(info.entries)"[...])
    }

    /// Prune as aggressive as it gets, over and over, while materialize runs: every run
    /// succeeds with a clean run's output, while prune removed what no run held and skipped
    /// what one did.
    @Test func pruningWhileMaterializingBreaksNothing() async throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        try materialize(cluster, scratch.appending("clean-cache").path, ["--output-dir", "clean"])
        let clean = try fileContents(under: cluster + "/clean")
        #expect(clean.count > 10)
        let cache = scratch.appending("cache").path
        var removed = 0, skipped = 0
        for round in 0..<4 {
            let child = try ChildProcess(executable: hldBinary.path,
                                         arguments: ["materialize", "--all", "-q", "-C", cluster, "--cache-dir", cache, "--output-dir", "run-\(round)"],
                                         environment: Self.environment, stderrPath: scratch.appending("run-\(round).log").path)
            var prunes = 0
            while child.isRunning || prunes == 0 {
                let limit = prunes % 2 == 0 ? ["--max-size", "0"] : ["--older-than", "0s"]
                let report = try prune(limit, cluster, cache)
                if child.isRunning {
                    removed += report.removed.count
                    skipped += report.skipped.count
                }
                prunes += 1
            }
            #expect(await Self.exit(of: child, timeout: .seconds(120)) == .exited(0), "round \(round): \(child.stderrLog())")
            #expect(try fileContents(under: cluster + "/run-\(round)") == clean, "round \(round)")
        }
        #expect(removed > 0, "prune removed entries while a run was going")
        #expect(skipped > 0, "prune found entries a run was using")
    }

    @Test func entriesAnotherProcessHoldsAreSkipped() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let daemon = try ExampleCopy.serve(cluster: cluster)
        defer { daemon.stop() }
        let cache = scratch.appending("cache").path
        try materialize(cluster, cache)
        let tree = try #require(Self.entryNames(cache + "/git/trees-v2", suffix: "").first)
        let mirror = try #require(Self.entryNames(cache + "/git/mirrors", suffix: ".git").first)
        // A writer's lock on the tree, a run's shared hold on the mirror.
        let writer = Self.holdLock(cache + "/git/trees-v2/\(tree).lock", exclusive: true)
        let reader = Self.holdLock(cache + "/git/mirrors/\(mirror).use", exclusive: false)
        let result = try hld(["cache", "prune", "--max-size", "0"], in: cluster, cache: cache)
        #expect(result.succeeded, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains("skipped git tree \(tree): another hld process is using or writing it"), "\(result.stdout)")
        #expect(lines.contains("skipped git mirror \(mirror): another hld process is using or writing it"), "\(result.stdout)")
        #expect(lines.filter { $0.hasPrefix("removed ") }.count > 5, "\(result.stdout)")
        let held = try info(cluster, cache)
        #expect(held.entries == 2 && held.entries("gitTrees") == 1 && held.entries("gitMirrors") == 1, "\(held.kinds)")
        close(writer)
        close(reader)
        let after = try prune(["--max-size", "0"], cluster, cache)
        #expect(Set(after.removed.map(\.name)) == [tree, mirror])
        let empty = try info(cluster, cache)
        #expect(empty.entries == 0 && empty.bytes == 0)
    }

    /// After `hld lock`, `prune --max-size 0` keeps the pinned mirrors, the exported trees of
    /// the pinned commits and the pinned chart archive, and `materialize --frozen --all`
    /// renders the same from them with the repositories gone and the chart server stopped;
    /// without the lock, the same prune empties the cache.
    @Test func whatTheLockPinsIsKeptAndFrozenRunsFromIt() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let daemon = try ExampleCopy.serve(cluster: cluster)
        defer { daemon.stop() }
        let helmHome = scratch.appending("helm").path
        let helmEnvironment = Self.environment.merging(["HELM_CACHE_HOME": helmHome, "HELM_CONFIG_HOME": helmHome, "HELM_DATA_HOME": helmHome]) { $1 }
        let helm = try findHelm()
        let chart = scratch.appending("web")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: web\nversion: 1.0.0\n".write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n".write(to: chart.appendingPathComponent("templates/cm.yaml"), atomically: true, encoding: .utf8)
        let repository = scratch.appending("charts")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        #expect(try ChildProcess.run(helm, ["package", chart.path, "--destination", repository.path], environment: helmEnvironment).succeeded)
        #expect(try ChildProcess.run(helm, ["repo", "index", repository.path], environment: helmEnvironment).succeeded)
        let server = try StaticFileServer(root: repository)
        defer { server.stop() }
        let component = try String(contentsOfFile: cluster + "/component.yaml", encoding: .utf8)
        try (component + "  - {name: web, type: helm, method: helm, source: \"http://127.0.0.1:\(server.port)\", path: web, version: 1.0.0}\n")
            .write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)

        let cache = scratch.appending("cache").path
        let locked = try hld(["lock", "-q"], in: cluster, cache: cache)
        #expect(locked.succeeded, "\(locked.stderr)")
        try materialize(cluster, cache)
        let rendered = try fileContents(under: cluster + "/generated")
        #expect(rendered.keys.contains { $0.hasSuffix("web.yaml") }, "\(rendered.keys.sorted())")

        // The exported trees are stored by the root tree of each pinned commit.
        let lock = try String(contentsOfFile: cluster + "/hld.lock", encoding: .utf8)
        let commits = Set(lock.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("commit: ") ? String(trimmed.dropFirst("commit: ".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : nil
        })
        #expect(commits.count == 6, "three environments of two applications: \(commits)")
        let repos = URL(fileURLWithPath: cluster).deletingLastPathComponent().appendingPathComponent(".repos").path
        var roots: Set<String> = []
        for commit in commits {
            for app in ["cat", "dog"] {
                let tree = try ChildProcess.run("git", ["--git-dir=\(repos)/\(app).git", "rev-parse", "--verify", "-q", "\(commit)^{tree}"], environment: Self.environment)
                if tree.succeeded { roots.insert(tree.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        #expect(roots.count == 6)
        let archive = try ChildProcess.run("sha256sum", [repository.appendingPathComponent("web-1.0.0.tgz").path], environment: Self.environment)

        let pruned = try prune(["--max-size", "0"], cluster, cache)
        #expect(pruned.skipped.isEmpty)
        #expect(!pruned.removed.isEmpty && pruned.removed.allSatisfy { ["renders", "tools", "chartIndexes"].contains($0.kind) }, "\(pruned.removed.map(\.kind))")
        let kept = try info(cluster, cache)
        #expect(kept.entries("gitMirrors") == 2)
        #expect(Set(Self.entryNames(cache + "/git/trees-v2", suffix: "")) == roots)
        #expect(Self.entryNames(cache + "/helm/charts", suffix: ".tgz") == [String(archive.stdout.prefix(64)) + ".tgz"])
        #expect(kept.entries == 2 + roots.count + 1, "\(kept.kinds)")

        server.stop()
        daemon.stop()
        try FileManager.default.moveItem(atPath: repos, toPath: repos + "-gone")
        try FileManager.default.removeItem(atPath: cluster + "/generated")
        try materialize(cluster, cache, ["--frozen"])
        #expect(try fileContents(under: cluster + "/generated") == rendered)

        try FileManager.default.removeItem(atPath: cluster + "/hld.lock")
        let all = try prune(["--max-size", "0"], cluster, cache)
        #expect(all.kept.isEmpty && all.skipped.isEmpty)
        let empty = try info(cluster, cache)
        #expect(empty.entries == 0 && empty.bytes == 0, "\(empty.kinds)")
    }

    /// Eight processes materialize into eight output directories over one cold cache: all
    /// succeed with the same bytes, and every exported tree is exactly its git tree.
    @Test func eightConcurrentRunsShareOneCache() async throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache").path
        let children = try (0..<8).map { index in
            try ChildProcess(executable: hldBinary.path,
                             arguments: ["materialize", "--all", "-q", "-C", cluster, "--cache-dir", cache, "--output-dir", "out-\(index)"],
                             environment: Self.environment, stderrPath: scratch.appending("out-\(index).log").path)
        }
        for (index, child) in children.enumerated() {
            #expect(await Self.exit(of: child, timeout: .seconds(180)) == .exited(0), "run \(index): \(child.stderrLog())")
        }
        let first = try fileContents(under: cluster + "/out-0")
        #expect(first.count > 10)
        for index in 1..<8 { #expect(try fileContents(under: cluster + "/out-\(index)") == first, "run \(index)") }

        // Each exported tree hashed again by git itself: added to a scratch index, written as a tree.
        let verify = scratch.appending("verify.git").path
        #expect(try ChildProcess.run("git", ["init", "-q", "--bare", verify], environment: Self.environment).succeeded)
        let trees = Self.entryNames(cache + "/git/trees-v2", suffix: "")
        #expect(trees.count == 6)
        for tree in trees {
            var environment = Self.environment
            environment.merge(["GIT_DIR": verify, "GIT_INDEX_FILE": scratch.appending("index-\(tree)").path, "GIT_WORK_TREE": cache + "/git/trees-v2/" + tree,
                               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"]) { $1 }
            let add = try ChildProcess.run("git", ["-C", cache + "/git/trees-v2/" + tree, "add", "-A", "-f", "."], environment: environment)
            #expect(add.succeeded, "\(add.stderr)")
            let written = try ChildProcess.run("git", ["write-tree"], environment: environment)
            #expect(written.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == tree, "\(written.stderr)")
        }
        for mirror in Self.entryNames(cache + "/git/mirrors", suffix: ".git") {
            let fsck = try ChildProcess.run("git", ["--git-dir=\(cache)/git/mirrors/\(mirror)", "fsck", "--no-dangling"], environment: Self.environment)
            #expect(fsck.succeeded, "\(mirror): \(fsck.stdout) \(fsck.stderr)")
        }
        let info = try info(cluster, cache)
        #expect(info.otherBytes == 0, "no temporaries left")
    }

    @Test func aDryRunRemovesNothingAndBadLimitsAreUsageErrors() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache").path
        try materialize(cluster, cache)
        func snapshot() throws -> String {
            try ChildProcess.run("find", [cache, "-printf", "%P %y %s %T@ %m\\n"], environment: Self.environment).stdout
                .split(separator: "\n").sorted().joined(separator: "\n")
        }
        let before = try snapshot()
        let entries = try info(cluster, cache).entries
        let dry = try hld(["cache", "prune", "--dry-run", "--max-size", "0"], in: cluster, cache: cache)
        #expect(dry.succeeded, "\(dry.stderr)")
        let lines = dry.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("would remove git ") || $0.hasPrefix("would remove render ") || $0.hasPrefix("would remove tool ") }.count == entries)
        #expect(lines.last?.hasPrefix("would remove \(entries) entries, would free ") == true, "\(dry.stdout)")
        #expect(lines.last?.hasSuffix("; the entries left take 0 B") == true, "\(dry.stdout)")
        #expect(try snapshot() == before)

        let cases: [([String], String?)] = [
            (["--max-size", "5X"], "Error: --max-size 5X is not a size: write bytes (1048576) or a number with K, M, G or T (500M, 5G)"),
            (["--max-size", "1.5Q"], nil), (["--max-size", "-1"], nil), (["--max-size", ""], nil),
            (["--older-than", "30"], "Error: --older-than 30 is not an age: write a number with s, m, h, d or w (90m, 12h, 30d)"),
            (["--older-than", "3y"], "Error: --older-than 3y is not an age: write a number with s, m, h, d or w (90m, 12h, 30d)"),
        ]
        for (arguments, message) in cases {
            let result = try hld(["cache", "prune"] + arguments, in: cluster, cache: cache)
            #expect(result.termination == .exited(64), "\(arguments): \(result.stderr)")
            if let message { #expect(result.stderr.hasPrefix(message + "\n"), "\(arguments): \(result.stderr)") }
        }
        #expect(try snapshot() == before)
    }
}
