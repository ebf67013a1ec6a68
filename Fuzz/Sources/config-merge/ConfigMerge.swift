import FuzzSupport
@testable import HLD
import YAML

/// Config layers, highest first, in one input: parts split at `#== <label> ==` lines
/// (`#== layer.json ==` makes the next part a `.json` file). Each part is written to
/// `config/l<i>.yaml|json` in a per-process scratch directory and read back with
/// `ConfigFiles.load` (the entry point only reads files); then `ConfigFiles.merge` folds
/// them. A merge that succeeds must follow SPEC §1.2 as ConfigMerge documents it:
/// - a scalar comes from the highest layer that has a non-null value there;
/// - lists concatenate, higher first, down to and including the first `!replace` one;
/// - maps merge key by key; `subcomponents.<name>` entries merge as config structs;
/// - `namespace` and `injectNamespace` come together from the highest layer with a
///   non-empty namespace; a subcomponent entry's `disabled` is its highest entry's.
let maximumLayers = 6

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parts = sections(input(data, size), maximum: maximumLayers)
    var layers: [ConfigLayer] = []
    for (index, part) in parts.enumerated() {
        let json = part.label.lowercased().contains("json")
        Scratch.remove("config/l\(index).yaml")
        Scratch.remove("config/l\(index).json")
        Scratch.write(part.bytes, to: "config/l\(index).\(json ? "json" : "yaml")")
        let layer: ConfigLayer?
        do {
            layer = try ConfigFiles.load("l\(index)", in: Scratch.directory, display: ".", diagnostics: DiscardedDiagnostics())
        } catch {
            return 0
        }
        guard let layer else { violated("a config file that exists is loaded", "config/l\(index)") }
        layers.append(layer)
    }
    let merged: Node
    do {
        merged = try ConfigFiles.merge(layers)
    } catch {
        return 0
    }
    trace("merged \(layers.count) layer(s)")
    require(merged.pairs != nil, "the merged config is a map", show(merged))
    checkStruct(merged, layers.map(\.node).filter { !$0.isNull }, path: "", topLevel: true)
    let config = ComponentConfig(merged)
    require(!config.values.hasReplaceMark, "the generator's values carry no !replace marks", show(config.values))
    return 0
}

let structKeys: Set<String> = ["namespace", "injectNamespace", "disabled", "subcomponents"]

/// `merged` against the non-null structs it was folded from, highest first.
func checkStruct(_ merged: Node, _ layers: [Node], path: String, topLevel: Bool) {
    guard !layers.isEmpty else { return }
    let config = ComponentConfig(merged)
    func namespace(_ node: Node) -> String { node["namespace"].flatMap { $0.isNull ? nil : $0.textValue } ?? "" }
    if let winner = layers.first(where: { !namespace($0).isEmpty }) {
        require(config.namespace == namespace(winner), "namespace comes from the highest layer that sets one",
                "\(path): \(quote(config.namespace ?? "nil")) instead of \(quote(namespace(winner)))")
        require(config.injectNamespace == (winner["injectNamespace"]?.bool() ?? false),
                "injectNamespace comes with the namespace it belongs to", "\(path): \(config.injectNamespace)")
    } else {
        require(config.namespace == nil, "no namespace is set when no layer sets one", "\(path): \(quote(config.namespace ?? ""))")
        require(config.injectNamespace == (layers.last!["injectNamespace"]?.bool() ?? false),
                "without a namespace, injectNamespace comes from the lowest layer", "\(path): \(config.injectNamespace)")
    }
    if !topLevel {
        require(config.disabled == (layers[0]["disabled"]?.bool() ?? false),
                "a subcomponent entry's disabled is the highest entry's", "\(path): \(config.disabled)")
    }
    for key in keys(of: layers) {
        guard let text = key.scalarText, key.pairs == nil, key.sequence == nil else { continue }
        let name = path.isEmpty ? text : "\(path).\(text)"
        let values = layers.compactMap { value(of: key, in: $0) }
        if text == "subcomponents" {
            checkSubcomponents(value(of: key, in: merged), values, path: name)
        } else if !structKeys.contains(text) {
            checkValue(value(of: key, in: merged), values, path: name)
        }
    }
}

func checkSubcomponents(_ merged: Node?, _ layers: [Node], path: String) {
    guard !layers.isEmpty else { return }
    guard let merged, merged.pairs != nil else { violated("subcomponents stays a map", "\(path): \(merged.map(show) ?? "missing")") }
    for key in keys(of: layers) {
        let entries = layers.compactMap { value(of: key, in: $0) }
        guard !entries.isEmpty else { continue }
        guard let entry = value(of: key, in: merged) else {
            violated("a subcomponent entry some layer sets is in the merge", "\(path).\(key.scalarText ?? "?")")
        }
        checkStruct(entry, entries, path: "\(path).\(key.scalarText ?? "?")", topLevel: false)
    }
}

/// A plain value against the non-null values of the layers at its place, highest first.
func checkValue(_ merged: Node?, _ values: [Node], path: String) {
    guard let first = values.first else { return }
    guard let merged else { violated("a key some layer sets is in the merge", path) }
    switch first.content {
    case .scalar:
        if let found = difference(merged, first, path: path) {
            violated("a scalar comes from the highest layer that sets it", found)
        }
    case .sequence(let items):
        var expected = items
        var tag = first.tag
        for value in values.dropFirst() {
            if tag == ConfigMerge.replaceTag { break }
            guard let more = value.sequence else { violated("a list against a non-list is a conflict", "\(path): \(show(value))") }
            expected += more
            if value.tag == ConfigMerge.replaceTag { tag = ConfigMerge.replaceTag }
        }
        guard let actual = merged.sequence else { violated("a list merges into a list", "\(path): \(show(merged))") }
        if let found = difference(Node(.sequence(actual)), Node(.sequence(expected)), path: path) {
            violated("lists concatenate, higher first, down to the first !replace one", found)
        }
    case .mapping:
        guard merged.pairs != nil else { violated("a map merges into a map", "\(path): \(show(merged))") }
        for value in values where value.pairs == nil {
            violated("a map against a non-map is a conflict", "\(path): \(show(value))")
        }
        for key in keys(of: values) {
            checkValue(value(of: key, in: merged), values.compactMap { value(of: key, in: $0) }, path: "\(path).\(key.scalarText ?? "?")")
        }
    }
}

/// Every key of the maps among `nodes`, once each (by value equality, as the merge matches them).
func keys(of nodes: [Node]) -> [Node] {
    var result: [Node] = []
    for node in nodes {
        for pair in node.pairs ?? [] where !result.contains(pair.key) { result.append(pair.key) }
    }
    return result
}

/// The non-null value of `key` in a map (the first entry with an equal key), else nil.
func value(of key: Node, in node: Node) -> Node? {
    guard let value = node.pairs?.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
    return value
}

extension Node {
    var hasReplaceMark: Bool {
        switch content {
        case .scalar: return false
        case .sequence(let items): return tag == ConfigMerge.replaceTag || items.contains(where: \.hasReplaceMark)
        case .mapping(let pairs): return pairs.contains { $0.value.hasReplaceMark }
        }
    }
}
