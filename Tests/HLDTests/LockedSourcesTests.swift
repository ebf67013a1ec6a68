import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Every kind of moving source locked and rendered as locked: a chart version constraint
/// from a Helm repository, the latest chart of an OCI registry, an http manifest. All on
/// real servers on 127.0.0.1, charts made and rendered by the real helm.
@Suite(.timeLimit(.minutes(10)), .serialized) struct LockedSourcesTests {
    static func component(repository: String, oci: String, manifest: String) -> String {
        """
        name: root
        subcomponents:
        - name: web
          type: helm
          method: helm
          source: \(repository)
          path: web
          version: ^1.2.0
        - name: api
          type: helm
          method: helm
          source: \(oci)
          path: web
        - name: crds
          type: static
          method: http
          source: \(manifest)

        """
    }

    func lock(_ fixture: HLDFixture, helm: String) async throws -> LockFile {
        var options = fixture.options([])
        options.helmPath = helm
        return try await Locking.lock(options, sets: [["common"]]).0
    }

    func render(_ fixture: HLDFixture, helm: String, lock: LockFile?, cache: URL? = nil, offline: Bool = false) async throws -> Materialization {
        var options = fixture.options([], offline: offline)
        options.helmPath = helm
        options.lockFile = lock
        if let cache { options.cacheRoot = cache }
        return try await Materializer.render(options)
    }

    func failure(_ work: () async throws -> Materialization) async -> String {
        do {
            _ = try await work()
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func lockedChartsAndManifestsStayPutWhenTheirSourcesMove() async throws {
        let charts = try ChartRepositoryFixture()
        let registry = try OCIChartFixture()
        let site = try TemporaryDirectory(prefix: "hld-site")
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crds\ndata:\n  generation: one\n".write(to: site.appending("crds.yaml"), atomically: true, encoding: .utf8)
        let server = try StaticFileServer(root: site.url)
        let fixture = try HLDFixture(["component.yaml": Self.component(repository: charts.url, oci: registry.url, manifest: server.url(for: "crds.yaml"))])

        let lock = try await lock(fixture, helm: charts.helm)
        let section = try #require(lock.sections["common"])
        guard case .chart(_, "web", "^1.2.0", "1.3.0", let digest)? = section.components["root/web"]?.source else {
            Issue.record("web: \(String(describing: section.components["root/web"]))")
            return
        }
        #expect(digest == sha256Hex(try Data(contentsOf: charts.repository.appendingPathComponent("web-1.3.0.tgz"))))
        guard case .oci(_, "", "1.3.0", let manifest, let layer)? = section.components["root/api"]?.source else {
            Issue.record("api: \(String(describing: section.components["root/api"]))")
            return
        }
        #expect(manifest == registry.digests["web-1.3.0"])
        #expect(layer == (try registry.layerHex("web-1.3.0")))
        guard case .http(_, let content)? = section.components["root/crds"]?.source else {
            Issue.record("crds: \(String(describing: section.components["root/crds"]))")
            return
        }
        #expect(content == sha256Hex(try Data(contentsOf: site.appending("crds.yaml"))))
        // The text round-trips.
        #expect(try LockFile.parse(Array(lock.text().utf8), file: "hld.lock") == lock)

        // The sources move on: web 1.4.0 published, the manifest rewritten.
        let chart = charts.charts.appendingPathComponent("web/Chart.yaml")
        try (try String(contentsOf: chart, encoding: .utf8)).replacingOccurrences(of: "version: 2.0.0-rc.1", with: "version: 1.4.0")
            .write(to: chart, atomically: true, encoding: .utf8)
        try charts.runHelm(["package", charts.charts.appendingPathComponent("web").path, "--destination", charts.repository.path])
        try charts.runHelm(["repo", "index", charts.repository.path])
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crds\ndata:\n  generation: two\n".write(to: site.appending("crds.yaml"), atomically: true, encoding: .utf8)

        let unlocked = try await render(fixture, helm: charts.helm, lock: nil)
        #expect(unlocked.text("web.yaml")?.contains("web-1.4.0") == true, "\(unlocked.text("web.yaml") ?? "")")
        #expect(unlocked.text("crds.yaml")?.contains("generation: two") == true)
        // Locked: the pinned chart and content, from the cache (the index is not needed).
        let locked = try await render(fixture, helm: charts.helm, lock: lock)
        #expect(locked.text("web.yaml")?.contains("web-1.3.0") == true)
        #expect(locked.text("api.yaml")?.contains("web-1.3.0") == true)
        #expect(locked.text("crds.yaml")?.contains("generation: one") == true)
        // With every server gone, --frozen still renders exactly the pins from the cache.
        server.stop()
        charts.server.stop()
        registry.registry.stop()
        let frozen = try await render(fixture, helm: charts.helm, lock: lock, offline: true)
        #expect(frozen.files.map(\.bytes) == locked.files.map(\.bytes))
    }

    @Test func contentThatNoLongerMatchesItsPinIsRefused() async throws {
        let charts = try ChartRepositoryFixture()
        let registry = try OCIChartFixture()
        let site = try TemporaryDirectory(prefix: "hld-site")
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crds\n".write(to: site.appending("crds.yaml"), atomically: true, encoding: .utf8)
        let server = try StaticFileServer(root: site.url)
        let fixture = try HLDFixture(["component.yaml": Self.component(repository: charts.url, oci: registry.url, manifest: server.url(for: "crds.yaml"))])
        let lock = try await lock(fixture, helm: charts.helm)

        // The manifest changes; a cache without the pinned content must download it, and
        // what it gets is not what the lock pins.
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crds\n  labels: {changed: \"true\"}\n".write(to: site.appending("crds.yaml"), atomically: true, encoding: .utf8)
        let fresh = fixture.scratch.appending("fresh-cache")
        let manifest = await failure { try await render(fixture, helm: charts.helm, lock: lock, cache: fresh) }
        #expect(manifest.contains("crds") && manifest.contains("now serves content with sha256") && manifest.contains("hld.lock pins"), "\(manifest)")

        // web 1.3.0 re-published under the same version with other content (and an index
        // that names the new digest): the lock's digest no longer matches.
        let chart = charts.charts.appendingPathComponent("web/Chart.yaml")
        try (try String(contentsOf: chart, encoding: .utf8)).replacingOccurrences(of: "version: 2.0.0-rc.1", with: "version: 1.3.0")
            .write(to: chart, atomically: true, encoding: .utf8)
        try "changed\n".write(to: charts.charts.appendingPathComponent("web/templates/NOTES.txt"), atomically: true, encoding: .utf8)
        try charts.runHelm(["package", charts.charts.appendingPathComponent("web").path, "--destination", charts.repository.path])
        try charts.runHelm(["repo", "index", charts.repository.path])
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crds\n".write(to: site.appending("crds.yaml"), atomically: true, encoding: .utf8)
        let republished = await failure { try await render(fixture, helm: charts.helm, lock: lock, cache: fixture.scratch.appending("fresh-2")) }
        #expect(republished.contains("chart web 1.3.0") && republished.contains("now has digest") && republished.contains("re-published"), "\(republished)")
    }
}
