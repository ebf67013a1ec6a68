import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Resolve, then render (SPEC §9): every source is fetched and pinned before anything
/// renders, so `install` fetches everything a render needs.
@Suite(.timeLimit(.minutes(10)), .serialized) struct PipelineTests {
    /// Every kind of fetched source, each served on loopback: an external git component, a
    /// git chart with a repository dependency, a repository chart, a local chart with a
    /// repository dependency, an http manifest and a kustomization from git.
    final class World: Sendable {
        let charts: ChartRepositoryFixture
        let fixture: HLDFixture
        let daemon: GitDaemon
        let http: StaticFileServer

        init() throws {
            charts = try ChartRepositoryFixture()
            // A repository chart with a dependency from a repository, as published charts
            // are: declared with its repository and packaged into charts/ (helm package
            // refuses a chart whose declared dependencies are missing there).
            let suite = charts.charts.appendingPathComponent("suite")
            try FileManager.default.createDirectory(at: suite.appendingPathComponent("templates"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: suite.appendingPathComponent("charts"), withIntermediateDirectories: true)
            try "apiVersion: v2\nname: suite\nversion: 1.0.0\ndependencies:\n- name: db\n  version: \"~0.1\"\n  repository: \(charts.url)\n"
                .write(to: suite.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
            try manifest("ConfigMap", "{{ .Release.Name }}-suite").write(to: suite.appendingPathComponent("templates/cm.yaml"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(at: charts.repository.appendingPathComponent("db-0.1.0.tgz"), to: suite.appendingPathComponent("charts/db-0.1.0.tgz"))
            try charts.runHelm(["package", suite.path, "--destination", charts.repository.path])
            try charts.runHelm(["repo", "index", charts.repository.path])
            fixture = try HLDFixture([:])
            let work = try FixtureRepository.create(at: fixture.scratch.appending("work"))
            try work.write("apps/web/component.yaml", "name: web\ntype: static\npath: ./m\n")
            try work.write("apps/web/m/deploy.yaml", manifest("Deployment", "web"))
            let umbrella = "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: db\n  version: \"~0.1\"\n  repository: \(charts.url)\n"
            try work.write("charts/umbrella/Chart.yaml", umbrella)
            try work.write("charts/umbrella/templates/cm.yaml", manifest("ConfigMap", "{{ .Release.Name }}-umbrella"))
            try work.write("kust/kustomization.yaml", "resources:\n- cm.yaml\nnamePrefix: shop-\n")
            try work.write("kust/cm.yaml", manifest("ConfigMap", "settings"))
            try work.commit("sources")
            try work.publishBare(into: fixture.scratch.appending("served"), name: "sources")
            daemon = try GitDaemon(root: fixture.scratch.appending("served"))
            let files = fixture.scratch.appending("http")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            try manifest("ConfigMap", "from-http").write(to: files.appendingPathComponent("app.yaml"), atomically: true, encoding: .utf8)
            http = try StaticFileServer(root: files)
            let git = daemon.url(for: "sources.git")
            try fixture.write([
                "component.yaml": """
                    name: cluster
                    subcomponents:
                    - {name: web, method: git, source: "\(git)", path: apps/web}
                    - {name: umbrella, type: helm, method: git, source: "\(git)", path: charts/umbrella}
                    - {name: app, type: helm, method: helm, source: "\(charts.url)", path: app, version: 1.0.0}
                    - {name: suite, type: helm, method: helm, source: "\(charts.url)", path: suite, version: 1.0.0}
                    - {name: local, type: helm, path: ./local}
                    - {name: manifest, type: static, method: http, source: "\(http.url(for: "app.yaml"))"}
                    - {name: shop, type: kustomize, method: git, source: "\(git)", path: kust}

                    """,
                "local/Chart.yaml": umbrella.replacingOccurrences(of: "name: umbrella", with: "name: local"),
                "local/templates/cm.yaml": manifest("ConfigMap", "{{ .Release.Name }}-local"),
            ])
        }

        func options(offline: Bool = false, jobs: Int = 4) -> MaterializeOptions {
            var options = fixture.options([], jobs: jobs, offline: offline)
            options.helmPath = charts.helm
            return options
        }

        func stopServers() {
            daemon.stop()
            http.stop()
            charts.server.stop()
        }
    }

    static let expected = [
        "web/web.yaml": ["Deployment/web"],
        // db is helm create's chart, fetched from the repository as a dependency.
        "umbrella.yaml": ["ServiceAccount/umbrella-db", "ConfigMap/umbrella-umbrella", "Service/umbrella-db", "Deployment/umbrella-db", "Pod/umbrella-db-test-connection"],
        "local.yaml": ["ServiceAccount/local-db", "ConfigMap/local-local", "Service/local-db", "Deployment/local-db", "Pod/local-db-test-connection"],
        "suite.yaml": ["ServiceAccount/suite-db", "ConfigMap/suite-suite", "Service/suite-db", "Deployment/suite-db", "Pod/suite-db-test-connection"],
        "manifest.yaml": ["ConfigMap/from-http"],
        "shop.yaml": ["ConfigMap/shop-settings"],
    ]

    @Test func installFetchesEverythingAndOfflineRendersWithEveryServerStopped() async throws {
        let world = try World()
        let tree = try await Materializer.install(world.options()).tree
        // Every component carries its pins.
        let pins = Dictionary(uniqueKeysWithValues: tree.flattened.map { ($0.componentPath, $0.pins) })
        #expect(pins["web/web"]?.count == 1)
        guard case .git(_, let requested, let commit, let path, let treeID)? = pins["web/web"]?.first else {
            Issue.record("web has no git pin: \(String(describing: pins["web/web"]))")
            return
        }
        #expect(requested == "default branch" && commit.count == 40 && path == "apps/web" && treeID.count == 40)
        guard case .chart(_, "db", "~0.1", "0.1.0", let digest)? = pins["umbrella"]?.last else {
            Issue.record("umbrella has no pinned dependency: \(String(describing: pins["umbrella"]))")
            return
        }
        #expect(digest.count == 64)
        #expect(pins["app"] == [.chart(repository: world.charts.url, name: "app", requested: "1.0.0", version: "1.0.0",
                                       digest: try #require(pins["app"]?.first?.digest))])
        // The repository chart's archive carries its dependency: one pin, nothing more to fetch.
        guard case .chart(_, "suite", "1.0.0", "1.0.0", _)? = pins["suite"]?.first, pins["suite"]?.count == 1 else {
            Issue.record("suite: \(String(describing: pins["suite"]))")
            return
        }
        guard case .http(_, let content)? = pins["manifest"]?.first else {
            Issue.record("manifest has no http pin")
            return
        }
        #expect(content.count == 64)

        world.stopServers()
        let offline = try await Materializer.render(world.options(offline: true))
        var resources = offline.resources
        resources["app.yaml"] = nil  // helm create's chart: checked by its kinds below
        #expect(resources == Self.expected)
        #expect(offline.resources["app.yaml"]?.contains("Deployment/app-db") == true, "the repository chart's vendored dependency")
    }

    /// No barrier between fetching and rendering: a component renders as soon as its own
    /// sources are in. The server holds the http manifest back until a `helm template` has
    /// started, which only a render that does not wait for the whole resolve can do.
    @Test func aRenderStartsWhileAnotherSourceIsStillBeingFetched() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: chart, type: helm, path: ./chart}\n- {name: manifest, type: static, method: http, source: URL}\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
            "chart/templates/cm.yaml": manifest("ConfigMap", "{{ .Release.Name }}-chart"),
        ])
        let files = fixture.scratch.appending("http")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try manifest("ConfigMap", "late").write(to: files.appendingPathComponent("late.yaml"), atomically: true, encoding: .utf8)
        let gate = fixture.scratch.appending("helm-template-started")
        let server = try StaticFileServer(root: files, gate: gate)
        defer { server.stop() }
        let component = try String(contentsOfFile: fixture.root + "/component.yaml", encoding: .utf8)
        try fixture.write(["component.yaml": component.replacingOccurrences(of: "source: URL", with: "source: \"\(server.url(for: "late.yaml"))\"")])
        // A helm that says when a render begins (`helm version` and the like do not count).
        let helm = fixture.scratch.appending("helm").path
        try "#!/bin/sh\n[ \"$1\" = template ] && touch '\(gate.path)'\nexec '\(try findHelm())' \"$@\"\n".write(toFile: helm, atomically: true, encoding: .utf8)
        chmod(helm, 0o755)
        var options = fixture.options([], jobs: 2)
        options.helmPath = helm
        let output = try await Materializer.render(options)
        #expect(output.resources == ["chart.yaml": ["ConfigMap/chart-chart"], "manifest.yaml": ["ConfigMap/late"]])
        #expect(!FileManager.default.fileExists(atPath: gate.path + ".timed-out"), "the manifest was fetched only after waiting for helm: renders waited for every fetch")
    }

    @Test func oneLimiterRendersAGitChartAndAnHttpManifestWithOneJob() async throws {
        let world = try World()
        let output = try await Materializer.render(world.options(jobs: 1))
        var resources = output.resources
        resources["app.yaml"] = nil
        #expect(resources == Self.expected)
    }
}


@Suite struct RenderAllTests {
    @Test func everyEnvironmentAndGroupPairInOrder() async throws {
        let fixture = try HLDFixture([
            "hld.yaml": "environments: [dev, prod]\ngroups: [east, west]\n",
            "component.yaml": "name: cluster\ntype: static\npath: ./m\n",
            "m/a.yaml": manifest("ConfigMap", "a"),
        ])
        let all = try await Materializer.renderAll(fixture.options([]))
        #expect(all.map(\.environmentName) == ["dev-east", "dev-west", "prod-east", "prod-west"])
        for each in all {
            #expect(each.files == (try await fixture.render(each.environmentName.split(separator: "-").map(String.init))).files)
        }
        let bare = try HLDFixture(["component.yaml": "name: cluster\n"])
        await #expect {
            try await Materializer.renderAll(bare.options([]))
        } throws: { error in
            "\(error)".hasPrefix("--all renders the environments hld.yaml declares, and there is no hld.yaml")
        }
    }
}
