import Foundation
import Testing
import TestSupport

/// The "platform source repository" model: the HLD's own definitions promoted commit by
/// commit (hld.yaml `promoteDefinitions: true`), each environment's config from the working
/// tree or, with `configBranches`, from the environment's own branch.
@Suite(.timeLimit(.minutes(10))) struct PlatformSourceTests {
    func hld(_ arguments: [String], in repository: FixtureRepository, cache: URL) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", repository.path, "--cache-dir", cache.path] + arguments, environment: LockCommandTests.environment)
    }

    static func configMap(_ name: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\ndata:\n  owner: platform\n"
    }

    static func config(namespace: String) -> String {
        "subcomponents:\n  base:\n    namespace: \(namespace)\n    injectNamespace: true\n"
    }

    /// An HLD repository: one static component, a namespace per environment.
    func platform(_ scratch: TemporaryDirectory, configBranches: Bool = false) throws -> FixtureRepository {
        let repository = try FixtureRepository.create(at: scratch.appending("platform"))
        try repository.write("hld.yaml", "environments: [dev, stage, prod]\npromoteDefinitions: true\n" + (configBranches ? "configBranches: \"{env}\"\n" : ""))
        try repository.write(".gitignore", "generated/\n")
        try repository.write("component.yaml", "name: platform\nsubcomponents:\n  - name: base\n    type: static\n    path: ./base\n")
        try repository.write("base/configmap.yaml", Self.configMap("base"))
        for environment in ["dev", "stage", "prod"] {
            try repository.write("config/\(environment).yaml", Self.config(namespace: "base-\(environment)"))
        }
        try repository.commit("platform")
        return repository
    }

    func read(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

    @Test func aSubcomponentAddedOnMainReachesProdOnlyWhenPromoted() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-platform")
        let cache = scratch.appending("cache")
        let repository = try platform(scratch)
        let first = try repository.head()
        let locked = try hld(["lock"], in: repository, cache: cache)
        #expect(locked.succeeded, "\(locked.stderr)")
        let lock = try #require(read(repository.path + "/hld.lock"))
        #expect(lock.components(separatedBy: "definitions: \(first)").count == 4, "\(lock)")

        // main moves on: a new subcomponent.
        try repository.write("component.yaml", "name: platform\nsubcomponents:\n  - name: base\n    type: static\n    path: ./base\n  - name: extra\n    type: static\n    path: ./extra\n")
        try repository.write("extra/configmap.yaml", Self.configMap("extra"))
        let second = try repository.commit("add extra")

        func rendered(_ environment: String) throws -> [String] {
            let result = try hld(["materialize", "--locked", environment], in: repository, cache: cache)
            #expect(result.succeeded, "\(environment): \(result.stderr)")
            return try FileManager.default.contentsOfDirectory(atPath: repository.path + "/generated/" + environment).sorted()
        }
        // prod renders the definitions its lock pins, not the working tree's.
        #expect(try rendered("prod") == ["base.yaml"])
        #expect(read(repository.path + "/generated/prod/base.yaml")?.contains("namespace: base-prod") == true)
        // dev takes main's commit when it is locked again; stage and prod when promoted.
        let moved = try hld(["lock", "dev"], in: repository, cache: cache)
        #expect(moved.stdout.contains("dev  definitions") && moved.stdout.contains("\(first.prefix(12)) → \(second.prefix(12))"), "\(moved.stdout)")
        #expect(try rendered("dev") == ["base.yaml", "extra.yaml"])
        #expect(try hld(["promote", "dev", "prod"], in: repository, cache: cache).termination == .exited(1))
        let drift = try hld(["drift", "dev", "stage"], in: repository, cache: cache)
        #expect(drift.termination == .exited(1) && drift.stdout.contains("definitions") && drift.stdout.contains("(dev ahead)"), "\(drift.stdout)")

        let toStage = try hld(["promote", "dev", "stage"], in: repository, cache: cache)
        #expect(toStage.succeeded, "\(toStage.stderr)")
        #expect(toStage.stdout.contains("stage  definitions"), "\(toStage.stdout)")
        #expect(try rendered("stage") == ["base.yaml", "extra.yaml"])
        #expect(try rendered("prod") == ["base.yaml"])
        #expect(try hld(["promote", "stage", "prod"], in: repository, cache: cache).succeeded)
        #expect(try rendered("prod") == ["base.yaml", "extra.yaml"])
        // Config is never promoted: each environment keeps its namespace.
        #expect(read(repository.path + "/generated/prod/extra.yaml")?.contains("namespace") == false)
        #expect(read(repository.path + "/generated/prod/base.yaml")?.contains("namespace: base-prod") == true)
        #expect(read(repository.path + "/generated/stage/base.yaml")?.contains("namespace: base-stage") == true)

        // The environment's config comes from the working tree, not the pinned commit.
        try repository.write("config/prod.yaml", Self.config(namespace: "base-prod-edited"))
        _ = try rendered("prod")
        #expect(read(repository.path + "/generated/prod/base.yaml")?.contains("namespace: base-prod-edited") == true)
    }

    @Test func configBranchesGiveEachEnvironmentItsOwnConfig() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-platform")
        let cache = scratch.appending("cache")
        let repository = try platform(scratch, configBranches: true)
        for environment in ["dev", "stage", "prod"] { try repository.branch(environment) }
        // prod's branch holds prod's reviewed config; the working tree (main) says otherwise.
        try repository.checkout("prod")
        try repository.write("config/prod.yaml", Self.config(namespace: "from-the-prod-branch"))
        try repository.commit("prod config")
        try repository.checkout("main")

        #expect(try hld(["lock"], in: repository, cache: cache).succeeded)
        try repository.commit("lock")
        let all = try hld(["materialize", "--locked", "--all"], in: repository, cache: cache)
        #expect(all.succeeded, "\(all.stderr)")
        #expect(read(repository.path + "/generated/prod/base.yaml")?.contains("namespace: from-the-prod-branch") == true)
        let before = try fileContents(under: repository.path + "/generated")

        // A change on the prod branch re-renders prod only.
        try repository.checkout("prod")
        try repository.write("config/prod.yaml", Self.config(namespace: "prod-v2"))
        try repository.commit("prod config v2")
        try repository.checkout("main")
        #expect(try hld(["materialize", "--locked", "--all"], in: repository, cache: cache).succeeded)
        let after = try fileContents(under: repository.path + "/generated")
        #expect(Set(after.keys) == Set(before.keys))
        for (path, bytes) in after where path != "prod/base.yaml" { #expect(bytes == before[path], "\(path) changed") }
        #expect(read(repository.path + "/generated/prod/base.yaml")?.contains("namespace: prod-v2") == true)

        // An environment without its branch is a clear error.
        try repository.git(["branch", "-D", "stage"])
        let missing = try hld(["materialize", "--locked", "stage"], in: repository, cache: cache)
        #expect(missing.termination == .exited(1))
        #expect(missing.stderr.contains("branch stage (configBranches in hld.yaml)"), "\(missing.stderr)")
    }
}
