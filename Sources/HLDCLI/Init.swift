import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Scaffold a new HLD: component.yaml, config files and hld.yaml.",
            discussion: """
                Writes component.yaml (a static manifests/ subcomponent and commented \
                examples of Helm, git and Kustomize ones), manifests/namespace.yaml, \
                config/common.yaml and config/<name>.yaml for each environment and group, \
                and hld.yaml with the environments in promotion order, so that `hld \
                materialize dev` works at once. The component is named after the \
                directory unless --name is given. hld init never overwrites a file: when \
                the directory already holds an HLD or any of these files, it names them \
                and writes nothing.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Where to create the HLD (created when missing; default: the current directory).", valueName: "dir"),
                  completion: .directory)
        var directory: String?

        @Option(name: .customLong("env"), help: ArgumentHelp("The environments, in promotion order, separated by commas (default: dev,stage,prod).", valueName: "names"))
        var environments: [String] = []

        @Option(help: ArgumentHelp("Groups (regions, cluster groups), separated by commas: a second axis, each with its own config file.", valueName: "names"))
        var groups: [String] = []

        @Option(help: ArgumentHelp("The component's name (default: the directory's name, in lowercase with '-' for other characters).", valueName: "name"))
        var name: String?

        @Flag(help: "Add generated/ to .gitignore (created when missing).")
        var gitignore = false

        /// `--env a,b --env c` is `a, b, c`.
        private var environmentNames: [String] {
            environments.isEmpty ? Scaffold.defaultEnvironments : Self.split(environments)
        }

        private static func split(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }

        func validate() throws {
            do {
                if let name { try Scaffold.checkComponentName(name) }
                try Scaffold.checkNames(environments: environmentNames, groups: Self.split(groups))
            } catch {
                throw ValidationError(error.message)
            }
            if name == nil && Scaffold.componentName(forDirectory: target) == nil {
                throw ValidationError("no component name can be made from the directory's name; pass --name")
            }
        }

        /// The directory to scaffold as the user wrote it (-C, then <dir>), from where hld was
        /// started: the default name is the one typed, also when it is a symbolic link.
        private var target: String {
            var base = FileManager.default.currentDirectoryPath
            if let start = global.directory { base = start.hasPrefix("/") ? start : base + "/" + start }
            guard let directory else { return base }
            return directory.hasPrefix("/") ? directory : base + "/" + directory
        }

        func run() throws {
            let target = target
            _ = try global.enterDirectory()
            let written: Scaffold.Written
            do {
                // validate() made sure there is a name.
                let name = name ?? Scaffold.componentName(forDirectory: target) ?? ""
                written = try Scaffold(name: name, environments: environmentNames, groups: Self.split(groups))
                    .write(into: target, gitignore: gitignore)
            } catch {
                printError(error)
                throw ExitCode.failure
            }
            guard !global.quiet else { return }
            // Paths as the user would type them from where hld was started (after -C).
            let prefix = directory.map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? ""
            for path in written.created { print("created \(prefix)\(path)") }
            switch written.gitignore {
            case .appended: print("added \(Scaffold.ignoredOutput) to \(prefix).gitignore")
            case .unchanged: print("\(prefix).gitignore already ignores \(Scaffold.ignoredOutput)")
            case .created, nil: break
            }
            let materialize = directory.map { "hld -C \(Self.shellWord($0)) materialize" } ?? "hld materialize"
            print("next: \(materialize) \(environmentNames[0]) (or --all)")
        }

        /// `word` as a shell reads it back: in single quotes unless it is plain.
        private static func shellWord(_ word: String) -> String {
            let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/._-+,:@".unicodeScalars.contains($0)) }
            return plain ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }
    }
}
