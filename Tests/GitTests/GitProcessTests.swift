#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Git

/// Several `hld` processes on one cache, a process killed mid-fetch, and commit + push.
@Suite(.timeLimit(.minutes(10)))
struct GitProcessTests {
    /// The `hld` built next to this test bundle (or `$HLD_BINARY`).
    static var hld: String { hldBinary.path }

    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func startFetch(_ arguments: [String], scratch: TemporaryDirectory, name: String) throws -> ChildProcess {
        try ChildProcess(executable: Self.hld, arguments: ["cache", "fetch"] + arguments, environment: Self.environment,
                         stderrPath: scratch.appending("\(name).stderr").path)
    }

    func finish(_ child: ChildProcess) -> (Int32?, String, String) {
        let stdout = child.readToEnd(timeout: .seconds(120)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard case .exited(let code)? = child.waitForExit(timeout: .seconds(120)) else { return (nil, stdout, child.stderrLog()) }
        return (code, stdout, child.stderrLog())
    }

    func fsck(_ mirror: String, home: URL) throws {
        try GitCLI.check(["--git-dir", mirror, "fsck", "--no-progress"], home: home)
    }

    @Test func twoProcessesShareOneCache() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let served = scratch.appending("served")
        for index in 0..<5 {
            let fixture = try FixtureRepository.create(at: scratch.appending("work\(index)"))
            for file in 0..<40 { try fixture.write("dir\(file % 4)/file\(file).yaml", "index: \(index)\nfile: \(file)\n") }
            try fixture.commit("initial \(index)")
            try fixture.publishBare(into: served, name: "repo\(index)")
        }
        let daemon = try GitDaemon(root: served)
        defer { daemon.stop() }
        let urls = (0..<5).map { daemon.url(for: "repo\($0).git") }
        let cache = scratch.appending("cache").path
        let arguments = ["--cache-dir", cache, "--jobs", "4", "-v", "--export"] + urls
        let first = try startFetch(arguments, scratch: scratch, name: "a")
        let second = try startFetch(arguments, scratch: scratch, name: "b")
        let (codeA, outA, errA) = finish(first)
        let (codeB, outB, errB) = finish(second)
        #expect(codeA == 0, "\(errA)")
        #expect(codeB == 0, "\(errB)")
        #expect(outA == outB)
        #expect(outA.split(separator: "\n").count == 5)
        #expect(errA.contains("contacted 5 remote(s)"), "each URL at most once per process")
        #expect(errB.contains("contacted 5 remote(s)"))
        let mirrors = try FileManager.default.contentsOfDirectory(atPath: cache + "/git/mirrors").filter { $0.hasSuffix(".git") }
        #expect(mirrors.count == 5)
        for mirror in mirrors { try fsck(cache + "/git/mirrors/" + mirror, home: scratch.url) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cache + "/git/trees-v2").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        let (code, again, err) = finish(try startFetch(arguments, scratch: scratch, name: "c"))
        #expect(code == 0)
        #expect(again == outA)
        #expect(err.contains("contacted 5 remote(s), downloaded from 0"))
    }

    @Test func cacheFetchHonoursTheMirrorsOfHldYaml() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let fixture = try FixtureRepository.create(at: scratch.appending("work"))
        try fixture.write("a.yaml", "a: 1\n")
        let head = try fixture.commit("one")
        try fixture.publishBare(into: scratch.appending("served/team"), name: "apps")
        let daemon = try GitDaemon(root: scratch.appending("served"))
        defer { daemon.stop() }
        let project = scratch.appending("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try "mirrors:\n  https://git.example.invalid: git://127.0.0.1:\(daemon.port)/\n".write(to: project.appendingPathComponent("hld.yaml"), atomically: true, encoding: .utf8)
        let arguments = ["-C", project.path, "--cache-dir", scratch.appending("cache").path, "https://git.example.invalid/team/apps.git"]
        let (code, stdout, stderr) = finish(try startFetch(arguments, scratch: scratch, name: "mirrored"))
        #expect(code == 0, "\(stderr)")
        #expect(stdout.hasPrefix("\(head) "))
        #expect(stdout.hasSuffix(" https://git.example.invalid/team/apps.git\n"), "the original URL is what is shown")
    }

