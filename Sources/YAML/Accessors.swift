/// Typed reads for definition code. Plain scalars resolve by YAML 1.1 unless a schema is
/// given, because that is how Fabrikate (go-yaml v2) read the same files: `injectNamespace:
/// yes` is true there, so it is true here.
extension Node {
    /// The text of a scalar, whatever its type; nil for collections.
    public var scalarText: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// The scalar's text when it is a string (quoted, `!!str`, or plain text that resolves
    /// to no other type).
    public func string(_ schema: Schema = .yaml11) -> String? {
        guard let text = scalarText, scalarType(schema) == .string else { return nil }
        return text
    }

    /// The scalar's text when it is a string, number, boolean or timestamp (not null): the
    /// reading for fields such as `version: 1.10` that users write unquoted.
    public var textValue: String? {
        guard let text = scalarText, !isNull else { return nil }
        return text
    }

    public var isNull: Bool { scalarType(.yaml11) == .null && scalarType(.core12) == .null }

    public func bool(_ schema: Schema = .yaml11) -> Bool? {
        guard let text = scalarText, scalarType(schema) == .bool else { return nil }
        switch text.lowercased() {
        case "true", "yes", "y", "on": return true
        default: return false
        }
    }

    public func int(_ schema: Schema = .yaml11) -> Int? {
        guard let text = scalarText, scalarType(schema) == .int else { return nil }
        var body = Substring(text.filter { $0 != "_" })
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        let magnitude: Int?
        if body.contains(":") {
            // base 60 (YAML 1.1): 1:30 is 90
            magnitude = body.split(separator: ":").reduce(Optional(0)) { acc, part in
                acc.flatMap { a in Int(part).map { a * 60 + $0 } }
            }
        } else if body.hasPrefix("0x") {
            magnitude = Int(body.dropFirst(2), radix: 16)
        } else if body.hasPrefix("0o") {
            magnitude = Int(body.dropFirst(2), radix: 8)
        } else if body.hasPrefix("0b") {
            magnitude = Int(body.dropFirst(2), radix: 2)
        } else if schema == .yaml11 && body.count > 1 && body.hasPrefix("0") {
            magnitude = Int(body.dropFirst(), radix: 8)
        } else {
            magnitude = Int(body)
        }
        return magnitude.map { negative ? -$0 : $0 }
    }

    public func double(_ schema: Schema = .yaml11) -> Double? {
        if let int = int(schema) { return Double(int) }
        guard let text = scalarText, scalarType(schema) == .float else { return nil }
        let body = String(text.filter { $0 != "_" })
        switch body.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: return Double(body)
        }
    }

    /// The items of a sequence.
    public var sequence: [Node]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The entries of a mapping, in order.
    public var pairs: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The value for a scalar key with this text, or nil (also when this is no mapping).
    public subscript(key: String) -> Node? {
        guard case .mapping(let pairs) = content else { return nil }
        return pairs.first { $0.key.scalarText == key && !$0.key.isNull }?.value
    }

    /// The keys of a mapping that are scalars, in order.
    public var keys: [String]? {
        pairs?.compactMap(\.key.scalarText)
    }
}
