import Foundation
import Testing
import TestSupport

/// `hld explain` and `hld tree` as a user runs them, on a tree with a local component, an
/// inline Helm chart, a static directory, a component from git and a disabled entry.
@Suite(.timeLimit(.minutes(10))) struct ExplainTreeCommandTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func hld(_ arguments: [String], in fixture: MixedTreeFixture) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", fixture.root, "--cache-dir", fixture.scratch.appending("cache").path] + arguments,
                             environment: Self.environment)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: explain

    @Test func explainAnnotatesEveryValueWithTheFileAndLineThatWon() throws {
        let fixture = try MixedTreeFixture()
        let result = try hld(["explain", "prod", "infra/chart"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        // An inline chart gets config only from its parent: the first host and the
        // replicas from the top-level files, the rest from infra's own common.yaml.
        #expect(result.stdout == """
            # infra/chart (prod)
            namespace: infra        # infra/config/common.yaml:3:16
            injectNamespace: true   # infra/config/common.yaml:4:22
            config:
              hosts:
              - prod.example.com    # config/prod.yaml:8:19
              - common.example.com  # infra/config/common.yaml:7:15
              replicas: 2           # config/common.yaml:6:21

            """)
        // Without prod, its host is gone (and replicas, from the highest layer left, comes first).
        let common = try hld(["explain", "infra/chart", "config"], in: fixture)
        #expect(common.stdout == """
            # infra/chart (common)
            config:
              replicas: 2           # config/common.yaml:6:21
              hosts:
              - common.example.com  # infra/config/common.yaml:7:15

            """)
    }

    @Test func explainFollowsAComponentIntoItsGitRepository() throws {
        let fixture = try MixedTreeFixture()
        // `app` is the entry chain; app/web the component path: the same component.
        for name in ["app", "app/web"] {
            let result = try hld(["explain", "prod", name], in: fixture)
            #expect(result.succeeded, "\(result.stderr)")
            #expect(result.stdout == """
                # app/web (prod)
                subcomponents:
                  site:
                    namespace: web  # \(fixture.served)@\(fixture.commit.prefix(12))/apps/web/config/common.yaml:3:16

                """)
        }
    }

    @Test func explainAsJSON() throws {
        let fixture = try MixedTreeFixture()
        let result = try hld(["explain", "--format", "json", "prod", "infra/chart", "config.hosts"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        let report = try json(result.stdout)
        #expect(report["component"] as? String == "infra/chart")
        #expect(report["environments"] as? [String] == ["prod"])
        #expect(report["key"] as? String == "config.hosts")
        let values = try #require(report["values"] as? [[String: Any]])
        #expect(values.map { "\($0["path"] ?? "") \($0["value"] ?? "") \($0["file"] ?? ""):\($0["line"] ?? ""):\($0["column"] ?? "") \($0["layer"] ?? "")" } == [
            "config.hosts[0] prod.example.com config/prod.yaml:8:19 parent",
            "config.hosts[1] common.example.com infra/config/common.yaml:7:15 parent",
        ])
        // Types survive: a number is a number.
        let replicas = try json(try hld(["explain", "--format", "json", "prod", "infra/chart", "config.replicas"], in: fixture).stdout)
        #expect((replicas["values"] as? [[String: Any]])?.first?["value"] as? Int == 2)
    }

    @Test func explainErrors() throws {
        let fixture = try MixedTreeFixture()
        let key = try hld(["explain", "prod", "infra/chart", "config.replica"], in: fixture)
        #expect(key.termination == .exited(1))
        #expect(key.stdout == "")
        #expect(key.stderr.hasSuffix("error: config of infra/chart has no key replica (did you mean replicas?)\n"), "\(key.stderr)")
        let component = try hld(["explain", "prod", "infra/chrat"], in: fixture)
        #expect(component.termination == .exited(1))
        #expect(component.stderr.hasSuffix("error: no component infra/chrat in the tree (did you mean infra/chart?)\n"), "\(component.stderr)")
        let disabled = try hld(["explain", "prod", "legacy"], in: fixture)
        #expect(disabled.termination == .exited(1))
        #expect(disabled.stderr.hasSuffix("error: config/prod.yaml:3:15: legacy is disabled here, so it has no merged config to explain\n"), "\(disabled.stderr)")
        // stage has no config file in the top-level component: it is taken for a component.
        let stage = try hld(["explain", "prod", "stage", "infra/chart"], in: fixture)
        #expect(stage.termination == .exited(1))
        #expect(stage.stderr.hasSuffix("error: no component stage in the tree (components: cluster, infra/infra-impl, infra/chart, infra/manifests, app/web, app/site); to use stage as an environment, declare it in hld.yaml (environments: [...]) or give the top-level component a config/stage.yaml\n"), "\(stage.stderr)")
        let many = try hld(["explain", "prod", "infra/chart", "config", "extra"], in: fixture)
        #expect(many.termination == .exited(64))
        #expect(many.stderr.contains("but got infra/chart config extra after the environments"), "\(many.stderr)")
    }

    /// hld.yaml says which names are environments, whether config files exist or not.
    @Test func hldYamlSaysWhichArgumentsAreEnvironments() throws {
        let fixture = try MixedTreeFixture()
        try Data("environments: [stage, prod]\n".utf8).write(to: URL(fileURLWithPath: fixture.root + "/hld.yaml"))
        let result = try hld(["explain", "stage", "prod", "infra/chart", "config.replicas"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout == "# infra/chart (stage, prod)\nconfig:\n  replicas: 2  # config/common.yaml:6:21\n")
    }

    // MARK: tree

    @Test func treeAsText() throws {
        let fixture = try MixedTreeFixture()
        let result = try hld(["tree", "prod"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        let commit = fixture.commit.prefix(12)
        #expect(result.stdout == """
            cluster  component  local .
            ├── infra (infra-impl)  component  local infra
            │   ├── chart  helm  local infra/chart
            │   └── manifests  static  local infra/manifests
            ├── app (web)  component  git \(fixture.served) apps/web (branch main) → \(commit)
            │   └── site  static  in \(fixture.served)@\(commit)/apps/web
            └── legacy  static  local ./legacy  disabled by config/prod.yaml:3:15

            """)
        // Without prod nothing is disabled.
        let common = try hld(["tree"], in: fixture)
        #expect(common.stdout.hasSuffix("└── legacy  static  local legacy\n"), "\(common.stdout)")
    }

    @Test func treeAsJSON() throws {
        let fixture = try MixedTreeFixture()
        let result = try hld(["tree", "--format", "json", "prod"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        let report = try json(result.stdout)
        #expect(report["environments"] as? [String] == ["prod"])
        func flattened(_ node: [String: Any]) -> [[String: Any]] {
            [node] + ((node["children"] as? [[String: Any]]) ?? []).flatMap(flattened)
        }
        let nodes = flattened(try #require(report["tree"] as? [String: Any]))
        #expect(nodes.map { $0["path"] as? String } == ["cluster", "infra/infra-impl", "infra/chart", "infra/manifests", "app/web", "app/site", "legacy"])
        #expect(nodes.map { $0["type"] as? String } == ["component", "component", "helm", "static", "component", "static", "static"])
        #expect(nodes.map { $0["disabled"] as? Bool } == [false, false, false, false, false, false, true])
        let legacy = nodes[6]
        let disabledAt = legacy["disabledAt"] as? [String: Any]
        #expect(disabledAt?["file"] as? String == "config/prod.yaml")
        #expect(disabledAt?["line"] as? Int == 3)
        #expect(disabledAt?["column"] as? Int == 15)
        let pin = (nodes[4]["definitionPin"] as? [String: Any])?["git"] as? [String: Any]
        #expect(pin?["commit"] as? String == fixture.commit)
        #expect(pin?["tree"] as? String == fixture.tree)
        #expect(pin?["requested"] as? String == "branch main")
        #expect((nodes[2]["sourcePin"] as? [String: Any])?["local"] as? [String: String] == ["path": "infra/chart"])
    }

    @Test func treeAsGraphviz() throws {
        let fixture = try MixedTreeFixture()
        let result = try hld(["tree", "--format", "dot", "prod"], in: fixture)
        #expect(result.succeeded, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "digraph hld {")
        #expect(lines.last == "}")
        let nodes = lines.filter { $0.contains(" [label=") }
        #expect(nodes.count == 7)
        #expect(nodes.map { $0.split(separator: "\"")[1].split(separator: "\\n").first.map(String.init) ?? "" }
                == ["cluster (component)", "infra (component)", "chart (helm)", "manifests (static)", "app (component)", "site (static)", "legacy (static)"])
        #expect(nodes.filter { $0.contains("style=dashed") }.count == 1)
        #expect(nodes[6].contains("style=dashed"))
        // Edges by node id: n0 is the root.
        let edges = lines.filter { $0.contains(" -> ") }.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(Set(edges) == ["n0 -> n1;", "n1 -> n2;", "n1 -> n3;", "n0 -> n4;", "n4 -> n5;", "n0 -> n6;"])
    }

    @Test func globalOptionsBeforeTheSubcommand() throws {
        let fixture = try MixedTreeFixture()
        // The git component over git:// (a local path is read in place, offline or not).
        let daemon = try GitDaemon(root: URL(fileURLWithPath: fixture.served).deletingLastPathComponent())
        defer { daemon.stop() }
        let environment = Self.environment.merging(["HLD_MIRRORS": "\(fixture.served)=\(daemon.url(for: "apps.git"))"]) { $1 }
        let result = try ChildProcess.run(hldBinary.path, ["-C", fixture.root, "--offline", "tree", "prod", "--cache-dir", fixture.scratch.appending("cache").path],
                                          environment: environment)
        // Offline with an empty cache: the git component cannot be fetched.
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("offline"), "\(result.stderr)")
        let online = try ChildProcess.run(hldBinary.path, ["-C", fixture.root, "tree", "prod", "--cache-dir", fixture.scratch.appending("cache").path],
                                          environment: environment)
        #expect(online.succeeded, "\(online.stderr)")
        daemon.stop()
        let offline = try ChildProcess.run(hldBinary.path, ["--offline", "-C", fixture.root, "tree", "--cache-dir", fixture.scratch.appending("cache").path, "prod"],
                                           environment: environment)
        #expect(offline.succeeded, "\(offline.stderr)")
        #expect(offline.stdout == online.stdout)
    }
}
