import ArgumentParser
import Foundation
import Git
import HLD

extension HLDCommand {
    struct Materialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "materialize",
            abstract: "Render the HLD for one or more environments into flat manifests.",
            discussion: """
                Environments (and groups) layer in command-line order: `hld materialize prod \
                eastus` merges config/prod, then config/eastus, then config/common. The output \
                goes to <output-dir>/<env1-env2…>/ (default generated/; `common` with no \
                environment), replaced atomically: files that are no longer produced disappear.
                """,
            aliases: ["generate"]
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Environments and groups, highest precedence first (default: hld.yaml's defaults, else common).",
                  completion: .custom(environmentNames))
        var environments: [String] = []

        @Flag(help: "Write the manifests to standard output instead of the output directory.")
        var stdout = false

        @Flag(help: "Write nothing; exit 1 and list the files when the output on disk differs.")
        var check = false

        @Option(help: ArgumentHelp("Where environment directories go.", valueName: "dir"))
        var outputDir = "generated"

        @Flag(help: "Run hooks of components fetched from git or http too.")
        var allowHooks = false

        @Option(help: "text, or json: the result (files, components with their pins, diagnostics, errors) as one JSON document on stdout.")
        var format: OutputFormat = .text

        @Option(help: ArgumentHelp("With --check: show at most this many lines of the unified diff (0: none).", valueName: "n"))
        var diffLines = 200

        @Flag(help: "Every environment of hld.yaml (each environment × group pair when groups are declared), each into its own directory, in one run.")
        var all = false

        @Flag(help: "Render exactly the pins of hld.lock; fail when the lock does not cover the definition.")
        var locked = false

        @Flag(help: "--locked, and no network at all: everything must be in the cache.")
        var frozen = false

        @Option(help: ArgumentHelp("Commit the manifests into this GitOps repository (a path; with --push any git URL) instead of writing them to disk.", valueName: "repo"))
        var into: String?

        @Option(help: ArgumentHelp("With --into: the branch to commit to, created when missing ({env} for one branch per environment).", valueName: "branch"))
        var branch = "main"

        @Option(help: ArgumentHelp("With --into: the directory in the branch whose content the environment replaces ({env} expands; default: the root for one environment, {env} for several).", valueName: "path"))
        var path: String?

        @Flag(help: "With --into: fetch the branch, commit on its tip and push it (once more on a refused push).")
        var push = false

        @Option(help: ArgumentHelp("With --into: the commit message's subject (provenance trailers follow).", valueName: "text"))
        var message: String?

        @Option(help: ArgumentHelp("With --into: the commit's author (default: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, else hld <hld@localhost>).", valueName: "Name <email>"))
        var author: String?

        func validate() throws {
            if stdout && check { throw ValidationError("--stdout and --check cannot be used together") }
            if stdout && format == .json { throw ValidationError("--stdout and --format json cannot be used together") }
            if all && !environments.isEmpty { throw ValidationError("--all renders every environment of hld.yaml; name none with it") }
            if diffLines < 0 { throw ValidationError("--diff-lines must be 0 or more") }
            if all && stdout { throw ValidationError("--all writes one directory per environment; --stdout cannot hold them apart") }
            if into != nil && stdout { throw ValidationError("--into commits the manifests; --stdout prints them: use one") }
            if into == nil {
                for (flag, used) in [("--push", push), ("--path", path != nil), ("--message", message != nil), ("--author", author != nil), ("--branch", branch != "main")] where used {
                    throw ValidationError("\(flag) goes with --into <repo>")
                }
            }
            if let author, Self.signature(author) == nil { throw ValidationError("--author must look like \"Name <email>\", not \(author)") }
        }

        /// `Name <email>`, parsed.
        static func signature(_ text: String) -> Signature? {
            guard let open = text.lastIndex(of: "<"), text.hasSuffix(">") else { return nil }
            let name = text[..<open].trimmingCharacters(in: .whitespaces)
            let email = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            guard !name.isEmpty, !email.isEmpty, !email.contains(" ") else { return nil }
            return Signature(name: name, email: email)
        }

