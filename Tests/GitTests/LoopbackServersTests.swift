#if os(Linux)
import Foundation
import Testing
import TestSupport

/// The loopback servers and fixtures in Support/ work, with the git CLI as the client.
@Suite(.timeLimit(.minutes(10)))
struct LoopbackServersTests {
    /// A published fixture: root/x.git with README.md and docs/guide.md on `main`.
    private func publishedFixture(in scratch: TemporaryDirectory) throws -> (FixtureRepository, URL, String) {
        let fixture = try FixtureRepository.create(at: scratch.appending("work"))
        try fixture.write("README.md", "# x\n")
        try fixture.write("docs/guide.md", "guide\n")
        try fixture.symlink("docs/readme-link", to: "../README.md")
        let sha = try fixture.commit("Initial commit")
        let root = scratch.appending("served")
        try fixture.publishBare(into: root, name: "x")
        return (fixture, root, sha)
    }

    @Test func fixtureCommitsAreReproducible() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        var shas: [String] = []
        for name in ["a", "b"] {
            let fixture = try FixtureRepository.create(at: scratch.appending(name), defaultBranch: "trunk")
            try fixture.write("f.txt", "one\n")
            try fixture.commit("first")
            try fixture.write("f.txt", "two\n")
            try fixture.tag("v1", annotated: true)
            shas.append(try fixture.commit("second"))
            #expect(try fixture.git(["symbolic-ref", "--short", "HEAD"]) == "trunk")
            #expect(try fixture.git(["cat-file", "-t", "v1"]) == "tag")
        }
        #expect(shas[0] == shas[1])
        #expect(shas[0].count == 40)
    }

    @Test func gitErrorsCarryStderr() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let fixture = try FixtureRepository.create(at: scratch.appending("repo"))
        #expect {
            try fixture.checkout("no-such-branch")
        } throws: { error in
            "\(error)".contains("no-such-branch") && "\(error)".contains("did not match")
        }
    }

    @Test func childProcessIsKilledWhenItIgnoresSIGTERM() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: "python3",
            arguments: ["-c", """
                import signal, sys, time
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print("ready", flush=True)
                time.sleep(60)
                """],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
            stderrPath: scratch.appending("stderr").path)
        #expect(try child.readLine(timeout: .seconds(10)) == "ready")
        #expect(child.isRunning)
        let start = ContinuousClock.now
        child.terminate(grace: .milliseconds(300))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(child.termination == .signaled(SIGKILL))
    }

    @Test func childProcessStartsWithCleanSignalsAndDescriptors() throws {
        let result = try ChildProcess.run(
            "python3",
            ["-c", """
                import os
                status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines())
                fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
                print(status["SigBlk"].strip(), fds, os.environ.get("ONLY"), len(os.environ))
                """],
            environment: ["ONLY": "this"], timeout: .seconds(20))
        // Nothing blocked; only stdin, stdout, stderr (and the listdir descriptor) open;
        // the environment is exactly what was passed (python adds LC_CTYPE at most).
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("0000000000000000 [0, 1, 2, 3] this "), "\(result.stdout)")
    }

    @Test func serverStartupFailureShowsTheServersStderr() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        #expect {
            _ = try SmartHTTPServer(root: scratch.appending("does-not-exist"))
        } throws: { error in
            "\(error)".contains("no such directory")
        }
    }

    @Test func serversAreStoppedWhenReleased() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        var pids: [pid_t] = []
        do {
            let daemon = try GitDaemon(root: scratch.url)
            let server = try SmartHTTPServer(root: scratch.url)
            pids = [daemon.process.pid, server.process.pid]
            #expect(pids.allSatisfy { kill($0, 0) == 0 })
        }
        // Released without stop(): deinit terminated and reaped both, so the pids are gone.
        #expect(pids.count == 2)
        #expect(pids.allSatisfy { kill($0, 0) == -1 && errno == ESRCH })
    }

    @Test func childProcessStopsOnSIGTERM() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: "sleep", arguments: ["60"],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
            stderrPath: scratch.appending("stderr").path)
        child.terminate()
        #expect(child.termination == .signaled(SIGTERM))
    }

    @Test func cloneOverGitProtocol() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, sha) = try publishedFixture(in: scratch)
        let daemon = try GitDaemon(root: root)
        defer { daemon.stop() }

        let clone = try FixtureRepository.clone(from: daemon.url(for: "x.git"), to: scratch.appending("clone"))
        #expect(try clone.head() == sha)
        #expect(clone.defaultBranch == "main")
        #expect(try String(contentsOf: clone.url.appendingPathComponent("docs/guide.md"), encoding: .utf8) == "guide\n")
        let link = try FileManager.default.destinationOfSymbolicLink(
            atPath: clone.url.appendingPathComponent("docs/readme-link").path)
        #expect(link == "../README.md")

        daemon.stop()
        #expect(!daemon.isRunning)
    }

    @Test func publishBareRefreshesTheSameBareRepository() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (fixture, root, _) = try publishedFixture(in: scratch)
        let daemon = try GitDaemon(root: root)
        defer { daemon.stop() }
        let clone = try FixtureRepository.clone(from: daemon.url(for: "x.git"), to: scratch.appending("clone"))

        try fixture.write("README.md", "# x, v2\n")
        let second = try fixture.commit("Second commit")
        try fixture.tag("v2")
        try fixture.branch("feature")
        try fixture.publishBare(into: root, name: "x")

        try clone.git(["fetch", "--quiet", "--tags", "origin"], timeout: .seconds(30))
        #expect(try clone.git(["rev-parse", "origin/main"]) == second)
        #expect(try clone.git(["rev-parse", "origin/feature"]) == second)
        #expect(try clone.git(["rev-parse", "v2^{commit}"]) == second)
    }

    @Test func cloneOverSmartHTTP() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, sha) = try publishedFixture(in: scratch)
        let server = try SmartHTTPServer(root: root)
        defer { server.stop() }

        let clone = try FixtureRepository.clone(from: server.url(for: "x.git"), to: scratch.appending("clone"))
        #expect(try clone.head() == sha)
        #expect(server.requestCount >= 2, "\(server.requests)")
        #expect(server.requests.first?.hasPrefix("GET /x.git/info/refs?service=git-upload-pack") == true)

        // A missing repository is a 404 from http-backend, relayed as such.
        let missing = try GitCLI.run(
            ["ls-remote", server.url(for: "nope.git")], home: scratch.url, timeout: .seconds(30))
        #expect(!missing.succeeded)
        #expect(missing.stderr.contains("not found"), "\(missing.stderr)")

        server.stop()
        #expect(!server.isRunning)
    }

    @Test func smartHTTPWithTokenNeedsCredentials() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, sha) = try publishedFixture(in: scratch)
        let token = "s3cr3t-\(UUID().uuidString)"
        let server = try SmartHTTPServer(root: root, token: token)
        defer { server.stop() }

        let withToken = "http://user:\(token)@127.0.0.1:\(server.port)/x.git"
        let clone = try FixtureRepository.clone(from: withToken, to: scratch.appending("clone"))
        #expect(try clone.head() == sha)

        let anonymous = try GitCLI.run(
            ["clone", server.url(for: "x.git"), scratch.appending("anonymous").path],
            home: scratch.url, timeout: .seconds(30))
        #expect(!anonymous.succeeded)
        #expect(anonymous.stderr.contains("Authentication failed") || anonymous.stderr.contains("could not read Username"),
                "\(anonymous.stderr)")

        let wrongToken = try GitCLI.run(
            ["clone", "http://user:wrong@127.0.0.1:\(server.port)/x.git", scratch.appending("wrong").path],
            home: scratch.url, timeout: .seconds(30))
        #expect(!wrongToken.succeeded)
        #expect(wrongToken.stderr.contains("Authentication failed"), "\(wrongToken.stderr)")
    }

    @Test func smartHTTPAcceptsAuthenticatedPush() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, _) = try publishedFixture(in: scratch)
        let token = "push-token"
        let server = try SmartHTTPServer(root: root, token: token)
        defer { server.stop() }

        let clone = try FixtureRepository.clone(
            from: "http://pusher:\(token)@127.0.0.1:\(server.port)/x.git", to: scratch.appending("clone"))
        // Bigger than http.postBuffer, so git sends a chunked request body.
        let big = (0..<40_000).map { "line \($0) \(UUID().uuidString)" }.joined(separator: "\n")
        try clone.write("big.txt", big)
        let pushed = try clone.commit("Big file")
        try clone.git(["-c", "http.postBuffer=65536", "push", "--quiet", "origin", "main"], timeout: .seconds(60))
        #expect(try GitCLI.check(["--git-dir", root.appendingPathComponent("x.git").path, "rev-parse", "main"],
                                 home: scratch.url) == pushed)
    }

    @Test func pushToGitDaemonWithReceivePack() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, _) = try publishedFixture(in: scratch)
        let daemon = try GitDaemon(root: root, enableReceivePack: true)
        defer { daemon.stop() }

        let clone = try FixtureRepository.clone(from: daemon.url(for: "x.git"), to: scratch.appending("clone"))
        try clone.write("CHANGELOG.md", "- pushed\n")
        let pushed = try clone.commit("Pushed commit")
        try clone.git(["push", "--quiet", "origin", "main"], timeout: .seconds(30))
        try clone.git(["push", "--quiet", "origin", "main:refs/heads/other"], timeout: .seconds(30))

        let bare = root.appendingPathComponent("x.git").path
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "main"], home: scratch.url) == pushed)
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "other"], home: scratch.url) == pushed)
    }

    @Test func gitDaemonWithoutReceivePackRefusesPush() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let (_, root, sha) = try publishedFixture(in: scratch)
        let daemon = try GitDaemon(root: root)
        defer { daemon.stop() }

        let clone = try FixtureRepository.clone(from: daemon.url(for: "x.git"), to: scratch.appending("clone"))
        try clone.write("CHANGELOG.md", "- refused\n")
        try clone.commit("Refused commit")
        let push = try GitCLI.run(["-C", clone.path, "push", "origin", "main"], home: scratch.url, timeout: .seconds(30))
        #expect(!push.succeeded)
        #expect(push.stderr.contains("not enabled"), "\(push.stderr)")
        #expect(try GitCLI.check(["--git-dir", root.appendingPathComponent("x.git").path, "rev-parse", "main"],
                                 home: scratch.url) == sha)
    }
}
#endif
