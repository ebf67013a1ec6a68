import Foundation
public import YAML

/// Where one value of a merged config came from.
public struct ValueOrigin: Sendable, Hashable, Codable {
    /// The file, line and column of the value that won (for a list item: of the item).
    public var location: SourceLocation
    /// The layer of the explained component it arrived through: `parent` (what its parent
    /// passes down, itself from the parent's files or further up), an environment's name
    /// (`prod`, from `config/prod.yaml`) or `common`.
    public var layer: String

    public init(location: SourceLocation, layer: String) {
        self.location = location
        self.layer = layer
    }
}

/// One step of a path into a config: a map key or a list index.
public enum ConfigPathComponent: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let key): return key
        case .index(let index): return "[\(index)]"
        }
    }
}

extension [ConfigPathComponent] {
    /// `config.hosts[0].name`.
    public var dotted: String {
        var text = ""
        for component in self {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index: text += component.description
            }
        }
        return text
    }
}

/// A merged config value with the origin of every part of it.
public struct ExplainedValue: Sendable {
    public enum Content: Sendable {
        case scalar
        case list([ExplainedValue])
        case map([ExplainedEntry])
    }

    /// The merged value (marks are the ones of the files it came from).
    public var node: Node
    /// For a scalar, the layer that won; for a list item, the layer that contributed it;
    /// for a map or a list, the highest layer that has one here. Nil only for the root of
    /// a config no layer has anything in.
    public var origin: ValueOrigin?
    public var content: Content

    /// Scalars, and empty lists and maps: the values a file sets, each with its origin.
    public func leaves(under path: [ConfigPathComponent] = []) -> [ExplainedLeaf] {
        switch content {
        case .scalar:
            return [ExplainedLeaf(path: path, value: node, origin: origin)]
        case .list(let items):
            if items.isEmpty { return [ExplainedLeaf(path: path, value: node, origin: origin)] }
            return items.enumerated().flatMap { $1.leaves(under: path + [.index($0)]) }
        case .map(let entries):
            if entries.isEmpty { return [ExplainedLeaf(path: path, value: node, origin: origin)] }
            return entries.flatMap { $0.value.leaves(under: path + [.key($0.key.scalarText ?? "")]) }
        }
    }
}

/// One key of an explained map.
public struct ExplainedEntry: Sendable {
    public var key: Node
    public var value: ExplainedValue
}

/// A scalar (or an empty list or map) of a merged config, where it is and where it came from.
public struct ExplainedLeaf: Sendable {
    public var path: [ConfigPathComponent]
    public var value: Node
    public var origin: ValueOrigin?
}

/// `hld explain`: the merged config of one component, every value traced to the file and
/// line that won.
public struct ConfigExplanation: Sendable {
    /// The component's path in the tree (`infra/monitoring/prometheus`).
    public var component: String
    public var environments: [String]
    /// The key path asked for (empty: the whole config).
    public var selection: [ConfigPathComponent]
    /// The merged config, cut down to `selection` and the keys leading to it.
    public var config: ExplainedValue

    /// The leaves of the selected part, with their full paths.
    public var leaves: [ExplainedLeaf] { config.leaves() }
}

extension ConfigOrigin {
    /// The merged config with the origin of every value.
    ///
    /// The layers are merged again by `ConfigFiles.merge` itself, the one materialize uses,
    /// so an explanation cannot disagree with a render: before merging, every node of every
    /// layer (up the parent chain) is numbered through its mark, and afterwards each node of
    /// the result is looked up by its number. Marks play no part in merging (`Node`
    /// equality ignores them), so the numbering changes nothing else.
    public func explained() throws(HLDError) -> ExplainedValue {
        var numbering = NodeNumbering()
        let merged = try numberedMerge(&numbering)
        return numbering.explain(merged)
    }

    private func numberedMerge(_ numbering: inout NodeNumbering) throws(HLDError) -> Node {
        var merging: [ConfigLayer] = []
        if let parent {
            let parentConfig = try parent.numberedMerge(&numbering)
            merging.append(ConfigLayer(node: ComponentConfig(parentConfig).passedDown(to: entryName), file: "what the parent passes down to \(entryName)"))
        }
        // Numbered last, so this component's own layers have the highest numbers.
        numbering.ownFrom = numbering.count + 1
        for layer in layers {
            merging.append(ConfigLayer(node: numbering.number(layer.node, file: layer.file), file: layer.file))
        }
        return try ConfigFiles.merge(merging)
    }
}

