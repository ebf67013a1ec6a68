import Foundation
import Testing
import TestSupport

/// Every command, run with real credentials against servers that demand them — a git
/// token from `HLD_GIT_TOKEN_<HOST>`, another from access.yaml, HTTP Basic for a chart
/// repository and an http manifest, a push into a GitOps repository — and then a sweep:
/// no secret, in clear or base64, in any output, file, cache entry, lock file, commit or
/// temporary file. Failing runs (a wrong token) are swept too: their errors name where a
/// credential came from, never what it is.
@Suite(.timeLimit(.minutes(10))) struct SecretsTests {
    static let gitToken = "ghp-host-\(UUID().uuidString)"
    static let accessToken = "glpat-access-\(UUID().uuidString)"
    static let chartToken = "chart-pass-\(UUID().uuidString)"
    static let wrongToken = "wrong-\(UUID().uuidString)"
    static let urlToken = "inline-\(UUID().uuidString)"

    /// Each secret as it could leak: in clear, and inside an HTTP Basic header.
    static var needles: [(String, Data)] {
        var needles: [(String, Data)] = []
        for secret in [gitToken, accessToken, chartToken, wrongToken, urlToken] {
            needles.append((secret, Data(secret.utf8)))
            for user in ["x-access-token", "charts", "ci"] {
                needles.append(("base64 of \(user):\(secret)", Data(Data("\(user):\(secret)".utf8).base64EncodedString().utf8)))
            }
        }
        return needles
    }

    /// Where `data` holds a secret (the descriptions of the needles found).
    static func leaks(in data: Data) -> [String] {
        needles.filter { data.range(of: $0.1) != nil }.map(\.0)
    }

    /// Every file under `root` that holds a secret, with which.
    static func leaks(under root: String) -> [String] {
        guard let paths = FileManager.default.subpaths(atPath: root) else { return [] }
        return paths.sorted().compactMap { path in
            guard let data = FileManager.default.contents(atPath: root + "/" + path) else { return nil }
            let found = leaks(in: data)
            return found.isEmpty ? nil : "\(root)/\(path): \(found.joined(separator: ", "))"
        }
    }

    @Test func noCommandLeavesASecretAnywhere() async throws {
        try await onOwnThread { try Self.sweep() }
    }

    static func sweep() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-secrets")
        let tmp = scratch.appending("tmp").path
        let cache = scratch.appending("cache").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)

        // Two token-protected git servers: one answered from HLD_GIT_TOKEN_127_0_0_1, the
        // other from access.yaml (which wins for its URL). The first takes pushes too.
        func repository(_ name: String, _ manifest: String) throws -> FixtureRepository {
            let repository = try FixtureRepository.create(at: scratch.appending("\(name)-work"))
            try repository.write("deploy/component.yaml", "name: \(name)\ntype: static\npath: ./manifests\n")
            try repository.write("deploy/manifests/\(name).yaml", manifest)
            try repository.commit(name)
            try repository.branch("stage")
            return repository
        }
        let app = try repository("app", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")
        try app.publishBare(into: scratch.appending("host-served"), name: "app")
        let gitops = try FixtureRepository.create(at: scratch.appending("gitops-work"))
        try gitops.write("README.md", "rendered manifests\n")
        try gitops.commit("start")
        try gitops.publishBare(into: scratch.appending("host-served"), name: "gitops")
        let hostServer = try SmartHTTPServer(root: scratch.appending("host-served"), token: gitToken)
        defer { hostServer.stop() }
        let other = try repository("other", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n")
        try other.publishBare(into: scratch.appending("access-served"), name: "other")
        let accessServer = try SmartHTTPServer(root: scratch.appending("access-served"), token: accessToken)
        defer { accessServer.stop() }
        let inline = try repository("inline", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inline\n")
        try inline.publishBare(into: scratch.appending("inline-served"), name: "inline")
        let inlineServer = try SmartHTTPServer(root: scratch.appending("inline-served"), token: urlToken)
        defer { inlineServer.stop() }

        // A chart repository and an http manifest behind HTTP Basic (user `charts`).
        let served = scratch.appending("files")
        let chart = scratch.appending("web")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: web\nversion: 1.0.0\n".write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n".write(
            to: chart.appendingPathComponent("templates/service.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: served.appendingPathComponent("charts"), withIntermediateDirectories: true)
        let helm = try findHelm()
        let helmHome = scratch.appending("helm").path
        let helmEnvironment = LockCommandTests.environment.merging(["HELM_CACHE_HOME": helmHome, "HELM_CONFIG_HOME": helmHome, "HELM_DATA_HOME": helmHome]) { $1 }
        for arguments in [["package", chart.path, "--destination", served.appendingPathComponent("charts").path],
                          ["repo", "index", served.appendingPathComponent("charts").path]] {
            #expect(try ChildProcess.run(helm, arguments, environment: helmEnvironment).succeeded)
        }
        try "apiVersion: v1\nkind: Secret\nmetadata:\n  name: remote\n".write(
            to: served.appendingPathComponent("remote.yaml"), atomically: true, encoding: .utf8)
        let files = try StaticFileServer(root: served, basicAuth: "charts:\(chartToken)")
        defer { files.stop() }
        let filesRoot = files.url(for: "").replacingOccurrences(of: "http://", with: "http://charts@")

        let project = scratch.appending("project").path
        try FileManager.default.createDirectory(atPath: project + "/config", withIntermediateDirectories: true)
        try "environments: [dev, stage]\n".write(toFile: project + "/hld.yaml", atomically: true, encoding: .utf8)
        try "subcomponents:\n  app:\n    config:\n      tier: dev\n".write(toFile: project + "/config/dev.yaml", atomically: true, encoding: .utf8)
        try "subcomponents:\n  app:\n    branch: stage\n".write(toFile: project + "/config/stage.yaml", atomically: true, encoding: .utf8)
        try """
            name: cluster
            subcomponents:
              - name: app
                method: git
                source: \(hostServer.url(for: "app.git"))
                path: deploy
              - name: other
                method: git
                source: \(accessServer.url(for: "other.git"))
                path: deploy
              - name: inline
                method: git
                source: \(inlineServer.url(for: "inline.git").replacingOccurrences(of: "http://", with: "http://ci:\(urlToken)@"))
                path: deploy
              - name: web
                type: helm
                method: helm
                source: \(filesRoot)charts
                path: web
                version: 1.0.0
              - name: remote
                type: static
                method: http
                source: \(filesRoot)remote.yaml

            """.write(toFile: project + "/component.yaml", atomically: true, encoding: .utf8)
        try "\(accessServer.url(for: "other.git")): HLD_TEST_ACCESS_TOKEN\n\(files.url(for: "charts")): HLD_TEST_CHART_TOKEN\n\(files.url(for: "remote.yaml")): HLD_TEST_CHART_TOKEN\n"
            .write(toFile: project + "/access.yaml", atomically: true, encoding: .utf8)
        // Keep the one secret the project itself holds (in component.yaml, as Fabrikate
        // users wrote it) out of the sweep of the project: only what hld writes counts.
        let definitionFiles: Set<String> = ["component.yaml"]

        let environment = LockCommandTests.environment.merging([
            "TMPDIR": tmp,
            GitCredentialsVariable.host: gitToken,
            "HLD_TEST_ACCESS_TOKEN": accessToken,
            "HLD_TEST_CHART_TOKEN": chartToken,
        ]) { $1 }
        var transcript = Data()
        func hld(_ arguments: [String], environment: [String: String] = environment, mustSucceed: Bool = true) throws {
            let result = try ChildProcess.run(hldBinary.path, ["-C", project, "--cache-dir", cache] + arguments, environment: environment)
            if mustSucceed { #expect(result.succeeded, "hld \(arguments.joined(separator: " ")):\n\(result.stderr)") }
            let found = leaks(in: Data((result.stdout + result.stderr).utf8))
            #expect(found.isEmpty, "hld \(arguments.joined(separator: " ")) printed \(found):\n\(result.stdout)\(result.stderr)")
            transcript.append(Data((result.stdout + result.stderr).utf8))
        }

        try hld(["install", "-v", "dev"])
        try hld(["materialize", "-v", "--all"])
        try hld(["materialize", "--format", "json", "dev"])
        try hld(["lock"])
        try hld(["materialize", "--locked", "--all"])
        try hld(["materialize", "--check", "dev"])
        try hld(["tree", "dev"])
        try hld(["tree", "--format", "json", "dev"])
        try hld(["explain", "dev", "app"])
        try hld(["diff", "dev", "stage"], mustSucceed: false)
        try hld(["drift"], mustSucceed: false)
        try hld(["cache", "fetch", hostServer.url(for: "app.git"), accessServer.url(for: "other.git")])
        try hld(["cache", "info", "--format", "json"])
        try hld(["materialize", "--all", "--into", hostServer.url(for: "gitops.git"), "--branch", "{env}", "--push"])
        // A fresh cache, so that the wrong credentials are really sent and rejected.
        let wrong = environment.merging([GitCredentialsVariable.host: wrongToken, "HLD_TEST_ACCESS_TOKEN": wrongToken, "HLD_TEST_CHART_TOKEN": wrongToken]) { $1 }
        let result = try ChildProcess.run(hldBinary.path, ["-C", project, "--cache-dir", scratch.appending("cold").path, "materialize", "dev"], environment: wrong)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("rejected the credentials from $HLD_TEST_ACCESS_TOKEN (access.yaml)"), "\(result.stderr)")
        #expect(result.stderr.contains("rejected the credentials from $HLD_TEST_CHART_TOKEN (access.yaml)"), "\(result.stderr)")
        #expect(leaks(in: Data((result.stdout + result.stderr).utf8)).isEmpty, "\(result.stderr)")
        #expect(!transcript.isEmpty)

        // The sweep: what hld wrote in the project, the caches, the temporary directory,
        // and every object of the GitOps repository (commit messages and trees).
        // The sweep finds what is there: the token component.yaml holds.
        #expect(leaks(under: project).contains { $0.hasPrefix(project + "/component.yaml:") && $0.contains(urlToken) })
        let written = leaks(under: project).filter { leak in !definitionFiles.contains { leak.hasPrefix(project + "/" + $0 + ":") } }
        #expect(written.isEmpty, "\(written)")
        #expect(FileManager.default.fileExists(atPath: project + "/hld.lock") && FileManager.default.fileExists(atPath: project + "/generated/dev"))
        #expect(leaks(under: cache).isEmpty, "\(leaks(under: cache))")
        #expect(leaks(under: scratch.appending("cold").path).isEmpty)
        #expect(leaks(under: tmp).isEmpty, "\(leaks(under: tmp))")
        let bare = scratch.appending("host-served/gitops.git").path
        let log = try GitCLI.check(["--git-dir=" + bare, "log", "--all", "--format=%H%n%B"], home: scratch.url)
        #expect(log.contains("Hld-Pin: "), "the pushed commits carry their pins: \(log)")
        let objects = try GitCLI.check(["--git-dir=" + bare, "log", "--all", "-p", "--format=%B"], home: scratch.url)
        #expect(leaks(in: Data((log + objects).utf8)).isEmpty, "\(leaks(in: Data((log + objects).utf8)))")
        #expect(leaks(under: bare).isEmpty, "\(leaks(under: bare))")
    }
}

/// The name of the host token variable for the loopback servers.
enum GitCredentialsVariable {
    static let host = "HLD_GIT_TOKEN_127_0_0_1"
}
