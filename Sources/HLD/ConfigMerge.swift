public import YAML

/// Config layering exactly as Fabrikate did it (SPEC §1.2), as pure functions over YAML
/// values. "Higher" is the layer that wins: what the parent passes down beats the first
/// environment, which beats the next, which beats `common`.
enum ConfigMerge {
    /// Two layers disagree on what a key is (a map against a scalar or a list).
    public struct Conflict: Error, Sendable, Equatable {
        /// Keys from the layer's root to the conflicting value.
        public var path: [String]
        public var higher: Node
        public var lower: Node
    }

    /// The tag that makes a higher layer's list replace the lower one instead of
    /// concatenating (an hld extension).
    public static let replaceTag = "!replace"

    /// Merges a config-file-shaped mapping (`namespace`, `injectNamespace`, `disabled`,
    /// `config`, `subcomponents`, …) with a lower layer.
    ///
    /// - `config` and other maps merge deeply, `subcomponents.<name>` entries recursively
    ///   as config structs;
    /// - `namespace` and `injectNamespace` travel together: when the higher layer has no
    ///   (or an empty) namespace, both come from the lower layer, else both from the higher;
    /// - `disabled` of an entry the higher layer has is the higher layer's (absent counts as
    ///   false, as in Fabrikate); an entry only the lower layer has is taken whole.
    public static func mergeStruct(_ higher: Node, _ lower: Node) throws(Conflict) -> Node {
        try mergeStruct(higher, lower, path: [])
    }

    /// Deep merge of plain values: maps per key, lists concatenated (higher first) unless
    /// the higher list is tagged `!replace`, scalars from the higher layer (even `""` or
    /// `false`); a null in the higher layer counts as absent; a null only the lower layer
    /// has is not added to an existing map; a map against a non-map is a conflict.
    public static func mergeValues(_ higher: Node, _ lower: Node) throws(Conflict) -> Node {
        try mergeValues(higher, lower, path: [])
    }

    static func mergeStruct(_ higher: Node, _ lower: Node, path: [String]) throws(Conflict) -> Node {
        if higher.isNull { return lower }
        if lower.isNull { return higher }
        guard case .mapping(let high) = higher.content, case .mapping(let low) = lower.content else {
            throw Conflict(path: path, higher: higher, lower: lower)
        }
        var result = high
        let higherNamespace = higher["namespace"].flatMap { $0.isNull ? nil : $0.textValue } ?? ""
        if higherNamespace.isEmpty {
            // Both halves of the pair come from the lower layer (or neither exists).
            result.removeAll { $0.key.scalarText == "namespace" || $0.key.scalarText == "injectNamespace" }
            result += low.filter { $0.key.scalarText == "namespace" || $0.key.scalarText == "injectNamespace" }
        }
        for pair in low {
            guard let key = pair.key.scalarText else { continue }
            switch key {
            case "namespace", "injectNamespace", "disabled":
                continue
            case "subcomponents":
                try mergeEntry(&result, pair, path: path) { (h: Node, l: Node, p: [String]) throws(Conflict) -> Node in
                    try mergeSubcomponents(h, l, path: p)
                }
            default:
                try mergeEntry(&result, pair, path: path) { (h: Node, l: Node, p: [String]) throws(Conflict) -> Node in
                    try mergeValues(h, l, path: p)
                }
            }
        }
        return Node(.mapping(result), tag: higher.tag, mark: higher.mark)
    }

    private static func mergeSubcomponents(_ higher: Node, _ lower: Node, path: [String]) throws(Conflict) -> Node {
        guard case .mapping(let high) = higher.content, case .mapping(let low) = lower.content else {
            throw Conflict(path: path, higher: higher, lower: lower)
        }
        var result = high
        for pair in low {
            try mergeEntry(&result, pair, path: path) { (h: Node, l: Node, p: [String]) throws(Conflict) -> Node in
                try mergeStruct(h, l, path: p)
            }
        }
        return Node(.mapping(result), tag: higher.tag, mark: higher.mark)
    }

    /// Merges one lower-layer entry into `result` with `merge` when both have the key.
    private static func mergeEntry(
        _ result: inout [Node.Pair], _ lower: Node.Pair, path: [String],
        _ merge: (Node, Node, [String]) throws(Conflict) -> Node
    ) throws(Conflict) {
        let key = lower.key.scalarText ?? ""
        if let index = result.firstIndex(where: { $0.key == lower.key }) {
            let higher = result[index].value
            if higher.isNull {
                result[index].value = lower.value
            } else if !lower.value.isNull {
                result[index].value = try merge(higher, lower.value, path + [key])
            }
        } else if !lower.value.isNull {
            result.append(lower)
        }
    }

    static func mergeValues(_ higher: Node, _ lower: Node, path: [String]) throws(Conflict) -> Node {
        if higher.isNull { return lower }
        if lower.isNull { return higher }
        switch (higher.content, lower.content) {
        case (.mapping(let high), .mapping(let low)):
            var result = high
            for pair in low {
                try mergeEntry(&result, pair, path: path) { (h: Node, l: Node, p: [String]) throws(Conflict) -> Node in
                    try mergeValues(h, l, path: p)
                }
            }
            return Node(.mapping(result), tag: higher.tag, mark: higher.mark)
        case (.sequence(let high), .sequence(let low)):
            // A list that replaced the ones below it stays marked, so that layers further
            // down add nothing either; `ComponentConfig.values` drops the mark.
            if higher.tag == replaceTag { return Node(.sequence(high), tag: replaceTag, mark: higher.mark) }
            return Node(.sequence(high + low), tag: lower.tag == replaceTag ? replaceTag : higher.tag, mark: higher.mark)
        case (.scalar, .scalar):
            return higher
        default:
            throw Conflict(path: path, higher: higher, lower: lower)
        }
    }
}

extension Node {
    /// A short name for the kind of value, for messages.
    var kindName: String {
        switch content {
        case .scalar: return "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a map"
        }
    }
}

extension Node {
    /// The value without the `!replace` marks of the merge (a generator's input: Helm
    /// would see the tag).
    var withoutReplaceMarks: Node {
        switch content {
        case .scalar:
            return self
        case .sequence(let items):
            return Node(.sequence(items.map(\.withoutReplaceMarks)), tag: tag == ConfigMerge.replaceTag ? nil : tag, mark: mark)
        case .mapping(let pairs):
            return Node(.mapping(pairs.map { Node.Pair(key: $0.key, value: $0.value.withoutReplaceMarks) }), tag: tag, mark: mark)
        }
    }
}
