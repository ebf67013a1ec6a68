import Foundation
import Testing
import TestSupport

/// `hld materialize --into`: the example committed into a bare GitOps repository, pushed
/// to `git daemon --enable=receive-pack` on 127.0.0.1 or written in place.
@Suite(.timeLimit(.minutes(10))) struct IntoCommandTests {
    func hld(_ arguments: [String], in cluster: String, cache: URL) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", cluster, "--cache-dir", cache.path] + arguments, environment: LockCommandTests.environment)
    }

    /// A bare repository for the manifests, with one commit on main that is not hld's: a
    /// README and another team's directory.
    static func gitops(in root: URL, scratch: TemporaryDirectory) throws -> String {
        let seed = try FixtureRepository.create(at: scratch.appending("seed"))
        try seed.write("README.md", "# cluster manifests\n")
        try seed.write("team-b/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-b\n")
        try seed.commit("seed")
        let bare = root.appendingPathComponent("gitops.git").path
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        _ = try GitCLI.check(["clone", "--quiet", "--bare", seed.path, bare], home: scratch.url)
        return bare
    }

    /// The GitOps repository served by a daemon that accepts pushes: (bare path, URL, daemon).
    static func served(_ scratch: TemporaryDirectory) throws -> (String, String, GitDaemon) {
        let root = scratch.appending("served")
        let bare = try gitops(in: root, scratch: scratch)
        let daemon = try GitDaemon(root: root, enableReceivePack: true)
        return (bare, daemon.url(for: "gitops.git"), daemon)
    }

    func git(_ bare: String, _ arguments: [String], scratch: TemporaryDirectory) throws -> String {
        try GitCLI.check(["--git-dir=" + bare] + arguments, home: scratch.url)
    }

    func tips(_ bare: String, scratch: TemporaryDirectory) throws -> [String: String] {
        let lines = try git(bare, ["for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"], scratch: scratch)
        return Dictionary(uniqueKeysWithValues: lines.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        })
    }

    @Test func branchPerEnvironmentPushedToADaemon() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        let (bare, url, daemon) = try Self.served(scratch)
        defer { withExtendedLifetime(daemon) {} }

        let first = try hld(["materialize", "--all", "--into", url, "--branch", "{env}", "--push"], in: cluster, cache: cache)
        #expect(first.succeeded, "\(first.stderr)")
        var tips = try tips(bare, scratch: scratch)
        #expect(Set(tips.keys) == ["main", "dev", "stage", "prod"], "\(tips)")
        for environment in ["dev", "stage", "prod"] {
            let files = try git(bare, ["ls-tree", "-r", "--name-only", environment], scratch: scratch).split(separator: "\n").map(String.init)
            #expect(files.contains("cat/cat.yaml") && files.contains("dog/dog.yaml") && files.contains("shop.yaml"), "\(environment): \(files)")
            #expect(files.contains("infra/monitoring.yaml") == (environment != "dev"), "\(environment): \(files)")
            // The same bytes a directory render writes.
            let shop = try git(bare, ["show", "\(environment):shop.yaml"], scratch: scratch)
            #expect(shop.contains(environment == "dev" ? "1.5.0-rc.1" : environment == "stage" ? "1.4.2" : "1.4.1"))
        }
        // The provenance parses as git trailers.
        let body = try git(bare, ["log", "-1", "--format=%B", "prod"], scratch: scratch)
        let message = scratch.appending("message.txt")
        try body.write(to: message, atomically: true, encoding: .utf8)
        let trailers = try ChildProcess.run("/bin/sh", ["-c", "git interpret-trailers --parse < \"$1\"", "sh", message.path], environment: LockCommandTests.environment)
        let parsed = trailers.stdout.split(separator: "\n").map(String.init)
        #expect(parsed.contains("Hld-Environments: prod"), "\(trailers.stdout)")
        #expect(parsed.contains("Hld-Version: 0.1.0"))
        #expect(parsed.contains { $0.hasPrefix("Hld-Helm: ") } && parsed.contains { $0.hasPrefix("Hld-Commit: ") })
        #expect(parsed.contains { $0.hasPrefix("Hld-Pin: prod cluster/cat git https://git.example.com/pets/cat.git deploy ") }, "\(trailers.stdout)")

        // n+1 runs, one commit.
        let again = try hld(["materialize", "--all", "--into", url, "--branch", "{env}", "--push"], in: cluster, cache: cache)
        #expect(again.succeeded && again.stdout.components(separatedBy: "no commit").count == 4, "\(again.stdout) \(again.stderr)")
        #expect(try self.tips(bare, scratch: scratch) == tips)

        // One config change: one commit, on prod only.
        let prod = cluster + "/config/prod.yaml"
        try (try String(contentsOfFile: prod, encoding: .utf8)).replacingOccurrences(of: "newTag: \"1.4.1\"", with: "newTag: \"1.4.3\"")
            .write(toFile: prod, atomically: true, encoding: .utf8)
        let changed = try hld(["materialize", "--all", "--into", url, "--branch", "{env}", "--push"], in: cluster, cache: cache)
        #expect(changed.succeeded, "\(changed.stderr)")
        let after = try self.tips(bare, scratch: scratch)
        for branch in ["main", "dev", "stage"] { #expect(after[branch] == tips[branch], "\(branch) moved") }
        #expect(after["prod"] != tips["prod"])
        #expect(try git(bare, ["rev-parse", "prod~1"], scratch: scratch) == tips["prod"])
        #expect(try git(bare, ["diff", "--name-only", "prod~1", "prod"], scratch: scratch) == "shop.yaml")
        tips = after

        // --check --into compares with the branch, not the disk.
        let check = try hld(["materialize", "--all", "--check", "--into", url, "--branch", "{env}", "--push"], in: cluster, cache: cache)
        #expect(check.succeeded, "\(check.stdout) \(check.stderr)")
        try (try String(contentsOfFile: prod, encoding: .utf8)).replacingOccurrences(of: "newTag: \"1.4.3\"", with: "newTag: \"1.4.4\"")
            .write(toFile: prod, atomically: true, encoding: .utf8)
        let stale = try hld(["materialize", "--all", "--check", "--into", url, "--branch", "{env}", "--push"], in: cluster, cache: cache)
        #expect(stale.termination == .exited(1) && stale.stdout.contains("differs: shop.yaml"), "\(stale.stdout) \(stale.stderr)")
        #expect(try self.tips(bare, scratch: scratch) == tips)
    }

    @Test func directoryPerEnvironmentKeepsEverythingElse() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        let bare = try Self.gitops(in: scratch.appending("local"), scratch: scratch)
        let seed = try tips(bare, scratch: scratch)["main"]
        let result = try hld(["materialize", "--all", "--into", bare, "--path", "clusters/{env}", "--message", "Render the clusters", "--author", "CI Bot <ci@example.com>"],
                             in: cluster, cache: cache)
        #expect(result.succeeded, "\(result.stderr)")
        let files = try git(bare, ["ls-tree", "-r", "--name-only", "main"], scratch: scratch).split(separator: "\n").map(String.init)
        #expect(files.contains("README.md") && files.contains("team-b/app.yaml"), "\(files)")
        for environment in ["dev", "stage", "prod"] { #expect(files.contains("clusters/\(environment)/cat/cat.yaml"), "\(files)") }
        #expect(try git(bare, ["show", "main:README.md"], scratch: scratch) == "# cluster manifests")
        #expect(try git(bare, ["rev-parse", "main~1"], scratch: scratch) == seed)
        #expect(try git(bare, ["log", "-1", "--format=%an <%ae>|%s", "main"], scratch: scratch) == "CI Bot <ci@example.com>|Render the clusters")
        // The same bytes as the directory layout.
        #expect(try hld(["materialize", "--all"], in: cluster, cache: cache).succeeded)
        let disk = try fileContents(under: cluster + "/generated")
        for (path, bytes) in disk {
            #expect(try git(bare, ["show", "main:clusters/\(path)"], scratch: scratch) + "\n" == String(decoding: bytes, as: UTF8.self), "\(path)")
        }
        // A file no longer produced disappears from its environment's directory only.
        let again = try hld(["materialize", "--all", "--into", bare, "--path", "clusters/{env}", "--format", "json"], in: cluster, cache: cache)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: [[String: Any]]])
        #expect(report["commits"]?.count == 1 && report["commits"]?[0]["created"] as? Bool == false, "\(again.stdout)")
        #expect(report["commits"]?[0]["paths"] as? [String] == ["clusters/dev", "clusters/stage", "clusters/prod"], "\(again.stdout)")
        let component = cluster + "/component.yaml"
        try (try String(contentsOfFile: component, encoding: .utf8)).replacingOccurrences(of: "  - name: shop\n    type: kustomize\n    path: ./apps/shop/base\n", with: "")
            .write(toFile: component, atomically: true, encoding: .utf8)
        #expect(try hld(["materialize", "prod", "--into", bare, "--path", "clusters/prod"], in: cluster, cache: cache).succeeded)
        let now = try git(bare, ["ls-tree", "-r", "--name-only", "main"], scratch: scratch).split(separator: "\n").map(String.init)
        #expect(!now.contains("clusters/prod/shop.yaml") && now.contains("clusters/dev/shop.yaml") && now.contains("team-b/app.yaml"), "\(now)")
        // Locked: the lock file's hash instead of each pin.
        #expect(try hld(["lock", "prod"], in: cluster, cache: cache).succeeded)
        try (try String(contentsOfFile: cluster + "/infra/config/prod.yaml", encoding: .utf8)).replacingOccurrences(of: "replicas: 3", with: "replicas: 4")
            .write(toFile: cluster + "/infra/config/prod.yaml", atomically: true, encoding: .utf8)
        #expect(try hld(["lock", "prod"], in: cluster, cache: cache).succeeded)
        #expect(try hld(["materialize", "prod", "--locked", "--into", bare, "--path", "clusters/prod"], in: cluster, cache: cache).succeeded)
        let locked = try git(bare, ["log", "-1", "--format=%B", "main"], scratch: scratch)
        let digest = try ChildProcess.run("/usr/bin/sha256sum", [cluster + "/hld.lock"], environment: LockCommandTests.environment).stdout.prefix(64)
        #expect(locked.contains("Hld-Lock: sha256:\(digest)") && !locked.contains("Hld-Pin:"), "\(locked)")

        // Bad uses are usage errors or clear ones.
        #expect(try hld(["materialize", "--all", "--push"], in: cluster, cache: cache).termination == .exited(64))
        #expect(try hld(["materialize", "--all", "--into", bare, "--author", "nobody"], in: cluster, cache: cache).termination == .exited(64))
        let collide = try hld(["materialize", "--all", "--into", bare, "--path", "clusters"], in: cluster, cache: cache)
        #expect(collide.termination == .exited(1) && collide.stderr.contains("put {env} in --path or --branch"), "\(collide.stderr)")
        let remote = try hld(["materialize", "dev", "--into", "git://127.0.0.1:1/x.git"], in: cluster, cache: cache)
        #expect(remote.stderr.contains("add --push"), "\(remote.stderr)")
    }

    /// A pre-receive hook that lets another writer's commit land first (`count` times),
    /// then refuses the push, as a server does when someone pushed in between.
    static func racingHook(_ bare: String, count: Int) throws {
        let hook = """
            #!/bin/sh
            # Out of receive-pack's quarantine, where ref updates are refused.
            unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
            export GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=other@example.com GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=other@example.com
            n=$(cat "$GIT_DIR/raced" 2>/dev/null || echo 0)
            [ "$n" -ge \(count) ] && exit 0
            echo $((n + 1)) > "$GIT_DIR/raced"
            tip=$(git rev-parse refs/heads/main)
            blob=$(echo "other writer $n" | git hash-object -w --stdin)
            export GIT_INDEX_FILE="$GIT_DIR/race-index"
            git read-tree "$tip"
            git update-index --add --cacheinfo 100644,"$blob",team-c/note-$n.txt
            tree=$(git write-tree)
            commit=$(echo "team c $n" | git commit-tree "$tree" -p "$tip")
            git update-ref refs/heads/main "$commit" "$tip"
            echo "main moved while you were pushing" >&2
            exit 1

            """
        let path = bare + "/hooks/pre-receive"
        try hook.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    @Test func aPushRaceIsCommittedAgainOnTopOnce() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        let (bare, url, daemon) = try Self.served(scratch)
        defer { withExtendedLifetime(daemon) {} }
        try Self.racingHook(bare, count: 1)

        let raced = try hld(["materialize", "dev", "--into", url, "--path", "clusters/dev", "--push"], in: cluster, cache: cache)
        #expect(raced.succeeded, "\(raced.stdout) \(raced.stderr)")
        let files = try git(bare, ["ls-tree", "-r", "--name-only", "main"], scratch: scratch).split(separator: "\n").map(String.init)
        // Nothing lost: the other writer's commit is the parent of hld's.
        #expect(files.contains("team-c/note-0.txt") && files.contains("clusters/dev/cat/cat.yaml") && files.contains("README.md"), "\(files)")
        #expect(try git(bare, ["log", "-1", "--format=%s", "main~1"], scratch: scratch) == "team c 0")

        // Refused twice in a row: a clear error, and the other writers' commits stay.
        try Self.racingHook(bare, count: 3)
        let prod = cluster + "/config/dev.yaml"
        try (try String(contentsOfFile: prod, encoding: .utf8)).replacingOccurrences(of: "1.5.0-rc.1", with: "1.5.0-rc.2").write(toFile: prod, atomically: true, encoding: .utf8)
        let refused = try hld(["materialize", "dev", "--into", url, "--path", "clusters/dev", "--push"], in: cluster, cache: cache)
        #expect(refused.termination == .exited(1))
        #expect(refused.stderr.contains("refused again"), "\(refused.stderr)")
        let log = try git(bare, ["log", "--format=%s", "main"], scratch: scratch)
        #expect(log.hasPrefix("team c 2\nteam c 1\nhld: materialize dev\nteam c 0\nseed"), "\(log)")
    }
}