    /// libgit2 refuses a local repository another user owns (git's safe.directory check);
    /// the error says so and what to do. Making a repository another user's needs root.
    @Test(.enabled(if: getuid() == 0)) func aRepositoryOwnedByAnotherUserIsExplained() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let fixture = try FixtureRepository.create(at: scratch.appending("work"))
        try fixture.write("a.yaml", "a: 1\n")
        try fixture.commit("one")
        let bare = try fixture.publishBare(into: scratch.appending("served"), name: "apps")
        #expect(try ChildProcess.run("chown", ["-R", "nobody", bare.path], environment: Self.environment).succeeded)
        let (code, _, stderr) = finish(try startFetch(["--cache-dir", scratch.appending("cache").path, bare.path], scratch: scratch, name: "owned"))
        #expect(code == 1)
        #expect(stderr.contains("the repository is owned by another user, and libgit2 refuses to open it"), "\(stderr)")
        #expect(stderr.contains("run hld as the repository's owner"))
    }

    @Test func aProcessKilledMidFetchLeavesACacheTheNextRunCanUse() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let fixture = try FixtureRepository.create(at: scratch.appending("work"))
        // Incompressible content, so the transfer takes long enough to be interrupted.
        func addBigFile(_ name: String) throws {
            var bytes = [UInt8](repeating: 0, count: 24 << 20)
            var generator = SystemRandomNumberGenerator()
            for i in stride(from: 0, to: bytes.count, by: 8) {
                withUnsafeBytes(of: generator.next()) { word in for j in 0..<8 { bytes[i + j] = word[j] } }
            }
            try Data(bytes).write(to: fixture.url.appendingPathComponent(name))
        }
        try addBigFile("big1.bin")
        try fixture.commit("big one")
        let served = scratch.appending("served")
        try fixture.publishBare(into: served, name: "big")
        let http = try SmartHTTPServer(root: served)
        defer { http.stop() }
        let url = http.url(for: "big.git")
        let cache = scratch.appending("cache").path
        let mirrors = cache + "/git/mirrors"

        func killDuringTransfer(_ name: String) throws {
            let child = try startFetch(["--cache-dir", cache, url], scratch: scratch, name: name)
            // Wait until the fetch is writing (a temporary mirror or an incoming pack), then kill.
            let deadline = ContinuousClock.now + .seconds(30)
            var writing = false
            while ContinuousClock.now < deadline && !writing {
                let names = (try? FileManager.default.subpathsOfDirectory(atPath: mirrors)) ?? []
                writing = names.contains { $0.contains(".tmp-") && $0.contains("objects/pack") }
                    || names.contains { $0.contains("objects/pack/pack_") || $0.contains("objects/pack/tmp") }
                if !writing { usleep(2_000) }
            }
            kill(child.pid, SIGKILL)
            #expect(child.waitForExit(timeout: .seconds(10)) == .signaled(SIGKILL), "the fetch finished before it could be killed")
        }

        try killDuringTransfer("killed-first")
        var (code, out, err) = finish(try startFetch(["--cache-dir", cache, url], scratch: scratch, name: "after-first"))
        #expect(code == 0, "\(err)")
        #expect(out.hasPrefix(try fixture.head()))

        // Killed during an incremental fetch into an existing mirror.
        try addBigFile("big2.bin")
        try fixture.commit("big two")
        try fixture.publishBare(into: served, name: "big")
        try killDuringTransfer("killed-second")
        (code, out, err) = finish(try startFetch(["--cache-dir", cache, url], scratch: scratch, name: "after-second"))
        #expect(code == 0, "\(err)")
        #expect(out.hasPrefix(try fixture.head()))
        let entries = try FileManager.default.contentsOfDirectory(atPath: mirrors)
        #expect(!entries.contains { $0.contains(".tmp-") })
        for mirror in entries where mirror.hasSuffix(".git") { try fsck(mirrors + "/" + mirror, home: scratch.url) }
    }

    @Test func commitAndPushAreIdempotent() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let served = scratch.appending("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        try GitCLI.check(["init", "-q", "--bare", "-b", "main", served.appendingPathComponent("gitops.git").path], home: scratch.url)
        let daemon = try GitDaemon(root: served, enableReceivePack: true)
        defer { daemon.stop() }
        let remote = try GitURL(daemon.url(for: "gitops.git"))
        let local = scratch.appending("local.git").path
        let author = Signature(name: "hld", email: "hld@example.com", date: Date(timeIntervalSince1970: 1_700_000_000))
        let files = FileSet(["dev/app/app.yaml": Array("kind: ConfigMap\n".utf8), "dev/infra/infra.yaml": Array("kind: Namespace\n".utf8)])
        let credentials = GitCredentials(environment: [:], sshKeyFiles: [])

        guard case .created(let first) = try Committer.commit(files, repository: local, branch: "main", message: "materialize dev", author: author) else {
            Issue.record("expected a commit"); return
        }
        try Committer.push(repository: local, branch: "main", to: remote, credentials: credentials)
        let bare = served.appendingPathComponent("gitops.git").path
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "main"], home: scratch.url) == first.hex)
        #expect(try GitCLI.check(["--git-dir", bare, "show", "main:dev/app/app.yaml"], home: scratch.url) == "kind: ConfigMap")

        #expect(try Committer.commit(files, repository: local, branch: "main", message: "again", author: author) == .unchanged(first))
        try Committer.push(repository: local, branch: "main", to: remote, credentials: credentials)
        #expect(try GitCLI.check(["--git-dir", bare, "rev-list", "--count", "main"], home: scratch.url) == "1")

        var changed = files
        changed.files["dev/app/app.yaml"] = Array("kind: ConfigMap\ndata: {}\n".utf8)
        guard case .created(let second) = try Committer.commit(changed, repository: local, branch: "main", message: "change", author: author) else {
            Issue.record("expected a second commit"); return
        }
        try Committer.push(repository: local, branch: "main", to: remote, credentials: credentials)
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "main^"], home: scratch.url) == first.hex)
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "main"], home: scratch.url) == second.hex)

        // A push that would rewrite the remote's history is refused, with the reason.
        let other = scratch.appending("other.git").path
        _ = try Committer.commit(FileSet(["x": [1]]), repository: other, branch: "main", message: "unrelated", author: author)
        #expect {
            try Committer.push(repository: other, branch: "main", to: remote, credentials: credentials)
        } throws: { error in
            guard let error = error as? GitSourceError else { return false }
            return error.kind == .push && error.description.hasSuffix("(branch main): cannot push because a reference that you are trying to update on the remote contains commits that are not present locally.")
        }
        #expect(try GitCLI.check(["--git-dir", bare, "rev-parse", "main"], home: scratch.url) == second.hex)
    }
}
#endif
