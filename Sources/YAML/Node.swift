/// A position in a YAML source: 1-based line and column (columns count characters).
public struct Mark: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// How a scalar was (or should be) written.
public enum ScalarStyle: Sendable, Hashable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// Full tag names of the YAML core types, as libyaml reports them after resolving `!!` handles.
public enum Tag {
    public static let str = "tag:yaml.org,2002:str"
    public static let int = "tag:yaml.org,2002:int"
    public static let float = "tag:yaml.org,2002:float"
    public static let bool = "tag:yaml.org,2002:bool"
    public static let null = "tag:yaml.org,2002:null"
    public static let timestamp = "tag:yaml.org,2002:timestamp"
    public static let map = "tag:yaml.org,2002:map"
    public static let seq = "tag:yaml.org,2002:seq"
    public static let merge = "tag:yaml.org,2002:merge"
    /// The non-specific tag `!`: "a string, whatever it looks like".
    public static let nonSpecific = "!"
}

/// One node of a YAML document: a scalar, a sequence or a mapping, with its explicit tag
/// (if any) and where it started in the source.
///
/// Aliases are expanded by the parser, so a tree never contains references. Equality (`==`)
/// compares values, not presentation: marks and styles are ignored, but a scalar's type is
/// not — two scalars are equal when their text is the same and every YAML 1.1 or 1.2 reader
/// would give them the same type (so plain `foo` equals `"foo"`, but plain `yes` does not
/// equal `"yes"`). Nulls are equal whatever their spelling (`~`, `null`, empty).
public struct Node: Sendable {
    public enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([Node])
        case mapping([Pair])
    }

    /// One entry of a mapping. Mappings keep their keys in source order.
    public struct Pair: Sendable {
        public var key: Node
        public var value: Node

        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
    }

    public var content: Content
    /// The node's explicit tag in full form (`tag:yaml.org,2002:str`, `!replace`, `!`), or nil.
    public var tag: String?
    /// Where the node started in its source; (0, 0) for nodes built in code.
    public var mark: Mark

    public init(_ content: Content, tag: String? = nil, mark: Mark = Mark(line: 0, column: 0)) {
        self.content = content
        self.tag = tag
        self.mark = mark
    }

    /// A plain scalar: its type is whatever a YAML reader resolves the text to.
    public static func plain(_ text: String) -> Node { Node(.scalar(text, .plain)) }
    /// A string scalar: always a string, however it is written out.
    public static func string(_ text: String) -> Node { Node(.scalar(text, .doubleQuoted)) }
    public static func sequence(_ items: [Node]) -> Node { Node(.sequence(items)) }
    public static func mapping(_ pairs: [(String, Node)]) -> Node {
        Node(.mapping(pairs.map { Pair(key: .string($0.0), value: $0.1) }))
    }
    /// The null scalar, written `null`.
    public static var null: Node { plain("null") }
}

extension Node: Equatable {
    public static func == (lhs: Node, rhs: Node) -> Bool {
        switch (lhs.content, rhs.content) {
        case (.scalar, .scalar):
            return lhs.scalarIdentity == rhs.scalarIdentity
        case (.sequence(let a), .sequence(let b)):
            return collectionTag(lhs.tag, default: Tag.seq) == collectionTag(rhs.tag, default: Tag.seq)
                && a == b
        case (.mapping(let a), .mapping(let b)):
            guard collectionTag(lhs.tag, default: Tag.map) == collectionTag(rhs.tag, default: Tag.map),
                  a.count == b.count else { return false }
            return zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default:
            return false
        }
    }

    private static func collectionTag(_ tag: String?, default standard: String) -> String {
        guard let tag, tag != Tag.nonSpecific else { return standard }
        return tag
    }
}

/// What makes a scalar the value it is: its text and its type under each schema.
struct ScalarIdentity: Hashable {
    var text: String
    var yaml11: ScalarType
    var core12: ScalarType
}

extension Node {
    /// The identity used for equality and duplicate-key detection; nil for collections.
    var scalarIdentity: ScalarIdentity? {
        guard case .scalar(let text, _) = content else { return nil }
        let t11 = scalarType(.yaml11) ?? .string
        let t12 = scalarType(.core12) ?? .string
        if t11 == .null && t12 == .null { return ScalarIdentity(text: "", yaml11: .null, core12: .null) }
        return ScalarIdentity(text: text, yaml11: t11, core12: t12)
    }
}
