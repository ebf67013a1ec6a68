import Foundation
import Testing
import TestSupport
@testable import HLD

/// What `hld init` writes (`Scaffold`), without the CLI.
@Suite struct ScaffoldTests {
    static let templatesInit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates/init").path

    // MARK: The compiled-in copy of templates/init

    @Test func theCompiledTemplatesAreTemplatesInit() throws {
        let onDisk = try fileContents(under: Self.templatesInit).mapValues { String(decoding: $0, as: UTF8.self) }
        let compiled = Dictionary(uniqueKeysWithValues: Scaffold.templates.map { ($0.path, $0.text) })
        #expect(compiled.keys.sorted() == onDisk.keys.sorted(), "run scripts/embed-init-templates")
        for (path, text) in onDisk {
            #expect(compiled[path] == text, "templates/init/\(path) differs from Sources/HLD/InitTemplates.swift: run scripts/embed-init-templates")
        }
        #expect(Scaffold.templates.map(\.path) == Scaffold.templates.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    // MARK: Rendering

    @Test func theDefaultScaffold() throws {
        let scaffold = try Scaffold(name: "demo")
        #expect(scaffold.files.map(\.path) == [
            "component.yaml", "config/common.yaml", "config/dev.yaml", "config/stage.yaml", "config/prod.yaml",
            "hld.yaml", "manifests/namespace.yaml",
        ])
        let files = Dictionary(uniqueKeysWithValues: scaffold.files.map { ($0.path, $0.text) })
        #expect(files["hld.yaml"] == """
            # The project file. The environments, in promotion order: `hld materialize <env>` accepts
            # only these names (and common), so a typo is an error rather than an empty environment;
            # `hld materialize --all` renders each of them into generated/<env>/.
            environments: [dev, stage, prod]
            # Groups (regions, cluster groups, failure domains) are an optional second axis, e.g.
            # `groups: [eastus, westus]` with a config/<group>.yaml each: `hld materialize prod eastus`
            # layers config/prod.yaml, then config/eastus.yaml, then config/common.yaml into
            # generated/prod-eastus/, and --all renders every environment × group pair.
            # What a bare `hld materialize` renders (without this line: common alone).
            # defaults: [dev]
            # URL rewrites for air-gapped CI, by longest prefix, for every URL hld fetches (git
            # remotes, Helm repositories and charts, OCI registries, http manifests).
            # mirrors:
            #   https://github.com/: file:///srv/git-mirror/

            """)
        #expect(files["manifests/namespace.yaml"]?.hasSuffix("""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: demo

            """) == true)
        #expect(files["component.yaml"]?.contains("\nname: demo\nsubcomponents:\n  # Static manifests") == true)
        #expect(files["config/common.yaml"]?.hasSuffix("""
            subcomponents:
              manifests:
                # Namespaced resources in manifests/ without a metadata.namespace get this one.
                namespace: demo
                injectNamespace: true

