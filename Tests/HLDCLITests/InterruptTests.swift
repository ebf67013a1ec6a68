import Foundation
import Testing
import TestSupport

/// SIGINT and SIGTERM in the middle of a run leave no temporary file of hld's behind, and
/// the output is the old tree or the new one.
@Suite(.timeLimit(.minutes(10))) struct InterruptTests {
    /// Every file under `root` whose name marks it as hld's temporary.
    func leftovers(under root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
            let name = URL(fileURLWithPath: $0).lastPathComponent
            return name.contains(".tmp-") || name.hasPrefix("hld-run-") || name.hasPrefix("hld-hooks-") || name.hasPrefix("values-")
        }
    }

    @Test func interruptsAtRandomPointsLeaveNothingBehind() async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let scratch = try TemporaryDirectory(prefix: "hld-interrupt")
            let root = scratch.appending("hld").path
            let temp = scratch.appending("tmp").path
            let cache = scratch.appending("cache").path
            let fm = FileManager.default
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            let fixture = try InterruptFixture(scratch: scratch, root: root)
            defer { fixture.daemon.stop() }
            let config = fixture.config
            let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path, "TMPDIR": temp + "/"]
            func start(cache: String = cache) throws -> ChildProcess {
                try ChildProcess(executable: hldBinary.path, arguments: ["materialize", "-C", root, "--cache-dir", cache, "--jobs", "2"],
                                 environment: environment, stderrPath: scratch.appending("stderr-\(UUID().uuidString)").path)
            }

            try config("old")
            let first = try start()
            #expect(first.waitForExit(timeout: .seconds(60)) == .exited(0), "\(first.stderrLog())")
            var previous = try fileContents(under: root + "/generated")

            var interrupted = 0
            for run in 0..<20 {
                // A new secret each run, so every run renders (nothing from the render cache).
                try config("new-\(run)")
                // Every other run with an empty cache: it fetches and exports the git tree.
                let runCache = run % 2 == 0 ? scratch.appending("cache-\(run)").path : cache
                let child = try start(cache: runCache)
                usleep(UInt32.random(in: 0...600_000))
                kill(child.pid, run % 2 == 0 ? SIGINT : SIGTERM)
                let termination = child.waitForExit(timeout: .seconds(60))
                // Finished, stopped cleanly, or (a signal in the first instant, before the
                // handler is installed) killed before it did anything; the checks below hold
                // for all three.
                let signal = run % 2 == 0 ? SIGINT : SIGTERM
                #expect(termination == .exited(0) || termination == .exited(128 + signal) || termination == .signaled(signal), "\(String(describing: termination)): \(child.stderrLog())")
                if termination == .exited(128 + signal) { interrupted += 1 }
                #expect(leftovers(under: temp).isEmpty, "run \(run): \(leftovers(under: temp))")
                #expect(leftovers(under: runCache).isEmpty, "run \(run): \(leftovers(under: runCache))")
                #expect(leftovers(under: root + "/generated").isEmpty, "run \(run): \(leftovers(under: root + "/generated"))")
                let now = try fileContents(under: root + "/generated")
                if now != previous {
                    // The new tree, whole: every secret of this run and none of another.
                    let text = String(decoding: now.values.flatMap { $0 }, as: UTF8.self)
                    #expect(InterruptFixture.isWhole(text, token: "new-\(run)"), "run \(run): a mix of old and new")
                    previous = now
                }
                #expect(!fm.fileExists(atPath: root + "/generated/.common.tmp-"), "no half-built output")
            }
            #expect(interrupted > 0, "some runs were stopped in the middle")
        }
    }
}

/// The project the interrupt and kill tests stop: static files, a git component of 400
/// files on git daemon (so a signal can land in a fetch or a tree export), and six helm
/// charts whose secret changes with every run (so every run renders).
struct InterruptFixture {
    static let charts = 6
    let root: String
    let daemon: GitDaemon

    init(scratch: TemporaryDirectory, root: String) throws {
        let fm = FileManager.default
        let work = try FixtureRepository.create(at: scratch.appending("work"))
        for index in 0..<400 {
            try work.write("apps/web/m/f\(index).yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\(index)\ndata:\n  n: \"\(UUID().uuidString)\"\n")
        }
        try work.write("apps/web/component.yaml", "name: web\ntype: static\npath: ./m\n")
        try work.commit("many files")
        try work.publishBare(into: scratch.appending("served"), name: "web")
        daemon = try GitDaemon(root: scratch.appending("served"))
        var component = "name: cluster\nsubcomponents:\n- {name: files, type: static, path: ./m}\n"
        component += "- {name: web, method: git, source: \"\(daemon.url(for: "web.git"))\", path: apps/web}\n"
        for index in 0..<Self.charts {
            component += "- {name: c\(index), type: helm, path: ./chart}\n"
        }
        try fm.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/chart/templates", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
        try component.write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\n".write(toFile: root + "/m/a.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v2\nname: chart\nversion: 0.1.0\n".write(toFile: root + "/chart/Chart.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\nstringData:\n  token: {{ .Values.token | quote }}\n"
            .write(toFile: root + "/chart/templates/secret.yaml", atomically: true, encoding: .utf8)
        self.root = root
    }

