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
        ["--color", "always"], ["--color=never"], ["--ca-file", "/etc/ssl/certs/ca-certificates.crt"],
    ]

    /// Other subcommands take them on either side too.
    @Test(arguments: ["tree", "install"], options)
    func beforeOrAfterOtherSubcommands(subcommand: String, option: [String]) async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let root = Self.project.appending("hld").path
            let before = try hld(["-C", root] + option + [subcommand, "dev"])
            let after = try hld([subcommand, "-C", root] + option + ["dev"])
            #expect(before.succeeded, "\(subcommand) \(option): \(before.stderr)")
            #expect(before.stdout == after.stdout && before.termination == after.termination)
        }
    }

    @Test(arguments: options)
    func beforeOrAfterTheSubcommandMeansTheSame(option: [String]) async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let root = Self.project.appending("hld").path
            let before = try hld(["-C", root] + option + ["materialize", "--stdout", "dev"])
            let after = try hld(["materialize", "-C", root] + option + ["--stdout", "dev"])
            #expect(before.succeeded, "\(before.stderr)")
            #expect(before.stdout == after.stdout)
            // The same, but for the seconds the summary line ends with.
            func timeless(_ text: String) -> String { text.replacingOccurrences(of: #", [0-9.]+ s\n"#, with: "\n", options: .regularExpression) }
            #expect(timeless(before.stderr) == timeless(after.stderr))
            #expect(before.stdout.contains("name: a"))
        }
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
        // `cache info` and `cache prune` take them before the nested subcommand too.
        let cache = Self.project.appending("cache-\(UUID().uuidString)").path
        let info = try hld(["--cache-dir", cache, "cache", "info"])
        #expect(info.stdout.hasPrefix("cache directory: \(cache)\n"), "\(info.stderr)")
        let prune = try hld(["-C", root, "--cache-dir", cache, "cache", "prune", "--dry-run"])
        #expect(prune.stdout == "would remove 0 entries, would free 0 B; the entries left take 0 B\n", "\(prune.stderr)")
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

@Suite struct TerminalOutputTests {
    static var environment: [String: String] { GlobalOptionsTests.environment }

    /// Kept for the suite's lifetime: a temporary directory is removed when released.
    static let scratch = try! TemporaryDirectory(prefix: "hld-terminal")

    func project(_ files: [String: String]) throws -> String {
        let scratch = Self.scratch.appending(UUID().uuidString)
        for (path, text) in files {
            let url = scratch.appendingPathComponent("hld/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return scratch.appendingPathComponent("hld").path
    }

    func hld(_ arguments: [String], environment: [String: String] = environment) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, arguments, environment: environment)
    }

    static let broken = [
        "component.yaml": "name: cluster\nowner: me\nsubcomponents:\n- {name: a, type: static, path: ./missing}\n",
    ]

    @Test func quietStillShowsTheWarningsThatPrecedeAFailure() throws {
        let root = try project(Self.broken)
        let quiet = try hld(["-q", "materialize", "-C", root, "--stdout"])
        #expect(quiet.termination == .exited(1))
        #expect(quiet.stderr == """
            warning: component.yaml:2:1: unknown field owner is ignored
            error: component.yaml:4:33: a: the static manifest directory missing does not exist

            """)
        // On success, --quiet prints nothing at all.
        let fine = try project(["component.yaml": "name: cluster\nowner: me\ntype: static\npath: ./m\n", "m/a.yaml": "kind: ConfigMap\nmetadata: {name: a}\n"])
        let ok = try hld(["-q", "materialize", "-C", fine])
        #expect(ok.succeeded && ok.stdout.isEmpty && ok.stderr.isEmpty)
    }

    @Test func colourOnlyWhenAskedOrOnATerminal() async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let root = try project(Self.broken)
            let always = try hld(["--color", "always", "materialize", "-C", root, "--stdout"])
            #expect(always.stderr.contains("\u{1B}[1;33mwarning:\u{1B}[0m component.yaml:2:1"))
            #expect(always.stderr.contains("\u{1B}[1;31merror:\u{1B}[0m component.yaml:4:33"))
            // Not a terminal here: auto means none; never means none.
            for arguments in [["materialize"], ["--color", "never", "materialize"]] {
                let plain = try hld(arguments + ["-C", root, "--stdout"])
                #expect(!plain.stderr.contains("\u{1B}["))
            }
            var noColor = Self.environment
            noColor["NO_COLOR"] = "1"
            #expect(!(try hld(["materialize", "-C", root, "--stdout"], environment: noColor)).stderr.contains("\u{1B}["))
            // On a terminal (a pseudo-terminal from script(1)): auto colours, NO_COLOR and
            // --color never do not.
            let command = "\(hldBinary.path) materialize -C \(root) --stdout"
            let terminal = try ChildProcess.run("script", ["-qec", command, "/dev/null"], environment: Self.environment)
            #expect(terminal.stdout.contains("\u{1B}[1;33mwarning:\u{1B}[0m component.yaml:2:1"), "\(terminal.stdout)")
            #expect(terminal.stdout.contains("\u{1B}[1;31merror:\u{1B}[0m component.yaml:4:33"))
            for (arguments, environment) in [(command, noColor), (command.replacingOccurrences(of: "materialize", with: "--color never materialize"), Self.environment)] {
                let plain = try ChildProcess.run("script", ["-qec", arguments, "/dev/null"], environment: environment)
                #expect(plain.stdout.contains("warning: component.yaml:2:1") && !plain.stdout.contains("\u{1B}["), "\(plain.stdout)")
            }
        }
    }

    /// `-v` says of each render whether helm ran or the render cache answered.
    @Test func verboseSaysWhetherEachComponentRenderedOrCameFromTheRenderCache() async throws {
        // Blocking work (child processes) on a thread of its own, not the pool the other tests need.
        try await onOwnThread {
            let root = try project([
                "component.yaml": "name: cluster\nsubcomponents:\n- {name: web, type: helm, path: ./chart}\n",
                "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
                "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
            ])
            let cache = URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("cache").path
            let arguments = ["-v", "materialize", "-C", root, "--cache-dir", cache, "--helm", try findHelm(), "--stdout"]
            let first = try hld(arguments)
            #expect(first.succeeded, "\(first.stderr)")
            #expect(first.stderr.contains("web: helm template (helm v"), "\(first.stderr)")
            #expect(!first.stderr.contains("web: from the render cache"))
            let second = try hld(arguments)
            #expect(second.stderr.contains("web: from the render cache\n"), "\(second.stderr)")
            #expect(!second.stderr.contains("web: helm template"))
        }
    }

    @Test func verboseNamesDisabledComponentsOnce() throws {
        let root = try project([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: infra, source: ./infra}\n",
            "infra/component.yaml": "name: infra\nsubcomponents:\n- {name: prometheus, type: static, path: ./m}\n",
            "infra/config/common.yaml": "subcomponents:\n  prometheus: {disabled: true}\n",
        ])
        let verbose = try hld(["-v", "materialize", "-C", root, "--stdout"])
        #expect(verbose.succeeded, "\(verbose.stderr)")
        #expect(verbose.stderr.contains("infra/prometheus: disabled\n"))
        #expect(!verbose.stderr.contains("infra/infra/prometheus"))
    }
}
