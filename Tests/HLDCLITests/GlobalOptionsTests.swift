import Foundation
import Testing
import TestSupport

/// Global options go before or after the subcommand, like `git -C`.
@Suite struct GlobalOptionsTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    /// A static HLD (no tools needed) with `hld.yaml` declaring dev.
    static let project: TemporaryDirectory = {
        let scratch = try! TemporaryDirectory(prefix: "hld-global")
        let root = scratch.appending("hld")
        try! FileManager.default.createDirectory(at: root.appendingPathComponent("m"), withIntermediateDirectories: true)
        try! "name: cluster\ntype: static\npath: ./m\n".write(to: root.appendingPathComponent("component.yaml"), atomically: true, encoding: .utf8)
        try! "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n".write(to: root.appendingPathComponent("m/a.yaml"), atomically: true, encoding: .utf8)
        try! "environments: [dev]\n".write(to: root.appendingPathComponent("hld.yaml"), atomically: true, encoding: .utf8)
        return scratch
    }()

    func hld(_ arguments: [String]) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, arguments, environment: Self.environment)
    }

    static let options: [[String]] = [
        ["--jobs", "2"], ["--jobs=2"], ["--offline"], ["-v"], ["--verbose"], ["-q"], ["--quiet"], ["--strict"],
        ["--helm", "/bin/false"], ["--kustomize", "/bin/false"], ["--cache-dir", NSTemporaryDirectory() + "hld-global-cache"],
    ]

    @Test(arguments: options)
    func beforeOrAfterTheSubcommandMeansTheSame(option: [String]) throws {
        let root = Self.project.appending("hld").path
        let before = try hld(["-C", root] + option + ["materialize", "--stdout", "dev"])
        let after = try hld(["materialize", "-C", root] + option + ["--stdout", "dev"])
        #expect(before.succeeded, "\(before.stderr)")
        #expect(before.stdout == after.stdout)
        #expect(before.stderr == after.stderr)
        #expect(before.stdout.contains("name: a"))
    }

    @Test func beforeANestedSubcommandAndBeforeInstall() throws {
        let root = Self.project.appending("hld").path
        let installed = try hld(["--offline", "-C", root, "install", "dev"])
        #expect(installed.succeeded, "\(installed.stderr)")
        #expect(installed.stdout == "installed 1 component(s)\n")
        // `cache fetch` of nothing reachable: the option is understood, the URL fails.
        let fetch = try hld(["--offline", "-C", root, "cache", "fetch", "https://git.example.invalid/x.git"])
        #expect(fetch.termination == .exited(1))
        #expect(fetch.stderr.contains("not in the cache and --offline forbids fetching it"))
        #expect(try hld(["-q", "version"]).stdout.hasPrefix("hld "))
    }

    @Test func versionAndBadNumbersAndCommon() throws {
        let version = try hld(["--version"])
        #expect(version.succeeded)
        #expect(version.stdout == (try hld(["version"])).stdout.split(separator: "\n").first.map { $0.dropFirst(4) + "\n" })
        let jobs = try hld(["materialize", "--jobs", "-3"])
        #expect(jobs.termination == .exited(64))
        #expect(jobs.stderr.hasPrefix("Error: --jobs must be at least 1\n"))
        // `common` is valid although hld.yaml declares only dev.
        let common = try hld(["materialize", "-C", Self.project.appending("hld").path, "--stdout", "common"])
        #expect(common.succeeded, "\(common.stderr)")
        let unknown = try hld(["materialize", "-C", Self.project.appending("hld").path, "--stdout", "prod"])
        #expect(unknown.stderr.contains("unknown environment prod"))
    }
}