/// `hld diff --base` on the bundled example, whose relative mirror (`../.repos/`) is not in
/// the commit: the old side still reads hld.yaml and its mirrors from the project.
@Suite(.timeLimit(.minutes(10))) struct DiffBaseExampleTests {
    @Test func theExampleDiffsAgainstItsLastCommit() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let examples = URL(fileURLWithPath: cluster).deletingLastPathComponent()
        let repository = try FixtureRepository.create(at: examples)
        try repository.write(".gitignore", ".repos/\ncluster/generated/\n")
        try repository.commit("example")
        let prod = cluster + "/config/prod.yaml"
        try (try String(contentsOfFile: prod, encoding: .utf8)).replacingOccurrences(of: "newTag: \"1.4.1\"", with: "newTag: \"1.4.3\"")
            .write(toFile: prod, atomically: true, encoding: .utf8)
        let environment = LockCommandTests.environment
        let cache = scratch.appending("cache").path
        let same = try ChildProcess.run(hldBinary.path, ["diff", "-C", cluster, "--cache-dir", cache, "dev", "--base", "HEAD"], environment: environment)
        #expect(same.termination == .exited(0), "\(same.stdout) \(same.stderr)")
        let changed = try ChildProcess.run(hldBinary.path, ["diff", "-C", cluster, "--cache-dir", cache, "prod", "--base", "HEAD"], environment: environment)
        #expect(changed.termination == .exited(1), "\(changed.stdout) \(changed.stderr)")
        let lines = changed.stdout.split(separator: "\n")
        #expect(changed.stdout.contains("0 added, 0 removed, 1 changed"), "\(changed.stdout)")
        #expect(lines.contains { $0.hasPrefix("-") && $0.hasSuffix("shop:1.4.1") } && lines.contains { $0.hasPrefix("+") && $0.hasSuffix("shop:1.4.3") }, "\(changed.stdout)")
    }
}