            """) == true)
        #expect(files["config/stage.yaml"]?.hasPrefix("# Config for stage: it wins over config/common.yaml") == true)
        for file in scaffold.files { #expect(!file.text.contains("{{"), "\(file.path) keeps a placeholder") }
    }

    @Test func groupsGetAFileEachAndALineInHldYaml() throws {
        let scaffold = try Scaffold(name: "fleet", environments: ["qa", "live"], groups: ["eastus", "westus"])
        #expect(scaffold.files.map(\.path) == [
            "component.yaml", "config/common.yaml", "config/qa.yaml", "config/live.yaml", "config/eastus.yaml", "config/westus.yaml",
            "hld.yaml", "manifests/namespace.yaml",
        ])
        let hld = try #require(scaffold.files.first { $0.path == "hld.yaml" }).text
        #expect(hld.contains("\nenvironments: [qa, live]\n"))
        #expect(hld.contains("generated/prod-eastus/, and --all renders every environment × group pair.\ngroups: [eastus, westus]\n# What a bare"))
        #expect(hld.contains("\n# defaults: [qa]\n"))
        let westus = try #require(scaffold.files.first { $0.path == "config/westus.yaml" }).text
        #expect(westus.hasPrefix("# Config for the group westus, layered after the environment: `hld materialize prod\n# westus` reads"))
        for file in scaffold.files { #expect(!file.text.contains("{{"), "\(file.path) keeps a placeholder") }
    }

    @Test func theProjectFileReadsBackWhatWasAsked() throws {
        let directory = try TemporaryDirectory(prefix: "hld-scaffold")
        // Names a YAML reader would take for a boolean, a number or null are quoted.
        let scaffold = try Scaffold(name: "123", environments: ["on", "1.10", "dev"], groups: ["null", "eu_west"])
        _ = try scaffold.write(into: directory.path)
        let project = try ProjectFile.load(in: directory.path)
        #expect(project.environments == ["on", "1.10", "dev"])
        #expect(project.groups == ["null", "eu_west"])
        #expect(project.defaults == [])
        #expect(project.mirrors == [:])
        let hld = try String(contentsOfFile: directory.path + "/hld.yaml", encoding: .utf8)
        #expect(hld.contains("\nenvironments: [\"on\", \"1.10\", dev]\n"))
        #expect(hld.contains("\ngroups: [\"null\", eu_west]\n"))
        let namespace = try String(contentsOfFile: directory.path + "/manifests/namespace.yaml", encoding: .utf8)
        #expect(namespace.hasSuffix("  name: \"123\"\n"))
        #expect(FileManager.default.fileExists(atPath: directory.path + "/config/on.yaml"))
        #expect(FileManager.default.fileExists(atPath: directory.path + "/config/null.yaml"))
    }

    // MARK: Names

    @Test(arguments: [
        ("/srv/My_Cluster", "my-cluster"),
        ("/srv/hld", "hld"),
        ("/srv/--edge--", "edge"),
        ("/srv/Ünïcode", "n-code"),
        ("/srv/a..b/", "a-b"),
        ("/srv/" + String(repeating: "x", count: 62) + "-yz", String(repeating: "x", count: 62)),
    ])
    func componentNamesComeFromTheDirectory(directory: String, name: String) {
        #expect(Scaffold.componentName(forDirectory: directory) == name)
    }

    @Test func aDirectoryWithoutLettersOrDigitsGivesNoName() {
        #expect(Scaffold.componentName(forDirectory: "/srv/___") == nil)
        #expect(Scaffold.componentName(forDirectory: "/") == nil)
    }

    @Test(arguments: [
        ("", "an empty name cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)"),
        ("Demo", "Demo cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)"),
        ("demo-", "demo- cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)"),
        ("a/b", "a/b cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)"),
    ])
    func badComponentNames(name: String, message: String) {
        #expect(throws: HLDError(message)) { try Scaffold.checkComponentName(name) }
    }

    @Test(arguments: [
        ([], [], "an HLD needs at least one environment"),
        (["dev", ""], [], "an empty name cannot be an environment name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        (["dev/eu"], [], "dev/eu cannot be an environment name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        ([".."], [], ".. cannot be an environment name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        (["dev"], ["-x"], "-x cannot be a group name: use letters, digits, '.', '_' and '-', starting with a letter or digit"),
        (["common"], [], "common cannot be an environment name: config/common.yaml is the layer every environment has"),
        (["dev"], ["common"], "common cannot be a group name: config/common.yaml is the layer every environment has"),
        (["dev", "prod", "dev"], [], "dev is listed twice as an environment"),
        (["dev"], ["eu", "eu"], "eu is listed twice as a group"),
        (["dev", "eu"], ["eu"], "eu cannot be both an environment and a group"),
    ] as [([String], [String], String)])
    func badEnvironmentAndGroupNames(environments: [String], groups: [String], message: String) {
        #expect(throws: HLDError(message)) { try Scaffold.checkNames(environments: environments, groups: groups) }
        #expect(throws: HLDError(message)) { try Scaffold(name: "x", environments: environments, groups: groups) }
    }

    // MARK: Writing

    @Test func writeCreatesTheDirectoryAndReportsWhatItWrote() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let target = scratch.path + "/a/b"
        let scaffold = try Scaffold(name: "b", groups: ["eu"])
        let written = try scaffold.write(into: target, gitignore: true)
        #expect(written.created == scaffold.files.map(\.path) + [".gitignore"])
        #expect(written.gitignore == .created)
        let contents = try fileContents(under: target).mapValues { String(decoding: $0, as: UTF8.self) }
        #expect(contents == Dictionary(uniqueKeysWithValues: scaffold.files.map { ($0.path, $0.text) }).merging([".gitignore": "generated/\n"]) { $1 })
        // No temporaries are left beside the files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == [".gitignore", "component.yaml", "config", "hld.yaml", "manifests"])
    }

    /// Every entry under `root`: directories, links (with their target) and files (with
    /// their bytes), to show that a refused or failed run changed nothing.
    static func snapshot(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: root) {
            let full = root + "/" + path
            let type = try FileManager.default.attributesOfItem(atPath: full)[.type] as? FileAttributeType
            switch type {
            case .typeDirectory?: result[path] = "directory"
            case .typeSymbolicLink?: result[path] = "link to " + (try FileManager.default.destinationOfSymbolicLink(atPath: full))
            default: result[path] = "file: " + String(decoding: FileManager.default.contents(atPath: full) ?? Data(), as: UTF8.self)
            }
        }
        return result
    }

    enum Existing: String, CaseIterable, CustomTestStringConvertible {
        case componentJSON, configJSON, configIsAFile, danglingLink, manifest, gitignoreDirectory
        var testDescription: String { rawValue }
    }

    @Test(arguments: Existing.allCases)
    func writeRefusesAndWritesNothing(existing: Existing) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let root = scratch.path
        let fm = FileManager.default
        let message: String
        switch existing {
        case .componentJSON:
            try #"{"name": "old"}"#.write(toFile: root + "/component.json", atomically: true, encoding: .utf8)
            message = "\(root) already holds an HLD (component.json exists); nothing was written"
        case .configJSON:
            try fm.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
            try "{}".write(toFile: root + "/config/prod.json", atomically: true, encoding: .utf8)
            message = "config/prod.json already exists in \(root) and hld init never overwrites a file, so nothing was written (move it aside, or choose other environment or group names)"
        case .configIsAFile:
            try "".write(toFile: root + "/config", atomically: true, encoding: .utf8)
            message = "config already exists in \(root) and hld init never overwrites a file, so nothing was written (move it aside, or choose other environment or group names)"
        case .danglingLink:
            try fm.createSymbolicLink(atPath: root + "/hld.yaml", withDestinationPath: root + "/nowhere")
            try fm.createDirectory(atPath: root + "/manifests", withIntermediateDirectories: true)
            try "kind: Namespace\n".write(toFile: root + "/manifests/namespace.yaml", atomically: true, encoding: .utf8)
            message = "hld.yaml and manifests/namespace.yaml already exist in \(root) and hld init never overwrites a file, so nothing was written (move them aside, or choose other environment or group names)"
        case .manifest:
            try fm.createDirectory(atPath: root + "/manifests/namespace.yaml", withIntermediateDirectories: true)
            message = "manifests/namespace.yaml already exists in \(root) and hld init never overwrites a file, so nothing was written (move it aside, or choose other environment or group names)"
        case .gitignoreDirectory:
            try fm.createDirectory(atPath: root + "/.gitignore", withIntermediateDirectories: true)
            message = "\(root)/.gitignore is not a regular file"
        }
        let before = try Self.snapshot(root)
        #expect(throws: HLDError(message).kind(.output)) { try Scaffold(name: "demo").write(into: root, gitignore: true) }
        #expect(try Self.snapshot(root) == before)
    }

    /// Whether a directory can be made unwritable here: `chmod` for a user, `chattr +i`
    /// for root (who writes through permissions), on a file system that has the flag.
    static let unwritableDirectories: Bool = {
        guard let scratch = try? TemporaryDirectory(prefix: "hld-unwritable") else { return false }
        defer { scratch.remove() }
        guard let restore = makeUnwritable(scratch.path) else { return false }
        defer { restore() }
        return !FileManager.default.createFile(atPath: scratch.path + "/probe", contents: Data())
    }()

    static func makeUnwritable(_ directory: String) -> (() -> Void)? {
        if geteuid() != 0 {
            guard chmod(directory, 0o555) == 0 else { return nil }
            return { chmod(directory, 0o755) }
        }
        let environment = ["PATH": "/usr/bin:/bin:/sbin:/usr/sbin"]
        guard (try? ChildProcess.run("chattr", ["+i", directory], environment: environment))?.succeeded == true else { return nil }
        return { _ = try? ChildProcess.run("chattr", ["-i", directory], environment: environment) }
    }

    @Test(.enabled(if: unwritableDirectories)) func aFailedWriteRemovesWhatItMade() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let root = scratch.path
        // manifests/namespace.yaml is written last; its directory takes no new file.
        try FileManager.default.createDirectory(atPath: root + "/manifests", withIntermediateDirectories: true)
        let before = try Self.snapshot(root)
        let restore = try #require(Self.makeUnwritable(root + "/manifests"))
        defer { restore() }
        #expect(throws: HLDError("cannot write manifests/namespace.yaml: \(String(cString: strerror(geteuid() == 0 ? EPERM : EACCES)))").kind(.output)) {
            try Scaffold(name: "demo").write(into: root, gitignore: true)
        }
        #expect(try Self.snapshot(root) == before)
    }

    @Test func gitignoreGetsTheEntryOnce() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let cases: [(before: String, after: String, change: Scaffold.Written.IgnoreChange)] = [
            ("", "generated/\n", .appended),
            (".build/\n", ".build/\ngenerated/\n", .appended),
            (".build/", ".build/\ngenerated/\n", .appended),
            ("generated/out.yaml\n", "generated/out.yaml\ngenerated/\n", .appended),
            ("a\n/generated\nb\n", "a\n/generated\nb\n", .unchanged),
            ("generated\n", "generated\n", .unchanged),
            ("  generated/  \r\n", "  generated/  \r\n", .unchanged),
        ]
        for (index, example) in cases.enumerated() {
            let root = scratch.path + "/\(index)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try example.before.write(toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
            chmod(root + "/.gitignore", 0o640)
            let written = try Scaffold(name: "demo").write(into: root, gitignore: true)
            #expect(written.gitignore == example.change, "\(example.before.debugDescription)")
            #expect(!written.created.contains(".gitignore"))
            #expect(try String(contentsOfFile: root + "/.gitignore", encoding: .utf8) == example.after)
            #expect((try FileManager.default.attributesOfItem(atPath: root + "/.gitignore")[.posixPermissions] as? Int) == 0o640)
        }
    }

    @Test func aLinkedGitignoreKeepsItsLink() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let root = scratch.path + "/hld"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "*.tmp\n".write(toFile: scratch.path + "/shared-ignore", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/.gitignore", withDestinationPath: "../shared-ignore")
        #expect(try Scaffold(name: "demo").write(into: root, gitignore: true).gitignore == .appended)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/.gitignore") == "../shared-ignore")
        #expect(try String(contentsOfFile: scratch.path + "/shared-ignore", encoding: .utf8) == "*.tmp\ngenerated/\n")
    }

    @Test func withoutTheFlagGitignoreIsLeftAlone() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-scaffold")
        let written = try Scaffold(name: "demo").write(into: scratch.path)
        #expect(written.gitignore == nil)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/.gitignore"))
    }
}
