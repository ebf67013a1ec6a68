import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// A chart repository served on 127.0.0.1, made with the real helm: `web` in four
/// versions (one a pre-release), `db`, `app` with `db` vendored as a dependency, `crds`
/// with a `crds/` folder, and `strict`, whose template fails without a value.
final class ChartRepositoryFixture: Sendable {
    let scratch: TemporaryDirectory
    let server: StaticFileServer
    let helm: String

    var helmEnvironment: [String: String] { Self.helmEnvironment(scratch) }

    /// A private Helm home under `scratch`.
    static func helmEnvironment(_ scratch: TemporaryDirectory) -> [String: String] {
        let home = scratch.appending("helm-home").path
        return ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path,
                "HELM_CACHE_HOME": home, "HELM_CONFIG_HOME": home, "HELM_DATA_HOME": home]
    }

    @discardableResult
    func runHelm(_ arguments: [String], in directory: URL? = nil) throws -> String {
        var args = arguments
        if let directory { args = arguments.map { $0 == "." ? directory.path : $0 } }
        let result = try ChildProcess.run(helm, args, environment: helmEnvironment)
        guard result.succeeded else { throw LoopbackServerError("helm \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        return result.stdout
    }

    var charts: URL { scratch.appending("charts") }
    var repository: URL { scratch.appending("repo") }
    var url: String { "http://127.0.0.1:\(server.port)" }

    init() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-charts")
        let helm = try findHelm()
        let fm = FileManager.default
        try fm.createDirectory(at: scratch.appending("charts"), withIntermediateDirectories: true)
        try fm.createDirectory(at: scratch.appending("repo"), withIntermediateDirectories: true)
        let charts = scratch.appending("charts"), repo = scratch.appending("repo")
        func create(_ name: String, version: String) throws {
            let dir = charts.appendingPathComponent(name)
            if !fm.fileExists(atPath: dir.path) {
                let result = try ChildProcess.run(helm, ["create", dir.path], environment: Self.helmEnvironment(scratch))
                guard result.succeeded else { throw LoopbackServerError(result.stderr) }
            }
            let chart = dir.appendingPathComponent("Chart.yaml")
            let text = try String(contentsOf: chart, encoding: .utf8).split(separator: "\n")
                .map { $0.hasPrefix("version:") ? "version: \(version)" : String($0) }.joined(separator: "\n")
            try text.write(to: chart, atomically: true, encoding: .utf8)
            let packaged = try ChildProcess.run(helm, ["package", dir.path, "--destination", repo.path], environment: Self.helmEnvironment(scratch))
            guard packaged.succeeded else { throw LoopbackServerError(packaged.stderr) }
        }
        for version in ["1.2.0", "1.2.5", "1.3.0", "2.0.0-rc.1"] { try create("web", version: version) }
        try create("db", version: "0.1.0")
        // app vendors db in charts/, as packaged charts in repositories do.
        let app = charts.appendingPathComponent("app")
        _ = try ChildProcess.run(helm, ["create", app.path], environment: Self.helmEnvironment(scratch))
        try fm.createDirectory(at: app.appendingPathComponent("charts"), withIntermediateDirectories: true)
        try fm.copyItem(at: repo.appendingPathComponent("db-0.1.0.tgz"), to: app.appendingPathComponent("charts/db-0.1.0.tgz"))
        try (try String(contentsOf: app.appendingPathComponent("Chart.yaml"), encoding: .utf8) + "dependencies:\n- name: db\n  version: 0.1.0\n")
            .write(to: app.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try create("app", version: "1.0.0")
        // crds/ is rendered only with --include-crds.
        try create("crds", version: "0.1.0")
        try fm.createDirectory(at: charts.appendingPathComponent("crds/crds"), withIntermediateDirectories: true)
        try """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              names: {kind: Widget, plural: widgets}
              scope: Namespaced
              versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]

            """.write(to: charts.appendingPathComponent("crds/crds/widgets.yaml"), atomically: true, encoding: .utf8)
        try create("crds", version: "0.1.0")
        // strict fails to render without `message`.
        try create("strict", version: "0.1.0")
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  message: {{ required \"message is required\" .Values.message | quote }}\n"
            .write(to: charts.appendingPathComponent("strict/templates/strict.yaml"), atomically: true, encoding: .utf8)
        try create("strict", version: "0.1.0")
        let indexed = try ChildProcess.run(helm, ["repo", "index", repo.path], environment: Self.helmEnvironment(scratch))
        guard indexed.succeeded else { throw LoopbackServerError(indexed.stderr) }
        self.server = try StaticFileServer(root: repo)
        self.scratch = scratch
        self.helm = helm
    }

    /// Parsed documents of `helm template` run directly, for comparison.
    func template(_ release: String, _ chart: String, namespace: String, values: String) throws -> [Node] {
        let valuesFile = scratch.appending("values-\(UUID().uuidString).yaml")
        try values.write(to: valuesFile, atomically: true, encoding: .utf8)
        let output = try runHelm(["template", release, chart, "--namespace", namespace, "--values", valuesFile.path, "--include-crds"])
        return try Node.documents(in: output).filter { !$0.isNull }
    }
}

@Suite(.timeLimit(.minutes(10)), .serialized) struct HelmTests {
    func documents(_ output: Materialization, _ path: String) throws -> [Node] {
        try Node.documents(in: output.text(path) ?? "")
    }

    func helmFixture(_ repo: ChartRepositoryFixture, _ component: String, config: String = "") throws -> HLDFixture {
        try HLDFixture(["component.yaml": component, "config/common.yaml": config.isEmpty ? "{}\n" : config])
    }

    func render(_ fixture: HLDFixture, _ repo: ChartRepositoryFixture, helm: String? = nil, offline: Bool = false,
                environment: [String: String]? = nil) async throws -> Materialization {
        var options = fixture.options([], offline: offline)
        // With an environment given, helm is found (or not) there alone.
        options.helmPath = helm ?? (environment == nil ? repo.helm : nil)
        if let environment { options.processEnvironment = environment }
        return try await Materializer.render(options)
    }

    func renderError(_ fixture: HLDFixture, _ repo: ChartRepositoryFixture, helm: String? = nil, environment: [String: String]? = nil) async -> String? {
        do {
            _ = try await render(fixture, repo, helm: helm, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func repositoryChartsByExactVersionConstraintAndLatest() async throws {
        let repo = try ChartRepositoryFixture()
        let fixture = try helmFixture(repo, """
            name: cluster
            subcomponents:
            - {name: exact, type: helm, method: helm, source: \(repo.url), path: web, version: 1.2.0}
            - {name: tilde, type: helm, method: helm, source: \(repo.url), path: web, version: "~1.2"}
            - {name: latest, type: helm, method: helm, source: \(repo.url), path: web}
            - {name: crds, type: helm, method: helm, source: \(repo.url), path: crds}
            - {name: app, type: helm, method: helm, source: \(repo.url), path: app}
            """, config: "subcomponents:\n  tilde:\n    namespace: shop\n    config: {replicaCount: 4, service: {port: 8080}}\n")
        let output = try await render(fixture, repo)
        func chartLabel(_ path: String) throws -> String? {
            try documents(output, path).first { $0["kind"]?.scalarText == "Deployment" }?["metadata"]?["labels"]?["helm.sh/chart"]?.scalarText
        }
        #expect(try chartLabel("exact.yaml") == "web-1.2.0")
        #expect(try chartLabel("tilde.yaml") == "web-1.2.5")
        #expect(try chartLabel("latest.yaml") == "web-1.3.0", "pre-releases only when asked")
        // Equal, as parsed documents, to helm template run directly with the same values.
        let direct = try repo.template("tilde", repo.repository.appendingPathComponent("web-1.2.5.tgz").path, namespace: "shop",
                                       values: "replicaCount: 4\nservice:\n  port: 8080\n")
        #expect(try documents(output, "tilde.yaml") == direct)
        #expect(try documents(output, "crds.yaml").contains { $0["kind"]?.scalarText == "CustomResourceDefinition" })
        #expect(try documents(output, "app.yaml").contains { $0["metadata"]?["name"]?.scalarText == "app-db" }, "the vendored dependency renders")
        #expect(output.text("tilde.yaml")?.contains("# Source: tilde/web/templates/deployment.yaml\n") == true)
    }

    @Test func theSameChartFromGitAndFromALocalPath() async throws {
        let repo = try ChartRepositoryFixture()
        let work = try FixtureRepository.create(at: repo.scratch.appending("chart-git"))
        try FileManager.default.copyItem(at: repo.charts.appendingPathComponent("web"), to: work.url.appendingPathComponent("charts/web"))
        try work.commit("chart")
        try work.publishBare(into: repo.scratch.appending("served"), name: "charts")
        let fixture = try helmFixture(repo, """
            name: cluster
            subcomponents:
            - {name: fromgit, type: helm, method: git, source: \(repo.scratch.appending("served/charts.git").path), path: charts/web}
            - {name: fromdisk, type: helm, path: ./charts/web}
            """, config: "subcomponents:\n  fromgit: {config: {replicaCount: 2}}\n  fromdisk: {config: {replicaCount: 2}}\n")
        try FileManager.default.createDirectory(atPath: fixture.root + "/charts", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repo.charts.appendingPathComponent("web").path, toPath: fixture.root + "/charts/web")
        let output = try await render(fixture, repo)
        func normalized(_ path: String, release: String) throws -> [String] {
            try documents(output, path).map { try $0.yaml().replacingOccurrences(of: release, with: "RELEASE") }
        }
        #expect(try normalized("fromgit.yaml", release: "fromgit") == (try normalized("fromdisk.yaml", release: "fromdisk")))
        #expect(try !documents(output, "fromgit.yaml").isEmpty)
    }

    @Test func dependenciesAreFetchedAndAssembledOutsideTheSourceTree() async throws {
        let repo = try ChartRepositoryFixture()
        let fixture = try helmFixture(repo, "name: cluster\nsubcomponents:\n- {name: umbrella, type: helm, path: ./umbrella}\n")
        let chart = URL(fileURLWithPath: fixture.root).appendingPathComponent("umbrella")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: db\n  version: \"~0.1\"\n  repository: \(repo.url)\n"
            .write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\n".write(to: chart.appendingPathComponent("templates/cm.yaml"), atomically: true, encoding: .utf8)
        let output = try await render(fixture, repo)
        let names = try documents(output, "umbrella.yaml").compactMap { $0["metadata"]?["name"]?.scalarText }
        #expect(names.contains("umbrella"))
        #expect(names.contains("umbrella-db"))
        #expect(!FileManager.default.fileExists(atPath: chart.appendingPathComponent("charts").path), "the user's chart is not changed")
    }

    @Test func theRenderCacheRunsNoHelmOnAWarmRunAndOneAfterOneChange() async throws {
        let repo = try ChartRepositoryFixture()
        let log = repo.scratch.appending("helm-calls.log")
        let wrapper = repo.scratch.appending("counting-helm")
        try "#!/bin/sh\necho \"$@\" >> \(log.path)\nexec \(repo.helm) \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        let entries = (0..<10).map { "- {name: web\($0), type: helm, method: helm, source: \(repo.url), path: web, version: 1.2.0}" }
        let config = "subcomponents:\n" + (0..<10).map { "  web\($0): {config: {replicaCount: \($0 + 1)}}" }.joined(separator: "\n") + "\n"
        let fixture = try helmFixture(repo, "name: cluster\nsubcomponents:\n" + entries.joined(separator: "\n") + "\n", config: config)
        func calls() -> [String] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let first = try await render(fixture, repo, helm: wrapper.path)
        #expect(calls().filter { $0.hasPrefix("template ") }.count == 10)
        let before = calls().count
        let second = try await render(fixture, repo, helm: wrapper.path)
        #expect(calls().count == before, "a warm run starts no helm process at all")
        #expect(second.files == first.files)
        try fixture.write(["config/common.yaml": config.replacingOccurrences(of: "web3: {config: {replicaCount: 4}}", with: "web3: {config: {replicaCount: 40}}")])
        _ = try await render(fixture, repo, helm: wrapper.path)
        #expect(calls().count == before + 1)
        #expect(calls().last?.hasPrefix("template web3 ") == true)

        // A damaged cache entry is discarded and rendered again; a damaged archive is
        // downloaded again.
        let renders = fixture.cache.appendingPathComponent("renders")
        for entry in try FileManager.default.contentsOfDirectory(atPath: renders.path) {
            try Data("garbage".utf8).write(to: renders.appendingPathComponent(entry))
        }
        let charts = fixture.cache.appendingPathComponent("helm/charts")
        for archive in try FileManager.default.contentsOfDirectory(atPath: charts.path) {
            try Data("not a chart".utf8).write(to: charts.appendingPathComponent(archive))
        }
        let repaired = try await render(fixture, repo, helm: wrapper.path)
        #expect(calls().count == before + 1 + 10)
        #expect(repaired.files.filter { $0.path != "web3.yaml" } == first.files.filter { $0.path != "web3.yaml" })
    }

    @Test func faultsAreClearErrorsNamingTheComponent() async throws {
        let repo = try ChartRepositoryFixture()
        let component = { (entry: String) in "name: cluster\nsubcomponents:\n- \(entry)\n" }

        let failing = repo.scratch.appending("failing-helm")
        try "#!/bin/sh\n[ \"$1\" = version ] && { echo v3.19.0; exit 0; }\necho 'Error: something broke' >&2\nexit 1\n".write(to: failing, atomically: true, encoding: .utf8)
        chmod(failing.path, 0o755)
        let web = "{name: web, type: helm, method: helm, source: \(repo.url), path: web, version: 1.2.0}"
        let fake = try helmFixture(repo, component(web))
        let fakeError = await renderError(fake, repo, helm: failing.path)
        #expect(fakeError?.hasPrefix("component.yaml:3:3: web: helm failed: `\(failing.path) template web ") == true, "\(fakeError ?? "")")
        #expect(fakeError?.hasSuffix("exited with status 1: Error: something broke") == true)

        // Warnings on stderr from a successful helm become diagnostics, not manifests.
        let warning = repo.scratch.appending("warning-helm")
        try "#!/bin/sh\n[ \"$1\" = version ] && { echo v3.19.1; exit 0; }\necho 'WARNING: this chart is deprecated' >&2\nprintf -- '---\\n# Source: web/templates/cm.yaml\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: warned\\n'\n"
            .write(to: warning, atomically: true, encoding: .utf8)
        chmod(warning.path, 0o755)
        let warned = try helmFixture(repo, component(web))
        let warnedOutput = try await render(warned, repo, helm: warning.path)
        #expect(try documents(warnedOutput, "web.yaml").map { $0["metadata"]?["name"]?.scalarText } == ["warned"])
        #expect(warned.diagnostics.warnings == ["web: helm: WARNING: this chart is deprecated"])

        let strict = try helmFixture(repo, component("{name: strict, type: helm, method: helm, source: \(repo.url), path: strict}"))
        let strictError = await renderError(strict, repo)
        #expect(strictError?.contains("strict: helm failed:") == true)
        #expect(strictError?.contains("message is required") == true, "\(strictError ?? "")")

        let port = freeLoopbackPort()
        let unreachable = try helmFixture(repo, component("{name: web, type: helm, method: helm, source: http://127.0.0.1:\(port), path: web}"))
        #expect(await renderError(unreachable, repo)?.hasPrefix("component.yaml:3:3: web: chart repository http://127.0.0.1:\(port): cannot reach http://127.0.0.1:\(port)/index.yaml") == true)

        let missing = try helmFixture(repo, component("{name: web, type: helm, method: helm, source: \(repo.url), path: web, version: 9.9.9}"))
        #expect(await renderError(missing, repo) == "component.yaml:3:3: web: chart web has no version matching 9.9.9 in \(repo.url) (it has: 2.0.0-rc.1, 1.3.0, 1.2.5, 1.2.0)")

        // Set by an environment's config, the error points at that file and line.
        let pinnedByConfig = try helmFixture(repo, component("{name: web, type: helm, method: helm, source: \(repo.url), path: web}"),
                                             config: "subcomponents:\n  web:\n    version: 9.9.9\n")
        #expect(await renderError(pinnedByConfig, repo) == "config/common.yaml:3:14: web: chart web has no version matching 9.9.9 in \(repo.url) (it has: 2.0.0-rc.1, 1.3.0, 1.2.5, 1.2.0)")

        let noChart = try helmFixture(repo, component("{name: web, type: helm, method: helm, source: \(repo.url), path: nope}"))
        #expect(await renderError(noChart, repo) == "component.yaml:3:3: web: chart nope is not in the repository \(repo.url)")

        // A tampered archive: the bytes no longer match the index digest.
        let archive = repo.repository.appendingPathComponent("web-1.2.5.tgz")
        var bytes = try Data(contentsOf: archive)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: archive)
        let tampered = try helmFixture(repo, component("{name: web, type: helm, method: helm, source: \(repo.url), path: web, version: 1.2.5}"))
        let digestError = await renderError(tampered, repo)
        #expect(digestError?.contains("web: chart web 1.2.5 from \(repo.url) does not match the digest in the repository index") == true, "\(digestError ?? "")")

        // Something that is not helm.
        let notHelm = try helmFixture(repo, component(web))
        #expect(await renderError(notHelm, repo, helm: "/bin/true") == "web needs helm: /bin/true did not print a Helm version for `version --short` (it printed nothing); is it helm?")

        // No helm anywhere.
        let noHelm = try helmFixture(repo, component(web))
        let missingTool = await renderError(noHelm, repo, helm: nil, environment: ["PATH": repo.scratch.appending("empty").path])
        #expect(missingTool == "web needs helm: no helm found (install Helm 3.8+ or 4, put it on PATH, or set --helm / HLD_HELM)")
    }

    @Test func offlineWithAWarmCacheRendersWithTheServerStopped() async throws {
        let repo = try ChartRepositoryFixture()
        let fixture = try helmFixture(repo, "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: \(repo.url), path: web, version: \"^1.2\"}\n",
                                      config: "subcomponents:\n  web: {config: {replicaCount: 2}}\n")
        let online = try await render(fixture, repo)
        repo.server.stop()
        try fixture.write(["config/common.yaml": "subcomponents:\n  web: {config: {replicaCount: 3}}\n"])
        let offline = try await render(fixture, repo, offline: true)
        #expect(try documents(offline, "web.yaml").first { $0["kind"]?.scalarText == "Deployment" }?["spec"]?["replicas"]?.int() == 3)
        #expect(online.files.map(\.path) == offline.files.map(\.path))
        #expect(await renderError(fixture, repo)?.contains("cannot reach") == true)
    }
}

@Suite struct SemanticVersionTests {
    @Test(arguments: [
        ("1.2.0", "1.2.0", true), ("1.2.0", "1.2.1", false), ("~1.2", "1.2.9", true), ("~1.2", "1.3.0", false),
        ("~1.2.3", "1.2.2", false), ("^1.2.3", "1.9.0", true), ("^1.2.3", "2.0.0", false), ("^0.2.3", "0.3.0", false),
        (">=1.0 <2.0", "1.5.0", true), (">=1.0, <2.0", "2.0.0", false), ("1.2.x", "1.2.7", true), ("1.x", "1.9.9", true),
        ("*", "3.0.0", true), ("1.2 - 1.4", "1.4.5", true), ("1.2 - 1.4", "1.5.0", false), ("<1.0 || >=3", "3.1.0", true),
        ("<1.0 || >=3", "2.0.0", false), ("~1.2", "1.2.5-rc.1", false), ("~1.2.5-rc.0", "1.2.5-rc.1", true), (">1.2", "1.2.9", false),
        ("!=1.2.0", "1.2.0", false), ("v1.2.0", "1.2.0", true),
    ])
    func constraints(constraint: String, version: String, matches: Bool) throws {
        let parsed = try #require(VersionConstraint(constraint))
        #expect(parsed.matches(try #require(SemanticVersion(version))) == matches)
    }

    @Test func ordering() throws {
        let versions = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
            .compactMap(SemanticVersion.init)
        #expect(versions == versions.shuffled().sorted())
        #expect(VersionConstraint("nonsense") == nil)
    }
}
