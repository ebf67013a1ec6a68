import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lock",
            abstract: "Pin every moving reference of the HLD per environment in hld.lock.",
            usage: "hld lock [<options>] [<environments> ...]",
            discussion: """
                Resolves the tree of each environment (with groups declared, each environment × \
                group pair) and records in hld.lock, keyed by component logical path, every \
                source with the ref it asks for and what that resolved to: git commit and tree, \
                chart version and digest, OCI digests, http content hashes; the values of \
                hld.yaml's promote: paths; with promoteDefinitions, the HLD commit (HEAD) whose \
                component files the environment renders. Sections of environments not named \
                are kept. Nothing moved: the file stays byte for byte the same. \
                `hld materialize --locked` renders exactly these pins; `hld promote` moves \
                them from one environment to the next.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Environments to pin (default: every environment of hld.yaml).", completion: .custom(environmentNames))
        var environments: [String] = []

        func run() async throws {
            let options = try global.materializeOptions(environments: [], allowHooks: false)
            let project: ProjectFile
            let lock: LockFile
            let changes: [LockChange]
            do {
                project = try ProjectFile.load(in: options.directory)
                (lock, changes) = try await Locking.lock(options, sets: try sets(project))
                let before = FileManager.default.contents(atPath: options.directory + "/" + LockFile.fileName)
                let text = lock.text(order: project.environmentSets.map(LockFile.sectionName))
                if before != Data(text.utf8) { try Locking.write(lock, in: options.directory, project: project) }
            } catch {
                printFailure(error, options)
                throw ExitCode.failure
            }
            (options.diagnostics as? TerminalDiagnostics)?.endLine()
            guard !global.quiet else { return }
            if changes.isEmpty {
                print("hld.lock is up to date")
            } else {
                print(ChangeTable.text(changes), terminator: "")
            }
        }

        /// The sets named: each environment, or with groups each of its environment × group pairs.
        private func sets(_ project: ProjectFile) throws(HLDError) -> [[String]] {
            var sets: [[String]] = []
            for name in environments {
                if !project.knownNames.isEmpty && !project.environments.contains(name) {
                    let file = project.file ?? "hld.yaml"
                    throw HLDError("unknown environment \(name): \(file) declares \(project.environments.joined(separator: ", "))")
                }
                sets += project.groups.isEmpty ? [[name]] : project.groups.map { [name, $0] }
            }
            return sets
        }
    }
}

/// What moved, one line per pin or value: `dev  cluster/cat  git …  a1b2c3d4e5f6 → 0f1e2d3c4b5a`.
enum ChangeTable {
    static func text(_ changes: [LockChange]) -> String {
        let rows = changes.map { change in
            [change.section, change.subject, change.source, "\(change.old ?? "(none)") → \(change.new ?? "(none)")"]
        }
        var widths = [0, 0, 0]
        for row in rows { for column in 0..<3 { widths[column] = max(widths[column], row[column].count) } }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3]
        }.joined(separator: "\n") + "\n"
    }
}
