import Foundation
import Testing
import TestSupport

/// Progress on stderr: one live line on a terminal, plain lines with --verbose elsewhere,
/// nothing with --quiet; a summary line at the end.
@Suite(.timeLimit(.minutes(10))) struct ProgressTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "TERM": "xterm"]
    }

    @Test func aColdFetchUnderATerminalRedrawsOneLineAndEndsWithTheSummary() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-progress")
        let work = try FixtureRepository.create(at: scratch.appending("work"))
        for index in 0..<600 { try work.write("apps/web/m/f\(index).yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\(index)\ndata:\n  n: \"\(UUID().uuidString)\"\n") }
        try work.write("apps/web/component.yaml", "name: web\ntype: static\npath: ./m\n")
        try work.commit("many files")
        try work.publishBare(into: scratch.appending("served"), name: "big")
        let daemon = try GitDaemon(root: scratch.appending("served"))
        defer { daemon.stop() }
        let root = scratch.appending("hld")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "name: cluster\nsubcomponents:\n- {name: web, method: git, source: \"\(daemon.url(for: "big.git"))\", path: apps/web}\n"
            .write(to: root.appendingPathComponent("component.yaml"), atomically: true, encoding: .utf8)
        func command(_ cache: String, _ extra: String = "") -> String {
            "\(hldBinary.path) materialize -C \(root.path) --cache-dir \(scratch.appending(cache).path) \(extra)"
        }

        // A pseudo-terminal from script(1): what a user at a terminal sees.
        let terminal = try ChildProcess.run("script", ["-qec", command("cache-tty"), "/dev/null"], environment: Self.environment)
        #expect(terminal.succeeded, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("\r\u{1B}[K"), "the live line is redrawn in place")
        let last = terminal.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        let summary = try #require(last.first { $0.contains("hld: ") }.map { String($0[$0.range(of: "hld: ")!.lowerBound...]) })
        #expect(summary.hasPrefix("hld: 2 component(s), 1 fetched, 0 rendered (0 from the render cache), 1 file(s) written, 0 unchanged, 0 removed, "))
        #expect(summary.hasSuffix(" s"))

        // Not a terminal (a CI log): no redraws, the occasional plain line, the summary;
        // with --verbose every progress line.
        let plain = try ChildProcess.run(hldBinary.path, ["materialize", "-C", root.path, "--cache-dir", scratch.appending("cache-plain").path, "--output-dir", "plain"],
                                         environment: Self.environment)
        #expect(plain.succeeded)
        #expect(!plain.stderr.contains("\r") && !plain.stderr.contains("\u{1B}["))
        let lines = plain.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(plain.stderr)")
        #expect(lines.first?.hasPrefix("fetched \(daemon.url(for: "big.git")): ") == true)
        #expect(lines.last?.hasPrefix("hld: 2 component(s), 1 fetched") == true)
        let verbose = try ChildProcess.run(hldBinary.path, ["-v", "materialize", "-C", root.path, "--cache-dir", scratch.appending("cache-verbose").path, "--output-dir", "verbose"],
                                           environment: Self.environment)
        #expect(verbose.succeeded)
        #expect(!verbose.stderr.contains("\r"))
        #expect(verbose.stderr.contains("fetched \(daemon.url(for: "big.git")): "), "\(verbose.stderr)")
        #expect(verbose.stderr.split(separator: "\n").last?.hasPrefix("hld: 2 component(s), 1 fetched") == true)
        // Per component: fetched, or from the cache when nothing moved.
        let fetchedLine = try Regex(#"web: git://127\.0\.0\.1:\d+/big\.git@[0-9a-f]{12}/apps/web fetched\n"#)
        #expect(verbose.stderr.contains(fetchedLine))
        let again = try ChildProcess.run(hldBinary.path, ["-v", "materialize", "-C", root.path, "--cache-dir", scratch.appending("cache-verbose").path, "--output-dir", "verbose"],
                                         environment: Self.environment)
        let cachedLine = try Regex(#"/apps/web from the cache\n"#)
        #expect(again.stderr.contains(cachedLine))
        #expect(again.stderr.split(separator: "\n").last?.hasPrefix("hld: 2 component(s), 0 fetched") == true)

        // --quiet: nothing at all on success, terminal or not.
        let quiet = try ChildProcess.run("script", ["-qec", command("cache-quiet", "-q --output-dir quiet"), "/dev/null"], environment: Self.environment)
        #expect(quiet.succeeded)
        #expect(quiet.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(quiet.stdout)")
    }
}