    /// Gives every chart the secret `token-<index>`.
    func config(_ token: String) throws {
        let entries = (0..<Self.charts).map { "  c\($0): {config: {token: \"\(token)-\($0)\"}}" }.joined(separator: "\n")
        try "subcomponents:\n\(entries)\n".write(toFile: root + "/config/common.yaml", atomically: true, encoding: .utf8)
    }

    /// Whether `text` (a whole render) holds every chart's secret of `token` and no other.
    static func isWhole(_ text: String, token: String) -> Bool {
        (0..<charts).allSatisfy { text.contains("\(token)-\($0)") } && text.components(separatedBy: "token: ").count - 1 == charts
    }
}

@Suite struct LeftoverTests {
    @Test func whatAKilledRunLeftIsRemovedByTheNextRun() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-leftovers")
        let root = scratch.appending("hld").path
        let temp = scratch.appending("tmp").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try "name: cluster\ntype: static\npath: ./m\n".write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n".write(toFile: root + "/m/a.yaml", atomically: true, encoding: .utf8)
        // A process that has exited: its pid names what a killed run would have left.
        let gone = try ChildProcess(executable: "/bin/true", arguments: [], environment: [:], stderrPath: scratch.appending("e").path)
        _ = gone.waitForExit(timeout: .seconds(10))
        let stale = ["\(temp)/hld-run-\(gone.pid)-1/values-1.yaml", "\(root)/generated/.common.tmp-\(gone.pid)-7/cluster.yaml"]
        for file in stale {
            try fm.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "secret: 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        }
        // Someone else's live run is left alone.
        let live = "\(temp)/hld-run-\(getpid())-2"
        try fm.createDirectory(atPath: live, withIntermediateDirectories: true)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path, "TMPDIR": temp + "/"]
        let result = try ChildProcess.run(hldBinary.path, ["materialize", "-C", root, "--cache-dir", scratch.appending("cache").path], environment: environment)
        #expect(result.succeeded, "\(result.stderr)")
        for file in stale { #expect(!fm.fileExists(atPath: (file as NSString).deletingLastPathComponent)) }
        #expect(fm.fileExists(atPath: live))
        #expect(try fm.contentsOfDirectory(atPath: root + "/generated") == ["common"])
    }
}

@Suite struct OldTreeTests {
    /// Whether `chattr +i` works here (it needs root and a file system that has the flag).
    static let immutableFiles: Bool = {
        guard let scratch = try? TemporaryDirectory(prefix: "hld-chattr") else { return false }
        let file = scratch.appending("f").path
        FileManager.default.createFile(atPath: file, contents: Data())
        guard (try? ChildProcess.run("chattr", ["+i", file], environment: ["PATH": "/usr/bin:/bin:/sbin:/usr/sbin"]))?.succeeded == true else { return false }
        _ = try? ChildProcess.run("chattr", ["-i", file], environment: ["PATH": "/usr/bin:/bin:/sbin:/usr/sbin"])
        return true
    }()

    @Test(.enabled(if: immutableFiles)) func anOldTreeThatCannotBeRemovedIsAnErrorNamingIt() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-oldtree")
        let root = scratch.appending("hld").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try "name: cluster\ntype: static\npath: ./m\n".write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n".write(toFile: root + "/m/a.yaml", atomically: true, encoding: .utf8)
        let environment = ["PATH": "/usr/bin:/bin:/sbin:/usr/sbin", "HOME": scratch.path]
        let run = { try ChildProcess.run(hldBinary.path, ["materialize", "-C", root, "--cache-dir", scratch.appending("cache").path], environment: environment) }
        #expect(try run().succeeded)
        let stuck = root + "/generated/common/cluster.yaml"
        #expect(try ChildProcess.run("chattr", ["+i", stuck], environment: environment).succeeded)
        defer { _ = try? ChildProcess.run("chattr", ["-i", "-R", root + "/generated"], environment: environment) }
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n".write(toFile: root + "/m/a.yaml", atomically: true, encoding: .utf8)
        let failed = try run()
        #expect(failed.termination == .exited(1))
        #expect(failed.stderr.contains("error: the new output is in \(root)/generated/common, but the old tree moved to \(root)/generated/.common.tmp-"), "\(failed.stderr)")
        #expect(failed.stderr.contains("cannot be removed (check its permissions) and is left there"))
        #expect(try String(contentsOfFile: stuck.replacingOccurrences(of: "/common/", with: "/common/"), encoding: .utf8).contains("name: b"), "the new tree is in place")
    }
}
