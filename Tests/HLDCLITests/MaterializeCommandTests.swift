import Foundation
import Testing
import TestSupport

/// `hld materialize` and `hld install` as a user runs them, on a copy of the example.
@Suite(.timeLimit(.minutes(10))) struct MaterializeCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func example() throws -> (TemporaryDirectory, String) { try ExampleCopy.make() }

    func hld(_ arguments: [String], cache: URL) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(CLITests.binary.path, arguments + ["--cache-dir", cache.path], environment: Self.environment)
    }


    @Test func checkIsQuietWhenUpToDateAndNamesWhatChanged() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        let written = try hld(["materialize", "-C", cluster, "prod"], cache: cache)
        #expect(written.succeeded, "\(written.stderr)")
        #expect(written.stdout == "wrote 6 file(s) to generated/prod\n")
        let upToDate = try hld(["materialize", "-C", cluster, "--check", "prod"], cache: cache)
        #expect(upToDate.termination == .exited(0))
        #expect(upToDate.stdout == "generated/prod is up to date\n")

        // prod now follows the stage branch: the applications' files change.
        let config = cluster + "/config/prod.yaml"
        try (try String(contentsOfFile: config, encoding: .utf8)).replacingOccurrences(of: "branch: prod", with: "branch: stage")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let before = try fileContents(under: cluster + "/generated")
        let stale = try hld(["materialize", "-C", cluster, "--check", "prod"], cache: cache)
        #expect(stale.termination == .exited(1))
        // Which files, then what changes in them: the unified diff of the canonical YAML.
        #expect(stale.stdout == #"""
            differs: prod/cat/cat.yaml
            differs: prod/dog/dog.yaml
            --- a/prod/cat/cat.yaml
            +++ b/prod/cat/cat.yaml
            @@ -7,9 +7,9 @@
               namespace: pets
               labels:
                 app: cat
            -    environment: prod
            +    environment: stage
             spec:
            -  replicas: 3
            +  replicas: 2
               selector:
                 matchLabels:
                   app: cat
            @@ -20,12 +20,12 @@
                 spec:
                   containers:
                   - name: cat
            -        image: registry.example.com/pets/cat:1.1.4
            +        image: registry.example.com/pets/cat:1.2.0
                     ports:
                     - containerPort: 8080
                     env:
                     - name: FEATURE_TREATS
            -          value: "off"
            +          value: "on"
             ---
             # Source: cat/cat/service.json
             apiVersion: v1
            --- a/prod/dog/dog.yaml
            +++ b/prod/dog/dog.yaml
            @@ -20,9 +20,9 @@
               namespace: pets
               labels:
                 app: dog
            -    environment: prod
            +    environment: stage
             spec:
            -  replicas: 3
            +  replicas: 2
               selector:
                 matchLabels:
                   app: dog
            @@ -38,4 +38,4 @@
                     - containerPort: 8080
                     env:
                     - name: FEATURE_TREATS
            -          value: "off"
            +          value: "on"

            """#)
        let capped = try hld(["materialize", "-C", cluster, "--check", "--diff-lines", "3", "prod"], cache: cache)
        #expect(capped.stdout == "differs: prod/cat/cat.yaml\ndiffers: prod/dog/dog.yaml\n--- a/prod/cat/cat.yaml\n+++ b/prod/cat/cat.yaml\n@@ -7,9 +7,9 @@\n… 46 more line(s) of diff (--diff-lines 49 shows them all)\n")
        #expect(stale.stderr.hasSuffix("\nerror: generated/prod is not up to date (2 file(s)); run hld materialize prod\n"))
        #expect(stale.stderr.hasPrefix("hld: 8 component(s), 0 fetched, 3 rendered (2 from the render cache), "), "the summary line")
        #expect(try fileContents(under: cluster + "/generated") == before, "--check writes nothing")
    }

    @Test func aFailedRunLeavesThePreviousOutputUntouched() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        #expect(try hld(["materialize", "-C", cluster, "prod"], cache: cache).succeeded)
        let before = try fileContents(under: cluster + "/generated")
        try (try String(contentsOfFile: cluster + "/component.yaml", encoding: .utf8) + "  - name: bird\n    source: ./bird\n")
            .write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let failed = try hld(["materialize", "-C", cluster, "prod"], cache: cache)
        #expect(failed.termination == .exited(1))
        #expect(failed.stdout == "")
        #expect(failed.stderr == "error: component.yaml:19:5: subcomponent bird: directory bird does not exist\n")
        #expect(try fileContents(under: cluster + "/generated") == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cluster + "/generated") == ["prod"])
    }

    @Test func aOneKeyTypoFailsAndKeepsThePreviousOutput() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        #expect(try hld(["materialize", "-C", cluster, "prod"], cache: cache).succeeded)
        let before = try fileContents(under: cluster + "/generated")
        let file = cluster + "/component.yaml"
        try (try String(contentsOfFile: file, encoding: .utf8)).replacingOccurrences(of: "subcomponents:", with: "subcomponent:")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let failed = try hld(["materialize", "-C", cluster, "prod"], cache: cache)
        #expect(failed.termination == .exited(1))
        #expect(failed.stderr == "error: component.yaml:5:1: unknown field subcomponent (did you mean subcomponents?)\n")
        #expect(try fileContents(under: cluster + "/generated") == before)
    }

    /// Typos and bad settings in config layers and hld.yaml: each an error with its exact
    /// message, the previous output untouched.
    @Test(arguments: [
        ("config/prod.yaml", "    branch: prod", "    brnch: prod", "error: config/prod.yaml:4:5: unknown key subcomponents.cat.brnch (did you mean branch?)\n"),
        ("hld.yaml", "mirrors:", "mirror:", "hld.yaml:7:1: unknown key mirror in hld.yaml (did you mean mirrors?)\n"),
        ("config/prod.yaml", "    branch: prod", "    branch: nope",
         "error: config/prod.yaml:4:13: subcomponent cat: https://git.example.com/pets/cat.git (branch nope): branch nope does not exist (there are: dev, prod, stage)\n"),
        ("config/prod.yaml", "    branch: prod", "    version: 0123456789abcdef0123456789abcdef01234567",
         "error: config/prod.yaml:4:14: subcomponent cat: https://git.example.com/pets/cat.git (version 0123456789abcdef0123456789abcdef01234567): no tag or commit 0123456789abcdef0123456789abcdef01234567\n"),
    ])
    func aBadSettingInAConfigLayerOrHldYamlFailsAndKeepsThePreviousOutput(file: String, from: String, to: String, message: String) async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let (scratch, cluster) = try example()
            let cache = scratch.appending("cache")
            #expect(try hld(["materialize", "-C", cluster, "prod"], cache: cache).succeeded)
            let before = try fileContents(under: cluster + "/generated")
            let path = cluster + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            // The first place only (cat's; dog's line stays).
            let range = try #require(text.range(of: from))
            try text.replacingCharacters(in: range, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            let failed = try hld(["materialize", "-C", cluster, "prod"], cache: cache)
            #expect(failed.termination == .exited(1))
            #expect(failed.stderr.hasPrefix("error: ") && failed.stderr.hasSuffix(message), "\(failed.stderr)")
            #expect(try fileContents(under: cluster + "/generated") == before)
        }
    }

    @Test func strictFailsOnAWarningAndWritesNothing() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        let config = cluster + "/config/prod.yaml"
        try (try String(contentsOfFile: config, encoding: .utf8)).replacingOccurrences(of: "  shop:\n", with: "  shopp:\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let warned = try hld(["materialize", "-C", cluster, "prod"], cache: cache)
        #expect(warned.succeeded)
        let warning = "config/prod.yaml:7:3: subcomponents.shopp names no subcomponent of cluster (did you mean shop?); its settings are not used"
        #expect(warned.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") } == ["warning: \(warning)"])
        try FileManager.default.removeItem(atPath: cluster + "/generated")
        let strict = try hld(["materialize", "-C", cluster, "--strict", "prod"], cache: cache)
        #expect(strict.termination == .exited(1))
        #expect(strict.stderr == "error: --strict turns this warning into an error; nothing was written:\n  \(warning)\n")
        #expect(!FileManager.default.fileExists(atPath: cluster + "/generated"))
    }

    @Test func aDuplicateKeyInAManifestIsAWarningAndWithStrictExitsOne() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-strict")
        let root = scratch.appending("hld")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("m"), withIntermediateDirectories: true)
        try "name: cluster\ntype: static\npath: ./m\n".write(to: root.appendingPathComponent("component.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one\n  k: two\n"
            .write(to: root.appendingPathComponent("m/cm.yaml"), atomically: true, encoding: .utf8)
        let cache = scratch.appending("cache")
        let warning = "cluster: duplicate key data.k in \(root.path)/m/cm.yaml (lines 6 and 7); the last value is used, as in the cluster"
        let lenient = try hld(["materialize", "-C", root.path], cache: cache)
        #expect(lenient.succeeded)
        #expect(lenient.stderr.hasPrefix("warning: \(warning)\nhld: 1 component(s), 0 fetched, 0 rendered (0 from the render cache), 1 file(s) written, 0 unchanged, 0 removed, "))
        #expect(try String(contentsOf: root.appendingPathComponent("generated/common/cluster.yaml"), encoding: .utf8).contains("  k: two\n"))
        let strict = try hld(["materialize", "-C", root.path, "--strict", "--output-dir", "strict-out"], cache: cache)
        #expect(strict.termination == .exited(1))
        #expect(strict.stderr == "error: --strict turns this warning into an error; nothing was written:\n  \(warning)\n")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("strict-out").path))
    }

    @Test func formatJSONReportsFilesPinsAndErrors() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        func json(_ arguments: [String]) throws -> (ChildProcess.CommandResult, [String: Any]) {
            let result = try hld(arguments, cache: cache)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return (result, try #require(object, "\(result.stdout)"))
        }
        let (first, report) = try json(["materialize", "-C", cluster, "--format", "json", "prod"])
        #expect(first.succeeded, "\(first.stderr)")
        #expect(report["environment"] as? String == "prod")
        let files = try #require(report["files"] as? [String: [String]])
        #expect(files["written"]?.count == 6 && files["unchanged"] == [] && files["removed"] == [])
        let components = try #require(report["components"] as? [[String: Any]])
        let cat = try #require(components.first { $0["path"] as? String == "cat/cat" })
        let pin = try #require((cat["pins"] as? [[String: Any]])?.first?["git"] as? [String: String])
        #expect(pin["requested"] == "branch prod")
        #expect(pin["commit"]?.count == 40 && pin["tree"]?.count == 40)
        #expect(pin["url"] == "https://git.example.com/pets/cat.git", "the original URL, not the mirror")

        let (_, again) = try json(["materialize", "-C", cluster, "--format", "json", "prod"])
        #expect((again["files"] as? [String: [String]])?["unchanged"]?.count == 6)

        let (installed, installReport) = try json(["install", "-C", cluster, "--format", "json", "prod"])
        #expect(installed.succeeded)
        #expect((installReport["components"] as? [[String: Any]])?.count == components.count)

        // A warning carries its file, line and column; an error its underlying cause.
        let original = try String(contentsOfFile: cluster + "/component.yaml", encoding: .utf8)
        try ("flavour: vanilla\n" + original).write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let (_, warned) = try json(["materialize", "-C", cluster, "--format", "json", "prod"])
        let warning = try #require((warned["diagnostics"] as? [[String: Any]])?.first { ($0["message"] as? String)?.contains("flavour") == true }, "\(warned)")
        let location = try #require(warning["location"] as? [String: Any], "\(warning)")
        #expect((location["file"] as? String)?.hasSuffix("component.yaml") == true && location["line"] as? Int == 1 && location["column"] as? Int == 1)
        try (original + "  - {name: gone, method: git, source: /nonexistent/gone.git}\n").write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let (_, missing) = try json(["materialize", "-C", cluster, "--format", "json", "prod"])
        let sourceError = try #require((missing["errors"] as? [[String: Any]])?.first, "\(missing)")
        #expect(sourceError["kind"] as? String == "source")
        #expect((sourceError["cause"] as? String)?.contains("repository not found (no such directory /nonexistent/gone.git)") == true, "\(sourceError)")

        try "name: [broken\n".write(toFile: cluster + "/component.yaml", atomically: true, encoding: .utf8)
        let (failed, failure) = try json(["materialize", "-C", cluster, "--format", "json", "prod"])
        #expect(failed.termination == .exited(1))
        let errors = try #require(failure["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["kind"] as? String == "definition")
        #expect((errors.first?["message"] as? String)?.contains("did not find expected") == true)
    }

    @Test func allWritesEveryEnvironmentAsSeparateRunsWould() throws {
        let (scratch, cluster) = try example()
        let cache = scratch.appending("cache")
        let all = try hld(["materialize", "-C", cluster, "--all"], cache: cache)
        #expect(all.succeeded, "\(all.stderr)")
        #expect(all.stdout.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") } == ["generated/dev", "generated/stage", "generated/prod"])
        let together = try fileContents(under: cluster + "/generated")
        try FileManager.default.removeItem(atPath: cluster + "/generated")
        for environment in ["dev", "stage", "prod"] {
            #expect(try hld(["materialize", "-C", cluster, environment], cache: cache).succeeded)
        }
        #expect(try fileContents(under: cluster + "/generated") == together, "byte for byte")
        #expect(together.keys.contains("stage/cat/cat.yaml"))
        let check = try hld(["materialize", "-C", cluster, "--all", "--check"], cache: cache)
        #expect(check.succeeded)
        #expect(check.stdout == "generated/dev is up to date\ngenerated/stage is up to date\ngenerated/prod is up to date\n")
        let named = try hld(["materialize", "-C", cluster, "--all", "prod"], cache: cache)
        #expect(named.termination == .exited(64))
    }

    @Test func stdoutPrintsTheStreamAndWritesNothing() throws {
        let (scratch, cluster) = try example()
        let result = try hld(["generate", "-C", cluster, "--stdout", "dev"], cache: scratch.appending("cache"))
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("---\n# Source: infra/namespaces/pets.yaml\napiVersion: v1\nkind: Namespace\n"))
        #expect(result.stdout.components(separatedBy: "\n---\n").count == 9)
        #expect(!FileManager.default.fileExists(atPath: cluster + "/generated"))
    }

    @Test func installFetchesAndOfflineRendersFromTheCache() throws {
        let (scratch, cluster) = try example()
        let daemon = try ExampleCopy.serve(cluster: cluster)
        defer { daemon.stop() }
        let cache = scratch.appending("cache")
        let install = try hld(["install", "-C", cluster, "stage"], cache: cache)
        #expect(install.succeeded, "\(install.stderr)")
        #expect(install.stdout == "installed 8 component(s)\n")
        daemon.stop()
        let offline = try hld(["materialize", "-C", cluster, "--offline", "stage"], cache: cache)
        #expect(offline.succeeded, "\(offline.stderr)")
        let online = try hld(["materialize", "-C", cluster, "stage"], cache: cache)
        #expect(online.termination == .exited(1))
        #expect(online.stderr.contains("cannot reach the server"), "\(online.stderr)")
    }

    @Test func usageErrors() throws {
        let (scratch, cluster) = try example()
        let both = try hld(["materialize", "-C", cluster, "--stdout", "--check"], cache: scratch.appending("cache"))
        #expect(both.termination == .exited(64))
        #expect(both.stderr.contains("--stdout and --check cannot be used together"))
        let unknown = try hld(["materialize", "-C", cluster, "qa"], cache: scratch.appending("cache"))
        #expect(unknown.termination == .exited(1))
        #expect(unknown.stderr == "error: unknown environment qa: \(cluster)/hld.yaml declares dev, stage, prod\n")
    }
}
