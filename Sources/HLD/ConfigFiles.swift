import Foundation
public import YAML

/// One config layer: a parsed `config/<env>.yaml` (or `.json`), or what a parent passes down.
public struct ConfigLayer: Sendable {
    public var node: Node
    /// The file the layer came from, as shown in messages.
    public var file: String
    /// Where the file is on disk (nil for config a parent passes down).
    public var path: String?

    public init(node: Node, file: String, path: String? = nil) {
        self.node = node
        self.file = file
        self.path = path
    }
}

/// Reads and checks config files.
enum ConfigFiles {
    /// `config/<name>.yaml`, else `config/<name>.json`, in `directory`; nil when neither
    /// exists (a missing environment file is not an error, as in Fabrikate).
    public static func load(_ name: String, in directory: String, display: String, diagnostics: any DiagnosticsSink) throws(HLDError) -> ConfigLayer? {
        let fm = FileManager.default
        for ext in ["yaml", "json"] {
            let path = "\(directory)/config/\(name).\(ext)"
            guard fm.fileExists(atPath: path) else { continue }
            let shown = display == "." ? "config/\(name).\(ext)" : "\(display)/config/\(name).\(ext)"
            let node: Node
            do {
                guard let bytes = fm.contents(atPath: path) else { throw HLDError("\(shown): cannot read the config file") }
                let documents = try DocumentReader(bytes: [UInt8](bytes), file: shown, format: ext == "json" ? .json : .yaml).readAll()
                guard documents.count <= 1 else {
                    throw HLDError("\(shown):\(documents[1].mark): a config file holds one document, this is a second one")
                }
                node = documents.first ?? Node(.mapping([]))
            } catch let error as YAMLError {
                throw HLDError(error)
            } catch let error as HLDError {
                throw error
            } catch {
                throw HLDError("\(shown): \(error)")
            }
            try validate(node, file: shown, diagnostics: diagnostics)
            return ConfigLayer(node: node, file: shown, path: path)
        }
        return nil
    }

    static let structKeys = ["namespace", "injectNamespace", "disabled", "config", "subcomponents", "version", "branch", "source"]

    /// Checks the shape of a config struct (and its subcomponents, recursively).
    public static func validate(_ node: Node, file: String, diagnostics: any DiagnosticsSink, path: String = "") throws(HLDError) {
        func at(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.mark.line, column: node.mark.column) }
        if node.isNull { return }
        guard let pairs = node.pairs else {
            throw HLDError(at(node), "\(path.isEmpty ? "a config file" : path) must be a mapping (namespace, config, subcomponents, …), not \(node.kindName)")
        }
        for pair in pairs {
            guard let key = pair.key.scalarText else { continue }
            let value = pair.value
            let name = path.isEmpty ? key : "\(path).\(key)"
            guard structKeys.contains(key) else {
                if let suggestion = Spelling.suggestion(for: key, among: structKeys) {
                    throw HLDError(at(pair.key), "unknown key \(name) (did you mean \(suggestion)?)")
                }
                diagnostics.warning("\(at(pair.key)): unknown key \(name) is ignored (config values go under config:)", at: at(pair.key))
                continue
            }
            if value.isNull { continue }
            switch key {
            case "namespace", "version", "branch", "source":
                guard value.textValue != nil else { throw HLDError(at(value), "\(name) must be a string, not \(value.kindName)") }
            case "injectNamespace", "disabled":
                guard value.bool() != nil else { throw HLDError(at(value), "\(name) must be true or false") }
            case "config":
                guard value.pairs != nil else { throw HLDError(at(value), "\(name) must be a mapping of values, not \(value.kindName)") }
            case "subcomponents":
                guard let entries = value.pairs else {
                    throw HLDError(at(value), "\(name) must map subcomponent names to their config, not \(value.kindName)")
                }
                for entry in entries {
                    try validate(entry.value, file: file, diagnostics: diagnostics, path: "\(name).\(entry.key.scalarText ?? "?")")
                }
            default:
                break
            }
        }
    }

    /// Folds layers, highest first, into one config struct. A conflict names both files:
    /// the lower layer's, and the highest earlier layer that has a value at that key.
    public static func merge(_ layers: [ConfigLayer]) throws(HLDError) -> Node {
        var merged = Node(.mapping([]))
        for (index, layer) in layers.enumerated() {
            do {
                merged = try ConfigMerge.mergeStruct(merged, layer.node)
            } catch {
                let key = error.path.joined(separator: ".")
                let winner = layers[..<index].first { value(at: error.path, in: $0.node).map { !$0.isNull } ?? false }
                let higher = winner.map { "\($0.file):\(error.higher.mark)" } ?? "a higher layer"
                throw HLDError("\(layer.file):\(error.lower.mark): \(key) is \(error.lower.kindName) here but \(error.higher.kindName) in \(higher); a map cannot be merged with a scalar or a list")
            }
        }
        return merged
    }

    static func value(at path: [String], in node: Node) -> Node? {
        var current: Node? = node
        for key in path { current = current?[key] }
        return current
    }
}

