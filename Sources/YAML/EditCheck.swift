/// What an edit means for the values of the document, independent of how its text is
/// written: ``TextEditor`` checks every result against it, so a change that would read
/// differently from what was asked (a value elsewhere gaining a line break, a tag lost, a
/// key landing at another path) is refused instead of written.
enum EditIntent {
    case set([PathSegment], Node, createMissing: Bool)
    case insert(Node, into: [PathSegment], at: Int?)
    case remove([PathSegment])

    /// The document `root` after the edit, or nil when the path does not allow it.
    func applied(to root: Node) -> Node? {
        switch self {
        case .set(let path, let value, let createMissing):
            return Self.set(root, path[...], value, createMissing: createMissing)
        case .insert(let value, let path, let index):
            guard let list = Self.lookup(root, path[...]), !list.isNull else {
                return Self.set(root, path[...], .sequence([value]), createMissing: true)
            }
            guard case .sequence(var items) = list.content else { return nil }
            let at = index ?? items.count
            guard (0...items.count).contains(at) else { return nil }
            items.insert(value, at: at)
            return Self.set(root, path[...], Node(.sequence(items), tag: list.tag), createMissing: false)
        case .remove(let path):
            guard let last = path.last else { return nil }
            return Self.update(root, path.dropLast()) { parent in
                switch (last, parent.content) {
                case (.key(let key), .mapping(var pairs)):
                    guard let index = pairs.firstIndex(where: { $0.key.scalarText == key }) else { return nil }
                    pairs.remove(at: index)
                    return Node(.mapping(pairs), tag: parent.tag)
                case (.index(let index), .sequence(var items)) where items.indices.contains(index):
                    items.remove(at: index)
                    return Node(.sequence(items), tag: parent.tag)
                default:
                    return nil
                }
            }
        }
    }

    private static func lookup(_ node: Node, _ path: ArraySlice<PathSegment>) -> Node? {
        guard let first = path.first else { return node }
        switch (first, node.content) {
        case (.key(let key), .mapping(let pairs)):
            return pairs.first { $0.key.scalarText == key }.flatMap { lookup($0.value, path.dropFirst()) }
        case (.index(let index), .sequence(let items)) where items.indices.contains(index):
            return lookup(items[index], path.dropFirst())
        default:
            return nil
        }
    }

    /// `node` with the value at `path` (which exists) replaced by `change` of it.
    private static func update(_ node: Node, _ path: ArraySlice<PathSegment>, _ change: (Node) -> Node?) -> Node? {
        guard let first = path.first else { return change(node) }
        switch (first, node.content) {
        case (.key(let key), .mapping(var pairs)):
            guard let index = pairs.firstIndex(where: { $0.key.scalarText == key }),
                  let inner = update(pairs[index].value, path.dropFirst(), change) else { return nil }
            pairs[index].value = inner
            return Node(.mapping(pairs), tag: node.tag)
        case (.index(let index), .sequence(var items)) where items.indices.contains(index):
            guard let inner = update(items[index], path.dropFirst(), change) else { return nil }
            items[index] = inner
            return Node(.sequence(items), tag: node.tag)
        default:
            return nil
        }
    }

    /// As ``TextEditor/set(_:to:createMissing:)`` documents it: missing map entries become
    /// nested maps, a null on the way becomes a map, a missing list item is no path.
    private static func set(_ node: Node, _ path: ArraySlice<PathSegment>, _ value: Node, createMissing: Bool) -> Node? {
        guard let first = path.first else { return value }
        switch (first, node.content) {
        case (.key(let key), .mapping(var pairs)):
            if let index = pairs.firstIndex(where: { $0.key.scalarText == key }) {
                guard let inner = set(pairs[index].value, path.dropFirst(), value, createMissing: createMissing) else { return nil }
                pairs[index].value = inner
            } else {
                guard createMissing, let nested = nest(path.dropFirst(), value) else { return nil }
                pairs.append(Node.Pair(key: .string(key), value: nested))
            }
            return Node(.mapping(pairs), tag: node.tag)
        case (.key(let key), .scalar) where node.isNull:
            guard createMissing, let nested = nest(path.dropFirst(), value) else { return nil }
            return Node(.mapping([Node.Pair(key: .string(key), value: nested)]))
        case (.index(let index), .sequence(var items)) where items.indices.contains(index):
            guard let inner = set(items[index], path.dropFirst(), value, createMissing: createMissing) else { return nil }
            items[index] = inner
            return Node(.sequence(items), tag: node.tag)
        default:
            return nil
        }
    }

    private static func nest(_ path: ArraySlice<PathSegment>, _ value: Node) -> Node? {
        var result = value
        for segment in path.reversed() {
            guard case .key(let key) = segment else { return nil }
            result = Node(.mapping([Node.Pair(key: .string(key), value: result)]))
        }
        return result
    }
}

extension Node {
    /// The value as a JSON file holds it once the editor wrote it (``Render/json``):
    /// null, booleans and numbers as JSON writes them, every other scalar a string, no tags.
    var asJSONValue: Node {
        switch content {
        case .scalar(let text, _):
            if Render.isString(self) { return .string(text) }
            return Node(.scalar(Render.json(self, indent: "", multiline: false), .plain))
        case .mapping(let pairs):
            return Node(.mapping(pairs.map { Node.Pair(key: .string($0.key.scalarText ?? ""), value: $0.value.asJSONValue) }))
        case .sequence(let items):
            return Node(.sequence(items.map(\.asJSONValue)))
        }
    }

    /// The path of the first place where `other` reads differently, or nil when the two
    /// are equal.
    func firstDifference(from other: Node, at path: [PathSegment] = []) -> [PathSegment]? {
        switch (content, other.content) {
        case (.mapping(let a), .mapping(let b)) where a.count == b.count:
            for (x, y) in zip(a, b) {
                guard x.key == y.key else { return path }
                if let found = x.value.firstDifference(from: y.value, at: path + [.key(x.key.scalarText ?? "?")]) { return found }
            }
        case (.sequence(let a), .sequence(let b)) where a.count == b.count:
            for (index, (x, y)) in zip(a, b).enumerated() {
                if let found = x.firstDifference(from: y, at: path + [.index(index)]) { return found }
            }
        default:
            break
        }
        return self == other ? nil : path
    }
}

extension SyntaxNode {
    /// Whether a YAML 1.1 merge key (`<<`) is anywhere in this subtree: the reader expands
    /// those, so values read are not the entries written.
    var hasMergeKey: Bool {
        switch kind {
        case .scalar, .alias: return false
        case .sequence(let items): return items.contains(where: \.hasMergeKey)
        case .mapping(let pairs):
            return pairs.contains { pair in
                if let key = pair.key.value, key.isMergeKey { return true }
                return pair.key.hasMergeKey || pair.value.hasMergeKey
            }
        }
    }
}
