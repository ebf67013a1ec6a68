import Foundation
import Testing
import TestSupport

/// HTTPS against loopback servers whose certificates a throwaway CA signed: a git
/// repository over smart HTTP, a chart repository and an http manifest. Verification is
/// on by default; `--ca-file` or `SSL_CERT_FILE` trusts the CA; an untrusted CA or a
/// certificate for another host fails with a clear error, never an unverified fallback.
@Suite(.timeLimit(.minutes(10)), .serialized) struct TLSTests {
    final class World: Sendable {
        let scratch: TemporaryDirectory
        let certificates: TLSCertificates
        let git: SmartHTTPServer
        let files: StaticFileServer
        let project: String
        /// The git repository, the chart repository and the manifest, as component.yaml names them.
        let sources: [String]

        init(identity: (TLSCertificates) -> TLSIdentity = \.server) throws {
            scratch = try TemporaryDirectory(prefix: "hld-tls-test")
            certificates = try TLSCertificates()
            let identity = identity(certificates)

            let app = try FixtureRepository.create(at: scratch.appending("app"))
            try app.write("deploy/component.yaml", "name: app\ntype: static\npath: ./manifests\n")
            try app.write("deploy/manifests/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")
            try app.commit("app")
            let repositories = scratch.appending("repositories")
            try app.publishBare(into: repositories, name: "app")
            git = try SmartHTTPServer(root: repositories, tls: identity)

            let served = scratch.appending("served")
            let chart = scratch.appending("web")
            try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
            try "apiVersion: v2\nname: web\nversion: 1.0.0\n".write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
            try "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n".write(
                to: chart.appendingPathComponent("templates/service.yaml"), atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(at: served.appendingPathComponent("charts"), withIntermediateDirectories: true)
            let helm = try findHelm()
            let helmHome = scratch.appending("helm").path
            let helmEnvironment = TLSTests.environment.merging(["HELM_CACHE_HOME": helmHome, "HELM_CONFIG_HOME": helmHome, "HELM_DATA_HOME": helmHome]) { $1 }
            for arguments in [["package", chart.path, "--destination", served.appendingPathComponent("charts").path],
                              ["repo", "index", served.appendingPathComponent("charts").path]] {
                let result = try ChildProcess.run(helm, arguments, environment: helmEnvironment)
                guard result.succeeded else { throw LoopbackServerError("helm \(arguments.first!) failed: \(result.stderr)") }
            }
            try "apiVersion: v1\nkind: Secret\nmetadata:\n  name: remote\n".write(
                to: served.appendingPathComponent("remote.yaml"), atomically: true, encoding: .utf8)
            files = try StaticFileServer(root: served, tls: identity)

            // By name, not 127.0.0.1: Debian's libgit2 verifies with mbedTLS 2, which matches
            // DNS names only (an IP address is compared with the certificate's CN).
            func named(_ url: String) -> String { url.replacingOccurrences(of: "//127.0.0.1:", with: "//localhost:") }
            sources = [named(git.url(for: "app.git")), named(files.url(for: "charts")), named(files.url(for: "remote.yaml"))]
            let project = scratch.appending("project")
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            try "environments: [dev]\n".write(to: project.appendingPathComponent("hld.yaml"), atomically: true, encoding: .utf8)
            try """
                name: cluster
                subcomponents:
                  - name: app
                    method: git
                    source: \(sources[0])
                    path: deploy
                  - name: web
                    type: helm
                    method: helm
                    source: \(sources[1])
                    path: web
                    version: 1.0.0
                  - name: remote
                    type: static
                    method: http
                    source: \(sources[2])

                """.write(to: project.appendingPathComponent("component.yaml"), atomically: true, encoding: .utf8)
            self.project = project.path
        }

        /// `hld materialize dev` on a fresh cache, with `extra` environment variables.
        func materialize(_ arguments: [String] = [], environment extra: [String: String] = [:]) throws -> ChildProcess.CommandResult {
            let cache = try TemporaryDirectory(prefix: "hld-tls-cache")
            return try ChildProcess.run(hldBinary.path, ["-C", project, "--cache-dir", cache.path] + arguments + ["materialize", "dev"],
                                        environment: TLSTests.environment.merging(extra) { $1 })
        }
    }

    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    /// The three sources, each named in an error of its own, in tree order.
    static func failures(_ stderr: String, _ world: World) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error: ") }
    }

    @Test func verifiedByDefaultTrustedThroughCaFileOrSSLCertFile() async throws {
        let world = try await onOwnThread { try World() }

        // The system's CA bundle does not hold the test CA: all three sources fail, each
        // with the sentence that says what to do, and nothing is written.
        let untrusted = try await onOwnThread { try world.materialize() }
        #expect(untrusted.termination == .exited(1))
        let errors = Self.failures(untrusted.stderr, world)
        #expect(errors.count == 3, "\(untrusted.stderr)")
        for (index, url) in world.sources.enumerated()
        where index < errors.count {
            #expect(errors[index].contains(url), "\(errors[index])")
            #expect(errors[index].contains("TLS certificate could not be verified"), "\(errors[index])")
            #expect(errors[index].contains("--ca-file or SSL_CERT_FILE"), "\(errors[index])")
        }
        #expect(!FileManager.default.fileExists(atPath: world.project + "/generated"))

        // Trusting the CA, by option or by environment: everything renders, the same.
        let byOption = try await onOwnThread { try world.materialize(["--ca-file", world.certificates.caFile]) }
        #expect(byOption.succeeded, "\(byOption.stderr)")
        let written = try fileContents(under: world.project + "/generated")
        #expect(written.keys.sorted() == ["dev/app/app.yaml", "dev/remote.yaml", "dev/web.yaml"], "\(written.keys.sorted())")
        try FileManager.default.removeItem(atPath: world.project + "/generated")
        let byEnvironment = try await onOwnThread { try world.materialize(environment: ["SSL_CERT_FILE": world.certificates.caFile]) }
        #expect(byEnvironment.succeeded, "\(byEnvironment.stderr)")
        #expect(try fileContents(under: world.project + "/generated") == written)

        // --ca-file replaces the trust SSL_CERT_FILE gives: another CA's file fails again.
        try FileManager.default.removeItem(atPath: world.project + "/generated")
        let otherCA = try await onOwnThread {
            try world.materialize(["--ca-file", world.certificates.otherCAFile], environment: ["SSL_CERT_FILE": world.certificates.caFile])
        }
        #expect(otherCA.termination == .exited(1))
        #expect(Self.failures(otherCA.stderr, world).count == 3 && otherCA.stderr.contains("TLS certificate could not be verified"), "\(otherCA.stderr)")
        #expect(!FileManager.default.fileExists(atPath: world.project + "/generated"))
    }

    @Test func aCertificateForAnotherHostFailsEvenFromATrustedCA() async throws {
        let world = try await onOwnThread { try World(identity: \.wrongHost) }
        let result = try await onOwnThread { try world.materialize(["--ca-file", world.certificates.caFile]) }
        #expect(result.termination == .exited(1))
        let errors = Self.failures(result.stderr, world)
        #expect(errors.count == 3, "\(result.stderr)")
        #expect(errors.allSatisfy { $0.contains("TLS certificate could not be verified") }, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: world.project + "/generated"))
    }

    @Test func aCAFileThatCannotBeUsedIsAnErrorNamingIt() async throws {
        let scratch = try TemporaryDirectory(prefix: "hld-tls-bad")
        let notPEM = scratch.appending("not.pem").path
        try "just text\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        for (arguments, environment, message) in [
            (["--ca-file", scratch.appending("missing.pem").path], [:], "error: --ca-file \(scratch.appending("missing.pem").path): cannot read the file\n"),
            (["--ca-file", notPEM], [:], "error: --ca-file \(notPEM): holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n"),
            ([], ["SSL_CERT_FILE": notPEM], "error: SSL_CERT_FILE \(notPEM): holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n"),
        ] as [([String], [String: String], String)] {
            let result = try await onOwnThread {
                try ChildProcess.run(hldBinary.path, ["-C", scratch.path] + arguments + ["materialize", "dev"],
                                     environment: Self.environment.merging(environment) { $1 })
            }
            #expect(result.termination == .exited(1), "\(arguments) \(environment)")
            #expect(result.stderr == message)
        }
    }
}
