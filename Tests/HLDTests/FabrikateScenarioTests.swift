import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Fabrikate's own testdata scenarios, rewritten as fixtures for hld, with static
/// manifests where the layout, layering and selection rules are what is under test.
/// testdata/generate as it is, with its real `method: helm` chart, is FabrikateHelmTests.
@Suite struct FabrikateScenarioTests {
    /// After testdata/generate: JSON component files and JSON environment configs, three
    /// levels, an external `source: ./infra`, and `prod-east prod` → generated/prod-east-prod.
    @Test func generateWithJSONDefinitionsAndTwoEnvironments() async throws {
        let fixture = try HLDFixture([
            "component.json": #"{"name": "microservices-workload", "type": "static", "path": "./manifests", "subcomponents": [{"name": "infra", "source": "./infra"}]}"#,
            "manifests/namespace.yaml": manifest("Namespace", "workload"),
            "infra/component.json": #"{"name": "infra", "type": "static", "path": "./manifests", "subcomponents": [{"name": "fabrikate-jaeger", "source": "./jaeger"}, {"name": "elasticsearch", "source": "./es"}]}"#,
            "infra/manifests/infra.yaml": manifest("Namespace", "infra"),
            "infra/config/common.json": #"{"subcomponents": {"elasticsearch": {"disabled": true}}}"#,
            "infra/config/prod.json": #"{"subcomponents": {"elasticsearch": {"disabled": true}}}"#,
            "infra/config/prod-east.json": #"{"subcomponents": {"elasticsearch": {"disabled": false}}}"#,
            "infra/jaeger/component.json": #"{"name": "fabrikate-jaeger", "type": "static", "path": "./crds", "subcomponents": [{"name": "jaeger", "type": "static", "path": "./jaeger-manifests"}]}"#,
            "infra/jaeger/crds/crd.yaml": manifest("CustomResourceDefinition", "jaegers.jaegertracing.io"),
            "infra/jaeger/jaeger-manifests/deployment.yaml": manifest("Deployment", "jaeger", namespace: "jaeger"),
            "infra/es/component.json": #"{"name": "elasticsearch", "type": "static", "path": "."}"#,
            "infra/es/es.yaml": manifest("StatefulSet", "elasticsearch"),
        ])
        let output = try await fixture.render(["prod-east", "prod"])
        #expect(output.environmentName == "prod-east-prod")
        #expect(output.resources == [
            "microservices-workload.yaml": ["Namespace/workload"],
            "infra/infra.yaml": ["Namespace/infra"],
            "infra/fabrikate-jaeger/fabrikate-jaeger.yaml": ["CustomResourceDefinition/jaegers.jaegertracing.io"],
            "infra/fabrikate-jaeger/jaeger.yaml": ["Deployment/jaeger"],
            "infra/elasticsearch/elasticsearch.yaml": ["StatefulSet/elasticsearch"],
        ])
        #expect(output.files.map(\.path) == [
            "microservices-workload.yaml", "infra/infra.yaml", "infra/fabrikate-jaeger/fabrikate-jaeger.yaml",
            "infra/fabrikate-jaeger/jaeger.yaml", "infra/elasticsearch/elasticsearch.yaml",
        ], "files in definition order")
        // prod alone: the later environment's `disabled: true` applies.
        let prod = try await fixture.render(["prod"])
        #expect(prod.resources["infra/elasticsearch/elasticsearch.yaml"] == nil)
        // The other order: prod beats prod-east.
        #expect(try await fixture.render(["prod", "prod-east"]).resources["infra/elasticsearch/elasticsearch.yaml"] == nil)
        // No environment: `common`.
        #expect(try await fixture.render([]).environmentName == "common")
    }

    /// testdata/generate-yaml: the deprecated `generator` field overrides `type`; an
    /// external entry's file names its own output file (`infra` → infra/infra-impl.yaml).
    @Test func generateYAMLWithTheDeprecatedGenerator() async throws {
        let fixture = try HLDFixture([
            "component.yaml": """
                name: cloud-native
                subcomponents:
                - name: infra
                  source: ./infra
                - name: elasticsearch-fluentd-kibana
                  type: component
                  generator: static
                  path: ./efk
                """,
            "efk/fluentd.yaml": manifest("DaemonSet", "fluentd") + "---\n" + manifest("ConfigMap", "fluentd-config"),
            "efk/kibana.yml": manifest("Deployment", "kibana"),
            "efk/README.md": "not a manifest\n",
            "infra/component.yaml": "name: infra-impl\ngenerator: static\npath: ./manifests\n",
            "infra/manifests/ns.yaml": manifest("Namespace", "monitoring"),
        ])
        let output = try await fixture.render([])
        #expect(output.resources == [
            "elasticsearch-fluentd-kibana.yaml": ["DaemonSet/fluentd", "ConfigMap/fluentd-config", "Deployment/kibana"],
            "infra/infra-impl.yaml": ["Namespace/monitoring"],
        ])
        #expect(fixture.diagnostics.warnings.contains { $0.contains("generator is deprecated; use type: static") })
        #expect(fixture.diagnostics.warnings.contains { $0.contains("skipped efk/README.md") })
        #expect(output.text("elasticsearch-fluentd-kibana.yaml")?.hasPrefix("---\n# Source: elasticsearch-fluentd-kibana/fluentd.yaml\napiVersion: v1\n") == true)
    }

    /// testdata/disabled and generate-disabled: `disabled: true` skips the subcomponent and
    /// its whole subtree; nothing is written for it.
    @Test func disabledSubcomponentsAndTheirSubtrees() async throws {
        let fixture = try HLDFixture([
            "component.yaml": """
                name: cluster
                subcomponents:
                - name: keep
                  type: static
                  path: ./keep
                - name: off
                  source: ./off
                """,
            "keep/a.yaml": manifest("ConfigMap", "kept"),
            "off/component.yaml": "name: off\ntype: static\npath: ./m\nsubcomponents:\n- name: deeper\n  source: ./deeper\n",
            "off/m/x.yaml": manifest("ConfigMap", "off"),
            "off/deeper/component.yaml": "name: deeper\ntype: static\npath: .\n",
            "off/deeper/y.yaml": manifest("ConfigMap", "deeper"),
            "config/common.yaml": "subcomponents:\n  off:\n    disabled: true\n",
            "config/on.yaml": "subcomponents:\n  off:\n    disabled: false\n",
        ])
        #expect(try await fixture.render([]).resources == ["keep.yaml": ["ConfigMap/kept"]])
        #expect(try await fixture.render(["on"]).resources == [
            "keep.yaml": ["ConfigMap/kept"], "off/off.yaml": ["ConfigMap/off"], "off/deeper/deeper.yaml": ["ConfigMap/deeper"],
        ])
    }

    /// testdata/generate-hooks: before-generate runs in the component's directory before
    /// its generator (here it writes the manifest the generator reads), after-generate after.
    @Test func generateHooksRunAroundTheGenerator() async throws {
        let fixture = try HLDFixture([
            "component.yaml": """
                name: hooked
                type: static
                path: ./out
                hooks:
                  before-generate:
                  - "mkdir -p out && printf 'kind: ConfigMap\\\\nmetadata:\\\\n  name: from-hook\\\\n' > out/cm.yaml"
                  - echo before >> order.log
                  after-generate:
                  - echo after >> order.log
                """,
        ])
        let output = try await fixture.render([])
        #expect(output.resources == ["hooked.yaml": ["ConfigMap/from-hook"]])
        #expect(try String(contentsOfFile: fixture.root + "/order.log", encoding: .utf8) == "before\nafter\n")

        try fixture.write(["component.yaml": "name: hooked\ntype: static\npath: .\nhooks:\n  before-generate:\n  - echo broken >&2; exit 3\n"])
        let error = await fixture.renderError([])
        #expect(error?.description == "component.yaml:5:3: hooked: before-generate hook failed: `/bin/sh -c echo broken >&2; exit 3` exited with status 3: broken")
    }

    /// Config layering end to end: parent → child env files → child common, with a
    /// version/branch override and namespace pairing visible in the merged config.
    @Test func configFlowsDownTheTree() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: app\n  source: ./app\n",
            "config/common.yaml": "subcomponents:\n  app:\n    namespace: from-root\n    config: {replicas: 5}\n",
            "config/prod.yaml": "subcomponents:\n  app:\n    config: {tier: gold}\n",
            "app/component.yaml": "name: app\nsubcomponents:\n- name: web\n  type: static\n  path: ./m\n",
            "app/m/a.yaml": manifest("ConfigMap", "a"),
            "app/config/prod.yaml": "namespace: app-prod\ninjectNamespace: true\nconfig: {replicas: 2, tier: silver, region: east}\nsubcomponents:\n  web: {config: {x: 1}}\n",
            "app/config/common.yaml": "config: {replicas: 1, logLevel: info}\n",
        ])
        let output = try await fixture.render(["prod"])
        let app = try #require(output.tree.children.first)
        let merged = try app.config.node.yaml()
        #expect(merged == """
            namespace: from-root
            config:
              tier: gold
              replicas: 5
              region: east
              logLevel: info
            subcomponents:
              web:
                config:
                  x: 1

            """, "\(merged)")
        #expect(!app.config.injectNamespace, "injectNamespace travels with the namespace of its own layer")
        #expect(app.layerFiles == ["app/config/prod.yaml", "app/config/common.yaml"])
    }

    /// testdata/generate-yaml's Helm half: an inline helm entry with a local chart outside
    /// the component's directory (`../local-charts/prometheus`), `namespace` with
    /// `injectNamespace` — stamped on namespaced kinds only (SPEC §3).
    @Test func localHelmChartOutsideTheComponentWithInjectNamespace() async throws {
        let fixture = try HLDFixture([
            "definition/component.yaml": """
                name: prometheus-grafana
                generator: component
                subcomponents:
                - name: prometheus
                  generator: helm
                  method: local
                  path: ../local-charts/prometheus
                """,
            "definition/config/common.yaml": "subcomponents:\n  prometheus:\n    namespace: prometheus\n    injectNamespace: true\n    config:\n      server: {retention: 15d}\n",
            "local-charts/prometheus/Chart.yaml": "apiVersion: v2\nname: prometheus\nversion: 11.0.0\n",
            "local-charts/prometheus/values.yaml": "server:\n  retention: 7d\n",
            "local-charts/prometheus/templates/all.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-server
                data:
                  retention: {{ .Values.server.retention | quote }}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata:
                  name: {{ .Release.Name }}-server
                rules: []
                ---
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: {{ .Release.Namespace }}
                """,
        ])
        var options = MaterializeOptions(directory: fixture.root + "/definition", environments: [], cacheRoot: fixture.cache,
                                         processEnvironment: [:], diagnostics: fixture.diagnostics)
        options.helmPath = try findHelm()
        let output = try await Materializer.render(options)
        let documents = try Node.documents(in: output.text("prometheus.yaml") ?? "")
        // helm orders by kind (namespaces first).
        #expect(documents.map { $0["kind"]?.scalarText ?? "" } == ["Namespace", "ConfigMap", "ClusterRole"])
        #expect(documents.map { $0["metadata"]?["namespace"]?.scalarText } == [nil, "prometheus", nil])
        #expect(documents[1]["data"]?["retention"]?.scalarText == "15d")
        #expect(output.text("prometheus.yaml")?.hasPrefix("---\n# Source: prometheus/prometheus/templates/all.yaml\n") == true)
        #expect(output.files.map(\.path) == ["prometheus.yaml"], "the container root writes no file")
    }
}