extension ConfigFiles {
    /// Warns about each `subcomponents.<name>` entry of a config file that names no
    /// subcomponent of the component it configures: a misspelt name would silently leave
    /// that subcomponent unconfigured. Checked in every component's own files, down the
    /// tree as far as the entries reach.
    static func checkSubcomponentNames(in tree: ResolvedComponent, diagnostics: any DiagnosticsSink) {
        for component in tree.flattened {
            let sink = diagnostics.scoped(to: component.position, component: component.componentPath)
            for layer in component.origin.layers {
                check(layer.node, file: layer.file, against: component, path: "", diagnostics: sink)
            }
        }
    }

    private static func check(_ node: Node, file: String, against component: ResolvedComponent, path: String, diagnostics: any DiagnosticsSink) {
        guard let entries = node["subcomponents"]?.pairs else { return }
        let names = component.definition.subcomponents.map(\.name)
        for entry in entries {
            guard let name = entry.key.scalarText else { continue }
            let key = "\(path)subcomponents.\(name)"
            guard names.contains(name) else {
                let hint = names.isEmpty ? " (it has no subcomponents)" : Spelling.hint(for: name, among: names)
                diagnostics.warning("\(file):\(entry.key.mark): \(key) names no subcomponent of \(component.componentPath)\(hint); its settings are not used",
                                    at: SourceLocation(file: file, line: entry.key.mark.line, column: entry.key.mark.column))
                continue
            }
            // A disabled subcomponent was not resolved: nothing below it to check.
            if let child = component.children.first(where: { $0.entryName == name }) {
                check(entry.value, file: file, against: child, path: key + ".", diagnostics: diagnostics)
            }
        }
    }
}

/// Where the values of one component's merged config came from: what its parent passed
/// down (itself traced through the parent), then its own config files, highest first.
public final class ConfigOrigin: Sendable {
    /// The component's own config files, highest first.
    public let layers: [ConfigLayer]
    /// The key of the component's entry in its parent's `subcomponents` config.
    public let entryName: String
    let passedDown: Node?
    let parent: ConfigOrigin?

    init(layers: [ConfigLayer], entryName: String, passedDown: Node? = nil, parent: ConfigOrigin? = nil) {
        self.layers = layers
        self.entryName = entryName
        self.passedDown = passedDown
        self.parent = parent
    }

    /// The file and line of the value that wins at `path` (keys from the config struct's
    /// root, e.g. `["version"]` or `["config", "image", "tag"]`), or nil when no layer sets it.
    public func location(of path: [String]) -> SourceLocation? {
        if let passedDown, let value = ConfigFiles.value(at: path, in: passedDown), !value.isNull {
            return parent?.location(of: ["subcomponents", entryName] + path)
        }
        for layer in layers {
            if let value = ConfigFiles.value(at: path, in: layer.node), !value.isNull {
                return SourceLocation(file: layer.file, line: value.mark.line, column: value.mark.column)
            }
        }
        return nil
    }
}

/// Typed reads of a merged config struct.
public struct ComponentConfig: Sendable {
    public var node: Node

    public init(_ node: Node) { self.node = node }

    public var namespace: String? { node["namespace"]?.textValue.flatMap { $0.isEmpty ? nil : $0 } }
    public var injectNamespace: Bool { node["injectNamespace"]?.bool() ?? false }
    public var disabled: Bool { node["disabled"]?.bool() ?? false }
    /// The generator's input (Helm values): `config`, or an empty map.
    public var values: Node {
        guard let config = node["config"], !config.isNull else { return Node(.mapping([])) }
        return config.withoutReplaceMarks
    }
    public var version: String? { node["version"]?.textValue }
    public var branch: String? { node["branch"]?.textValue }
    public var source: String? { node["source"]?.textValue }

    /// What this component passes down to its subcomponent `name`.
    public func passedDown(to name: String) -> Node {
        node["subcomponents"]?[name] ?? Node(.mapping([]))
    }
}
