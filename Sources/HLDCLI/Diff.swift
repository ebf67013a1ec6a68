import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two renders resource by resource: two environments.",
            usage: """
                hld diff [<options>] <env-a> <env-b>
                """,
            discussion: """
                Both sides are rendered (nothing is written) and their resources paired by \
                apiVersion, kind, namespace and name, whatever file holds them: each is added, \
                removed, or changed (with a unified diff of its canonical YAML; key order does \
                not count). Secret values are never shown, only which keys of data and \
                stringData changed. A render that fails is reported as that failure, never as \
                its resources removed. Exit status: 0 same, 1 different, 2 trouble (a render \
                failed), 64 usage errors.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The two environments: the old side, then the new one.", valueName: "environment"),
                  completion: .custom(environmentNames))
        var environments: [String] = []

        @Option(help: "text, markdown (for a pull-request comment: a summary table, then one collapsed section per changed resource, within --max-size), or json.")
        var format: DiffFormat = .text

        @Option(name: .customLong("ignore-labels"), parsing: .singleValue,
                help: ArgumentHelp("Label keys left out of every metadata.labels (pod templates' too) before comparing; comma-separated, repeatable: --ignore-labels helm.sh/chart,app.kubernetes.io/version.", valueName: "keys"))
        var ignoreLabels: [String] = []

        @Option(help: ArgumentHelp("With --format markdown: at most this many characters (GitHub takes 65536 in a comment); what does not fit is cut, with a note.", valueName: "n"))
        var maxSize = ResourceDiff.defaultMarkdownLimit

        @Flag(help: "Run hooks of components fetched from git or http too.")
        var allowHooks = false

        func validate() throws {
            guard environments.count == 2 else {
                throw ValidationError("hld diff compares two environments (hld diff dev prod); got \(environments.count)")
            }
            if maxSize < 1_000 { throw ValidationError("--max-size must be at least 1000") }
            if ignoredLabels.contains(where: \.isEmpty) { throw ValidationError("--ignore-labels takes label keys separated by commas, with none empty") }
        }

        /// The label keys of every `--ignore-labels`.
        var ignoredLabels: [String] {
            ignoreLabels.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingCharacters(in: .whitespaces) }
        }

        func run() async throws {
            let options: MaterializeOptions
            do {
                options = try global.materializeOptions(environments: [], allowHooks: allowHooks)
            } catch {
                throw ExitCode(2)
            }
            let terminal = options.diagnostics as? TerminalDiagnostics
            let sides = environments.map { environment in
                var side = options
                side.environments = [environment]
                if let terminal { side.diagnostics = SideDiagnostics(terminal: terminal, label: environment) }
                return (label: environment, options: side)
            }
            // One after the other: each render's warnings come out together, in tree order.
            var renders: [Materialization] = []
            var failures: [(label: String, error: HLDError)] = []
            for side in sides {
                do {
                    renders.append(try await Materializer.render(side.options))
                } catch {
                    failures.append((side.label, error))
                }
            }
            let (old, new) = (sides[0].label, sides[1].label)
            guard failures.isEmpty else { trouble(failures, old: old, new: new, terminal: terminal) }
            let diff: ResourceDiff
            do {
                diff = try ResourceDiff(old: renders[0], new: renders[1], options: ResourceDiffOptions(ignoredLabels: Set(ignoredLabels)))
            } catch {
                // hld wrote both renders itself; one it cannot read back is a bug, not a difference.
                printError(error)
                throw ExitCode(2)
            }
            switch format {
            case .text: try writeStandardOutput(Array(diff.text(old: old, new: new).utf8))
            case .markdown: try writeStandardOutput(Array(diff.markdown(old: old, new: new, limit: maxSize).utf8))
            case .json: try writeStandardOutput(diff.json(old: old, new: new))
            }
            if !diff.isEmpty { throw ExitCode.failure }
        }

        /// Reports the renders that failed (as JSON too when asked) and exits 2: a side that
        /// does not render is never shown as all its resources removed.
        private func trouble(_ failures: [(label: String, error: HLDError)], old: String, new: String, terminal: TerminalDiagnostics?) -> Never {
            if format == .json { try? DiffFailureReport(failures, old: old, new: new).print() }
            terminal?.endLine()
            terminal?.printHeld()
            for failure in failures {
                for error in failure.error.all { printError("\(failure.label): \(error.description)") }
            }
            printError("cannot compare \(old) with \(new): \(failures.map(\.label).joined(separator: " and ")) did not render")
            Self.exit(withError: ExitCode(2))
        }
    }
}

enum DiffFormat: String, ExpressibleByArgument, Sendable {
    case text, markdown, json
}

/// One side's warnings and progress, each warning prefixed with the render it is about.
struct SideDiagnostics: DiagnosticsSink {
    let terminal: TerminalDiagnostics
    let label: String

    func warning(_ message: String) { terminal.warning("\(label): \(message)") }
    func progress(_ message: String) { terminal.progress(message) }
}

/// `hld diff --format json` when a render failed: which, and its errors.
struct DiffFailureReport: Encodable {
    struct Failure: Encodable {
        var render: String
        var error: HLDError
    }

    var old: String
    var new: String
    var errors: [Failure]

    init(_ failures: [(label: String, error: HLDError)], old: String, new: String) {
        self.old = old
        self.new = new
        errors = failures.flatMap { failure in failure.error.all.map { Failure(render: failure.label, error: $0) } }
    }

    func print() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeStandardOutput(Array(try encoder.encode(self)) + [0x0A])
    }
}
