import Foundation
import Testing
import TestSupport

/// `hld init` as a user runs it, and what `hld materialize` makes of the result.
@Suite(.timeLimit(.minutes(10))) struct InitCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func hld(_ arguments: [String]) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, arguments, environment: Self.environment)
    }

    /// Every entry under `root` (directories, links, files with their bytes).
    func snapshot(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: root) {
            let full = root + "/" + path
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
            result[path] = isDirectory.boolValue ? "directory" : "file: " + String(decoding: FileManager.default.contents(atPath: full) ?? Data(), as: UTF8.self)
        }
        return result
    }

    @Test func initInAnEmptyDirectoryThenMaterialize() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let root = scratch.appending("My_Cluster").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let cache = scratch.appending("cache").path

        let created = try hld(["-C", root, "init"])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(created.stderr == "")
        #expect(created.stdout == """
            created component.yaml
            created config/common.yaml
            created config/dev.yaml
            created config/stage.yaml
            created config/prod.yaml
            created hld.yaml
            created manifests/namespace.yaml
            next: hld materialize dev (or --all)

            """)
        let component = try String(contentsOfFile: root + "/component.yaml", encoding: .utf8)
        #expect(component.contains("\nname: my-cluster\n"))
        #expect(!FileManager.default.fileExists(atPath: root + "/.gitignore"))

        let dev = try hld(["-C", root, "materialize", "dev", "--cache-dir", cache])
        #expect(dev.succeeded, "\(dev.stderr)")
        #expect(dev.stdout == "wrote 1 file(s) to generated/dev\n")
        #expect(try String(contentsOfFile: root + "/generated/dev/manifests.yaml", encoding: .utf8) == """
            ---
            # Source: manifests/namespace.yaml
            apiVersion: v1
            kind: Namespace
            metadata:
              name: my-cluster

            """)

        let all = try hld(["-C", root, "materialize", "--all", "--cache-dir", cache])
        #expect(all.succeeded, "\(all.stderr)")
        #expect(all.stdout == "wrote 1 file(s) to generated/dev\nwrote 1 file(s) to generated/stage\nwrote 1 file(s) to generated/prod\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/generated").sorted() == ["dev", "prod", "stage"])

        // The environments of hld.yaml guard against typos.
        let typo = try hld(["-C", root, "materialize", "prdo", "--cache-dir", cache])
        #expect(typo.termination == .exited(1))
        #expect(typo.stderr == "error: unknown environment prdo: \(root)/hld.yaml declares dev, stage, prod\n")
    }

    @Test func groupsAndADirectoryThatIsCreated() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let cache = scratch.appending("cache").path
        let created = try hld(["init", "-C", scratch.path, "fleet/east-west", "--env", "qa,live", "--groups", "eastus", "--groups", "westus", "--name", "edge"])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(created.stdout == """
            created fleet/east-west/component.yaml
            created fleet/east-west/config/common.yaml
            created fleet/east-west/config/qa.yaml
            created fleet/east-west/config/live.yaml
            created fleet/east-west/config/eastus.yaml
            created fleet/east-west/config/westus.yaml
            created fleet/east-west/hld.yaml
            created fleet/east-west/manifests/namespace.yaml
            next: hld -C fleet/east-west materialize qa (or --all)

            """)
        let root = scratch.path + "/fleet/east-west"
        let hldYAML = try String(contentsOfFile: root + "/hld.yaml", encoding: .utf8)
        #expect(hldYAML.contains("\nenvironments: [qa, live]\n"))
        #expect(hldYAML.contains("\ngroups: [eastus, westus]\n"))
        #expect(try String(contentsOfFile: root + "/component.yaml", encoding: .utf8).contains("\nname: edge\n"))

        let all = try hld(["materialize", "-C", root, "--all", "--cache-dir", cache])
        #expect(all.succeeded, "\(all.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/generated").sorted() == ["live-eastus", "live-westus", "qa-eastus", "qa-westus"])
        let pair = try hld(["materialize", "-C", root, "live", "westus", "--cache-dir", cache])
        #expect(pair.succeeded, "\(pair.stderr)")
        #expect(pair.stdout == "wrote 1 file(s) to generated/live-westus\n")
    }

    @Test func initWhereAnHLDExistsRefusesAndWritesNothing() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let root = scratch.path
        try FileManager.default.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
        try "name: old\n".write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
        try "config: {a: 1}\n".write(toFile: root + "/config/dev.yaml", atomically: true, encoding: .utf8)
        try "node_modules/\n".write(toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
        let before = try snapshot(root)

        let refused = try hld(["init", "-C", root, "--gitignore"])
        #expect(refused.termination == .exited(1))
        #expect(refused.stdout == "")
        #expect(refused.stderr == "error: \(root) already holds an HLD (component.yaml and config/dev.yaml exist); nothing was written\n")
        #expect(try snapshot(root) == before)
    }

    @Test func initWhereOnlyAConfigFileExistsRefusesToo() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let root = scratch.path
        try FileManager.default.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
        try "namespace: dev\n".write(toFile: root + "/config/dev.yaml", atomically: true, encoding: .utf8)
        let before = try snapshot(root)

        let refused = try hld(["init", "-C", root, "--gitignore"])
        #expect(refused.termination == .exited(1))
        #expect(refused.stdout == "")
        #expect(refused.stderr == "error: config/dev.yaml already exists in \(root) and hld init never overwrites a file, so nothing was written (move it aside, or choose other environment or group names)\n")
        #expect(try snapshot(root) == before)

        // Without dev among the environments nothing is in the way.
        let other = try hld(["init", "-C", root, "--env", "stage,prod"])
        #expect(other.succeeded, "\(other.stderr)")
        #expect(try String(contentsOfFile: root + "/config/dev.yaml", encoding: .utf8) == "namespace: dev\n")
    }

    @Test func gitignore() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let fm = FileManager.default

        let fresh = scratch.path + "/fresh"
        let created = try hld(["init", fresh, "--gitignore"])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(created.stdout.contains("created \(fresh)/manifests/namespace.yaml\ncreated \(fresh)/.gitignore\nnext: "))
        #expect(try String(contentsOfFile: fresh + "/.gitignore", encoding: .utf8) == "generated/\n")

        let other = scratch.path + "/other"
        try fm.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "*.tgz".write(toFile: other + "/.gitignore", atomically: true, encoding: .utf8)
        let appended = try hld(["init", "-C", other, "--gitignore"])
        #expect(appended.succeeded, "\(appended.stderr)")
        #expect(appended.stdout.contains("created manifests/namespace.yaml\nadded generated/ to .gitignore\nnext: "))
        #expect(try String(contentsOfFile: other + "/.gitignore", encoding: .utf8) == "*.tgz\ngenerated/\n")

        let ignored = scratch.path + "/ignored"
        try fm.createDirectory(atPath: ignored, withIntermediateDirectories: true)
        try "/generated/\n".write(toFile: ignored + "/.gitignore", atomically: true, encoding: .utf8)
        let unchanged = try hld(["init", "-C", scratch.path, "ignored", "--gitignore"])
        #expect(unchanged.succeeded, "\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("created ignored/manifests/namespace.yaml\nignored/.gitignore already ignores generated/\nnext: "))
        #expect(try String(contentsOfFile: ignored + "/.gitignore", encoding: .utf8) == "/generated/\n")

        let quiet = try hld(["-q", "init", scratch.path + "/quiet", "--gitignore"])
        #expect(quiet.succeeded, "\(quiet.stderr)")
        #expect(quiet.stdout == "")
        #expect(fm.fileExists(atPath: scratch.path + "/quiet/.gitignore"))
    }

    @Test(arguments: [
        (["--env", "dev,,prod"], "an empty name cannot be an environment name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        (["--env", "dev/eu"], "dev/eu cannot be an environment name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        (["--env", "dev,common"], "common cannot be an environment name: config/common.yaml is the layer every environment has"),
        (["--env", "dev,prod", "--env", "dev"], "dev is listed twice as an environment"),
        (["--groups", "eu,prod"], "prod cannot be both an environment and a group"),
        (["--name", "My_App"], "My_App cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)"),
        (["___"], "no component name can be made from the directory's name; pass --name"),
    ])
    func badNamesAreUsageErrors(arguments: [String], message: String) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        let result = try hld(["init", "-C", scratch.path] + arguments)
        #expect(result.termination == .exited(64))
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("Error: \(message)\nUsage: hld init "), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }

    @Test func aDirectoryThatIsAFileIsAnError() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-init")
        try "".write(toFile: scratch.path + "/taken", atomically: true, encoding: .utf8)
        let result = try hld(["init", "-C", scratch.path, "taken"])
        #expect(result.termination == .exited(1))
        #expect(result.stderr == "error: \(scratch.path)/taken is not a directory\n")
        let below = try hld(["init", "-C", scratch.path, "taken/hld"])
        #expect(below.termination == .exited(1))
        #expect(below.stderr == "error: \(scratch.path)/taken is not a directory\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["taken"])
    }
}
