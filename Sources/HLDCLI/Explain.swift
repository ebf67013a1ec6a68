import ArgumentParser
import Foundation
import HLD
import YAML

extension HLDCommand {
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Show a component's merged config with the file and line each value came from.",
            usage: "hld explain [<options>] [<environment> ...] [<component> [<key-path>]]",
            discussion: """
                Environments come first, highest precedence first (default: hld.yaml's \
                defaults, else common): the leading arguments that hld.yaml declares as \
                environments or groups, or, without hld.yaml, that the top-level component has \
                a config/<name>.yaml (or .json) for. Then, optionally, the component: its path \
                as messages and # Source: lines print it (infra/monitoring/prometheus) or its \
                chain of entry names (infra/prometheus); default: the top-level component. \
                Then, optionally, a key path (config.image.tag, config.hosts[0]) to show only \
                that part. Every value and list item is annotated with the file:line:column \
                that won: what the parent passes down (written in the parent's config or \
                further up), then config/<env> in order, then config/common. The tree is \
                resolved (sources fetched) but nothing is rendered and no hook runs.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Environments, then a component, then a key path.", valueName: "argument"),
                  completion: .custom(environmentNames))
        var arguments: [String] = []

        @Option(help: "text (the config as YAML, each value followed by a # file:line:column comment), or json (component, environments and every value with its path, file, line, column and layer).")
        var format: OutputFormat = .text

        func run() async throws {
            var options = try global.materializeOptions(environments: [], allowHooks: false)
            let split = try Self.environmentCount(in: arguments, directory: options.directory)
            options.environments = Array(arguments.prefix(split))
            let rest = Array(arguments.dropFirst(split))
            guard rest.count <= 2 else {
                printError("hld explain takes environments, then at most a component and a key path, but got \(rest.joined(separator: " ")) after the environments (hld.yaml, or without it the top-level component's config files, says which names are environments)")
                throw ExitCode(64)
            }
            let explanation: ConfigExplanation
            let diagnostics: [Diagnostic]
            do throws(HLDError) {
                let resolution = try await Materializer.resolve(options)
                diagnostics = resolution.diagnostics
                do {
                    explanation = try resolution.explain(component: rest.first, key: rest.count > 1 ? rest[1] : nil)
                } catch {
                    throw Self.hint(error, name: rest.first, tree: resolution.tree)
                }
            } catch {
                if format == .json { try RunReport(failure: error).print() }
                (options.diagnostics as? TerminalDiagnostics)?.printHeld()
                printError(error)
                throw ExitCode.failure
            }
            switch format {
            case .text: try writeStandardOutput(Array(AnnotatedConfig.text(explanation).utf8))
            case .json: try ExplainReport(explanation, diagnostics: diagnostics).print()
            }
        }

        /// An unknown component that could have been meant as an environment gets told
        /// how hld tells them apart.
        static func hint(_ error: HLDError, name: String?, tree: ResolvedComponent) -> HLDError {
            guard let name, !name.contains("/"), !name.contains("."), (try? tree.component(at: name)) == nil,
                  error.location == nil, error.others.isEmpty else { return error }
            var hinted = error
            hinted.message += "; to use \(name) as an environment, declare it in hld.yaml (environments: [...]) or give the top-level component a config/\(name).yaml"
            return hinted
        }

        /// How many leading arguments are environments: the names hld.yaml declares (and
        /// `common`), or without any there, the names the top-level component has a config
        /// file for. A name with a `/` or a `.` is never one.
        static func environmentCount(in arguments: [String], directory: String) throws -> Int {
            let project: ProjectFile
            do {
                project = try ProjectFile.load(in: directory)
            } catch {
                printError(error)
                throw ExitCode.failure
            }
            let known = project.knownNames
            func isEnvironment(_ name: String) -> Bool {
                if name.contains("/") || name.contains(".") || name.isEmpty { return false }
                if name == "common" { return true }
                if !known.isEmpty { return known.contains(name) }
                return ["yaml", "json"].contains { FileManager.default.fileExists(atPath: "\(directory)/config/\(name).\($0)") }
            }
            return arguments.prefix(while: isEnvironment).count
        }
    }
}

/// `hld explain`'s text: the config as YAML, each scalar and list item followed by a
/// `# file:line:column` comment, the comments aligned.
enum AnnotatedConfig {
    /// Comments line up after the longest line, but never further right than this.
    static let commentColumn = 48

    static func text(_ explanation: ConfigExplanation) -> String {
        let environments = explanation.environments.isEmpty ? "common" : explanation.environments.joined(separator: ", ")
        var lines: [(text: String, origin: ValueOrigin?)] = [("# \(explanation.component) (\(environments))", nil)]
        switch explanation.config.content {
        case .map(let entries) where !entries.isEmpty:
            lines += mapLines(entries, indent: 0)
        default:
            lines += leafLines(nil, explanation.config, indent: 0)
        }
        let width = min(commentColumn, lines.filter { $0.origin != nil }.map(\.text.count).max() ?? 0)
        return lines.map { line in
            guard let origin = line.origin else { return line.text + "\n" }
            let padding = String(repeating: " ", count: max(2, width + 2 - line.text.count))
            return line.text + padding + "# " + origin.location.description + "\n"
        }.joined()
    }

    private static func mapLines(_ entries: [ExplainedEntry], indent: Int) -> [(text: String, origin: ValueOrigin?)] {
        var lines: [(text: String, origin: ValueOrigin?)] = []
        let pad = String(repeating: " ", count: indent)
        for entry in entries {
            switch entry.value.content {
            case .map(let inner) where !inner.isEmpty:
                lines.append((pad + keyText(entry.key) + ":", nil))
                lines += mapLines(inner, indent: indent + 2)
            case .list(let items) where !items.isEmpty:
                // Kubernetes style: a list under a key is not indented.
                lines.append((pad + keyText(entry.key) + ":", nil))
                lines += listLines(items, indent: indent)
            default:
                lines += leafLines(entry.key, entry.value, indent: indent)
            }
        }
        return lines
    }

    private static func listLines(_ items: [ExplainedValue], indent: Int) -> [(text: String, origin: ValueOrigin?)] {
        var lines: [(text: String, origin: ValueOrigin?)] = []
        let pad = String(repeating: " ", count: indent)
        for item in items {
            var itemLines: [(text: String, origin: ValueOrigin?)]
            switch item.content {
            case .map(let entries) where !entries.isEmpty:
                itemLines = mapLines(entries, indent: indent + 2)
            case .list(let inner) where !inner.isEmpty:
                itemLines = listLines(inner, indent: indent + 2)
            default:
                lines += leafLines(nil, item, indent: indent, asItem: true)
                continue
            }
            // The first line of a nested collection goes on the `- ` line.
            itemLines[0].text = pad + "- " + itemLines[0].text.dropFirst(indent + 2)
            lines += itemLines
        }
        return lines
    }

    /// `key: value` (or `- value`) as hld's emitter writes it, so quoting and block scalars
    /// read as in any YAML hld writes; the comment goes on the first line.
    private static func leafLines(_ key: Node?, _ value: ExplainedValue, indent: Int, asItem: Bool = false) -> [(text: String, origin: ValueOrigin?)] {
        let node: Node
        if let key {
            node = Node(.mapping([Node.Pair(key: key, value: value.node)]))
        } else if asItem {
            node = Node(.sequence([value.node]))
        } else {
            node = value.node
        }
        let emitted = (try? node.yaml()) ?? "\(value.node.scalarText ?? "")\n"
        let pad = String(repeating: " ", count: indent)
        var lines = emitted.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { (text: pad + $0, origin: ValueOrigin?.none) }
        if !lines.isEmpty { lines[0].origin = value.origin }
        return lines
    }

    /// A key as the emitter writes it (quoted when it would read as another type).
    private static func keyText(_ key: Node) -> String {
        let emitted = (try? Node(.mapping([Node.Pair(key: key, value: .null)])).yaml()) ?? ""
        return emitted.hasSuffix(": null\n") ? String(emitted.dropLast(": null\n".count)) : key.scalarText ?? ""
    }
}

/// `hld explain --format json`.
struct ExplainReport: Encodable {
    struct Value: Encodable {
        var path: String
        var value: JSONScalar
        var file: String?
        var line: Int?
        var column: Int?
        var layer: String?
    }

    var component: String
    var environments: [String]
    var key: String?
    var values: [Value]
    var diagnostics: [Diagnostic]

    init(_ explanation: ConfigExplanation, diagnostics: [Diagnostic]) {
        component = explanation.component
        environments = explanation.environments
        key = explanation.selection.isEmpty ? nil : explanation.selection.dotted
        values = explanation.leaves.map { leaf in
            Value(path: leaf.path.dotted, value: JSONScalar(leaf.value), file: leaf.origin?.location.file,
                  line: leaf.origin?.location.line, column: leaf.origin?.location.column, layer: leaf.origin?.layer)
        }
        self.diagnostics = diagnostics
    }

    func print() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeStandardOutput(Array(try encoder.encode(self)) + [0x0A])
    }
}

/// A leaf as JSON: its YAML 1.1 type (as Fabrikate and Helm read values), `{}` or `[]`.
enum JSONScalar: Encodable {
    case null, bool(Bool), int(Int), double(Double), string(String), emptyMap, emptyList

    init(_ node: Node) {
        switch node.content {
        case .mapping: self = .emptyMap
        case .sequence: self = .emptyList
        case .scalar(let text, _):
            switch node.scalarType(.yaml11) {
            case .null?: self = .null
            case .bool?: self = node.bool().map(JSONScalar.bool) ?? .string(text)
            case .int?: self = node.int().map(JSONScalar.int) ?? .string(text)
            case .float?: self = node.double().flatMap { $0.isFinite ? JSONScalar.double($0) : nil } ?? .string(text)
            default: self = .string(text)
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .emptyMap: try container.encode([String: String]())
        case .emptyList: try container.encode([String]())
        }
    }
}