        /// The `--into` target, when there is one.
        func target() -> GitOpsTarget? {
            guard let into else { return nil }
            let environment = ProcessInfo.processInfo.environment
            let author = author.flatMap(Self.signature)
                ?? Signature(name: environment["GIT_AUTHOR_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "hld",
                             email: environment["GIT_AUTHOR_EMAIL"].flatMap { $0.isEmpty ? nil : $0 } ?? "hld@localhost")
            return GitOpsTarget(location: into, branch: branch, path: path, push: push, message: message, author: author)
        }

        func run() async throws {
            var options = try global.materializeOptions(environments: environments, allowHooks: allowHooks)
            let materializations: [Materialization]
            do {
                if locked || frozen { try options.useLock(offline: frozen) }
                materializations = all ? try await Materializer.renderAll(options) : [try await Materializer.render(options)]
            } catch {
                fail(error, options)
            }
            let outputRoot = outputDir.hasPrefix("/") ? outputDir : options.directory + "/" + outputDir
            if let target = target() {
                try await commitInto(target, materializations, options)
                return
            }
            if stdout, let only = materializations.first {
                try writeStandardOutput(only.stream)
                return
            }
            var reports: [RunReport] = []
            var stale: [Materialization] = []
            for materialization in materializations {
                var report = RunReport(materialization)
                if check {
                    let differences = Materializer.differences(materialization, in: outputRoot)
                    report.differences = differences.map(\.description)
                    if !differences.isEmpty { stale.append(materialization) }
                    if format == .text {
                        if differences.isEmpty {
                            if !global.quiet { print("\(outputDir)/\(materialization.environmentName) is up to date") }
                        } else {
                            for difference in differences { print(difference) }
                            printDiff(Materializer.diff(materialization, in: outputRoot))
                        }
                    }
                } else {
                    do {
                        report.files = try Materializer.write(materialization, to: outputRoot)
                    } catch {
                        fail(error, options)
                    }
                    if format == .text && !global.quiet {
                        print("wrote \(materialization.files.count) file(s) to \(outputDir)/\(materialization.environmentName)")
                    }
                }
                reports.append(report)
            }
            if format == .json { try RunReport.print(reports, single: !all) }
            if let terminal = options.diagnostics as? TerminalDiagnostics, let last = materializations.last {
                let components = materializations.map { $0.tree.flattened.count }.reduce(0, +)
                let files = reports.compactMap(\.files)
                let statistics = last.statistics
                var text = "\(components) component(s), \(statistics.fetched) fetched, \(statistics.rendered + statistics.fromRenderCache) rendered (\(statistics.fromRenderCache) from the render cache)"
                if !check {
                    text += ", \(files.map(\.written.count).reduce(0, +)) file(s) written, \(files.map(\.unchanged.count).reduce(0, +)) unchanged, \(files.map(\.removed.count).reduce(0, +)) removed"
                }
                terminal.summary(text)
            }
            guard stale.isEmpty else {
                if format == .text {
                    let names = stale.map { "\(outputDir)/\($0.environmentName)" }.joined(separator: ", ")
                    let lockFlag = frozen ? " --frozen" : locked ? " --locked" : ""
                    let rerun = all ? "hld materialize --all\(lockFlag)" : "hld materialize\(lockFlag) \(environments.joined(separator: " "))".trimmingCharacters(in: .whitespaces)
                    printError("\(names) \(stale.count == 1 ? "is" : "are") not up to date (\(stale.map { Materializer.differences($0, in: outputRoot).count }.reduce(0, +)) file(s)); run \(rerun)")
                }
                throw ExitCode.failure
            }
        }

        /// `--into`: one commit per branch (none when nothing changed), or with `--check` the
        /// comparison with what the branch holds.
        private func commitInto(_ target: GitOpsTarget, _ materializations: [Materialization], _ options: MaterializeOptions) async throws {
            if check {
                let differences: [[FileDifference]]
                do {
                    differences = try await GitOpsOutput.differences(materializations, target: target, options: options)
                } catch {
                    fail(error, options)
                }
                for difference in differences.joined() { print(difference) }
                let stale = zip(materializations, differences).filter { !$0.1.isEmpty }.map(\.0.environmentName)
                guard stale.isEmpty else {
                    printError("\(stale.joined(separator: ", ")) \(stale.count == 1 ? "differs" : "differ") from \(GitURL.redact(target.location)) (branch \(target.branch)); run hld materialize without --check to commit")
                    throw ExitCode.failure
                }
                if !global.quiet { print("\(GitURL.redact(target.location)) is up to date") }
                return
            }
            let commits: [GitOpsCommit]
            do {
                commits = try await GitOpsOutput.publish(materializations, target: target, options: options)
            } catch {
                fail(error, options)
            }
            (options.diagnostics as? TerminalDiagnostics)?.endLine()
            if format == .json {
                struct Entry: Encodable {
                    var branch: String
                    var environments: [String]
                    var paths: [String]
                    var commit: String
                    var created: Bool
                }
                let entries = commits.map { commit -> Entry in
                    switch commit.outcome {
                    case .created(let id): return Entry(branch: commit.branch, environments: commit.environments, paths: commit.paths, commit: id.hex, created: true)
                    case .unchanged(let id): return Entry(branch: commit.branch, environments: commit.environments, paths: commit.paths, commit: id.hex, created: false)
                    }
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try writeStandardOutput(Array(try encoder.encode(["commits": entries])) + [0x0A])
                return
            }
            guard !global.quiet else { return }
            for commit in commits {
                let what = commit.environments.joined(separator: ", ")
                switch commit.outcome {
                case .created(let id): print("committed \(id.hex.prefix(12)) to \(commit.branch)\(push ? " and pushed" : "") (\(what))")
                case .unchanged: print("\(commit.branch) already holds \(what): no commit")
                }
            }
        }

        /// The diff, capped at `--diff-lines`.
        private func printDiff(_ lines: [String]) {
            guard diffLines > 0 else { return }
            for line in lines.prefix(diffLines) { print(line) }
            if lines.count > diffLines {
                print("… \(lines.count - diffLines) more line(s) of diff (--diff-lines \(lines.count) shows them all)")
            }
        }

        /// Reports a failure (JSON too when asked, with the warnings `--quiet` held) and exits 1.
        private func fail(_ error: HLDError, _ options: MaterializeOptions) -> Never {
            HLDCommand.waitIfStopping()
            if format == .json { try? RunReport(failure: error).print() }
            (options.diagnostics as? TerminalDiagnostics)?.endLine()
            (options.diagnostics as? TerminalDiagnostics)?.printHeld()
            printError(error)
            Self.exitFailing(ExitCode.failure)
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Fetch every source of the HLD into the cache and run install hooks."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Environments whose config may pin other branches or versions.")
        var environments: [String] = []

        @Flag(help: "Run hooks of components fetched from git or http too.")
        var allowHooks = false

        @Option(help: "text, or json: the components with their pins and the diagnostics as one JSON document on stdout.")
        var format: OutputFormat = .text

        func run() async throws {
            let options = try global.materializeOptions(environments: environments, allowHooks: allowHooks)
            let installation: Installation
            do {
                installation = try await Materializer.install(options)
            } catch {
                if format == .json { try RunReport(failure: error).print() }
                (options.diagnostics as? TerminalDiagnostics)?.printHeld()
                printError(error)
                throw ExitCode.failure
            }
            if format == .json {
                try RunReport(tree: installation.tree, diagnostics: installation.diagnostics).print()
            } else if !global.quiet {
                print("installed \(installation.tree.flattened.count) component(s)")
            }
        }
    }
}

/// Warnings and progress on standard error.
/// With `--quiet`, warnings are held back, and printed only when the run fails: they
/// often explain the failure.
final class TerminalDiagnostics: DiagnosticsSink, @unchecked Sendable {
    let verbose: Bool
    let quiet: Bool
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var held: [String] = []
    /// On a terminal (and neither --quiet nor --verbose): progress is one live line.
    let live: Bool
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drawn = false
    let started = ContinuousClock.now