/// Numbers nodes through their marks (line: the number, column: 0) and remembers where
/// each one really was.
private struct NodeNumbering {
    private var locations: [SourceLocation] = []
    private var layers: [String] = []
    /// Numbers from here on belong to the explained component's own files.
    var ownFrom = 1

    var count: Int { locations.count }

    mutating func number(_ node: Node, file: String) -> Node {
        // `config/prod.yaml` is the layer `prod`.
        let layer = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return number(node, file: file, layer: layer)
    }

    private mutating func number(_ node: Node, file: String, layer: String) -> Node {
        locations.append(SourceLocation(file: file, line: node.mark.line, column: node.mark.column))
        layers.append(layer)
        var copy = node
        copy.mark = Mark(line: locations.count, column: 0)
        switch node.content {
        case .scalar:
            break
        case .sequence(let items):
            copy.content = .sequence(items.map { number($0, file: file, layer: layer) })
        case .mapping(let pairs):
            copy.content = .mapping(pairs.map { Node.Pair(key: $0.key, value: number($0.value, file: file, layer: layer)) })
        }
        return copy
    }

    /// The merged node with its real marks back, and every part's origin.
    func explain(_ node: Node) -> ExplainedValue {
        let number = node.mark.line
        let known = node.mark.column == 0 && number >= 1 && number <= locations.count
        let origin = known ? ValueOrigin(location: locations[number - 1], layer: number >= ownFrom ? layers[number - 1] : "parent") : nil
        var restored = node
        restored.mark = known ? Mark(line: locations[number - 1].line, column: locations[number - 1].column) : Mark(line: 0, column: 0)
        switch node.content {
        case .scalar:
            return ExplainedValue(node: restored, origin: origin, content: .scalar)
        case .sequence(let items):
            let explained = items.map(explain)
            restored.content = .sequence(explained.map(\.node))
            return ExplainedValue(node: restored, origin: origin, content: .list(explained))
        case .mapping(let pairs):
            let entries = pairs.map { ExplainedEntry(key: $0.key, value: explain($0.value)) }
            restored.content = .mapping(entries.map { Node.Pair(key: $0.key, value: $0.value.node) })
            return ExplainedValue(node: restored, origin: origin, content: .map(entries))
        }
    }
}

