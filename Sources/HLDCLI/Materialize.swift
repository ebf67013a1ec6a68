import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Materialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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

        @Argument(help: "Environments and groups, highest precedence first (default: hld.yaml's defaults, else common).")
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

        func validate() throws {
            if stdout && check { throw ValidationError("--stdout and --check cannot be used together") }
            if stdout && format == .json { throw ValidationError("--stdout and --format json cannot be used together") }
        }

        func run() async throws {
            let options = try global.materializeOptions(environments: environments, allowHooks: allowHooks)
            let materialization: Materialization
            do {
                materialization = try await Materializer.render(options)
            } catch {
                if format == .json { try RunReport(failure: error).print() }
                (options.diagnostics as? TerminalDiagnostics)?.printHeld()
                printError(error)
                throw ExitCode.failure
            }
            let outputRoot = outputDir.hasPrefix("/") ? outputDir : options.directory + "/" + outputDir
            if stdout {
                try writeStandardOutput(materialization.stream)
                return
            }
            if check {
                let differences = Materializer.differences(materialization, in: outputRoot)
                if format == .json {
                    var report = RunReport(materialization)
                    report.differences = differences.map(\.description)
                    try report.print()
                    if !differences.isEmpty { throw ExitCode.failure }
                    return
                }
                guard differences.isEmpty else {
                    for difference in differences { print(difference) }
                    printError("\(outputDir)/\(materialization.environmentName) is not up to date (\(differences.count) file(s)); run hld materialize")
                    throw ExitCode.failure
                }
                if !global.quiet { print("\(outputDir)/\(materialization.environmentName) is up to date") }
                return
            }
            let summary: WriteSummary
            do {
                summary = try Materializer.write(materialization, to: outputRoot)
            } catch {
                if format == .json { try RunReport(failure: error).print() }
                (options.diagnostics as? TerminalDiagnostics)?.printHeld()
                printError(error)
                throw ExitCode.failure
            }
            if format == .json {
                var report = RunReport(materialization)
                report.files = summary
                try report.print()
            } else if !global.quiet {
                print("wrote \(materialization.files.count) file(s) to \(outputDir)/\(materialization.environmentName)")
            }
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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

    init(verbose: Bool, quiet: Bool) {
        self.verbose = verbose
        self.quiet = quiet
    }

    func warning(_ message: String) {
        guard !quiet else {
            lock.withLock { held.append(message) }
            return
        }
        printWarning(message)
    }

    /// The warnings `--quiet` held back, printed before a failure's error.
    func printHeld() {
        for message in lock.withLock({ held }) { printWarning(message) }
    }

    func progress(_ message: String) {
        guard verbose else { return }
        FileHandle.standardError.write(Data("\(message)\n".utf8))
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeStandardOutput(Array(try encoder.encode(self)) + [0x0A])
    }
}
