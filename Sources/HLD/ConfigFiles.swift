import Foundation
import YAML

/// One config layer: a parsed `config/<env>.yaml` (or `.json`), or what a parent passes down.
public struct ConfigLayer: Sendable {
    public var node: Node
    /// The file the layer came from, as shown in messages.
    public var file: String

    public init(node: Node, file: String) {
        self.node = node
        self.file = file
    }
}

/// Reads and checks config files.
public enum ConfigFiles {
    /// `config/<name>.yaml`, else `config/<name>.json`, in `directory`; nil when neither
    /// exists (a missing environment file is not an error, as in Fabrikate).
    public static func load(_ name: String, in directory: String, display: String, diagnostics: DiagnosticsSink) throws(HLDError) -> ConfigLayer? {
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
                throw HLDError(error.description)
            } catch let error as HLDError {
                throw error
            } catch {
                throw HLDError("\(shown): \(error)")
            }
            try validate(node, file: shown, diagnostics: diagnostics)
            return ConfigLayer(node: node, file: shown)
        }
        return nil
    }

    static let structKeys: Set<String> = ["namespace", "injectNamespace", "disabled", "config", "subcomponents", "version", "branch", "source"]

    /// Checks the shape of a config struct (and its subcomponents, recursively).
    public static func validate(_ node: Node, file: String, diagnostics: DiagnosticsSink, path: String = "") throws(HLDError) {
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
                diagnostics.warning("\(at(pair.key)): unknown key \(name) is ignored (config values go under config:)")
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
        return config
    }
    public var version: String? { node["version"]?.textValue }
    public var branch: String? { node["branch"]?.textValue }
    public var source: String? { node["source"]?.textValue }

    /// What this component passes down to its subcomponent `name`.
    public func passedDown(to name: String) -> Node {
        node["subcomponents"]?[name] ?? Node(.mapping([]))
    }
}
