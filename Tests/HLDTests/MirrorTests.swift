import Foundation
import Git
import Testing
import TestSupport
import YAML
@testable import HLD

/// `mirrors` rewrite every URL hld fetches (SPEC §1.3): chart repository indexes, chart
/// archives (also absolute archive URLs naming the original host), chart dependencies,
/// http manifests and git remotes; cache keys keep the original URL.
@Suite(.timeLimit(.minutes(10)), .serialized) struct MirrorTests {
    /// A chart repository on loopback whose index names the original (unreachable) host
    /// in absolute archive URLs, as the googleapis repositories' indexes did; plus a
    /// manifest and a dependency chart, all under `served/`.
    final class World: Sendable {
        let scratch: TemporaryDirectory
        let helm: String
        let served: URL
        let server: StaticFileServer

        static let original = "https://charts.example.invalid/stable"

        init() throws {
            scratch = try TemporaryDirectory(prefix: "hld-mirrors")
            helm = try findHelm()
            served = scratch.appending("served")
            let fm = FileManager.default
            let stable = served.appendingPathComponent("stable")
            try fm.createDirectory(at: stable, withIntermediateDirectories: true)
            let environment = ChartRepositoryFixture.helmEnvironment(scratch)
            for (name, kind) in [("web", "Deployment"), ("db", "StatefulSet")] {
                let chart = scratch.appending("charts/\(name)")
                try fm.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
                try "apiVersion: v2\nname: \(name)\nversion: 1.0.0\n".write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
                try "apiVersion: apps/v1\nkind: \(kind)\nmetadata:\n  name: {{ .Release.Name }}-\(name)\n"
                    .write(to: chart.appendingPathComponent("templates/main.yaml"), atomically: true, encoding: .utf8)
                let packaged = try ChildProcess.run(helm, ["package", chart.path, "--destination", stable.path], environment: environment)
                guard packaged.succeeded else { throw LoopbackServerError(packaged.stderr) }
            }
            let indexed = try ChildProcess.run(helm, ["repo", "index", stable.path, "--url", Self.original], environment: environment)
            guard indexed.succeeded else { throw LoopbackServerError(indexed.stderr) }
            try fm.createDirectory(at: served.appendingPathComponent("manifests"), withIntermediateDirectories: true)
            try manifest("ConfigMap", "fetched").write(to: served.appendingPathComponent("manifests/app.yaml"), atomically: true, encoding: .utf8)
            server = try StaticFileServer(root: served)
        }

        var mirror: String { "http://127.0.0.1:\(server.port)" }
    }

    /// An HLD naming only the original hosts: a repository chart, a local chart with a
    /// dependency from the original repository, and an http manifest.
    func fixture(_ world: World, mirrors: String) throws -> HLDFixture {
        let fixture = try HLDFixture([
            "hld.yaml": "mirrors:\n" + mirrors,
            "component.yaml": """
                name: cluster
                subcomponents:
                - {name: web, type: helm, method: helm, source: \(World.original), path: web, version: 1.0.0}
                - {name: umbrella, type: helm, path: ./umbrella}
                - {name: app, type: static, method: http, source: "https://manifests.example.invalid/app.yaml"}

                """,
            "umbrella/Chart.yaml": "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: db\n  version: ^1.0.0\n  repository: \(World.original)/\n",
            "umbrella/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\n",
        ])
        return fixture
    }

    func render(_ fixture: HLDFixture, _ world: World, offline: Bool = false, environment: [String: String] = [:]) async throws -> Materialization {
        var options = fixture.options([], offline: offline)
        options.helmPath = world.helm
        options.processEnvironment = environment
        return try await Materializer.render(options)
    }

    @Test(arguments: [true, false])
    func everyURLGoesThroughTheMirrorsWithOrWithoutTrailingSlashes(slash: Bool) async throws {
        let world = try World()
        let s = slash ? "/" : ""
        let fixture = try fixture(world, mirrors: """
              https://charts.example.invalid\(s): \(world.mirror)\(s)
              https://manifests.example.invalid\(slash ? "" : "/"): \(world.mirror)/manifests\(s)

            """)
        let output = try await render(fixture, world)
        #expect(output.resources == [
            "web.yaml": ["Deployment/web-web"],
            "umbrella.yaml": ["ConfigMap/umbrella", "StatefulSet/umbrella-db"],
            "app.yaml": ["ConfigMap/fetched"],
        ])
        let index = try String(contentsOf: world.served.appendingPathComponent("stable/index.yaml"), encoding: .utf8)
        #expect(index.contains("- \(World.original)/web-1.0.0.tgz"), "the index names the original host")
    }

    @Test func offlineAndAMovedMirrorUseTheSameCacheEntries() async throws {
        let world = try World()
        let mirrors = { (base: String) in "  https://charts.example.invalid/: \(base)/\n  https://manifests.example.invalid/: \(base)/manifests/\n" }
        let fixture = try fixture(world, mirrors: mirrors(world.mirror))
        let first = try await render(fixture, world)
        let entries = try fileContents(under: fixture.cache.path).keys.filter { !$0.hasPrefix("tools/") }.sorted()

        // The mirror moves: nothing new is stored, the renders are cache hits.
        let moved = try StaticFileServer(root: world.served)
        world.server.stop()
        try fixture.write(["hld.yaml": "mirrors:\n" + mirrors("http://127.0.0.1:\(moved.port)")])
        let second = try await render(fixture, world)
        #expect(second.files == first.files)
        #expect(try fileContents(under: fixture.cache.path).keys.filter { !$0.hasPrefix("tools/") }.sorted() == entries)

        // With every server stopped, --offline renders from the cache.
        moved.stop()
        let offline = try await render(fixture, world, offline: true)
        #expect(offline.files == first.files)
    }

    @Test func mirrorsFromTheEnvironment() async throws {
        let world = try World()
        let fixture = try fixture(world, mirrors: "  {}\n")
        try fixture.write(["hld.yaml": "{}\n"])
        let output = try await render(fixture, world, environment: [
            "HLD_MIRRORS": "https://charts.example.invalid=\(world.mirror)",
            "HLD_GIT_MIRRORS": "https://manifests.example.invalid/=\(world.mirror)/manifests/",
        ])
        #expect(output.resources["app.yaml"] == ["ConfigMap/fetched"])
        #expect(output.resources["web.yaml"] == ["Deployment/web-web"])
    }

    @Test func errorsKeepTheOriginalURL() async throws {
        let world = try World()
        let port = freeLoopbackPort()
        let fixture = try HLDFixture([
            "hld.yaml": "mirrors:\n  https://charts.example.invalid/: http://127.0.0.1:\(port)/\n",
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: \(World.original), path: web}\n",
        ])
        var options = fixture.options([])
        options.helmPath = world.helm
        await #expect {
            try await Materializer.render(options)
        } throws: { error in
            "\(error)".hasPrefix("component.yaml:3:3: web: chart repository \(World.original): cannot reach \(World.original)/index.yaml (through the mirror http://127.0.0.1:\(port)/stable/index.yaml): ")
        }
    }

    @Test func retiredRepositoriesSayWhereTheirChartsWent() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: jaeger, type: helm, method: helm, source: \"https://kubernetes-charts-incubator.storage.googleapis.com/\", path: jaeger}\n",
        ])
        // Offline, so no test contacts a host outside loopback; an unreachable host or an
        // HTTP error gets the same advice.
        let error = await fixture.renderError([], offline: true)
        #expect(error?.description == """
            component.yaml:3:3: jaeger: the index of https://kubernetes-charts-incubator.storage.googleapis.com is not in the cache and --offline forbids fetching it; \
            https://kubernetes-charts-incubator.storage.googleapis.com/ was retired in 2020 and its charts are served from https://charts.helm.sh/incubator/ now. \
            Point it there (or at your own mirror) in hld.yaml:
              mirrors:
                https://kubernetes-charts-incubator.storage.googleapis.com/: https://charts.helm.sh/incubator/
            """)
        #expect(RetiredRepositories.hint(for: "https://kubernetes-charts.storage.googleapis.com", rewrites: URLRewrites()).contains("https://charts.helm.sh/stable/"))
        let mirrored = URLRewrites(["https://kubernetes-charts.storage.googleapis.com": "http://127.0.0.1:1/"])
        #expect(RetiredRepositories.hint(for: "https://kubernetes-charts.storage.googleapis.com", rewrites: mirrored) == "", "a mirror names it: no advice")
        #expect(RetiredRepositories.hint(for: "https://charts.helm.sh/stable", rewrites: URLRewrites()) == "")
    }
}
