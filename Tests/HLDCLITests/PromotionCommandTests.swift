import Foundation
import Testing
import TestSupport

/// Promotion end to end on a copy of the example: lock, a commit on an app's dev branch,
/// drift, promote stage by stage, and a promotable image tag.
@Suite(.timeLimit(.minutes(10))) struct PromotionCommandTests {
    func hld(_ arguments: [String], in cluster: String, cache: URL) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", cluster, "--cache-dir", cache.path] + arguments, environment: LockCommandTests.environment)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func aCommitOnDevReachesProdOnlyStageByStage() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        let locked = try hld(["lock"], in: cluster, cache: cache)
        #expect(locked.succeeded, "\(locked.stderr)")
        #expect(try hld(["materialize", "--locked", "--all"], in: cluster, cache: cache).succeeded)
        let prodBefore = try fileContents(under: cluster + "/generated/prod")
        let stageBefore = try fileContents(under: cluster + "/generated/stage")

        // A new commit on cat's dev branch: prod's locked output does not move.
        let commit = try LockCommandTests.pushCommit(app: "cat", branch: "dev", replicas: 7, cluster: cluster, scratch: scratch)
        #expect(try hld(["materialize", "--locked", "prod"], in: cluster, cache: cache).succeeded)
        #expect(try fileContents(under: cluster + "/generated/prod") == prodBefore)
        let relocked = try hld(["lock", "dev"], in: cluster, cache: cache)
        #expect(relocked.stdout.split(separator: "\n").count == 1 && relocked.stdout.hasPrefix("dev  cluster/cat"), "\(relocked.stdout)")

        // Drift: cat is ahead in dev (its commit descends from stage's).
        let drift = try hld(["drift"], in: cluster, cache: cache)
        #expect(drift.termination == .exited(1), "\(drift.stdout) \(drift.stderr)")
        let devStage = drift.stdout.components(separatedBy: "\nstage → prod")[0]
        #expect(devStage.contains("cluster/cat") && devStage.contains("dev \(commit.prefix(12))") && devStage.contains("(dev ahead)"), "\(drift.stdout)")

        // Skipping stage is refused, and writes nothing.
        let lockBefore = try read(cluster + "/hld.lock")
        let skip = try hld(["promote", "dev", "prod"], in: cluster, cache: cache)
        #expect(skip.termination == .exited(1))
        #expect(skip.stderr.contains("promoting dev to prod skips stage (the promotion path is dev → stage → prod)"), "\(skip.stderr)")
        #expect(try read(cluster + "/hld.lock") == lockBefore)

        // dev → stage moves the cat commit, and stage's render has it.
        let promoted = try hld(["promote", "dev", "stage"], in: cluster, cache: cache)
        #expect(promoted.succeeded, "\(promoted.stderr)")
        #expect(promoted.stdout.contains("stage  cluster/cat") && promoted.stdout.contains("→ \(commit.prefix(12))"), "\(promoted.stdout)")
        #expect(try hld(["materialize", "--locked", "stage"], in: cluster, cache: cache).succeeded)
        let stageAfter = try fileContents(under: cluster + "/generated/stage")
        #expect(String(decoding: stageAfter["cat/cat.yaml"] ?? Data(), as: UTF8.self).contains("replicas: 7"))
        for (path, bytes) in stageAfter where path != "cat/cat.yaml" && path != "dog/dog.yaml" && path != "shop.yaml" {
            #expect(bytes == stageBefore[path], "\(path) changed")
        }
        // The shop's promoted tag moved with the pins.
        #expect(String(decoding: stageAfter["shop.yaml"] ?? Data(), as: UTF8.self).contains("shop:1.5.0-rc.1"))

        // Now the drift is between stage and prod, and dev → stage is clean.
        let after = try hld(["drift", "--format", "json"], in: cluster, cache: cache)
        #expect(after.termination == .exited(1))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        let pairs = try #require(report["pairs"] as? [[String: Any]])
        #expect((pairs[0]["items"] as? [Any])?.isEmpty == true, "\(after.stdout)")
        let stageProd = try #require(pairs[1]["items"] as? [[String: Any]])
        #expect(stageProd.contains { $0["subject"] as? String == "cluster/cat" && $0["relation"] as? String == "ahead" }, "\(after.stdout)")
        let pair = try hld(["drift", "stage", "prod"], in: cluster, cache: cache)
        #expect(pair.termination == .exited(1) && pair.stdout.hasPrefix("stage → prod:"), "\(pair.stdout)")

        #expect(try hld(["promote", "stage", "prod"], in: cluster, cache: cache).succeeded)
        let clean = try hld(["drift"], in: cluster, cache: cache)
        #expect(clean.termination == .exited(0), "\(clean.stdout) \(clean.stderr)")
        #expect(clean.stdout.contains("dev → stage: no drift") && clean.stdout.contains("stage → prod: no drift"), "\(clean.stdout)")
    }

    @Test func aPromotableImageTagMovesAndNothingElseInTheConfigDoes() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        // Stage's config with a comment and a value of its own that must survive.
        let stageFile = cluster + "/config/stage.yaml"
        try (try read(stageFile) + "  infra:\n    config:\n      retention: 7d   # stage keeps a week\n").write(toFile: stageFile, atomically: true, encoding: .utf8)
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let set = try hld(["set", "--env", "dev", "--subcomponent", "dog", "image.tag=v2"], in: cluster, cache: cache)
        #expect(set.succeeded, "\(set.stderr)")
        let before = try read(stageFile)

        let dry = try hld(["promote", "dev", "stage", "--dry-run"], in: cluster, cache: cache)
        #expect(dry.succeeded && dry.stdout.contains("would move"), "\(dry.stdout) \(dry.stderr)")
        #expect(try read(stageFile) == before)

        let promoted = try hld(["promote", "dev", "stage"], in: cluster, cache: cache)
        #expect(promoted.succeeded, "\(promoted.stderr)")
        #expect(promoted.stdout.contains("stage  config/stage.yaml  subcomponents.dog.config.image.tag") && promoted.stdout.contains("(none) → v2"), "\(promoted.stdout)")
        // Exactly the promoted values changed: dog's tag added, the shop's tag edited in
        // its flow mapping; branch, comments and stage's own values untouched.
        let expected = before
            .replacingOccurrences(of: "  dog:\n    branch: stage\n", with: "  dog:\n    branch: stage\n    config:\n      image:\n        tag: v2\n")
            .replacingOccurrences(of: #"{newTag: "1.4.2"}"#, with: #"{newTag: "1.5.0-rc.1"}"#)
        #expect(expected != before)
        #expect(try read(stageFile) == expected)
        #expect(try read(stageFile).contains("retention: 7d   # stage keeps a week"))
        #expect(try read(cluster + "/hld.lock").contains("subcomponents.dog.config.image.tag: v2"))
        // The tag renders in stage.
        #expect(try hld(["materialize", "--locked", "stage"], in: cluster, cache: cache).succeeded)
        #expect(try read(cluster + "/generated/stage/dog/dog.yaml").contains("registry.example.com/pets/dog:v2"))
        // Promoting again moves nothing.
        let again = try hld(["promote", "dev", "stage"], in: cluster, cache: cache)
        #expect(again.stdout.contains("nothing to promote"), "\(again.stdout)")
    }

    @Test func badPromotionsWriteNothing() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        // No lock yet.
        let noLock = try hld(["promote", "dev", "stage"], in: cluster, cache: cache)
        #expect(noLock.termination == .exited(1) && noLock.stderr.contains("run hld lock"), "\(noLock.stderr)")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        #expect(try hld(["set", "--env", "dev", "--subcomponent", "dog", "image.tag=v2"], in: cluster, cache: cache).succeeded)
        let lock = try read(cluster + "/hld.lock")

        let unknown = try hld(["promote", "dev", "stagge"], in: cluster, cache: cache)
        #expect(unknown.termination == .exited(1))
        #expect(unknown.stderr.contains("unknown environment stagge") && unknown.stderr.contains("did you mean stage?"), "\(unknown.stderr)")
        let backwards = try hld(["promote", "prod", "stage"], in: cluster, cache: cache)
        #expect(backwards.stderr.contains("stage comes before prod"), "\(backwards.stderr)")

        // The target's config file does not parse: nothing is written anywhere.
        let stageFile = cluster + "/config/stage.yaml"
        let broken = try read(stageFile) + "  shop: [\n"
        try broken.write(toFile: stageFile, atomically: true, encoding: .utf8)
        let result = try hld(["promote", "dev", "stage"], in: cluster, cache: cache)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("config/stage.yaml:"), "\(result.stderr)")
        #expect(try read(stageFile) == broken)
        #expect(try read(cluster + "/hld.lock") == lock)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster + "/config").filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func driftFormatsAndTrouble() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let markdown = try hld(["drift", "stage", "prod", "--format", "markdown"], in: cluster, cache: cache)
        #expect(markdown.termination == .exited(1), "\(markdown.stderr)")
        let lines = markdown.stdout.components(separatedBy: "\n")
        #expect(lines.first == "### stage → prod: 3 difference(s) promotion would move", "\(markdown.stdout)")
        #expect(lines.contains("| Component or file | What | stage | prod | |"))
        #expect(lines.contains { $0.hasPrefix("| `cluster/cat` | pin: git https://git.example.com/pets/cat.git deploy | `") && $0.hasSuffix("| stage ahead |") }, "\(markdown.stdout)")
        #expect(lines.contains { $0.hasPrefix("| `config/stage.yaml` | value: subcomponents.shop.config.images |") }, "\(markdown.stdout)")

        // A render that fails is trouble, not drift or its absence.
        let broken = try hld(["drift", "--helm", "/bin/false"], in: cluster, cache: cache)
        #expect(broken.termination == .exited(2), "\(broken.stdout) \(broken.stderr)")
        #expect(broken.stderr.contains("cannot compare the renders of dev and stage"), "\(broken.stderr)")
        let unknown = try hld(["drift", "dev", "qa"], in: cluster, cache: cache)
        #expect(unknown.termination == .exited(2))
        #expect(unknown.stderr.contains("unknown environment qa"), "\(unknown.stderr)")
        let usage = try hld(["drift", "dev"], in: cluster, cache: cache)
        #expect(usage.termination == .exited(64))
    }

    @Test func componentSelectsWhatMoves() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        defer { withExtendedLifetime(scratch) {} }
        let cache = scratch.appending("cache")
        #expect(try hld(["lock"], in: cluster, cache: cache).succeeded)
        let stageConfig = try read(cluster + "/config/stage.yaml")
        // The root's name may be left out.
        let cat = try hld(["promote", "dev", "stage", "--component", "cat"], in: cluster, cache: cache)
        #expect(cat.succeeded, "\(cat.stderr)")
        let lines = cat.stdout.split(separator: "\n").filter { $0.hasPrefix("stage  ") }
        #expect(lines.count == 1 && lines[0].hasPrefix("stage  cluster/cat  "), "\(cat.stdout)")
        // The shop's promotable tag is not cat's: stage's config is untouched.
        #expect(try read(cluster + "/config/stage.yaml") == stageConfig)
        let drift = try hld(["drift", "dev", "stage", "--format", "json"], in: cluster, cache: cache)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(drift.stdout.utf8)) as? [String: Any])
        let items = try #require((report["pairs"] as? [[String: Any]])?.first?["items"] as? [[String: Any]])
        #expect(Set(items.compactMap { $0["subject"] as? String }) == ["cluster/dog", "config/dev.yaml"], "\(drift.stdout)")
        // The shop's tag alone.
        let shop = try hld(["promote", "dev", "stage", "--component", "cluster/shop"], in: cluster, cache: cache)
        #expect(shop.succeeded && shop.stdout.contains("subcomponents.shop.config.images"), "\(shop.stdout) \(shop.stderr)")
        #expect(try read(cluster + "/config/stage.yaml").contains(#"{newTag: "1.5.0-rc.1"}"#))
        let unknown = try hld(["promote", "dev", "stage", "--component", "kat"], in: cluster, cache: cache)
        #expect(unknown.termination == .exited(1) && unknown.stderr.contains("--component kat names no component"), "\(unknown.stderr)")
    }
}
