import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Move one environment's pins and promoted values to the next environment.",
            usage: "hld promote [<options>] <from> <to>",
            discussion: """
                Copies <from>'s pins in hld.lock (git commits and trees, chart versions and \
                digests, OCI and http digests; with promoteDefinitions, the definitions commit) \
                onto <to> for every source both use, and sets the values of hld.yaml's promote: \
                paths from <from>'s config files in <to>'s, editing them in place (comments and \
                formatting kept). Nothing else moves: the rest of <to>'s config is its own. \
                <to> must be the stage after <from> on hld.yaml's environments path unless \
                --force. The result is an ordinary change to commit (promotion as a pull request).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The environment to promote from.", completion: .custom(environmentNames))
        var from: String

        @Argument(help: "The environment to promote to.", completion: .custom(environmentNames))
        var to: String

        @Option(name: .customLong("component"), parsing: .upToNextOption,
                help: ArgumentHelp("Promote only these components (logical paths as hld.lock names them; the root's name may be left out).", valueName: "path"))
        var components: [String] = []

        @Flag(help: "Allow skipping a stage of the promotion path, or promoting backwards.")
        var force = false

        @Flag(help: "Show what would move; write nothing.")
        var dryRun = false

        func run() async throws {
            let options = try global.materializeOptions(environments: [], allowHooks: false)
            let outcome: Promotion.Outcome
            do {
                outcome = try await Promotion.promote(Promotion.Request(from: from, to: to, components: components, force: force, dryRun: dryRun), options: options)
            } catch {
                printFailure(error, options)
                throw ExitCode.failure
            }
            (options.diagnostics as? TerminalDiagnostics)?.endLine()
            guard !global.quiet else { return }
            if outcome.changes.isEmpty {
                print("\(to) already has \(from)'s pins and promoted values: nothing to promote")
            } else {
                if dryRun { print("would move (--dry-run: nothing written):") }
                print(ChangeTable.text(outcome.changes), terminator: "")
                let files = outcome.files.isEmpty ? "" : ", " + outcome.files.joined(separator: ", ")
                if !dryRun { print("updated hld.lock\(files)") }
            }
            for note in outcome.notes { print("note: \(note)") }
        }
    }
}