extension ExplainedValue {
    /// The value at `path`, or an error that names the first step that does not exist
    /// (with "did you mean"). `name` is how messages name the config (`infra/prometheus`).
    public func value(at path: [ConfigPathComponent], in name: String) throws(HLDError) -> ExplainedValue {
        var current = self
        for (depth, step) in path.enumerated() {
            let above = Array(path[..<depth])
            let here = above.isEmpty ? "the merged config of \(name)" : "\(above.dotted) of \(name)"
            switch (step, current.content) {
            case (.key(let key), .map(let entries)):
                guard let entry = entries.first(where: { $0.key.scalarText == key }) else {
                    let keys = entries.compactMap(\.key.scalarText)
                    var hint = Spelling.hint(for: key, among: keys)
                    // `image.tag` for `config.image.tag`: a key path starts at the file's top level.
                    if depth == 0, let config = entries.first(where: { $0.key.scalarText == "config" }),
                       (try? config.value.value(at: path, in: name)) != nil {
                        hint = " (did you mean \(([ConfigPathComponent.key("config")] + path).dotted)? key paths start at the top of a config file)"
                    }
                    throw HLDError("\(here) has no key \(key)\(hint)")
                }
                current = entry.value
            case (.index(let index), .list(let items)):
                guard items.indices.contains(index) else {
                    throw HLDError("\(here) has \(items.count) item(s); there is no item \(index)")
                }
                current = items[index]
            case (.index(let index), .map(let entries)):
                // `hosts.0` for a map with a key `0`.
                guard let entry = entries.first(where: { $0.key.scalarText == String(index) }) else {
                    throw HLDError("\(here) is a map, not a list; it has no item \(index)")
                }
                current = entry.value
            case (.key(let key), .list(let items)):
                if let index = Int(key), items.indices.contains(index) {
                    current = items[index]
                } else {
                    throw HLDError("\(here) is a list of \(items.count) item(s); \(key) is not one of its indexes")
                }
            case (_, .scalar):
                throw HLDError("\(here) is a scalar (\(current.node.scalarText ?? "")); it has no \(step.description.hasPrefix("[") ? "item" : "key") \(step.description)")
            }
        }
        return current
    }

    /// The value cut down to the part at `path` and the keys (and items) leading to it
    /// (a path that does not exist, checked by `value(at:in:)`, cuts nothing).
    func pruned(to path: [ConfigPathComponent]) -> ExplainedValue {
        guard let step = path.first else { return self }
        let rest = Array(path.dropFirst())
        var copy = self
        switch (step, content) {
        case (.key(let key), .map(let entries)):
            copy.content = .map(entries.filter { $0.key.scalarText == key }.map { ExplainedEntry(key: $0.key, value: $0.value.pruned(to: rest)) })
        case (.index(let index), .map(let entries)):
            copy.content = .map(entries.filter { $0.key.scalarText == String(index) }.map { ExplainedEntry(key: $0.key, value: $0.value.pruned(to: rest)) })
        case (.index(let index), .list(let items)) where items.indices.contains(index):
            copy.content = .list([items[index].pruned(to: rest)])
        case (.key(let key), .list(let items)) where Int(key).map(items.indices.contains) == true:
            copy.content = .list([items[Int(key)!].pruned(to: rest)])
        default:
            return self
        }
        switch copy.content {
        case .scalar: break
        case .list(let items): copy.node.content = .sequence(items.map(\.node))
        case .map(let entries): copy.node.content = .mapping(entries.map { Node.Pair(key: $0.key, value: $0.value.node) })
        }
        return copy
    }
}

extension ConfigExplanation {
    /// Parses a key path: `config.image.tag`, `config.hosts.0` or `config.hosts[0]`.
    public static func path(_ text: String) throws(HLDError) -> [ConfigPathComponent] {
        func bad(_ why: String) -> HLDError { HLDError("\(text) is not a key path (\(why))") }
        var components: [ConfigPathComponent] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key = part.prefix { $0 != "[" }
            var rest = part.dropFirst(key.count)
            if key.isEmpty && rest.isEmpty { throw bad("keys separated by dots, such as config.image.tag") }
            if !key.isEmpty { components.append(.key(String(key))) }
            while !rest.isEmpty {
                guard rest.hasPrefix("["), let close = rest.firstIndex(of: "]"),
                      let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0 else {
                    throw bad("a list item is written [0] or .0")
                }
                components.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
        }
        return components
    }
}

extension Resolution {
    /// `hld explain`: the merged config of the component at `component` (a component
    /// path as messages print it, or its chain of entry names; nil: the root), cut down
    /// to `key` (a dotted key path; nil: everything), every value with its origin.
    public func explain(component: String? = nil, key: String? = nil) throws(HLDError) -> ConfigExplanation {
        let found = try tree.component(at: component)
        let selection = try key.map { (text: String) throws(HLDError) in try ConfigExplanation.path(text) } ?? []
        let explained = try found.origin.explained()
        _ = try explained.value(at: selection, in: found.componentPath)
        let config = explained.pruned(to: selection)
        return ConfigExplanation(component: found.componentPath, environments: environments, selection: selection, config: config)
    }
}

extension ResolvedComponent {
    /// The component at `path` in this tree: its component path (`infra/infra-impl`, as in
    /// messages and `# Source:` lines) or its chain of entry names from below the root
    /// (`infra`); nil, empty or `.`: the root. A disabled entry or an unknown path is an
    /// error saying so.
    public func component(at path: String?) throws(HLDError) -> ResolvedComponent {
        guard let path, !path.isEmpty, path != "." else { return self }
        let wanted = path.split(separator: "/").joined(separator: "/")
        var byChain: [String: ResolvedComponent] = [:]
        var disabled: [String: DisabledSubcomponent] = [:]
        func walk(_ component: ResolvedComponent, chain: [String]) {
            let key = chain.joined(separator: "/")
            if !chain.isEmpty && byChain[key] == nil { byChain[key] = component }
            for entry in component.disabledSubcomponents {
                disabled[(chain + [entry.entry.name]).joined(separator: "/")] = entry
                disabled[entry.componentPath] = entry
            }
            for child in component.children { walk(child, chain: chain + [child.entryName]) }
        }
        walk(self, chain: [])
        let all = flattened
        if let found = all.first(where: { $0.componentPath == wanted }) ?? byChain[wanted] {
            return found
        }
        if let entry = disabled[wanted] {
            let message = "\(entry.componentPath) is disabled here, so it has no merged config to explain"
            throw entry.disabledAt.map { HLDError($0, message) } ?? HLDError(message)
        }
        let known = all.map(\.componentPath)
        let suggestion = Spelling.suggestion(for: wanted, among: known + byChain.keys.sorted())
        throw HLDError("no component \(wanted) in the tree\(suggestion.map { " (did you mean \($0)?)" } ?? " (components: \(known.joined(separator: ", ")))")")
    }
}
