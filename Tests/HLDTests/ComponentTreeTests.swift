import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// The resolve stage on its own (`Materializer.resolve`) and the resolved tree `hld tree`
/// shows.
@Suite(.timeLimit(.minutes(10))) struct ComponentTreeTests {
    @Test func resolvingRunsNoHookAndRecordsDisabledEntries() async throws {
        let fixture = try HLDFixture([
            "component.yaml": """
                name: root
                hooks:
                  before-install: [touch ../install-ran]
                  before-generate: [touch ../generate-ran]
                subcomponents:
                - name: kept
                  type: static
                  path: ./m
                - name: off
                  type: static
                  path: ./m
                - name: later
                  source: ./later

                """,
            "m/a.yaml": manifest("ConfigMap", "a"),
            "later/component.yaml": "name: later\nsubcomponents:\n- name: deep\n  type: static\n  path: ../m\n",
            "config/prod.yaml": "subcomponents:\n  off:\n    disabled: true\n  later:\n    subcomponents:\n      deep:\n        disabled: true\n",
        ])
        let resolution = try await Materializer.resolve(fixture.options(["prod"]))
        #expect(resolution.environments == ["prod"])
        #expect(resolution.tree.flattened.map(\.componentPath) == ["root", "kept", "later/later"])
        #expect(resolution.tree.disabledSubcomponents.map(\.entry.name) == ["off"])
        #expect(resolution.tree.disabledSubcomponents.map(\.index) == [1])
        #expect(resolution.tree.children[1].disabledSubcomponents.map(\.componentPath) == ["later/deep"])
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch.appending("install-ran").path))
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch.appending("generate-ran").path))
        // Materialize output is as before: the disabled entries render nothing.
        #expect(try await fixture.render(["prod"]).files.map(\.path) == ["kept.yaml"])
        #expect(try await fixture.render([]).files.map(\.path) == ["kept.yaml", "off.yaml", "later/deep.yaml"])
    }

    @Test func everyKindOfComponentWithWhatItResolvedTo() async throws {
        let fixture = try MixedTreeFixture()
        let diagnostics = CollectedDiagnostics()
        let options = MaterializeOptions(directory: fixture.root, environments: ["prod"], cacheRoot: fixture.scratch.appending("cache"),
                                         processEnvironment: [:], diagnostics: diagnostics)
        let tree = try await Materializer.resolve(options).componentTree
        #expect(tree.flattened.map(\.path) == ["cluster", "infra/infra-impl", "infra/chart", "infra/manifests", "app/web", "app/site", "legacy"])
        #expect(tree.flattened.map(\.name) == ["cluster", "infra", "chart", "manifests", "app", "site", "legacy"])
        #expect(tree.flattened.map(\.type) == ["component", "component", "helm", "static", "component", "static", "static"])
        #expect(tree.flattened.map(\.componentName) == [nil, "infra-impl", nil, nil, "web", nil, nil])
        #expect(tree.flattened.map(\.disabled) == [false, false, false, false, false, false, true])
        let fetched = "\(fixture.served)@\(fixture.commit.prefix(12))/apps/web"
        #expect(tree.flattened.map(\.files) == [".", "infra", "infra", "infra", fetched, fetched, nil])
        #expect(tree.flattened.map(\.fetched) == [false, false, false, false, true, true, false])
        #expect(tree.flattened.map(\.pins) == [
            [], [], [.local(path: "infra/chart")], [.local(path: "infra/manifests")],
            [.git(url: fixture.served, requested: "branch main", commit: fixture.commit, path: "apps/web", tree: fixture.tree)],
            [], [],
        ])
        let app = tree.children[1]
        #expect(app.declared == ComponentTree.Declared(method: "git", source: fixture.served, path: "apps/web", version: nil, branch: "main"))
        let legacy = tree.children[2]
        #expect(legacy.declared == ComponentTree.Declared(method: "local", source: nil, path: "./legacy", version: nil, branch: nil))
        #expect(legacy.disabledAt == SourceLocation(file: "config/prod.yaml", line: 3, column: 15))
    }

    /// An environment's config may point a subcomponent at another branch: the tree shows
    /// the entry with the override, and a token in a URL never.
    @Test func declaredSourcesShowConfigOverridesAndNoToken() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: off\n  method: git\n  source: https://user:s3cret@git.example.com/off.git\n  branch: main\n",
            "config/prod.yaml": "subcomponents:\n  off:\n    branch: release\n    disabled: true\n",
        ])
        let tree = try await Materializer.resolve(fixture.options(["prod"])).componentTree
        let off = try #require(tree.children.first)
        #expect(off.disabled)
        #expect(off.declared == ComponentTree.Declared(method: "git", source: "https://user:***@git.example.com/off.git", path: nil, version: nil, branch: "release"))
    }
}
