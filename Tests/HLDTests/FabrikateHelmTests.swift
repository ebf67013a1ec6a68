import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Fabrikate's testdata/generate as its users have it — JSON definitions three levels
/// deep, an external `./infra`, and an inline `method: helm` jaeger chart from the
/// incubator repository retired in 2020 — rendered with real helm from a loopback
/// repository that stands in for the incubator behind a mirror. The chart is written
/// here in the shape of incubator/jaeger: an apiVersion v1 chart with requirements.yaml,
/// cassandra and elasticsearch vendored in charts/ behind conditions, and an index whose
/// archive URLs are absolute and name the original host.
@Suite(.timeLimit(.minutes(10)), .serialized) struct FabrikateHelmTests {
    static let incubator = "https://kubernetes-charts-incubator.storage.googleapis.com/"

    final class Incubator: Sendable {
        let scratch: TemporaryDirectory
        let helm: String
        let server: StaticFileServer
        var archive: URL { scratch.appending("served/incubator/jaeger-0.17.4.tgz") }

        init() throws {
            let scratch = try TemporaryDirectory(prefix: "hld-incubator")
            let helm = try findHelm()
            let fm = FileManager.default
            let environment = ChartRepositoryFixture.helmEnvironment(scratch)
            func write(_ path: String, _ text: String) throws {
                let url = scratch.appending("charts/" + path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            func package(_ chart: String, into destination: URL) throws {
                try fm.createDirectory(at: destination, withIntermediateDirectories: true)
                let result = try ChildProcess.run(helm, ["package", scratch.appending("charts/" + chart).path, "--destination", destination.path], environment: environment)
                guard result.succeeded else { throw LoopbackServerError(result.stderr) }
            }
            // The two data stores, vendored into jaeger/charts as packaged releases were.
            try write("cassandra/Chart.yaml", "apiVersion: v1\nname: cassandra\nversion: 0.13.4\n")
            try write("cassandra/values.yaml", "config:\n  cluster_size: 3\n")
            try write("cassandra/templates/statefulset.yaml", """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata:
                  name: {{ .Release.Name }}-cassandra
                spec:
                  replicas: {{ .Values.config.cluster_size }}
                """)
            try write("elasticsearch/Chart.yaml", "apiVersion: v1\nname: elasticsearch\nversion: 1.32.5\n")
            try write("elasticsearch/values.yaml", "rbac:\n  create: false\nmaster:\n  replicas: 3\n")
            try write("elasticsearch/templates/master.yaml", """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata:
                  name: {{ .Release.Name }}-elasticsearch-master
                spec:
                  replicas: {{ .Values.master.replicas }}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: {{ .Release.Name }}-elasticsearch-client
                spec:
                  ports:
                  - port: 9200
                """)
            try write("elasticsearch/templates/rbac.yaml", """
                {{- if .Values.rbac.create }}
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata:
                  name: {{ .Release.Name }}-elasticsearch
                rules:
                - apiGroups: [""]
                  resources: [endpoints]
                  verbs: [get]
                {{- end }}
                """)
            try write("jaeger/Chart.yaml", "apiVersion: v1\nappVersion: 1.15.1\ndeprecated: true\nname: jaeger\nversion: 0.17.4\n")
            try write("jaeger/requirements.yaml", """
                dependencies:
                - name: cassandra
                  version: ^0.13.1
                  repository: \(FabrikateHelmTests.incubator)
                  condition: provisionDataStore.cassandra
                - name: elasticsearch
                  version: ^1.19.1
                  repository: https://kubernetes-charts.storage.googleapis.com/
                  condition: provisionDataStore.elasticsearch
                """)
            try write("jaeger/values.yaml", """
                provisionDataStore:
                  cassandra: true
                  elasticsearch: false
                storage:
                  type: cassandra
                collector:
                  replicaCount: 1
                  annotations: {}
                query:
                  replicaCount: 1
                spark:
                  enabled: false
                """)
            try write("jaeger/templates/collector-deploy.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}-collector
                  {{- with .Values.collector.annotations }}
                  annotations:
                {{ toYaml . | indent 4 }}
                  {{- end }}
                spec:
                  replicas: {{ .Values.collector.replicaCount }}
                  template:
                    spec:
                      containers:
                      - name: collector
                        env:
                        - name: SPAN_STORAGE_TYPE
                          value: {{ .Values.storage.type }}
                """)
            try write("jaeger/templates/query-deploy.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}-query
                spec:
                  replicas: {{ .Values.query.replicaCount }}
                """)
            try write("jaeger/templates/agent-ds.yaml", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {{ .Release.Name }}-agent\n")
            try write("jaeger/templates/cassandra-schema-job.yaml", """
                {{- if .Values.provisionDataStore.cassandra }}
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: {{ .Release.Name }}-cassandra-schema
                {{- end }}
                """)
            try write("jaeger/templates/spark-cronjob.yaml", """
                {{- if .Values.spark.enabled }}
                apiVersion: batch/v1
                kind: CronJob
                metadata:
                  name: {{ .Release.Name }}-spark
                spec:
                  schedule: "49 23 * * *"
                {{- end }}
                """)
            try package("cassandra", into: scratch.appending("charts/jaeger/charts"))
            try package("elasticsearch", into: scratch.appending("charts/jaeger/charts"))
            let incubator = scratch.appending("served/incubator")
            try package("jaeger", into: incubator)
            let indexed = try ChildProcess.run(helm, ["repo", "index", incubator.path, "--url", FabrikateHelmTests.incubator], environment: environment)
            guard indexed.succeeded else { throw LoopbackServerError(indexed.stderr) }
            server = try StaticFileServer(root: scratch.appending("served"))
            self.scratch = scratch
            self.helm = helm
        }
    }

    /// testdata/generate's files, as Fabrikate has them (JSON and YAML, `config:` left
    /// empty), with the one line an air-gapped user adds: the mirror.
    func definitions(_ incubator: Incubator) throws -> HLDFixture {
        try HLDFixture([
            "hld.yaml": "mirrors:\n  \(Self.incubator): http://127.0.0.1:\(incubator.server.port)/incubator/\n",
            "component.json": #"{"name": "microservices-workload", "subcomponents": [{"name": "infra", "source": "./infra"}]}"#,
            "infra/component.json": #"{"name": "infra", "subcomponents": [{"name": "fabrikate-jaeger", "type": "component", "source": "./fabrikate-jaeger"}]}"#,
            "infra/fabrikate-jaeger/component.json": """
                {
                  "name": "fabrikate-jaeger",
                  "type": "static",
                  "path": "./manifests",
                  "subcomponents": [
                    {
                      "name": "jaeger",
                      "type": "helm",
                      "method": "helm",
                      "source": "\(Self.incubator)",
                      "path": "jaeger"
                    }
                  ]
                }
                """,
            "infra/fabrikate-jaeger/config/common.yaml": """
                config:
                subcomponents:
                  jaeger:
                    namespace: "jaeger"
                    injectNamespace: true
                    config:
                      collector:
                        annotations:
                          sidecar.istio.io/inject: "false"

                """,
            "infra/fabrikate-jaeger/config/prod.json": """
                {"config": {}, "subcomponents": {"jaeger": {"config": {"provisionDataStore": {"cassandra": false, "elasticsearch": true},
                "storage": {"type": "elasticsearch"}, "elasticsearch": {"rbac": {"create": true}}, "spark": {"enabled": true},
                "collector": {"replicaCount": 5}, "query": {"replicaCount": 2}}}}}
                """,
            "infra/fabrikate-jaeger/manifests/jaeger-namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: jaeger\n",
            "infra/fabrikate-jaeger/manifests/zipkin-svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: zipkin\n  namespace: jaeger\nspec:\n  ports:\n  - port: 9411\n",
        ])
    }

    func render(_ fixture: HLDFixture, _ incubator: Incubator, _ environments: [String], offline: Bool = false) async throws -> Materialization {
        var options = fixture.options(environments, offline: offline)
        options.helmPath = incubator.helm
        return try await Materializer.render(options)
    }

    @Test func generateWithARealIncubatorChartBehindAMirror() async throws {
        let incubator = try Incubator()
        let fixture = try definitions(incubator)
        let output = try await render(fixture, incubator, ["prod-east", "prod"])
        #expect(output.environmentName == "prod-east-prod")
        // Containers write nothing; the static parent and its inline helm child share a folder.
        #expect(output.files.map(\.path) == ["infra/fabrikate-jaeger/fabrikate-jaeger.yaml", "infra/fabrikate-jaeger/jaeger.yaml"])
        #expect(output.resources["infra/fabrikate-jaeger/fabrikate-jaeger.yaml"] == ["Namespace/jaeger", "Service/zipkin"])

        let jaeger = try Node.documents(in: output.text("infra/fabrikate-jaeger/jaeger.yaml") ?? "")
        // Equal to helm template run directly with the merged values, then the namespace
        // injected on namespaced kinds.
        let values = """
            collector:
              replicaCount: 5
              annotations:
                sidecar.istio.io/inject: "false"
            elasticsearch: {rbac: {create: true}}
            provisionDataStore: {cassandra: false, elasticsearch: true}
            query: {replicaCount: 2}
            spark: {enabled: true}
            storage: {type: elasticsearch}

            """
        let valuesFile = incubator.scratch.appending("direct-values.yaml")
        try values.write(to: valuesFile, atomically: true, encoding: .utf8)
        let direct = try ChildProcess.run(incubator.helm, ["template", "jaeger", incubator.archive.path, "--namespace", "jaeger", "--values", valuesFile.path, "--include-crds"],
                                          environment: ChartRepositoryFixture.helmEnvironment(incubator.scratch))
        #expect(direct.succeeded, "\(direct.stderr)")
        let expected = try Node.documents(in: direct.stdout).filter { !$0.isNull }.map { NamespaceInjection.apply("jaeger", to: $0) }
        #expect(jaeger == expected)

        func named(_ name: String) -> Node? { jaeger.first { $0["metadata"]?["name"]?.scalarText == name } }
        #expect(named("jaeger-collector")?["spec"]?["replicas"]?.int() == 5)
        #expect(named("jaeger-collector")?["metadata"]?["annotations"]?["sidecar.istio.io/inject"] == .string("false"))
        #expect(named("jaeger-query")?["spec"]?["replicas"]?.int() == 2)
        #expect(named("jaeger-spark")?["kind"]?.scalarText == "CronJob")
        #expect(named("jaeger-elasticsearch-master")?["kind"]?.scalarText == "StatefulSet", "the vendored elasticsearch renders")
        #expect(named("jaeger-cassandra") == nil && named("jaeger-cassandra-schema") == nil, "prod turns cassandra off")
        #expect(named("jaeger-elasticsearch")?["kind"]?.scalarText == "ClusterRole")
        #expect(named("jaeger-elasticsearch")?["metadata"]?["namespace"] == nil, "cluster-scoped kinds are not stamped")
        for document in jaeger where document["kind"]?.scalarText != "ClusterRole" {
            #expect(document["metadata"]?["namespace"]?.scalarText == "jaeger")
        }
        // helm's stderr ("this chart is deprecated") became a warning, not a manifest.
        #expect(fixture.diagnostics.warnings.contains { $0.hasPrefix("infra/fabrikate-jaeger/jaeger: helm: ") && $0.lowercased().contains("deprecated") })

        // prod-east alone has no file anywhere: the defaults render cassandra.
        let east = try await render(fixture, incubator, ["prod-east"])
        let eastJaeger = try Node.documents(in: east.text("infra/fabrikate-jaeger/jaeger.yaml") ?? "")
        #expect(eastJaeger.contains { $0["metadata"]?["name"]?.scalarText == "jaeger-cassandra" })
        #expect(!eastJaeger.contains { $0["kind"]?.scalarText == "CronJob" })

        // The original URL is the cache key: with the mirror gone, --offline renders the same.
        incubator.server.stop()
        let offline = try await render(fixture, incubator, ["prod-east", "prod"], offline: true)
        #expect(offline.files == output.files)
    }
}
