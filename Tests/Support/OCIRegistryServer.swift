// Test support: a real OCI registry (distribution 2.8, Debian's docker-registry package) on
// loopback, and a token-gated proxy in front of it that behaves like a public registry
// (401 + Bearer challenge, anonymous token, blobs redirected to another origin).

#if os(Linux)
import Foundation
import Glibc

// MARK: - OCIRegistryServer

/// `docker-registry serve` on 127.0.0.1:<port>, storing in a temporary directory;
/// `helm push --plain-http` and hld speak plain HTTP to it.
package final class OCIRegistryServer: Sendable {
    package let port: Int
    package let process: ChildProcess
    private let scratch: TemporaryDirectory

    /// Where the registry keeps its blobs and repositories.
    package var storage: URL { scratch.appending("storage") }
    /// `127.0.0.1:<port>`.
    package var host: String { "127.0.0.1:\(port)" }

    /// The installed registry binary, or an error saying how to get it.
    package static func executable() throws -> String {
        if let found = try? ChildProcess.resolve("docker-registry", environment: ProcessInfo.processInfo.environment) { return found }
        if access("/usr/bin/docker-registry", X_OK) == 0 { return "/usr/bin/docker-registry" }
        throw LoopbackServerError("docker-registry (Debian's package of the distribution OCI registry) is not installed: run scripts/bootstrap")
    }

    package init(startupTimeout: Duration = .seconds(10)) throws {
        let executable = try Self.executable()
        let scratch = try TemporaryDirectory(prefix: "hld-oci-registry")
        let storage = scratch.appending("storage")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        let logPath = scratch.appending("registry.log").path
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path]
        let deadline = ContinuousClock.now + startupTimeout
        var failures: [String] = []
        // The port is free when picked but could be taken before the registry binds it: if
        // the registry exits during start-up, try again with another port.
        for _ in 1...3 {
            let port = freeLoopbackPort()
            let config = scratch.appending("config-\(port).yml")
            try """
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: \(storage.path)
                http:
                  addr: 127.0.0.1:\(port)

                """.write(to: config, atomically: true, encoding: .utf8)
            let child = try ChildProcess(executable: executable, arguments: ["serve", config.path], environment: environment, stderrPath: logPath)
            while child.isRunning && !loopbackPortAcceptsConnections(port) && ContinuousClock.now < deadline {
                usleep(20_000)
            }
            if let termination = child.termination {
                failures.append("docker-registry on port \(port) exited during start-up (\(termination))")
                if ContinuousClock.now < deadline { continue }
            } else if loopbackPortAcceptsConnections(port) {
                self.port = port
                self.process = child
                self.scratch = scratch
                return
            } else {
                child.terminate()
                failures.append("docker-registry did not accept connections on 127.0.0.1:\(port) within \(startupTimeout)")
            }
            break
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw LoopbackServerError(failures.joined(separator: "\n") + "\nstderr (\(logPath)):\n" + log)
    }

    /// `oci://127.0.0.1:<port>/<repository>`.
    package func url(_ repository: String) -> String { "oci://\(host)/\(repository)" }

    /// The file holding blob (or manifest) `digest` (`sha256:<hex>`) in the registry's
    /// storage, for tests that damage the registry's copy.
    package func blobFile(_ digest: String) -> URL {
        let hex = String(digest.dropFirst("sha256:".count))
        return storage.appendingPathComponent("docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }

    /// The registry's stderr so far.
    package func log() -> String { process.stderrLog() }

    package var isRunning: Bool { process.isRunning }

    package func stop() { process.terminate() }

    deinit { process.terminate() }
}

// MARK: - TokenGatedRegistry

/// A proxy in front of a registry that answers like a public one: `/v2/…` without the
/// token is 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; `/token` hands
/// out the token anonymously; with it, manifests and tag lists come from the registry and
/// blobs are redirected to `http://localhost:<port>/storage/…` (another origin), which
/// records whether a request carried an `Authorization` header.
package final class TokenGatedRegistry: Sendable {
    package let port: Int
    package let process: ChildProcess
    private let scratch: TemporaryDirectory
    package static let token = "anonymous-pull-token"

    package var host: String { "127.0.0.1:\(port)" }
    package func url(_ repository: String) -> String { "oci://\(host)/\(repository)" }

    /// One line per request: `METHOD path auth=<Authorization header or ->`.
    package var requests: [String] {
        ((try? String(contentsOf: scratch.appending("requests.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    package init(upstream: OCIRegistryServer, startupTimeout: Duration = .seconds(10)) throws {
        let scratch = try TemporaryDirectory(prefix: "hld-oci-proxy")
        let log = scratch.appending("requests.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let script = """
            import http.server, os, sys, threading, time, urllib.error, urllib.request
            upstream, log, token = sys.argv[1], sys.argv[2], sys.argv[3]
            parent = os.getppid()
            def watch():
                while os.getppid() == parent:
                    time.sleep(0.25)
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            lock = threading.Lock()
            class Handler(http.server.BaseHTTPRequestHandler):
                def log_message(self, *args):
                    pass
                def answer(self, status, body=b"", headers=()):
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def forward(self, path):
                    request = urllib.request.Request(upstream + path, headers={"Accept": self.headers.get("Accept", "*/*")})
                    try:
                        with urllib.request.urlopen(request) as response:
                            self.answer(response.status, response.read(), [("Content-Type", response.headers.get("Content-Type", ""))])
                    except urllib.error.HTTPError as error:
                        self.answer(error.code, error.read(), [("Content-Type", "application/json")])
                def do_GET(self):
                    with lock, open(log, "a") as out:
                        out.write("GET %s auth=%s\\n" % (self.path, self.headers.get("Authorization", "-")))
                    port = self.server.server_address[1]
                    if self.path.startswith("/token?"):
                        return self.answer(200, ('{"token": "%s"}' % token).encode(), [("Content-Type", "application/json")])
                    if self.path.startswith("/storage/"):
                        return self.forward("/v2/" + self.path[len("/storage/"):])
                    if self.headers.get("Authorization") != "Bearer " + token:
                        name = self.path[len("/v2/"):].split("/manifests/")[0].split("/blobs/")[0].split("/tags/")[0]
                        challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="proxy.test",scope="repository:%s:pull"' % (port, name)
                        return self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', [("WWW-Authenticate", challenge)])
                    if "/blobs/" in self.path:
                        return self.answer(307, b"", [("Location", "http://localhost:%d/storage/%s" % (port, self.path[len("/v2/"):]))])
                    self.forward(self.path)
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            print("PORT", server.server_address[1], flush=True)
            server.serve_forever()
            """
        var environment = GitCLI.environment(home: scratch.url)
        environment["PYTHONUNBUFFERED"] = "1"
        environment["NO_PROXY"] = "*"
        let child = try ChildProcess(
            executable: "python3", arguments: ["-c", script, "http://\(upstream.host)", log.path, Self.token],
            environment: environment, stderrPath: scratch.appending("proxy.log").path)
        let line: String?
        do {
            line = try child.readLine(timeout: startupTimeout)
        } catch {
            child.terminate()
            throw error
        }
        guard let line, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            child.terminate()
            throw LoopbackServerError("the token-gated registry proxy did not report its port\n" + child.stderrLog())
        }
        self.port = port
        self.process = child
        self.scratch = scratch
    }

    package func stop() { process.terminate() }

    deinit { process.terminate() }
}
#endif