    init(verbose: Bool, quiet: Bool) {
        self.verbose = verbose
        self.quiet = quiet
        live = !quiet && !verbose && isatty(STDERR_FILENO) == 1
    }

    func warning(_ message: String) {
        guard !quiet else {
            lock.withLock { held.append(message) }
            return
        }
        endLine()
        printWarning(message)
    }

    /// Clears the live line, so what follows starts on a clean line.
    func endLine() {
        lock.withLock {
            guard drawn else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            drawn = false
        }
    }

    /// The line that ends a run (not with --quiet).
    func summary(_ text: String) {
        guard !quiet else { return }
        endLine()
        let elapsed = (ContinuousClock.now - started).components
        let seconds = String(format: "%.2f", Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
        FileHandle.standardError.write(Data("hld: \(text), \(seconds) s\n".utf8))
    }

    /// The warnings `--quiet` held back, printed before a failure's error.
    func printHeld() {
        for message in lock.withLock({ held }) { printWarning(message) }
    }

    func progress(_ message: String) {
        if live {
            // Redrawn at most ten times a second.
            lock.withLock {
                let now = ContinuousClock.now
                guard now - lastDraw >= .milliseconds(100) else { return }
                lastDraw = now
                drawn = true
                let width = max(20, terminalWidth() - 1)
                FileHandle.standardError.write(Data("\r\u{1B}[K\(message.prefix(width))".utf8))
            }
            return
        }
        // Not a terminal (a CI log): everything with --verbose, else the occasional
        // milestone — a finished git transfer, a download.
        guard verbose || (!quiet && (message.hasPrefix("fetched ") || message.contains(": downloading "))) else { return }
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}

enum OutputFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}

/// `--format json`: one document a script can read.
struct RunReport: Encodable {
    struct Component: Encodable {
        var path: String
        var type: String
        var pins: [Pin]
    }

    var environment: String?
    var files: WriteSummary?
    var differences: [String]?
    var components: [Component] = []
    var diagnostics: [Diagnostic] = []
    var errors: [HLDError] = []

    init(tree: ResolvedComponent, diagnostics: [Diagnostic]) {
        components = tree.flattened.map { Component(path: $0.componentPath, type: $0.definition.type.rawValue, pins: $0.pins) }
        self.diagnostics = diagnostics
    }

    init(_ materialization: Materialization) {
        self.init(tree: materialization.tree, diagnostics: materialization.diagnostics)
        environment = materialization.environmentName
    }

    init(failure: HLDError) {
        errors = failure.all
    }

    func print() throws {
        try Self.print([self], single: true)
    }

    /// One report as a JSON object, or several (`--all`) as an array.
    static func print(_ reports: [RunReport], single: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = single && reports.count == 1 ? try encoder.encode(reports[0]) : try encoder.encode(reports)
        try writeStandardOutput(Array(data) + [0x0A])
    }
}

/// Shell completion of environment names: hld.yaml's environments and groups, and common.
@Sendable func environmentNames(_ words: [String]) -> [String] {
    let directory = words.firstIndex(of: "-C").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil } ?? "."
    let project = (try? ProjectFile.load(in: directory)) ?? ProjectFile()
    return project.environments + project.groups + ["common"]
}
