import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a subcomponent to the component file, or replace the one of that name in place.",
            discussion: """
                Appends an entry to `subcomponents` of component.yaml (or .json) in the current \
                directory (or -C), in the list's own style. An entry of the same name is \
                replaced in place: the given fields are set, other source fields removed, its \
                hooks and subcomponents kept. Without --method, the source says: oci:// or a \
                chart repository with --type helm and --path is helm, an http(s) .yaml with \
                --type static is http, another URL is git, a path is local. No branch is \
                written unless given (the repository's default branch is followed). A file \
                that does not parse is not touched.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The subcomponent's name.")
        var name: String

        @Option(help: ArgumentHelp("A git URL, Helm repository URL, http(s) manifest URL or local path.", valueName: "source"))
        var source: String?

        @Option(help: ArgumentHelp("local, git, helm or http (default: what the source implies).", valueName: "method"))
        var method: SourceMethodArgument?

        @Option(help: ArgumentHelp("component, helm, static or kustomize (default: component).", valueName: "type"))
        var type: ComponentTypeArgument?

        @Option(help: ArgumentHelp("A subdirectory of the source, or the chart name for method helm.", valueName: "path"))
        var path: String?

        @Option(help: ArgumentHelp("The git branch to follow.", valueName: "branch"))
        var branch: String?

        @Option(help: ArgumentHelp("A commit or tag (git), a chart version or constraint (helm).", valueName: "version"))
        var version: String?

        func validate() throws {
            if source == nil && path == nil { throw ValidationError("give --source (or --path for a local directory)") }
        }

        func run() throws {
            let directory = try global.enterDirectory()
            let entry = Authoring.Entry(name: name, type: type?.value, method: method?.value, source: source, path: path, version: version, branch: branch)
            do {
                report(try Authoring.add(entry, in: directory), quiet: global.quiet)
            } catch {
                printError(error)
                throw ExitCode.failure
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a subcomponent from the component file, changing nothing else in it.",
            discussion: """
                Removes the entry's lines from `subcomponents` of component.yaml (or .json) in \
                the current directory (or -C). Config files that still configure the name are \
                listed; they are left as they are.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The subcomponent's name.")
        var name: String

        func run() throws {
            let directory = try global.enterDirectory()
            do {
                let (change, configured) = try Authoring.remove(name, in: directory)
                report(change, quiet: global.quiet)
                for location in configured where !global.quiet {
                    print("note: \(location) still configures \(name) (left as it is)")
                }
            } catch {
                printError(error)
                throw ExitCode.failure
            }
        }
    }
}

/// `--method` values.
struct SourceMethodArgument: ExpressibleByArgument {
    let value: SourceMethod
    init?(argument: String) {
        guard let value = SourceMethod(rawValue: argument) else { return nil }
        self.value = value
    }
    static var allValueStrings: [String] { SourceMethod.allCases.map(\.rawValue) }
}

/// `--type` values.
struct ComponentTypeArgument: ExpressibleByArgument {
    let value: ComponentType
    init?(argument: String) {
        guard let value = ComponentType(rawValue: argument) else { return nil }
        self.value = value
    }
    static var allValueStrings: [String] { ComponentType.allCases.map(\.rawValue) }
}
