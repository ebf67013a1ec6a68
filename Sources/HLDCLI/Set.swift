import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct SetValues: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set config values in a component's config file, changing nothing else in it.",
            discussion: """
                Edits config/<env>.yaml (created when missing) of the component in the current \
                directory (or -C), under `config:` — or under `subcomponents.<a>.subcomponents.<b>.config` \
                with --subcomponent a.b. Values are read as YAML scalars: replicas=4 is a \
                number, enabled=true a boolean, tag=v1.2 a string; text YAML readers disagree \
                on (yes, 1.10.0, 0755) is written quoted. Quoted key segments keep their dots: \
                '"app.kubernetes.io/name".x=y'. Comments, key order, quoting and blank lines \
                of everything else stay as they were; setting a value the file already has \
                leaves it byte for byte the same. A file that does not parse is not touched.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: [.customLong("env"), .customLong("environment")], help: ArgumentHelp("The config file to edit: config/<env>.yaml.", valueName: "env"),
                completion: .custom(environmentNames))
        var environment = "common"

        @Option(help: ArgumentHelp("The subcomponent whose config to set, as a dotted chain of names (a.b).", valueName: "a.b"))
        var subcomponent: String?

        @Flag(help: "Take every value as a string.")
        var string = false

        @Option(name: [.customShort("f"), .long], help: ArgumentHelp("A YAML file of values to set (maps are set key by key), applied before the key.path=value arguments.", valueName: "values.yaml"),
                completion: .file())
        var file: String?

        @Flag(help: "Fail, changing nothing, when a key (or the file) does not exist yet.")
        var noNewConfigKeys = false

        @Argument(help: ArgumentHelp("Values to set.", valueName: "key.path=value"))
        var assignments: [String] = []

        func validate() throws {
            if assignments.isEmpty && file == nil { throw ValidationError("nothing to set: give key.path=value arguments or --file") }
            if let subcomponent, subcomponent.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw ValidationError("--subcomponent takes names separated by dots (a.b), not \(subcomponent)")
            }
        }

        func run() throws {
            let directory = try global.enterDirectory()
            do {
                report(try apply(in: directory), quiet: global.quiet)
            } catch {
                printError(error)
                throw ExitCode.failure
            }
        }

        private func apply(in directory: String) throws(HLDError) -> Authoring.FileChange {
            var all = try file.map { path throws(HLDError) in try Authoring.Assignment.fromFile(path) } ?? []
            for argument in assignments { all.append(try Authoring.Assignment.parse(argument, string: string)) }
            return try Authoring.set(all, in: directory, environment: environment,
                                     subcomponent: subcomponent.map { $0.split(separator: ".").map(String.init) } ?? [],
                                     createMissing: !noNewConfigKeys)
        }
    }
}

/// `config/prod.yaml: set …` per action, or that nothing changed.
func report(_ change: Authoring.FileChange, quiet: Bool) {
    guard !quiet else { return }
    if !change.changed {
        print("\(change.file): unchanged (it already says that)")
        return
    }
    if change.created { print("created \(change.file)") }
    for action in change.actions { print("\(change.file): \(action)") }
}
