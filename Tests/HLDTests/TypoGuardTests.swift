import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// A one-key typo must never silently empty an environment (SPEC §1.1, §1.2).
@Suite(.timeLimit(.minutes(10))) struct TypoGuardTests {
    @Test(arguments: [
        ("name: cluster\nsubcomponent:\n- {name: a, type: static, path: ./m}\n", "component.yaml:2:1: unknown field subcomponent (did you mean subcomponents?)"),
        ("name: cluster\nsubcomponents:\n- {name: a, tpye: static, path: ./m}\n", "component.yaml:3:13: unknown field tpye (did you mean type?)"),
        ("name: cluster\nsubcomponents:\n- name: a\n  type: static\n  paht: ./m\n", "component.yaml:5:3: unknown field paht (did you mean path?)"),
        ("name: cluster\nsubcomponents:\n- {name: a, type: static, path: ./m, sources: x}\n", "component.yaml:3:38: unknown field sources (did you mean source?)"),
        ("name: cluster\ntype: static\npath: ./m\nhooks:\n  before-generat: [\"true\"]\n", "component.yaml:5:3: unknown hook before-generat (did you mean before-generate?)"),
    ])
    func nearMissesInComponentFilesAreErrors(component: String, message: String) async throws {
        let fixture = try HLDFixture(["component.yaml": component, "m/a.yaml": manifest("ConfigMap", "a")])
        #expect(await fixture.renderError([])?.description == message)
    }

    @Test func nearMissesInComponentJSONAreErrorsToo() async throws {
        let fixture = try HLDFixture(["component.json": "{\"name\": \"cluster\", \"subcomponent\": []}"])
        #expect(await fixture.renderError([])?.description == "component.json:1:21: unknown field subcomponent (did you mean subcomponents?)")
    }

    @Test func otherUnknownFieldsStayWarnings() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: cluster\nowner: platform-team\nsubcomponents:\n- {name: a, type: static, path: ./m, description: configmaps}\n",
            "m/a.yaml": manifest("ConfigMap", "a"),
        ])
        let output = try await fixture.render([])
        #expect(output.resources == ["a.yaml": ["ConfigMap/a"]])
        #expect(fixture.diagnostics.warnings == ["component.yaml:2:1: unknown field owner is ignored", "component.yaml:4:38: unknown field description is ignored"])
    }

    @Test func nearMissesInConfigFilesAreErrors() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: a, type: static, path: ./m}\n",
            "config/prod.yaml": "subcomponents:\n  a:\n    namespce: apps\n",
            "m/a.yaml": manifest("ConfigMap", "a"),
        ])
        #expect(await fixture.renderError(["prod"])?.description == "config/prod.yaml:3:5: unknown key subcomponents.a.namespce (did you mean namespace?)")
        try fixture.write(["config/prod.yaml": "subcomponent:\n  a: {namespace: apps}\n"])
        #expect(await fixture.renderError(["prod"])?.description == "config/prod.yaml:1:1: unknown key subcomponent (did you mean subcomponents?)")
    }

    @Test func nearMissesInHldYamlNameTheKeyMeant() async throws {
        let fixture = try HLDFixture(["component.yaml": "name: cluster\n", "hld.yaml": "environments: [dev]\nmirror:\n  https://a.example/: /srv/a/\n"])
        #expect(await fixture.renderError(["dev"])?.description == "\(fixture.root)/hld.yaml:2:1: unknown key mirror in hld.yaml (did you mean mirrors?)")
    }

    @Test func theDistanceCountsASwapOnce() {
        #expect(Spelling.distance("tpye", "type") == 1)
        #expect(Spelling.distance("subcomponent", "subcomponents") == 1)
        #expect(Spelling.distance("description", "subcomponents") > 2)
        #expect(Spelling.suggestion(for: "owner", among: ["name", "type", "source"]) == nil)
    }

    /// The tree the config tests below use: cluster → infra (external) → jaeger (inline helm).
    func nestedFixture(_ prod: String) throws -> HLDFixture {
        try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: infra, source: ./infra}\n- {name: apps, type: static, path: ./m}\n",
            "infra/component.yaml": "name: infra\nsubcomponents:\n- {name: jaeger, type: static, path: ./m}\n- {name: kured, type: static, path: ./m}\n",
            "infra/m/a.yaml": manifest("ConfigMap", "infra"),
            "m/a.yaml": manifest("ConfigMap", "a"),
            "config/prod.yaml": prod,
        ])
    }

    @Test func configForANameWithNoSubcomponentIsAWarningWithASuggestion() async throws {
        let fixture = try nestedFixture("""
            subcomponents:
              infra:
                subcomponents:
                  jaegr:
                    namespace: tracing
                  kured: {namespace: kube-system}
              appz:
                config: {replicas: 2}
              monitoring: {disabled: true}

            """)
        let output = try await fixture.render(["prod"])
        #expect(output.files.map(\.path) == ["infra/jaeger.yaml", "infra/kured.yaml", "apps.yaml"])
        #expect(fixture.diagnostics.warnings == [
            "config/prod.yaml:4:7: subcomponents.infra.subcomponents.jaegr names no subcomponent of infra/infra (did you mean jaeger?); its settings are not used",
            "config/prod.yaml:7:3: subcomponents.appz names no subcomponent of cluster (did you mean apps?); its settings are not used",
            "config/prod.yaml:9:3: subcomponents.monitoring names no subcomponent of cluster (known: infra, apps); its settings are not used",
        ])

        // Under --strict the same is an error, and nothing is rendered.
        var options = fixture.options(["prod"])
        options.strict = true
        await #expect {
            try await Materializer.render(options)
        } throws: { error in
            "\(error)".hasPrefix("--strict turns these 3 warnings into an error; nothing was written:\n  config/prod.yaml:4:7: subcomponents.infra.subcomponents.jaegr names no subcomponent")
        }
    }

    @Test func aConfigLevelBranchErrorPointsAtTheConfigFile() async throws {
        let fixture = try HLDFixture([:])
        let repo = try FixtureRepository.create(at: fixture.scratch.appending("app-work"))
        try repo.write("web/component.yaml", "name: web\ntype: static\npath: ./m\n")
        try repo.write("web/m/a.yaml", manifest("Deployment", "web"))
        try repo.commit("web")
        let served = try repo.publishBare(into: fixture.scratch.appending("served"), name: "apps")
        try fixture.write([
            "component.yaml": "name: cluster\nsubcomponents:\n- name: infra\n  source: ./infra\n",
            "infra/component.yaml": "name: infra\nsubcomponents:\n- name: web\n  method: git\n  source: \(served.path)\n  path: web\n",
            // prod's config (two levels up) moves web to a branch that does not exist.
            "config/prod.yaml": "subcomponents:\n  infra:\n    subcomponents:\n      web:\n        branch: nope\n",
        ])
        #expect(try await fixture.render([]).resources == ["infra/web/web.yaml": ["Deployment/web"]])
        let error = await fixture.renderError(["prod"])
        #expect(error?.description.hasPrefix("config/prod.yaml:5:17: subcomponent web: ") == true, "\(String(describing: error))")
        #expect(error?.description.hasSuffix("(branch nope): branch nope does not exist (there are: main)") == true)

        try fixture.write(["config/prod.yaml": "subcomponents:\n  infra:\n    subcomponents:\n      web:\n        source: \(fixture.scratch.appending("nowhere").path)\n"])
        #expect(await fixture.renderError(["prod"])?.description.hasPrefix("config/prod.yaml:5:17: subcomponent web: ") == true)
    }
}
