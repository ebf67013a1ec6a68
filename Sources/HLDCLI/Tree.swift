import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Tree: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tree",
            abstract: "Show the resolved component tree.",
            usage: "hld tree [<options>] [<environments> ...]",
            discussion: """
                Every component in definition order: its entry name, type, what its entry asks \
                for and what that resolved to (a git commit, a chart version and digest, an \
                http manifest's digest, a directory of the project), and, in their places, the \
                entries the environments' config disables, with the file and line that \
                disables them. The tree is resolved (sources fetched) but nothing is rendered \
                and no hook runs.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Environments and groups, highest precedence first (default: hld.yaml's defaults, else common).",
                  completion: .custom(environmentNames))
        var environments: [String] = []

        @Option(help: "text (an indented tree), json (the tree with every pin, and the diagnostics), or dot (a Graphviz digraph: dot -Tsvg).")
        var format: TreeFormat = .text

        func run() async throws {
            let options = try global.materializeOptions(environments: environments, allowHooks: false)
            let resolution: Resolution
            do {
                resolution = try await Materializer.resolve(options)
            } catch {
                if format == .json { try RunReport(failure: error).print() }
                (options.diagnostics as? TerminalDiagnostics)?.printHeld()
                printError(error)
                throw ExitCode.failure
            }
            let tree = resolution.componentTree
            switch format {
            case .text: try writeStandardOutput(Array(TreeText.text(tree).utf8))
            case .dot: try writeStandardOutput(Array(TreeText.dot(tree).utf8))
            case .json:
                struct Report: Encodable {
                    var environments: [String]
                    var tree: ComponentTree
                    var diagnostics: [Diagnostic]
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let report = Report(environments: resolution.environments, tree: tree, diagnostics: resolution.diagnostics)
                try writeStandardOutput(Array(try encoder.encode(report)) + [0x0A])
            }
        }
    }
}

enum TreeFormat: String, ExpressibleByArgument, Sendable {
    case text, json, dot
}

/// How `hld tree` shows the tree.
enum TreeText {
    /// ```
    /// cluster  component  local .
    /// ├── infra (infra-impl)  component  local infra
    /// │   └── chart  helm  local infra/chart
    /// └── legacy  static  disabled by config/prod.yaml:3:15
    /// ```
    static func text(_ tree: ComponentTree) -> String {
        var lines = [line(tree)]
        func children(of node: ComponentTree, prefix: String) {
            for (index, child) in node.children.enumerated() {
                let last = index == node.children.count - 1
                lines.append(prefix + (last ? "└── " : "├── ") + line(child))
                children(of: child, prefix: prefix + (last ? "    " : "│   "))
            }
        }
        children(of: tree, prefix: "")
        return lines.map { $0 + "\n" }.joined()
    }

    /// One component: its entry name (and its own name when its file gives it another),
    /// type, then where it comes from.
    static func line(_ node: ComponentTree) -> String {
        node.name + (node.componentName.map { " (\($0))" } ?? "") + "  " + node.type + "  " + origin(node)
    }

    /// What it resolved to, or for a disabled entry what it asks for and what disables it.
    static func origin(_ node: ComponentTree) -> String {
        if node.disabled {
            return "\(declared(node.declared))  disabled" + (node.disabledAt.map { " by \($0)" } ?? "")
        }
        var parts = [node.definitionPin, node.sourcePin].compactMap { $0 }.map(pin)
        if parts.isEmpty, let files = node.files {
            // A container, or a generator's files inside a fetched tree.
            parts.append((node.fetched ? "in " : "local ") + files)
        }
        parts += node.dependencies.map { "dependency " + pin($0) }
        return parts.joined(separator: "; ")
    }

    static func declared(_ declared: ComponentTree.Declared) -> String {
        var text = declared.method
        if let source = declared.source { text += " " + source }
        if let path = declared.path { text += " " + path }
        if let version = declared.version { text += " version " + version }
        if let branch = declared.branch { text += " branch " + branch }
        return text
    }

    static func pin(_ pin: Pin) -> String {
        switch pin {
        case .git(let url, let requested, let commit, let path, _):
            return "git \(url)\(path.isEmpty ? "" : " " + path) (\(requested)) → \(commit.prefix(12))"
        case .chart(let repository, let name, let requested, let version, let digest):
            return "chart \(name) \(requested.isEmpty ? "latest" : requested) from \(repository) → \(version) (sha256 \(digest.prefix(12)))"
        case .oci(let reference, let requested, let version, _, let digest):
            return "chart \(reference) \(requested.isEmpty ? "latest" : requested) → \(version) (\(digest.prefix(19)))"
        case .http(let url, let digest):
            return "http \(url) (sha256 \(digest.prefix(12)))"
        case .local(let path):
            return "local \(path)"
        }
    }

    /// A Graphviz digraph: one node per component (disabled ones dashed and grey), an
    /// edge from each parent to each child.
    static func dot(_ tree: ComponentTree) -> String {
        var lines = ["digraph hld {", "  node [shape=box, fontname=\"Helvetica\"];"]
        var count = 0
        func add(_ node: ComponentTree) -> String {
            let id = "n\(count)"
            count += 1
            let label = [node.name + " (" + node.type + ")", node.path, origin(node)].map(escape).joined(separator: "\\n")
            lines.append("  \(id) [label=\"\(label)\"\(node.disabled ? ", style=dashed, color=gray50, fontcolor=gray50" : "")];")
            for child in node.children {
                let childID = add(child)
                lines.append("  \(id) -> \(childID);")
            }
            return id
        }
        _ = add(tree)
        lines.append("}")
        return lines.map { $0 + "\n" }.joined()
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
