import Foundation
import Testing
import TestSupport

/// `hld set`, `add` and `remove` as people and pipelines run them: each changes exactly
/// the lines it was asked to change, and bad input changes nothing.
@Suite struct AuthoringCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func hld(_ arguments: [String]) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, arguments, environment: Self.environment)
    }

    static let component = """
        # The cluster.
        name: cluster   # the output directory

        subcomponents:
        # Charts first.
        - name: web
          type: helm
          path: ./charts/web
          hooks:
            before-generate: [./prepare.sh]
        - name: db      # the database
          type: static
          path: ./db

        """

    static let common = """
        # Shared by every environment.
        subcomponents:
          web:
            config:
              image:
                repository: nginx  # mirrored
                tag: "1.25.3"
              replicas: 2
              annotations: {team: web}

          db:
            config: # nothing yet

        """

    /// An HLD in a fresh directory; returns its root.
    func project(_ extra: [String: String] = [:]) throws -> (TemporaryDirectory, String) {
        let scratch = try TemporaryDirectory(prefix: "hld-authoring")
        let root = scratch.appending("hld").path
        let files = ["component.yaml": Self.component, "config/common.yaml": Self.common].merging(extra) { $1 }
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return (scratch, root)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    struct SetCase: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var removed: [String]
        var added: [String]
        var testDescription: String { name }
    }

    static let setCases: [SetCase] = [
        SetCase(name: "an existing key; a quoted string stays quoted", arguments: ["--subcomponent", "web", "image.tag=1.26.0"],
                removed: ["        tag: \"1.25.3\""], added: ["        tag: \"1.26.0\""]),
        SetCase(name: "an int", arguments: ["--subcomponent", "web", "replicas=4"],
                removed: ["      replicas: 2"], added: ["      replicas: 4"]),
        SetCase(name: "--string", arguments: ["--subcomponent", "web", "--string", "replicas=4"],
                removed: ["      replicas: 2"], added: ["      replicas: \"4\""]),
        SetCase(name: "a bool and a new key", arguments: ["--subcomponent", "web", "debug=true"],
                removed: [], added: ["      debug: true"]),
        SetCase(name: "a value holding =", arguments: ["--subcomponent", "web", "args=--level=debug"],
                removed: [], added: ["      args: --level=debug"]),
        SetCase(name: "a quoted key with dots, into a flow map", arguments: ["--subcomponent", "web", "annotations.\"app.kubernetes.io/name\"=shop"],
                removed: ["      annotations: {team: web}"], added: ["      annotations: {team: web, app.kubernetes.io/name: shop}"]),
        SetCase(name: "a nested path under a null config keeps its comment", arguments: ["--subcomponent", "db", "storage.size=10Gi"],
                removed: [], added: ["      storage:", "        size: 10Gi"]),
        SetCase(name: "the component's own config", arguments: ["region=eu"],
                removed: [], added: ["config:", "  region: eu"]),
        SetCase(name: "text readers disagree on is quoted", arguments: ["--subcomponent", "web", "enabled=yes", "mode=0755"],
                removed: [], added: ["      enabled: \"yes\"", "      mode: \"0755\""]),
    ]

    @Test(arguments: setCases) func set(_ golden: SetCase) throws {
        let (scratch, root) = try project()
        defer { withExtendedLifetime(scratch) {} }
        let result = try hld(["set", "-C", root] + golden.arguments)
        #expect(result.succeeded, "\(result.stderr)")
        let after = try read(root + "/config/common.yaml")
        #expect(changedLines(Self.common, after) == Changed(removed: golden.removed, added: golden.added), "\(after)")
        #expect(try read(root + "/component.yaml") == Self.component)
    }

    @Test func setFromAFileThenTheArguments() throws {
        let (scratch, root) = try project()
        defer { withExtendedLifetime(scratch) {} }
        let values = scratch.appending("values.yaml").path
        try "image:\n  tag: v3\n  pullPolicy: Always\nports: [80, 443]\nreplicas: 9\n".write(toFile: values, atomically: true, encoding: .utf8)
        let result = try hld(["set", "-C", root, "--subcomponent", "web", "--file", values, "replicas=5"])
        #expect(result.succeeded, "\(result.stderr)")
        let after = try read(root + "/config/common.yaml")
        #expect(changedLines(Self.common, after) == Changed(
            removed: ["        tag: \"1.25.3\"", "      replicas: 2", "      annotations: {team: web}"],
            added: ["        tag: \"v3\"", "        pullPolicy: Always", "      replicas: 5", "      annotations: {team: web}", "      ports:", "      - 80", "      - 443"]), "\(after)")
    }

    @Test func setCreatesTheEnvironmentFileAndLeavesASameValueFileAlone() throws {
        let (scratch, root) = try project(["hld.yaml": "environments: [dev, stage, prod]\n"])
        defer { withExtendedLifetime(scratch) {} }
        let created = try hld(["set", "-C", root, "--env", "prod", "--subcomponent", "web", "image.tag=v2"])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(try read(root + "/config/prod.yaml") == "subcomponents:\n  web:\n    config:\n      image:\n        tag: v2\n")
        #expect(created.stdout == "created config/prod.yaml\nconfig/prod.yaml: set subcomponents.web.config.image.tag = v2\n")
        let modified = try FileManager.default.attributesOfItem(atPath: root + "/config/common.yaml")[.modificationDate] as? Date
        usleep(20_000)
        let same = try hld(["set", "-C", root, "--subcomponent", "web", "image.tag=1.25.3", "replicas=2"])
        #expect(same.succeeded, "\(same.stderr)")
        #expect(same.stdout == "config/common.yaml: unchanged (it already says that)\n")
        #expect(try read(root + "/config/common.yaml") == Self.common)
        #expect(try FileManager.default.attributesOfItem(atPath: root + "/config/common.yaml")[.modificationDate] as? Date == modified)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var files: [String: String]
        var arguments: [String]
        var error: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "a file that does not parse", files: ["config/common.yaml": "subcomponents:\n  web: {config: [1\n"],
                arguments: ["set", "--subcomponent", "web", "a=1"],
                error: "error: config/common.yaml:3:1: did not find expected ',' or ']' at the end of the input (while parsing a flow sequence at 2:17) (nothing was changed)"),
        BadCase(name: "--no-new-config-keys on a new key", files: [:],
                arguments: ["set", "--subcomponent", "web", "--no-new-config-keys", "image.tgz=v1"],
                error: "error: config/common.yaml:6:9: subcomponents.web.config.image.tgz does not exist, and --no-new-config-keys allows no new keys (nothing was changed)"),
        BadCase(name: "--no-new-config-keys on a missing file", files: [:],
                arguments: ["set", "--env", "prod", "--no-new-config-keys", "a=1"],
                error: "error: config/prod.yaml does not exist, and --no-new-config-keys allows no new keys"),
        BadCase(name: "a key under a scalar", files: [:],
                arguments: ["set", "--subcomponent", "web", "replicas.max=3"],
                error: "error: config/common.yaml:8:17: cannot set subcomponents.web.config.replicas.max: subcomponents.web.config.replicas is a scalar, not a map (nothing was changed)"),
        BadCase(name: "an unknown subcomponent", files: [:],
                arguments: ["set", "--subcomponent", "wbe", "replicas=3"],
                error: "error: cluster has no subcomponent wbe (did you mean web?) (nothing was changed)"),
        BadCase(name: "an unknown environment", files: ["hld.yaml": "environments: [dev, stage, prod]\n"],
                arguments: ["set", "--env", "prdo", "a=1"],
                error: "error: unknown environment prdo (did you mean prod?): \(String.placeholder)/hld.yaml declares dev, stage, prod (nothing was changed)"),
        BadCase(name: "add to a component file that does not parse", files: ["component.yaml": "name: cluster\nsubcomponents:\n- name: a\n  type: [\n"],
                arguments: ["add", "b", "--source", "./b"],
                error: "error: component.yaml:5:1: did not find expected node content at the end of the input (while parsing a flow node at 5:1) (nothing was changed)"),
        BadCase(name: "remove a name that is not there", files: [:],
                arguments: ["remove", "wbe"],
                error: "error: component.yaml has no subcomponent wbe (did you mean web?)"),
        BadCase(name: "a branch for a helm source", files: [:],
                arguments: ["add", "c", "--source", "oci://registry.example.com/charts/c", "--type", "helm", "--branch", "main"],
                error: "error: --branch is for git sources; c has method helm"),
    ]

    @Test(arguments: badCases) func badInputChangesNothing(_ bad: BadCase) throws {
        let (scratch, root) = try project(bad.files)
        defer { withExtendedLifetime(scratch) {} }
        let before = try fileContents(under: root)
        let result = try hld([bad.arguments[0], "-C", root] + bad.arguments.dropFirst())
        #expect(result.termination == .exited(1))
        let expected = bad.error.replacingOccurrences(of: String.placeholder, with: URL(fileURLWithPath: root).standardizedFileURL.path)
        #expect(result.stderr.hasPrefix(expected), "\(result.stderr)")
        #expect(try fileContents(under: root) == before, "nothing written")
    }

    @Test func nestedSubcomponentPathsAreCheckedThroughLocalComponents() throws {
        let (scratch, root) = try project([
            "component.yaml": "name: cluster\nsubcomponents:\n- name: infra\n  source: ./infra\n- {name: web, type: helm, path: ./web}\n",
            "infra/component.yaml": "name: infra\nsubcomponents:\n- {name: prometheus, type: helm, path: ./chart}\n",
        ])
        defer { withExtendedLifetime(scratch) {} }
        let good = try hld(["set", "-C", root, "--env", "prod", "--subcomponent", "infra.prometheus", "retention=30d"])
        #expect(good.succeeded, "\(good.stderr)")
        #expect(try read(root + "/config/prod.yaml") == "subcomponents:\n  infra:\n    subcomponents:\n      prometheus:\n        config:\n          retention: 30d\n")
        let typo = try hld(["set", "-C", root, "--subcomponent", "infra.promethues", "a=1"])
        #expect(typo.termination == .exited(1))
        #expect(typo.stderr == "error: infra has no subcomponent promethues (did you mean prometheus?) (nothing was changed)\n")
        let inline = try hld(["set", "-C", root, "--subcomponent", "web.x", "a=1"])
        #expect(inline.stderr == "error: web has no subcomponent x (nothing was changed)\n")
    }

    @Test func addAppendsInTheListsStyleAndReplacesInPlace() throws {
        let (scratch, root) = try project()
        defer { withExtendedLifetime(scratch) {} }
        let added = try hld(["add", "-C", root, "cat", "--source", "https://github.com/example/cat.git", "--path", "deploy", "--branch", "main"])
        #expect(added.succeeded, "\(added.stderr)")
        #expect(added.stdout == "component.yaml: added subcomponent cat (method git, source https://github.com/example/cat.git, path deploy, branch main)\n")
        let first = try read(root + "/component.yaml")
        #expect(changedLines(Self.component, first) == Changed(removed: [], added: [
            "- name: cat", "  method: git", "  source: https://github.com/example/cat.git", "  path: deploy", "  branch: main",
        ]), "\(first)")
        // The same name again: its source fields replaced in place, its hooks kept.
        let replaced = try hld(["add", "-C", root, "web", "--type", "helm", "--source", "https://charts.example.com", "--path", "web", "--version", "1.10"])
        #expect(replaced.succeeded, "\(replaced.stderr)")
        let second = try read(root + "/component.yaml")
        #expect(changedLines(first, second) == Changed(
            removed: ["  path: ./charts/web", "  hooks:", "    before-generate: [./prepare.sh]"],
            added: ["  path: web", "  hooks:", "    before-generate: [./prepare.sh]", "  method: helm", "  source: https://charts.example.com", "  version: \"1.10\""]),
            "\(second)")
    }

    @Test func removeTakesTheEntrysLinesAndNamesConfigThatStillMentionsIt() throws {
        let (scratch, root) = try project()
        defer { withExtendedLifetime(scratch) {} }
        let result = try hld(["remove", "-C", root, "web"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout == "component.yaml: removed subcomponent web\nnote: config/common.yaml:3:3 still configures web (left as it is)\n")
        #expect(changedLines(Self.component, try read(root + "/component.yaml")) == Changed(
            removed: ["- name: web", "  type: helm", "  path: ./charts/web", "  hooks:", "    before-generate: [./prepare.sh]"], added: []))
        #expect(try read(root + "/config/common.yaml") == Self.common)
    }

    @Test func jsonComponentFilesAreEditedAsJSON() throws {
        let (scratch, root) = try project()
        defer { withExtendedLifetime(scratch) {} }
        try FileManager.default.removeItem(atPath: root + "/component.yaml")
        let json = "{\n  \"name\": \"cluster\",\n  \"subcomponents\": [\n    {\"name\": \"db\", \"type\": \"static\", \"path\": \"./db\"}\n  ]\n}\n"
        try json.write(toFile: root + "/component.json", atomically: true, encoding: .utf8)
        let result = try hld(["add", "-C", root, "cache", "--type", "static", "--path", "./cache"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(try read(root + "/component.json") == "{\n  \"name\": \"cluster\",\n  \"subcomponents\": [\n    {\"name\": \"db\", \"type\": \"static\", \"path\": \"./db\"},\n    {\n      \"name\": \"cache\",\n      \"type\": \"static\",\n      \"path\": \"./cache\"\n    }\n  ]\n}\n")
    }

    /// The most common automated commit: CI bumps an image tag, then materializes.
    @Test(.timeLimit(.minutes(10))) func anImageBumpChangesOnlyThatImage() throws {
        let (scratch, cluster) = try ExampleCopy.make()
        let cache = scratch.appending("cache").path
        let first = try hld(["materialize", "-C", cluster, "prod", "--cache-dir", cache])
        #expect(first.succeeded, "\(first.stderr)")
        let before = try fileContents(under: cluster + "/generated")
        let config = try read(cluster + "/config/prod.yaml")
        let bump = try hld(["set", "-C", cluster, "--env", "prod", "--subcomponent", "dog", "image.tag=v1.2.4"])
        #expect(bump.succeeded, "\(bump.stderr)")
        #expect(changedLines(config, try read(cluster + "/config/prod.yaml")) == Changed(
            removed: [], added: ["    config:", "      image:", "        tag: v1.2.4"]))
        let second = try hld(["materialize", "-C", cluster, "prod", "--cache-dir", cache])
        #expect(second.succeeded, "\(second.stderr)")
        let after = try fileContents(under: cluster + "/generated")
        #expect(Set(after.keys) == Set(before.keys))
        for (path, bytes) in after where path != "prod/dog/dog.yaml" {
            #expect(bytes == before[path], "\(path) changed")
        }
        let dog = (String(decoding: before["prod/dog/dog.yaml"] ?? Data(), as: UTF8.self), String(decoding: after["prod/dog/dog.yaml"] ?? Data(), as: UTF8.self))
        #expect(changedLines(dog.0, dog.1) == Changed(
            removed: ["        image: registry.example.com/pets/dog:1.9.0"], added: ["        image: registry.example.com/pets/dog:v1.2.4"]))
    }
}

private extension String {
    static let placeholder = "<root>"
}
