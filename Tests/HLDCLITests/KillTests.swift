import Crypto
import Foundation
import Testing
import TestSupport

/// `kill -9` at random points of materialize — in a fetch, a tree export, a render, a
/// cache write, the output swap or an `--into` commit — 50 times. SIGKILL runs no handler,
/// so this is what a crash or an OOM kill leaves: the output is the old tree or the new one,
/// every cache entry verifies, and the next run succeeds and equals a clean run.
@Suite(.timeLimit(.minutes(10))) struct KillTests {
    @Test func killNineAtRandomPointsLosesNothing() async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread { try Self.killFiftyTimes() }
    }

    static func killFiftyTimes() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-kill")
        let root = scratch.appending("hld").path
        let temp = scratch.appending("tmp").path
        let cache = scratch.appending("cache").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let fixture = try InterruptFixture(scratch: scratch, root: root)
        defer { fixture.daemon.stop() }
        let seed = try FixtureRepository.create(at: scratch.appending("gitops-work"))
        try seed.write("README.md", "rendered manifests\n")
        try seed.commit("start")
        let gitops = try seed.publishBare(into: scratch.appending("gitops"), name: "gitops").path
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path, "TMPDIR": temp + "/"]
        func start(_ extra: [String] = [], cache: String = cache, output: String = "generated") throws -> ChildProcess {
            try ChildProcess(executable: hldBinary.path,
                             arguments: ["materialize", "-C", root, "--cache-dir", cache, "--jobs", "2", "--output-dir", output] + extra,
                             environment: environment, stderrPath: scratch.appending("stderr-\(UUID().uuidString)").path)
        }
        func git(_ arguments: [String]) throws -> String { try GitCLI.check(["--git-dir=" + gitops] + arguments, home: scratch.url) }
        /// The text of every file the GitOps branch holds at its tip.
        func committed() throws -> String { try git(["grep", "-h", "-e", "token:", "-e", "name:", "main"]) }

        try fixture.config("old")
        // How long whole runs take here, cold and warm: the kills fall inside those spans, so
        // most land mid-run on a fast machine and on a loaded one alike.
        let clock = ContinuousClock()
        var began = clock.now
        let first = try start()
        #expect(first.waitForExit(timeout: .seconds(120)) == .exited(0), "\(first.stderrLog())")
        let coldRun = clock.now - began
        began = clock.now
        #expect(try start(["--into", gitops, "--branch", "main"]).waitForExit(timeout: .seconds(120)) == .exited(0))
        let warmRun = clock.now - began
        func microseconds(_ duration: Duration) -> UInt32 {
            UInt32(clamping: duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        }
        var previous = try fileContents(under: root + "/generated/common")
        var previousTip = try git(["rev-parse", "main"])
        var killedMidway = 0

        for run in 0..<50 {
            let token = "new-\(run)"
            try fixture.config(token)
            // Every third run with an empty cache (it fetches and exports the git tree); every
            // fifth commits into the GitOps repository instead of writing the directory.
            let runCache = run % 3 == 0 ? scratch.appending("cache-\(run)").path : cache
            let into = run % 5 == 4
            let child = try start(into ? ["--into", gitops, "--branch", "main"] : [], cache: runCache)
            usleep(UInt32.random(in: 0...max(1, microseconds((run % 3 == 0 ? coldRun : warmRun) * 0.9))))
            kill(child.pid, SIGKILL)
            let termination = child.waitForExit(timeout: .seconds(60))
            #expect(termination == .exited(0) || termination == .signaled(SIGKILL), "run \(run): \(String(describing: termination)): \(child.stderrLog())")
            if termination == .signaled(SIGKILL) { killedMidway += 1 }

            // The output is the old tree or the new one, whole. (A run killed while it built
            // its new tree leaves that half tree in a hidden sibling, `.common.tmp-…`; it is
            // not the output, and the next run removes it: checked below.)
            let now = try fileContents(under: root + "/generated/common")
            if now != previous {
                #expect(InterruptFixture.isWhole(String(decoding: now.values.flatMap { $0 }, as: UTF8.self), token: token), "run \(run): a mix of old and new")
                previous = now
            }
            if into {
                let tip = try git(["rev-parse", "main"])
                if tip != previousTip {
                    #expect(InterruptFixture.isWhole(try committed(), token: token), "run \(run): the commit holds a mix of old and new")
                    previousTip = tip
                }
                #expect(try ChildProcess.run("git", ["--git-dir=" + gitops, "fsck", "--no-progress"], environment: environment).succeeded, "run \(run): the GitOps repository is damaged")
            }
            let damaged = try Self.unverifiedEntries(in: runCache)
            #expect(damaged.isEmpty, "run \(run): \(damaged)")

            // The next run on the same cache succeeds and writes what a clean run writes.
            let next = try start(into ? ["--into", gitops, "--branch", "main"] : [], cache: runCache)
            #expect(next.waitForExit(timeout: .seconds(120)) == .exited(0), "run \(run), next: \(next.stderrLog())")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/generated").filter { $0.hasPrefix(".") }
            #expect(into || leftovers.isEmpty, "run \(run): the next run left \(leftovers)")
            let clean = try start(cache: scratch.appending("clean-\(run)").path, output: "clean")
            #expect(clean.waitForExit(timeout: .seconds(120)) == .exited(0), "run \(run), clean: \(clean.stderrLog())")
            if into {
                previousTip = try git(["rev-parse", "main"])
                #expect(InterruptFixture.isWhole(try committed(), token: token), "run \(run): the next run's commit")
            } else {
                previous = try fileContents(under: root + "/generated/common")
                #expect(previous == (try fileContents(under: root + "/clean/common")), "run \(run): the next run differs from a clean run")
            }
            try? FileManager.default.removeItem(atPath: scratch.appending("clean-\(run)").path)
        }
        #expect(killedMidway >= 25, "most runs were killed before they finished (\(killedMidway) of 50)")
    }

    /// Every entry of the cache at `root` that does not verify: chart archives and http
    /// objects against the sha256 they are named by, render entries against the digest in
    /// their header, git mirrors with `git fsck`. Temporaries and lock files a killed run
    /// left are not entries (the next run removes them).
    static func unverifiedEntries(in root: String) throws -> [String] {
        let fm = FileManager.default
        func entries(_ directory: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: root + "/" + directory)) ?? []).filter {
                !$0.contains(".tmp-") && !$0.hasSuffix(".lock") && !$0.hasSuffix(".use") && !$0.hasPrefix(".")
            }.sorted()
        }
        func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        var damaged: [String] = []
        for (directory, suffix) in [("helm/charts", ".tgz"), ("http/objects", "")] {
            for name in entries(directory) {
                let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + directory + "/" + name))
                if sha256(data) != String(name.dropLast(suffix.count)) { damaged.append("\(directory)/\(name)") }
            }
        }
        for name in entries("renders") {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/renders/" + name))
            let header = "hld-verified sha256="
            guard let newline = data.firstIndex(of: UInt8(ascii: "\n")),
                  String(decoding: data[..<newline], as: UTF8.self) == header + sha256(data[(newline + 1)...]) else {
                damaged.append("renders/\(name)")
                continue
            }
        }
        for name in entries("git/mirrors") where name.hasSuffix(".git") {
            let fsck = try ChildProcess.run("git", ["--git-dir=" + root + "/git/mirrors/" + name, "fsck", "--no-progress", "--no-dangling"],
                                            environment: ["PATH": "/usr/bin:/bin", "HOME": root])
            if !fsck.succeeded { damaged.append("git/mirrors/\(name): \(fsck.stderr)") }
        }
        return damaged
    }
}
