import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

@Suite(.timeLimit(.minutes(10))) struct MaterializerTests {
    // MARK: bad input, each with its message

    @Test func malformedComponentAndConfigFiles() async throws {
        let yaml = try HLDFixture(["component.yaml": "name: x\nsubcomponents:\n  - name: [unclosed\n"])
        #expect(await yaml.renderError([])?.description.hasPrefix("component.yaml:4:1: did not find expected ',' or ']' at the end of the input") == true)

        let json = try HLDFixture(["component.json": "{\n  \"name\": \"x\",\n  \"subcomponents\": [\n}\n"])
        #expect(await json.renderError([])?.description == "component.json:4:1: invalid JSON: found '}' where a value should be\n}\n^")
        let trailingComma = try HLDFixture(["component.json": "{\n  \"name\": \"x\",\n}\n"])
        #expect(await trailingComma.renderError([])?.description == "component.json:3:1: invalid JSON: a trailing comma before } is not allowed in JSON\n}\n^")

        let config = try HLDFixture(["component.yaml": "name: x\n", "config/dev.yaml": "config:\n  a: 1\n  b: [2\n"])
        #expect(await config.renderError(["dev"])?.description.hasPrefix("config/dev.yaml:4:1: did not find expected ',' or ']'") == true)

        let jsonConfig = try HLDFixture(["component.yaml": "name: x\n", "config/common.json": "{\"config\": {\"a\": 1 \"b\": 2}}"])
        #expect(await jsonConfig.renderError([])?.description.hasPrefix("config/common.json:1:") == true)

        let shape = try HLDFixture(["component.yaml": "name: x\n", "config/common.yaml": "config: [1, 2]\n"])
        #expect(await shape.renderError([])?.description == "config/common.yaml:1:9: config must be a mapping of values, not a list")
    }

    @Test func unknownTypeMethodAndMissingName() async throws {
        let type = try HLDFixture(["component.yaml": "name: x\nsubcomponents:\n- name: chart\n  type: halm\n"])
        #expect(await type.renderError([])?.description == "component.yaml:4:9: unknown type \"halm\" (expected one of: component, helm, static, kustomize)")
        let method = try HLDFixture(["component.yaml": "name: x\nmethod: svn\n"])
        #expect(await method.renderError([])?.description == "component.yaml:2:9: unknown method \"svn\" (expected one of: local, git, helm, http)")
        let name = try HLDFixture(["component.yaml": "type: static\npath: .\n"])
        #expect(await name.renderError([])?.description == "component.yaml:1:1: the component has no name")
        let neither = try HLDFixture(["component.yaml": "name: x\nsubcomponents:\n- name: sub\n"])
        #expect(await neither.renderError([])?.description == "component.yaml:3:3: subcomponent sub has neither source nor path, so it would include its parent")
    }

    @Test func cyclesAreFound() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: a\n  source: ./a\n",
            "a/component.yaml": "name: a\nsubcomponents:\n- name: back\n  source: ..\n",
        ])
        #expect(await fixture.renderError([])?.description == "a/component.yaml:3:3: subcomponent back includes a component that includes it (.): a cycle")
    }

    /// A chain 600 components deep (each in a directory `a` of its parent, so paths pass
    /// 1 200 characters) is no cycle: it renders, the leaf in the deepest folder.
    @Test func aDeepChainIsNoCycle() async throws {
        var files: [String: String] = [:]
        var directory = ""
        for level in 0..<600 {
            files[directory + "component.yaml"] = "name: c\(level)\nsubcomponents:\n- {name: c\(level + 1), source: ./a}\n"
            directory += "a/"
        }
        files[directory + "component.yaml"] = "name: leaf\ntype: static\npath: ./m\n"
        files[directory + "m/cm.yaml"] = manifest("ConfigMap", "leaf")
        let fixture = try HLDFixture(files)
        let result = try await fixture.render([])
        #expect(result.resources.values.flatMap { $0 } == ["ConfigMap/leaf"])
        #expect(result.files.first?.path.split(separator: "/").count == 601, "\(result.files.first?.path.prefix(40) ?? "")")
    }

    @Test func aSubcomponentThatDoesNotExist() async throws {
        let fixture = try HLDFixture(["component.yaml": "name: root\nsubcomponents:\n- name: gone\n  source: ./nowhere\n"])
        #expect(await fixture.renderError([])?.description == "component.yaml:3:3: subcomponent gone: directory nowhere does not exist")
        let empty = try HLDFixture(["component.yaml": "name: root\nsubcomponents:\n- name: empty\n  source: ./empty\n", "empty/readme.txt": "x"])
        #expect(await empty.renderError([])?.description == "component.yaml:3:3: subcomponent empty: no component.yaml or component.json in empty")
    }

    @Test func environmentNames() async throws {
        let fixture = try HLDFixture(["component.yaml": "name: root\ntype: static\npath: ./m\n", "m/a.yaml": manifest("ConfigMap", "a"), "config/dev.yaml": "{}\n"])
        _ = try await fixture.render(["dev", "typo"])
        #expect(fixture.diagnostics.warnings == ["no component has a config file for environment typo (config/typo.yaml); is the name right?"])
        try fixture.write(["hld.yaml": "environments: [dev, stage, prod]\ngroups: [eastus]\n"])
        #expect(await fixture.renderError(["dev", "westus"])?.description == "unknown environment westus: \(fixture.root)/hld.yaml declares dev, stage, prod, eastus")
        #expect(try await fixture.render(["prod", "eastus"]).environmentName == "prod-eastus")
    }

    @Test func twoComponentsWritingOneFile() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: a\n  type: static\n  path: ./m\n- name: b\n  source: ./b\n",
            "m/x.yaml": manifest("ConfigMap", "x"),
            "b/component.yaml": "name: b\nsubcomponents:\n- name: a\n  type: static\n  path: ../m\n",
        ])
        #expect(try await fixture.render([]).files.map(\.path) == ["a.yaml", "b/a.yaml"])
        try fixture.write(["component.yaml": "name: root\nsubcomponents:\n- name: a\n  type: static\n  path: ./m\n- name: twin\n  source: ./twin\n",
                           "twin/component.yaml": "name: twin\ntype: static\npath: ../m\n"])
        #expect(try await fixture.render([]).files.map(\.path) == ["a.yaml", "twin/twin.yaml"])
    }

    // MARK: git sources

    /// A repository with a component at `apps/web` whose subcomponent points outside the
    /// repository, and one with hooks.
    func gitFixture() throws -> (HLDFixture, FixtureRepository) {
        let fixture = try HLDFixture([:])
        let repo = try FixtureRepository.create(at: fixture.scratch.appending("app-work"))
        try repo.write("apps/web/component.yaml", "name: web\ntype: static\npath: ./manifests\n")
        try repo.write("apps/web/manifests/deploy.yaml", manifest("Deployment", "web"))
        try repo.write("apps/escape/component.yaml", "name: escape\nsubcomponents:\n- name: out\n  source: ../../../outside\n")
        try repo.write("apps/hooked/component.yaml", "name: hooked\ntype: static\npath: .\nhooks:\n  before-generate:\n  - \"printf 'kind: Secret\\\\nmetadata: {name: from-hook}\\\\n' > made.yaml\"\n")
        try repo.write("apps/hooked/cm.yaml", manifest("ConfigMap", "hooked"))
        try repo.commit("apps")
        try repo.publishBare(into: fixture.scratch.appending("served"), name: "apps")
        return (fixture, repo)
    }

    func gitComponent(_ fixture: HLDFixture, path: String) -> String {
        "name: root\nsubcomponents:\n- name: app\n  method: git\n  source: \(fixture.scratch.appending("served/apps.git").path)\n  path: \(path)\n"
    }

    @Test func gitComponentsAndTheirErrors() async throws {
        let (fixture, repo) = try gitFixture()
        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/web")])
        let output = try await fixture.render([])
        #expect(output.resources == ["app/web.yaml": ["Deployment/web"]])
        let head = try repo.head()
        #expect(output.tree.children[0].fetchedFrom == "\(fixture.scratch.appending("served/apps.git").path) (default branch)")

        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/escape")])
        let escape = await fixture.renderError([])
        #expect(escape?.description.hasPrefix("\(fixture.scratch.appending("served/apps.git").path)@\(head.prefix(12))/apps/escape/component.yaml:4:11: subcomponent out points outside the tree fetched from") == true, "\(String(describing: escape))")

        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/../../etc")])
        #expect(await fixture.renderError([])?.description.hasSuffix("path apps/../../etc leaves the repository through ..") == true)

        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/missing")])
        #expect(await fixture.renderError([])?.description.hasSuffix("(default branch): path apps/missing does not exist (no missing in apps)") == true)

        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/web") + "  branch: nope\n"])
        #expect(await fixture.renderError([])?.description.hasSuffix("(branch nope): branch nope does not exist (there are: main)") == true)
    }

    @Test func hooksOfFetchedComponentsNeedAllowHooks() async throws {
        let (fixture, _) = try gitFixture()
        try fixture.write(["component.yaml": gitComponent(fixture, path: "apps/hooked")])
        let error = await fixture.renderError([])
        #expect(error?.description.hasSuffix("app/hooked comes from \(fixture.scratch.appending("served/apps.git").path) (default branch) and has hooks; hld runs hooks of fetched components only with --allow-hooks") == true, "\(String(describing: error))")
        // Allowed, it runs in a private copy of the fetched tree: the cache stays as fetched.
        let output = try await fixture.render([], allowHooks: true)
        #expect(output.resources == ["app/hooked.yaml": ["ConfigMap/hooked", "Secret/from-hook"]])
        let trees = fixture.cache.appendingPathComponent("git/trees-v2").path
        let exported = try FileManager.default.subpathsOfDirectory(atPath: trees)
        #expect(!exported.contains { $0.hasSuffix("made.yaml") })
    }

    @Test func configPinsBranchesPerEnvironment() async throws {
        let fixture = try HLDFixture([:])
        let repo = try FixtureRepository.create(at: fixture.scratch.appending("work"))
        try repo.write("component.yaml", "name: app\ntype: static\npath: .\n")
        try repo.write("cm.yaml", manifest("ConfigMap", "main-version"))
        try repo.commit("main")
        try repo.branch("dev")
        try repo.checkout("dev")
        try repo.write("cm.yaml", manifest("ConfigMap", "dev-version"))
        try repo.commit("dev")
        try repo.tag("v-dev")
        try repo.checkout("main")
        try repo.publishBare(into: fixture.scratch.appending("served"), name: "app")
        let source = fixture.scratch.appending("served/app.git").path
        try fixture.write([
            "component.yaml": "name: root\nsubcomponents:\n- name: app\n  method: git\n  source: \(source)\n",
            "config/dev.yaml": "subcomponents:\n  app:\n    branch: dev\n",
            "config/pinned.yaml": "subcomponents:\n  app:\n    version: v-dev\n    branch: main\n",
        ])
        #expect(try await fixture.render([]).resources == ["app/app.yaml": ["ConfigMap/main-version"]])
        #expect(try await fixture.render(["dev"]).resources == ["app/app.yaml": ["ConfigMap/dev-version"]])
        #expect(try await fixture.render(["pinned"]).resources == ["app/app.yaml": ["ConfigMap/dev-version"]])
        // Offline, from the cache.
        #expect(try await fixture.render(["dev"], offline: true).resources == ["app/app.yaml": ["ConfigMap/dev-version"]])
    }

    @Test func installRunsInstallHooksInOrder() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nhooks:\n  before-install: [echo root-before >> ../install.log]\n  after-install: [echo root-after >> ../install.log]\nsubcomponents:\n- name: child\n  source: ./child\n",
            "child/component.yaml": "name: child\nhooks:\n  before-install: [echo child-before >> ../../install.log]\n  before-generate: [echo never >> ../../install.log]\n",
        ])
        let tree = try await Materializer.install(fixture.options([])).tree
        #expect(tree.flattened.map(\.componentPath) == ["root", "child/child"])
        #expect(try String(contentsOfFile: fixture.scratch.appending("install.log").path, encoding: .utf8) == "root-before\nroot-after\nchild-before\n")
    }

    /// Fabrikate #212: a root whose own entry says `method: git` is loaded from git; the
    /// local root's config wins over the remote one's.
    @Test func aRemoteRootComponent() async throws {
        let fixture = try HLDFixture([:])
        let repo = try FixtureRepository.create(at: fixture.scratch.appending("root-work"))
        try repo.write("defs/cluster/component.yaml", "name: remote-cluster\nsubcomponents:\n- name: app\n  type: static\n  path: ./manifests\n")
        try repo.write("defs/cluster/manifests/a.yaml", manifest("ConfigMap", "from-git"))
        try repo.write("defs/cluster/config/common.yaml", "subcomponents:\n  app:\n    namespace: remote\n    injectNamespace: true\n")
        try repo.commit("definitions")
        try repo.publishBare(into: fixture.scratch.appending("served"), name: "defs")
        try fixture.write([
            "component.yaml": "name: cluster\nmethod: git\nsource: \(fixture.scratch.appending("served/defs.git").path)\npath: defs/cluster\n",
            "config/common.yaml": "subcomponents:\n  app:\n    namespace: local\n    injectNamespace: true\n",
        ])
        let output = try await fixture.render([])
        #expect(output.tree.definition.name == "remote-cluster")
        #expect(output.files.map(\.path) == ["app.yaml"])
        #expect(try Node.documents(in: output.text("app.yaml") ?? "").first?["metadata"]?["namespace"]?.scalarText == "local")
    }

    @Test func componentFileVariants() async throws {
        // YAML wins over JSON, with a warning; JSON keys match case-insensitively (Go's decoder did).
        let both = try HLDFixture(["component.yaml": "name: from-yaml\ntype: static\npath: ./m\n", "component.json": "{\"name\": \"from-json\"}",
                                   "m/a.yaml": manifest("ConfigMap", "a")])
        #expect(try await both.render([]).files.map(\.path) == ["from-yaml.yaml"])
        #expect(both.diagnostics.warnings.contains { $0.hasSuffix("both component.yaml and component.json exist; using component.yaml") })
        let json = try HLDFixture(["component.json": "{\"Name\": \"cased\", \"Type\": \"static\", \"Path\": \"./m\"}", "m/a.yaml": manifest("ConfigMap", "a")])
        #expect(try await json.render([]).files.map(\.path) == ["cased.yaml"])
        // Unknown fields far from every known one are reported, not fatal (TypoGuardTests
        // has the near misses, which are errors).
        let unknown = try HLDFixture(["component.yaml": "name: x\ntype: static\npath: ./m\ndescription: []\n", "m/a.yaml": manifest("ConfigMap", "a")])
        _ = try await unknown.render([])
        #expect(unknown.diagnostics.warnings == ["component.yaml:4:1: unknown field description is ignored"])
    }

    // MARK: http manifests

    @Test func httpStaticManifests() async throws {
        let fixture = try HLDFixture([:])
        let site = fixture.scratch.appending("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try (manifest("ConfigMap", "remote") + "---\n" + manifest("Secret", "remote")).write(to: site.appendingPathComponent("remote.yaml"), atomically: true, encoding: .utf8)
        let server = try StaticFileServer(root: site)
        try fixture.write(["component.yaml": "name: root\nsubcomponents:\n- name: remote\n  type: static\n  method: http\n  source: \(server.url(for: "remote.yaml"))\n"])
        #expect(try await fixture.render([]).resources == ["remote.yaml": ["ConfigMap/remote", "Secret/remote"]])
        // One job: the render that downloads must not wait on itself.
        #expect(try await fixture.render([], jobs: 1).resources == ["remote.yaml": ["ConfigMap/remote", "Secret/remote"]])
        try fixture.write(["component.yaml": "name: root\nsubcomponents:\n- name: remote\n  type: static\n  method: http\n  source: \(server.url(for: "missing.yaml"))\n"])
        #expect(await fixture.renderError([])?.description == "component.yaml:6:11: remote: downloading \(server.url(for: "missing.yaml")) returned HTTP status 404")
        server.stop()
        try fixture.write(["component.yaml": "name: root\nsubcomponents:\n- name: remote\n  type: static\n  method: http\n  source: \(server.url(for: "remote.yaml"))\n"])
        #expect(try await fixture.render([], offline: true).resources == ["remote.yaml": ["ConfigMap/remote", "Secret/remote"]])
        #expect(await fixture.renderError([])?.description.hasPrefix("component.yaml:6:11: remote: cannot reach \(server.url(for: "remote.yaml"))") == true)
    }

    // MARK: output

    @Test func outputReplacesTheEnvironmentDirectoryAtomically() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: a\n  type: static\n  path: ./a\n- name: b\n  type: static\n  path: ./b\n",
            "a/x.yaml": manifest("ConfigMap", "a"), "b/y.yaml": manifest("ConfigMap", "b"),
        ])
        let out = fixture.scratch.appending("generated").path
        let first = try await fixture.render([])
        try Materializer.write(first, to: out)
        #expect(Materializer.differences(first, in: out).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/common").sorted() == ["a.yaml", "b.yaml"])
        try fixture.write(["component.yaml": "name: root\nsubcomponents:\n- name: a\n  type: static\n  path: ./a\n"])
        let second = try await fixture.render([])
        #expect(Materializer.differences(second, in: out) == [.removed("common/b.yaml")])
        try Materializer.write(second, to: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/common") == ["a.yaml"], "stale files are gone")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["common"], "no temporary directories left")
        try fixture.write(["a/x.yaml": manifest("ConfigMap", "changed")])
        #expect(Materializer.differences(try await fixture.render([]), in: out) == [.changed("common/a.yaml")])
    }

    /// A tree that already is the render is left as it is (same directory, same files);
    /// anything more in it — a stray file, an empty directory, a link — and it is replaced.
    @Test func anUnchangedTreeStaysAndAnythingExtraIsReplaced() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: a\n  type: static\n  path: ./a\n",
            "a/x.yaml": manifest("ConfigMap", "a"),
        ])
        let out = fixture.scratch.appending("generated").path
        let output = try await fixture.render([])
        try Materializer.write(output, to: out)
        func inode(_ path: String) -> UInt64 {
            var info = stat()
            return stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
        }
        let directory = inode(out + "/common")
        let summary = try Materializer.write(output, to: out)
        #expect(inode(out + "/common") == directory, "an unchanged tree is not swapped")
        #expect(summary.written.isEmpty && summary.unchanged == ["a.yaml"] && summary.removed.isEmpty)
        for extra in ["stray.yaml", "empty/", "link.yaml"] {
            if extra == "empty/" {
                try FileManager.default.createDirectory(atPath: out + "/common/empty", withIntermediateDirectories: true)
            } else if extra == "link.yaml" {
                try FileManager.default.createSymbolicLink(atPath: out + "/common/link.yaml", withDestinationPath: "a.yaml")
            } else {
                try "x: 1\n".write(toFile: out + "/common/" + extra, atomically: true, encoding: .utf8)
            }
            let before = inode(out + "/common")
            try Materializer.write(output, to: out)
            #expect(inode(out + "/common") != before, "\(extra): replaced")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/common") == ["a.yaml"], "\(extra)")
        }
    }

    @Test func anOutputDirectoryThatCannotBeWritten() async throws {
        let fixture = try HLDFixture(["component.yaml": "name: root\ntype: static\npath: ./m\n", "m/a.yaml": manifest("ConfigMap", "a")])
        let blocker = fixture.scratch.appending("not-a-directory").path
        try "x".write(toFile: blocker, atomically: true, encoding: .utf8)
        let output = try await fixture.render([])
        let error = try #require(throws: HLDError.self) { try Materializer.write(output, to: blocker) }
        #expect(error.description.hasPrefix("cannot write the output under \(blocker): "))
        #expect(try String(contentsOfFile: blocker, encoding: .utf8) == "x")
    }
}
