import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
import YAML
@testable import HLD

/// Charts made with the real helm and pushed with `helm push --plain-http` to a real
/// registry on 127.0.0.1: `web` in four versions (one a pre-release), `db`, and `app`,
/// which vendors `db` in its charts/.
final class OCIChartFixture: Sendable {
    let scratch: TemporaryDirectory
    let registry: OCIRegistryServer
    let helm: String
    /// The manifest digest `helm push` printed, by `<chart>-<version>`.
    let digests: [String: String]

    /// `oci://127.0.0.1:<port>/charts`.
    var url: String { registry.url("charts") }

    /// The archive `helm package` made (and `helm push` pushed).
    func archive(_ nameAndVersion: String) -> URL { scratch.appending("packages/\(nameAndVersion).tgz") }

    init() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-oci")
        let helm = try findHelm()
        let registry = try OCIRegistryServer()
        let environment = ChartRepositoryFixture.helmEnvironment(scratch)
        let fm = FileManager.default
        let sources = scratch.appending("charts"), packages = scratch.appending("packages")
        try fm.createDirectory(at: sources, withIntermediateDirectories: true)
        try fm.createDirectory(at: packages, withIntermediateDirectories: true)
        func helmOutput(_ arguments: [String]) throws -> String {
            let result = try ChildProcess.run(helm, arguments, environment: environment)
            guard result.succeeded else { throw LoopbackServerError("helm \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
            return result.stdout + result.stderr
        }
        var digests: [String: String] = [:]
        func publish(_ name: String, version: String, prepare: (URL) throws -> Void = { _ in }) throws {
            let directory = sources.appendingPathComponent(name)
            if !fm.fileExists(atPath: directory.path) {
                _ = try helmOutput(["create", directory.path])
                try prepare(directory)
            }
            let chart = directory.appendingPathComponent("Chart.yaml")
            let text = try String(contentsOf: chart, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("version:") ? "version: \(version)" : String($0) }.joined(separator: "\n")
            try text.write(to: chart, atomically: true, encoding: .utf8)
            _ = try helmOutput(["package", directory.path, "--destination", packages.path])
            let archive = packages.appendingPathComponent("\(name)-\(version).tgz").path
            let pushed = try helmOutput(["push", archive, registry.url("charts"), "--plain-http"])
            guard let line = pushed.split(separator: "\n").first(where: { $0.hasPrefix("Digest: ") }) else {
                throw LoopbackServerError("helm push printed no Digest line:\n\(pushed)")
            }
            digests["\(name)-\(version)"] = String(line.dropFirst("Digest: ".count)).trimmingCharacters(in: .whitespaces)
        }
        for version in ["1.2.0", "1.2.5", "1.3.0", "2.0.0-rc.1"] { try publish("web", version: version) }
        try publish("db", version: "0.1.0")
        try publish("app", version: "1.0.0") { app in
            try fm.createDirectory(at: app.appendingPathComponent("charts"), withIntermediateDirectories: true)
            try fm.copyItem(at: packages.appendingPathComponent("db-0.1.0.tgz"), to: app.appendingPathComponent("charts/db-0.1.0.tgz"))
            let chart = app.appendingPathComponent("Chart.yaml")
            try (try String(contentsOf: chart, encoding: .utf8) + "dependencies:\n- name: db\n  version: 0.1.0\n")
                .write(to: chart, atomically: true, encoding: .utf8)
        }
        self.scratch = scratch
        self.registry = registry
        self.helm = helm
        self.digests = digests
    }

    /// Parsed documents of `helm template` run directly on a pushed archive.
    func template(_ release: String, _ nameAndVersion: String, namespace: String = "default", values: String) throws -> [Node] {
        let valuesFile = scratch.appending("values-\(UUID().uuidString).yaml")
        try values.write(to: valuesFile, atomically: true, encoding: .utf8)
        let arguments = ["template", release, archive(nameAndVersion).path, "--namespace", namespace, "--values", valuesFile.path, "--include-crds"]
        let result = try ChildProcess.run(helm, arguments, environment: ChartRepositoryFixture.helmEnvironment(scratch))
        guard result.succeeded else { throw LoopbackServerError("helm template failed: \(result.stderr)") }
        return try Node.documents(in: result.stdout).filter { !$0.isNull }
    }

    /// The sha256 of a pushed archive: its chart layer's digest, and its name in the cache.
    func layerHex(_ nameAndVersion: String) throws -> String {
        sha256Hex(try Data(contentsOf: archive(nameAndVersion)))
    }

    /// Pushes an artifact that is not a chart (one plain tar layer) with the distribution
    /// API directly; helm only pushes charts.
    func pushNonChart(repository: String, tag: String) async throws {
        let base = "http://\(registry.host)/v2/\(repository)"
        func upload(_ bytes: Data) async throws -> String {
            let digest = "sha256:" + sha256Hex(bytes)
            var start = URLRequest(url: try #require(URL(string: "\(base)/blobs/uploads/")))
            start.httpMethod = "POST"
            let (_, started) = try await URLSession.shared.data(for: start)
            let location = try #require((started as? HTTPURLResponse)?.value(forHTTPHeaderField: "Location"))
            let target = (location.hasPrefix("/") ? "http://\(registry.host)" + location : location) + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
            var put = URLRequest(url: try #require(URL(string: target)))
            put.httpMethod = "PUT"
            put.httpBody = bytes
            put.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            let (_, stored) = try await URLSession.shared.data(for: put)
            try #require((stored as? HTTPURLResponse)?.statusCode == 201)
            return digest
        }
        let config = Data("{}".utf8), layer = Data("not a chart".utf8)
        let manifest = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(try await upload(config))","size":\(config.count)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(try await upload(layer))","size":\(layer.count)}]}
            """
        var put = URLRequest(url: try #require(URL(string: "\(base)/manifests/\(tag)")))
        put.httpMethod = "PUT"
        put.httpBody = Data(manifest.utf8)
        put.setValue(OCIRegistries.manifestMediaType, forHTTPHeaderField: "Content-Type")
        let (_, stored) = try await URLSession.shared.data(for: put)
        try #require((stored as? HTTPURLResponse)?.statusCode == 201)
    }
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct OCITests {
    func documents(_ output: Materialization, _ path: String) throws -> [Node] {
        try Node.documents(in: output.text(path) ?? "")
    }

    func chartLabel(_ output: Materialization, _ path: String) throws -> String? {
        try documents(output, path).first { $0["kind"]?.scalarText == "Deployment" }?["metadata"]?["labels"]?["helm.sh/chart"]?.scalarText
    }

    func render(_ fixture: HLDFixture, _ charts: OCIChartFixture, offline: Bool = false, environment: [String: String] = [:]) async throws -> Materialization {
        var options = fixture.options([], offline: offline)
        options.helmPath = charts.helm
        options.processEnvironment = environment
        return try await Materializer.render(options)
    }

    func renderError(_ fixture: HLDFixture, _ charts: OCIChartFixture, offline: Bool = false, environment: [String: String] = [:]) async -> String? {
        do {
            _ = try await render(fixture, charts, offline: offline, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// An HLD whose only subcomponent is `entry` (so its location is component.yaml:3:3).
    func single(_ entry: String, config: String = "{}\n") throws -> HLDFixture {
        try HLDFixture(["component.yaml": "name: cluster\nsubcomponents:\n- \(entry)\n", "config/common.yaml": config])
    }

    func damage(_ file: URL) throws -> Data {
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: file)
        return bytes
    }

    @Test func chartsByExactVersionConstraintLatestAndDigest() async throws {
        let charts = try OCIChartFixture()
        let pin = try #require(charts.digests["web-1.2.0"])
        let fixture = try HLDFixture([
            "component.yaml": """
                name: cluster
                subcomponents:
                - {name: exact, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.5}
                - {name: tilde, type: helm, method: helm, source: \(charts.url), path: web, version: "~1.2"}
                - {name: latest, type: helm, method: helm, source: \(charts.url), path: web}
                - {name: pinned, type: helm, method: helm, source: \(charts.url), path: web, version: "\(pin)"}
                - {name: app, type: helm, method: helm, source: \(charts.url)/, path: app}

                """,
            "config/common.yaml": "subcomponents:\n  tilde:\n    namespace: shop\n    config: {replicaCount: 4, service: {port: 8080}}\n  pinned:\n    config: {replicaCount: 2}\n",
        ])
        let output = try await render(fixture, charts)
        #expect(try chartLabel(output, "exact.yaml") == "web-1.2.5")
        #expect(try chartLabel(output, "tilde.yaml") == "web-1.2.5")
        #expect(try chartLabel(output, "latest.yaml") == "web-1.3.0", "pre-releases only when asked")
        #expect(try chartLabel(output, "pinned.yaml") == "web-1.2.0", "the digest, not the latest tag")
        // Equal, as parsed documents, to helm template run directly on the pushed archive.
        #expect(try documents(output, "tilde.yaml") == charts.template("tilde", "web-1.2.5", namespace: "shop", values: "replicaCount: 4\nservice:\n  port: 8080\n"))
        #expect(try documents(output, "pinned.yaml") == charts.template("pinned", "web-1.2.0", values: "replicaCount: 2\n"))
        #expect(try documents(output, "app.yaml").contains { $0["metadata"]?["name"]?.scalarText == "app-db" }, "the vendored dependency renders")
        // The archive is stored under its chart layer digest, which is the pushed file's sha256.
        let store = fixture.cache.appendingPathComponent("helm/charts")
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: store.path).filter { !$0.hasSuffix(".lock") && !$0.hasSuffix(".use") })
        let expected = Set(try ["web-1.2.5", "web-1.3.0", "web-1.2.0", "app-1.0.0"].map { try charts.layerHex($0) + ".tgz" })
        #expect(stored == expected)
    }

    @Test func aWarmCacheRendersWithTheRegistryStoppedAndADigestPinNeedsNoRegistry() async throws {
        let charts = try OCIChartFixture()
        let pin = try #require(charts.digests["web-1.3.0"])
        let entries = [
            "- {name: exact, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.5}",
            "- {name: caret, type: helm, method: helm, source: \(charts.url), path: web, version: \"^1.2\"}",
            "- {name: pinned, type: helm, method: helm, source: \(charts.url), path: web, version: \"\(pin)\"}",
        ]
        let fixture = try HLDFixture(["component.yaml": "name: cluster\nsubcomponents:\n" + entries.joined(separator: "\n") + "\n",
                                      "config/common.yaml": "subcomponents:\n  caret: {config: {replicaCount: 2}}\n"])
        let online = try await render(fixture, charts)
        charts.registry.stop()
        try fixture.write(["config/common.yaml": "subcomponents:\n  caret: {config: {replicaCount: 3}}\n"])
        let offline = try await render(fixture, charts, offline: true)
        #expect(offline.files.map(\.path) == online.files.map(\.path))
        #expect(try documents(offline, "caret.yaml").first { $0["kind"]?.scalarText == "Deployment" }?["spec"]?["replicas"]?.int() == 3, "rendered again, from the cached archive")
        #expect(try documents(offline, "caret.yaml") == charts.template("caret", "web-1.3.0", values: "replicaCount: 3\n"))

        // Online, a digest pin whose archive is cached is not asked for again; a tag is.
        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n" + entries[2] + "\n"])
        let pinned = try await render(fixture, charts)
        #expect(try chartLabel(pinned, "pinned.yaml") == "web-1.3.0")
        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n" + entries[0] + "\n"])
        let tagError = await renderError(fixture, charts)
        #expect(tagError?.hasPrefix("component.yaml:3:3: exact: \(charts.url)/web: registry unreachable: cannot reach http://\(charts.registry.host)/v2/charts/web/manifests/1.2.5: ") == true, "\(tagError ?? "")")

        // Offline, what was never fetched is named.
        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.0}\n"])
        #expect(await renderError(fixture, charts, offline: true) == "component.yaml:3:3: web: \(charts.url)/web 1.2.0 is not in the cache and --offline forbids fetching it")
    }

    @Test func aDamagedCachedArchiveIsFetchedAgainOnlineAndReportedOffline() async throws {
        let charts = try OCIChartFixture()
        let pin = try #require(charts.digests["web-1.2.5"])
        let fixture = try HLDFixture(["component.yaml": """
            name: cluster
            subcomponents:
            - {name: web, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.5}
            - {name: pinned, type: helm, method: helm, source: \(charts.url), path: web, version: "\(pin)"}

            """, "config/common.yaml": "{}\n"])
        let first = try await render(fixture, charts)
        let hex = try charts.layerHex("web-1.2.5")
        let archive = fixture.cache.appendingPathComponent("helm/charts/\(hex).tgz")
        #expect(sha256Hex(try Data(contentsOf: archive)) == hex)

        _ = try damage(archive)
        let repaired = try await render(fixture, charts)
        #expect(sha256Hex(try Data(contentsOf: archive)) == hex, "fetched again")
        #expect(repaired.files == first.files)

        // One component at a time: siblings render concurrently, and either error could come first.
        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.5}\n"])
        _ = try damage(archive)
        let error = await renderError(fixture, charts, offline: true)
        #expect(error == "component.yaml:3:3: web: the cached chart archive of \(charts.url)/web 1.2.5 was damaged (it no longer matches sha256:\(hex)) and has been removed; --offline forbids fetching it again")
        #expect(!FileManager.default.fileExists(atPath: archive.path), "the damaged archive is removed")
        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n- {name: pinned, type: helm, method: helm, source: \(charts.url), path: web, version: \"\(pin)\"}\n"])
        #expect(await renderError(fixture, charts, offline: true) == "component.yaml:3:3: pinned: the chart archive of \(charts.url)/web \(pin) (sha256:\(hex)) is not in the cache and --offline forbids fetching it")
    }

    @Test func aRegistryCopyThatDoesNotMatchItsDigestIsRefused() async throws {
        let charts = try OCIChartFixture()
        let hex = try charts.layerHex("web-1.2.5")
        let tamperedBlob = try damage(charts.registry.blobFile("sha256:" + hex))
        let fixture = try single("{name: web, type: helm, method: helm, source: \(charts.url), path: web, version: 1.2.5}")
        #expect(await renderError(fixture, charts) == "component.yaml:3:3: web: \(charts.url)/web: the chart archive the registry sent does not match its digest sha256:\(hex) (got sha256:\(sha256Hex(tamperedBlob))); the registry's copy may be damaged or tampered with")
        let store = fixture.cache.appendingPathComponent("helm/charts").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).isEmpty, "nothing is stored")

        // A manifest fetched by digest must hash to that digest.
        let pin = try #require(charts.digests["web-1.3.0"])
        let manifestFile = charts.registry.blobFile(pin)
        let text = try String(contentsOf: manifestFile, encoding: .utf8)
        #expect(text.contains("A Helm chart for Kubernetes"))
        let tampered = text.replacingOccurrences(of: "A Helm chart for Kubernetes", with: "A Helm chart for Kubernetez")
        try tampered.write(to: manifestFile, atomically: false, encoding: .utf8)
        let pinned = try single("{name: pinned, type: helm, method: helm, source: \(charts.url), path: web, version: \"\(pin)\"}")
        #expect(await renderError(pinned, charts) == "component.yaml:3:3: pinned: \(charts.url)/web: the registry's manifest does not match the digest \(pin) (got sha256:\(sha256Hex(Data(tampered.utf8)))); the registry's copy may be damaged or tampered with")
    }

    @Test func aMirrorRuleRewritesOCIReferencesWhileKeysAndErrorsKeepTheOriginal() async throws {
        let charts = try OCIChartFixture()
        let environment = ["HLD_GIT_MIRRORS": "oci://registry.invalid/charts=\(charts.url)"]
        let fixture = try single("{name: web, type: helm, method: helm, source: oci://registry.invalid/charts, path: web, version: 1.2.0}",
                                 config: "subcomponents:\n  web: {config: {replicaCount: 3}}\n")
        let output = try await render(fixture, charts, environment: environment)
        #expect(try documents(output, "web.yaml") == charts.template("web", "web-1.2.0", values: "replicaCount: 3\n"))
        let record = fixture.cache.appendingPathComponent("helm/oci/\(sha256Hex(Data("oci://registry.invalid/charts/web@1.2.0".utf8)))")
        let fields = try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: String]
        #expect(fields?["reference"] == "oci://registry.invalid/charts/web")
        #expect(fields?["layer"] == "sha256:" + (try charts.layerHex("web-1.2.0")))
        #expect(fields?["manifest"] == charts.digests["web-1.2.0"])

        try fixture.write(["component.yaml": "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: oci://registry.invalid/charts, path: web, version: 9.9.9}\n"])
        #expect(await renderError(fixture, charts, environment: environment) == "component.yaml:3:3: web: oci://registry.invalid/charts/web (through the mirror \(charts.url)/web) has no version matching 9.9.9 (it has: 2.0.0-rc.1, 1.3.0, 1.2.5, 1.2.0)")
    }

    @Test func aLocalChartsOCIDependencyIsPulledAndAssembledOutsideTheSourceTree() async throws {
        let charts = try OCIChartFixture()
        let fixture = try single("{name: umbrella, type: helm, path: ./umbrella}")
        let chart = URL(fileURLWithPath: fixture.root).appendingPathComponent("umbrella")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: db\n  version: \"~0.1\"\n  repository: \(charts.url)\n"
            .write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\n".write(to: chart.appendingPathComponent("templates/cm.yaml"), atomically: true, encoding: .utf8)
        let output = try await render(fixture, charts)
        let names = try documents(output, "umbrella.yaml").compactMap { $0["metadata"]?["name"]?.scalarText }
        #expect(names.contains("umbrella"))
        #expect(names.contains("umbrella-db"), "the dependency from the registry renders")
        #expect(!FileManager.default.fileExists(atPath: chart.appendingPathComponent("charts").path), "the user's chart is not changed")
        #expect(FileManager.default.fileExists(atPath: fixture.cache.appendingPathComponent("helm/charts/\(try charts.layerHex("db-0.1.0")).tgz").path))
    }

    @Test func faultsAreSentencesNamingTheReference() async throws {
        let charts = try OCIChartFixture()
        let web = { (version: String) in "{name: web, type: helm, method: helm, source: \(charts.url), path: web, version: \"\(version)\"}" }

        #expect(await renderError(try single(web("9.9.9")), charts) == "component.yaml:3:3: web: \(charts.url)/web has no version matching 9.9.9 (it has: 2.0.0-rc.1, 1.3.0, 1.2.5, 1.2.0)")
        #expect(await renderError(try single(web(">=3")), charts) == "component.yaml:3:3: web: \(charts.url)/web has no version matching >=3 (it has: 2.0.0-rc.1, 1.3.0, 1.2.5, 1.2.0)")

        let nope = try single("{name: web, type: helm, method: helm, source: \(charts.url), path: nope}")
        #expect(await renderError(nope, charts) == "component.yaml:3:3: web: \(charts.url)/nope is not in the registry (NAME_UNKNOWN: repository name not known to registry)")

        let unknownDigest = "sha256:" + String(repeating: "0", count: 64)
        #expect(await renderError(try single(web(unknownDigest)), charts) == "component.yaml:3:3: web: \(charts.url)/web: the registry has no manifest \(unknownDigest) (MANIFEST_UNKNOWN: manifest unknown)")
        #expect(await renderError(try single(web("sha256:abc")), charts) == "component.yaml:3:3: web: \(charts.url)/web: version sha256:abc is not a manifest digest (sha256: followed by 64 hex digits)")

        try await charts.pushNonChart(repository: "charts/image", tag: "1.0.0")
        let image = try single("{name: web, type: helm, method: helm, source: \(charts.url), path: image, version: 1.0.0}")
        #expect(await renderError(image, charts) == "component.yaml:3:3: web: \(charts.url)/image is not a Helm chart: its manifest has no application/vnd.cncf.helm.chart.content.v1.tar+gzip layer (it has: application/vnd.oci.image.layer.v1.tar)")

        let port = freeLoopbackPort()
        let unreachable = try single("{name: web, type: helm, method: helm, source: oci://127.0.0.1:\(port)/charts, path: web}")
        let unreachableError = await renderError(unreachable, charts)
        #expect(unreachableError?.hasPrefix("component.yaml:3:3: web: oci://127.0.0.1:\(port)/charts/web: registry unreachable: cannot reach http://127.0.0.1:\(port)/v2/charts/web/tags/list: ") == true, "\(unreachableError ?? "")")
        #expect(!FileManager.default.fileExists(atPath: unreachable.cache.appendingPathComponent("helm").path), "nothing was written to the cache")
    }

    @Test func aRegistryThatChallengesForATokenGetsOneAndTheTokenStaysOffRedirects() async throws {
        let charts = try OCIChartFixture()
        let proxy = try TokenGatedRegistry(upstream: charts.registry)
        let fixture = try single("{name: web, type: helm, method: helm, source: \(proxy.url("charts")), path: web, version: \"~1.2\"}")
        let output = try await render(fixture, charts)
        #expect(try documents(output, "web.yaml") == charts.template("web", "web-1.2.5", values: "{}\n"))
        let requests = proxy.requests.map { $0.removingPercentEncoding ?? $0 }
        let tokenRequests = requests.filter { $0.hasPrefix("GET /token?") }
        #expect(tokenRequests.count == 1, "one token for the repository: \(requests)")
        #expect(tokenRequests.first?.contains("service=proxy.test") == true)
        #expect(tokenRequests.first?.contains("scope=repository:charts/web:pull") == true)
        #expect(requests.contains("GET /v2/charts/web/tags/list auth=Bearer \(TokenGatedRegistry.token)"))
        let storage = requests.filter { $0.hasPrefix("GET /storage/") }
        #expect(storage == ["GET /storage/charts/web/blobs/sha256:\(try charts.layerHex("web-1.2.5")) auth=-"], "the redirected blob request carries no token: \(requests)")
    }

    // MARK: Pure parts

    @Test(arguments: [
        ("127.0.0.1:5000", "http"), ("localhost", "http"), ("LocalHost:8080", "http"), ("[::1]:5000", "http"),
        ("ghcr.io", "https"), ("registry.example.com:5000", "https"), ("127.0.0.2:5000", "https"), ("localhost.example.com", "https"),
    ])
    func plainHTTPOnlyOnLoopback(host: String, scheme: String) {
        #expect(OCIRegistries.scheme(forHost: host) == scheme)
    }

    @Test func referencesSplitIntoHostRepositoryAndDigest() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let pinned = try OCIReference("oci://ghcr.io/org/charts/web@\(digest.uppercased().replacingOccurrences(of: "SHA256", with: "sha256"))")
        #expect(pinned == OCIReference(unchecked: "ghcr.io", "org/charts/web", digest))
        #expect(try OCIReference("oci://127.0.0.1:5000/charts/web/") == OCIReference(unchecked: "127.0.0.1:5000", "charts/web", nil))
        #expect(throws: HLDError("oci://ghcr.io names no repository (expected oci://host/repository/chart)")) { try OCIReference("oci://ghcr.io") }
        #expect(throws: HLDError("oci://ghcr.io/web@sha256:12: sha256:12 is not a manifest digest (sha256: followed by 64 hex digits)")) { try OCIReference("oci://ghcr.io/web@sha256:12") }
        #expect(throws: HLDError("https://ghcr.io/web is not an oci:// reference")) { try OCIReference("https://ghcr.io/web") }
    }

    @Test func bearerChallengesAsRegistriesSendThem() {
        #expect(BearerChallenge(#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/web:pull""#)
            == BearerChallenge(unchecked: "https://ghcr.io/token", "ghcr.io", "repository:org/web:pull"))
        #expect(BearerChallenge(#"bearer realm="https://auth.docker.io/token", scope="repository:a/b:pull,push", service=registry.docker.io"#)
            == BearerChallenge(unchecked: "https://auth.docker.io/token", "registry.docker.io", "repository:a/b:pull,push"))
        #expect(BearerChallenge(#"Basic realm="registry""#) == nil)
        #expect(BearerChallenge(#"Bearer service="x""#) == nil, "no realm, no token service")
    }

    @Test func exactVersionsTagsAndPages() {
        #expect(["1.2.0", "v1.2.0-rc.1+build.5", "10.0.1"].allSatisfy(OCIRegistries.isExactVersion))
        #expect(!["1.2", "~1.2.0", ">=1.0.0", "1.2.x", "latest", "sha256:ab"].contains(where: OCIRegistries.isExactVersion))
        #expect(OCIRegistries.tag(for: "1.2.0+build.5") == "1.2.0_build.5")
        #expect(OCIRegistries.nextPage(#"</v2/charts/web/tags/list?last=1.2.0&n=2>; rel="next""#) == "/v2/charts/web/tags/list?last=1.2.0&n=2")
        #expect(OCIRegistries.nextPage(#"<https://x/a>; rel="prev""#) == nil)
    }
}

extension OCIReference {
    init(unchecked host: String, _ name: String, _ digest: String?) {
        self = try! OCIReference("oci://\(host)/\(name)")
        self.digest = digest
    }
}

extension BearerChallenge {
    init(unchecked realm: String, _ service: String?, _ scope: String?) {
        self = BearerChallenge("Bearer realm=\"\(realm)\"")!
        self.service = service
        self.scope = scope
    }
}
