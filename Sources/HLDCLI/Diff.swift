import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Compare two renders resource by resource: two environments, or the working tree against a commit.",
            usage: """
                hld diff [<options>] <env-a> <env-b>
                hld diff [<options>] [<environment> ...] --base <rev>
                """,
            discussion: """
                Both sides are rendered (nothing is written) and their resources paired by \
                apiVersion, kind, namespace and name, whatever file holds them: each is added, \
                removed, or changed (with a unified diff of its canonical YAML; key order does \
                not count). With --base, the old side is the HLD as commit <rev> of the git \
                repository it is in has it (read through libgit2 into a private directory: no \
                checkout, the work tree untouched) and the new side the working tree, both for \
                the same environments (layered as for materialize). Secret values are never \
                shown, only which keys of data and stringData changed. A render that fails is \
                reported as that failure, never as its resources removed. Exit status: 0 \
                same, 1 different, 2 trouble (a render failed, no such revision), 64 usage \
                errors.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The two environments, the old side first; with --base, the environments (and groups) both sides render, highest precedence first (default: hld.yaml's defaults, else common).", valueName: "environment"),
                  completion: .custom(environmentNames))
        var environments: [String] = []

        @Option(help: ArgumentHelp("Compare the HLD at this revision of its git repository (HEAD~1, a branch, a tag, a commit id) with the working tree.", valueName: "rev"))
        var base: String?

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
            if let base {
                if base.isEmpty { throw ValidationError("--base needs a revision: HEAD~1, a branch, a tag or a commit id") }
            } else if environments.count != 2 {
                throw ValidationError("hld diff compares two environments (hld diff dev prod), or the working tree with a revision (hld diff prod --base HEAD~1); got \(environments.count) environment(s) and no --base")
            }
            if maxSize < 1_000 { throw ValidationError("--max-size must be at least 1000") }
            if ignoredLabels.contains(where: \.isEmpty) { throw ValidationError("--ignore-labels takes label keys separated by commas, with none empty") }
        }

        /// The label keys of every `--ignore-labels`.
        var ignoredLabels: [String] {
            ignoreLabels.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingCharacters(in: .whitespaces) }
        }

        /// One render to compare: what it is called in the output, how it is made, and how
        /// its messages show the paths of its files.
        struct Side {
            var label: String
            var options: MaterializeOptions
            var showingPaths: @Sendable (String) -> String = { $0 }
        }

        func run() async throws {
            let options: MaterializeOptions
            do {
                options = try global.materializeOptions(environments: environments, allowHooks: allowHooks)
            } catch {
                throw ExitCode(2)
            }
            let terminal = options.diagnostics as? TerminalDiagnostics
            var sides: [Side]
            var snapshot: ProjectSnapshot?
            if let base {
                let made: ProjectSnapshot
                do {
                    made = try ProjectSnapshot.make(project: options.directory, revision: base)
                } catch {
                    trouble([(base, error)], old: base, new: "the working tree", terminal: terminal, summary: nil)
                }
                snapshot = made
                let named = environments.joined(separator: " "), revision = "\(base) (\(made.commit.prefix(12)))"
                sides = [Side(label: named.isEmpty ? revision : "\(named) at \(revision)", options: options),
                         Side(label: named.isEmpty ? "the working tree" : "\(named) in the working tree", options: options)]
                // The old side's component and config files come from the snapshot; hld.yaml,
                // access.yaml and relative mirrors stay with the project (an untracked mirror
                // directory is not in the commit).
                sides[0].options.definitions = DefinitionSource(snapshot: made)
                // The old side's files are in a private directory: its messages name them as git does.
                sides[0].showingPaths = { Self.naming($0, in: made, as: base) }
            } else {
                sides = environments.map { environment in
                    var side = Side(label: environment, options: options)
                    side.options.environments = [environment]
                    return side
                }
            }
            if let terminal {
                for index in sides.indices {
                    sides[index].options.diagnostics = SideDiagnostics(terminal: terminal, label: sides[index].label, rewrite: sides[index].showingPaths)
                }
            }
            // One after the other: each render's warnings come out together, in tree order.
            var renders: [Materialization] = []
            var failures: [(label: String, error: HLDError)] = []
            for side in sides {
                do {
                    renders.append(try await Materializer.render(side.options))
                } catch {
                    failures.append((side.label, Self.renaming(error, side.showingPaths)))
                }
            }
            snapshot?.remove()
            let (old, new) = (sides[0].label, sides[1].label)
            guard failures.isEmpty else {
                trouble(failures, old: old, new: new, terminal: terminal,
                        summary: "cannot compare \(old) with \(new): \(failures.map(\.label).joined(separator: " and ")) did not render")
            }
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

        /// `text` with the snapshot's private paths written as git names the files of a
        /// revision: `HEAD~1:charts/web/Chart.yaml`, `HEAD~1:` for the repository's root.
        static func naming(_ text: String, in snapshot: ProjectSnapshot, as revision: String) -> String {
            text.replacingOccurrences(of: snapshot.repositoryRoot + "/", with: revision + ":")
                .replacingOccurrences(of: snapshot.repositoryRoot, with: revision + ":")
        }

        /// `error` (and the failures reported with it) with its paths shown as `show` says.
        static func renaming(_ error: HLDError, _ show: (String) -> String) -> HLDError {
            var renamed = error
            renamed.message = show(error.message)
            if let file = error.location?.file { renamed.location?.file = show(file) }
            renamed.others = error.others.map { renaming($0, show) }
            return renamed
        }

        /// Reports what failed (as JSON too when asked) and exits 2: a side that does not
        /// render is never shown as all its resources removed.
        /// `summary`: the last line, after each failure prefixed with its side's label; nil:
        /// the failures alone, as they are.
        private func trouble(_ failures: [(label: String, error: HLDError)], old: String, new: String, terminal: TerminalDiagnostics?, summary: String?) -> Never {
            HLDCommand.waitIfStopping()
            if format == .json { try? DiffFailureReport(failures, old: old, new: new).print() }
            terminal?.endLine()
            terminal?.printHeld()
            for failure in failures {
                for error in failure.error.all { printError(summary == nil ? error.description : "\(failure.label): \(error.description)") }
            }
            if let summary { printError(summary) }
            Self.exitFailing(ExitCode(2))
        }
    }
}

enum DiffFormat: String, ExpressibleByArgument, Sendable {
    case text, markdown, json
}

/// One side's warnings and progress, each warning prefixed with the render it is about
/// and its paths shown as `rewrite` says.
struct SideDiagnostics: DiagnosticsSink {
    let terminal: TerminalDiagnostics
    let label: String
    var rewrite: @Sendable (String) -> String = { $0 }

    func warning(_ message: String) { terminal.warning("\(label): \(rewrite(message))") }
    func progress(_ message: String) { terminal.progress(rewrite(message)) }
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
