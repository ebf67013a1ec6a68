import Foundation
import Testing
import TestSupport

/// `hld lock` and `hld materialize --locked/--frozen` on a copy of the example, whose
/// application repositories are real git repositories the test adds commits to.
@Suite(.timeLimit(.minutes(10))) struct LockCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func hld(_ arguments: [String], in cluster: String, cache: URL) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", cluster, "--cache-dir", cache.path] + arguments, environment: Self.environment)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// A new commit on `branch` of the example's `app` repository that sets the replica count.
    static func pushCommit(app: String, branch: String, replicas: Int, cluster: String, scratch: TemporaryDirectory) throws -> String {
        let bare = URL(fileURLWithPath: cluster).deletingLastPathComponent().appendingPathComponent(".repos/\(app).git").path
        let work = try FixtureRepository.clone(from: bare, to: scratch.appending("work-\(app)-\(branch)-\(replicas)"))
        try work.checkout(branch)
        let file = work.path + "/deploy/manifests/deployment.yaml"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingOccurrences(of: #"replicas: \d+"#, with: "replicas: \(replicas)", options: .regularExpression)
        try work.write("deploy/manifests/deployment.yaml", text)
        let commit = try work.commit("\(app): \(replicas) replicas on \(branch)")
        _ = try work.git(["push", "-q", "origin", branch])
        return commit
    }

    @Test func aLockIsTheSameWhateverTheConcurrencyAndHoldsNoCredentials() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        // The cat repository named with a token in its URL, as some CI setups do.
        let component = try read(cluster + "/component.yaml")
        try component.replacingOccurrences(of: "https://git.example.com/pets/cat.git", with: "https://ci:s3cr3t-t0ken@git.example.com/pets/cat.git")
            .write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let project = try read(cluster + "/hld.yaml")
        try project.replacingOccurrences(of: "mirrors:\n", with: "mirrors:\n  https://ci:s3cr3t-t0ken@git.example.com/pets/: ../.repos/\n")
            .write(toFile: cluster + "/hld.yaml", atomically: true, encoding: .utf8)

        let one = try hld(["lock", "--jobs", "1"], in: cluster, cache: scratch.appending("cache-1"))
        #expect(one.succeeded, "\(one.stderr)")
        let first = try read(cluster + "/hld.lock")
        try FileManager.default.removeItem(atPath: cluster + "/hld.lock")
        let eight = try hld(["lock", "--jobs", "8"], in: cluster, cache: scratch.appending("cache-8"))
        #expect(eight.succeeded, "\(eight.stderr)")
        #expect(try read(cluster + "/hld.lock") == first)
        // Nothing moved: the same bytes, and it says so.
        let again = try hld(["lock"], in: cluster, cache: scratch.appending("cache-8"))
        #expect(again.stdout == "hld.lock is up to date\n")
        #expect(try read(cluster + "/hld.lock") == first)

        #expect(first.contains("source: https://ci:***@git.example.com/pets/cat.git"), "\(first)")
        for text in [first, one.stdout, one.stderr, eight.stdout, eight.stderr] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        // A section per environment of the promotion path, each with its cat commit.
        for environment in ["dev", "stage", "prod"] {
            #expect(first.contains("  \(environment):\n    components:\n"))
            #expect(first.contains("requested: branch \(environment)"))
        }
    }

    @Test func lockedRendersThePinsUntilTheLockMoves() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let written = try hld(["materialize", "--all", "--locked"], in: cluster, cache: cache)
        #expect(written.succeeded, "\(written.stderr)")
        let lock = try read(cluster + "/hld.lock")
        let before = try fileContents(under: cluster + "/generated")

        // The app's dev branch moves on; the locked renders do not.
        let commit = try Self.pushCommit(app: "cat", branch: "dev", replicas: 7, cluster: cluster, scratch: scratch)
        for environment in ["dev", "prod"] {
            let check = try hld(["materialize", "--locked", "--check", environment], in: cluster, cache: cache)
            #expect(check.succeeded, "\(environment): \(check.stdout) \(check.stderr)")
        }
        // Unlocked, dev follows its branch.
        #expect(try hld(["materialize", "--check", "dev"], in: cluster, cache: cache).termination == .exited(1))

        // `lock dev` moves exactly dev's cat pin.
        let moved = try hld(["lock", "dev"], in: cluster, cache: cache)
        #expect(moved.succeeded, "\(moved.stderr)")
        let lines = moved.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("dev  cluster/cat  git https://git.example.com/pets/cat.git (branch dev)"), "\(moved.stdout)")
        #expect(lines.first?.hasSuffix("→ \(commit.prefix(12))") == true, "\(moved.stdout)")
        let changed = changedLines(lock, try read(cluster + "/hld.lock"))
        // Only the commit and the tree lines (the line differ may show the line between them too).
        let meaningful = (changed.removed + changed.added).filter { !$0.hasSuffix("path: deploy") }
        #expect(meaningful.count == 4 && meaningful.allSatisfy { $0.contains("commit: ") || $0.contains("tree: ") }, "\(changed)")
        #expect(changed.added.contains("          commit: \(commit)"))

        let rendered = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(rendered.succeeded, "\(rendered.stderr)")
        let after = try fileContents(under: cluster + "/generated")
        for (path, bytes) in after where path != "dev/cat/cat.yaml" { #expect(bytes == before[path], "\(path) changed") }
        #expect(String(decoding: after["dev/cat/cat.yaml"] ?? Data(), as: UTF8.self).contains("replicas: 7"))
    }

    @Test func aLockThatDoesNotCoverTheDefinitionIsRefused() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let component = try read(cluster + "/component.yaml")

        // A component added since the lock was written.
        try (component + "  - name: extra\n    type: static\n    path: ./infra/namespaces\n").write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let added = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(added.termination == .exited(1))
        #expect(added.stderr.contains("extra") && added.stderr.contains("hld.lock has no pins for this component in dev"), "\(added.stderr)")
        #expect(added.stderr.contains("run hld lock dev"), "\(added.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster + "/generated"))

        // A component removed: the lock's entry is stale.
        try component.replacingOccurrences(of: "  - name: shop\n    type: kustomize\n    path: ./apps/shop/base\n", with: "")
            .write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let removed = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(removed.termination == .exited(1))
        #expect(removed.stderr.contains("pins a component the definition does not have: cluster/shop"), "\(removed.stderr)")

        // A changed source: dev now follows another branch.
        try component.write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let config = try read(cluster + "/config/dev.yaml")
        try config.replacingOccurrences(of: "  cat:\n    branch: dev", with: "  cat:\n    branch: stage").write(toFile: cluster + "/config/dev.yaml", atomically: true, encoding: .utf8)
        let moved = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(moved.termination == .exited(1))
        #expect(moved.stderr.contains("config/dev.yaml:"), "\(moved.stderr)")
        #expect(moved.stderr.contains("asks for git https://git.example.com/pets/cat.git (branch stage) deploy, and hld.lock (dev) pins git https://git.example.com/pets/cat.git (branch dev) deploy"), "\(moved.stderr)")

        // No lock at all, or no section for the environment.
        try config.write(toFile: cluster + "/config/dev.yaml", atomically: true, encoding: .utf8)
        let lock = try read(cluster + "/hld.lock")
        try lock.replacingOccurrences(of: "  stage:\n", with: "  staging:\n").write(toFile: cluster + "/hld.lock", atomically: true, encoding: .utf8)
        let noSection = try hld(["materialize", "--locked", "stage"], in: cluster, cache: cache)
        #expect(noSection.stderr.contains("hld.lock has no pins for stage (it has dev, prod, staging); run hld lock stage first"), "\(noSection.stderr)")
        try FileManager.default.removeItem(atPath: cluster + "/hld.lock")
        let none = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(none.stderr.contains("hld.lock does not exist: run hld lock to write it"), "\(none.stderr)")
    }

    @Test func aCorruptLockNamesItsLine() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let lock = try read(cluster + "/hld.lock")
        let line = try #require(lock.components(separatedBy: "\n").firstIndex { $0.contains("commit: ") }) + 1
        try lock.replacingOccurrences(of: "commit: ", with: "commit: [").write(toFile: cluster + "/hld.lock", atomically: true, encoding: .utf8)
        let result = try hld(["materialize", "--locked", "dev"], in: cluster, cache: cache)
        #expect(result.termination == .exited(1))
        // libyaml notices the unclosed list on the line after.
        #expect(result.stderr.contains("hld.lock:\(line + 1):") && result.stderr.contains("at \(line):"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster + "/generated"))
    }

    @Test func frozenUsesOnlyTheCache() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        // The app repositories over git://, not read in place: the cache is what is tested.
        let daemon = try ExampleCopy.serve(cluster: cluster)
        defer { daemon.stop() }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        // An empty cache: frozen names what is missing and writes nothing.
        let empty = try hld(["materialize", "--frozen", "prod"], in: cluster, cache: scratch.appending("empty"))
        #expect(empty.termination == .exited(1))
        #expect(empty.stderr.contains("not in the cache"), "\(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster + "/generated"))
        // With the server gone, the locked commits still come from the cache.
        daemon.stop()
        let frozen = try hld(["materialize", "--frozen", "--all"], in: cluster, cache: cache)
        #expect(frozen.succeeded, "\(frozen.stderr)")
        #expect(FileManager.default.fileExists(atPath: cluster + "/generated/prod/cat/cat.yaml"))
    }
}
