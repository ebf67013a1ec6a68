import Foundation

/// How the text editor writes new values: scalars through the emitter (so a string that
/// would read as another type is quoted), collections in the file's own block layout, in
/// flow style inside flow collections, and as JSON in JSON files.
enum Render {
    /// One document's text without its line break and any `...` end marker.
    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        if text.hasSuffix("\n...\n") { text = text.dropLast(5) }
        while text.hasSuffix("\n") { text = text.dropLast() }
        return String(text)
    }

    /// Whether a scalar is a string (rather than a number, boolean or null).
    static func isString(_ node: Node) -> Bool {
        guard case .scalar(_, let style) = node.content else { return false }
        if node.tag == Tag.str || node.tag == Tag.nonSpecific { return true }
        if node.tag != nil { return false }
        return style != .plain || (node.scalarType(.yaml11) ?? .string) == .string && (node.scalarType(.core12) ?? .string) == .string
    }

    /// A scalar in the quoting `preferred` (the style of the value it replaces), when it
    /// is a string that style can hold.
    static func quoted(_ node: Node, preferred: ScalarStyle?) -> String? {
        guard let preferred, isString(node), case .scalar(let text, _) = node.content, node.tag == nil || node.tag == Tag.str else { return nil }
        switch preferred {
        case .singleQuoted where text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }):
            return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case .doubleQuoted, .singleQuoted:
            return doubleQuoted(text)
        default:
            return nil
        }
    }

    static func doubleQuoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                // U+2028 and U+2029 too: YAML reads them as line breaks, and folds them.
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar.value == 0xFEFF
                    || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    result += "\\u" + String(repeatElement("0", count: 4 - String(scalar.value, radix: 16).count)) + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A scalar in block context, as the emitter writes it (maybe several lines: a literal block).
    static func blockScalar(_ node: Node) -> String {
        trimmed((try? node.yaml()) ?? doubleQuoted(node.scalarText ?? ""))
    }

    /// A value in flow style, on one line: as an item of a flow collection.
    static func flow(_ node: Node, preferred: ScalarStyle? = nil) -> String {
        if let quoted = quoted(node, preferred: preferred) { return quoted }
        let text = trimmed((try? Node.yaml(documents: [.sequence([node])], options: EmitOptions(flow: true))) ?? "[]")
        return String(text.dropFirst().dropLast())
    }

    static func flowKey(_ key: String) -> String { flow(.string(key)) }

    // MARK: JSON

    static func jsonString(_ text: String) -> String { doubleQuoted(text) }

    /// A value as JSON; `multiline` lays collections out one entry per line, 2 spaces
    /// deeper than `indent`.
    static func json(_ node: Node, indent: String, multiline: Bool) -> String {
        switch node.content {
        case .scalar(let text, _):
            if !isString(node) {
                if node.isNull { return "null" }
                if let bool = node.bool() { return bool ? "true" : "false" }
                if let int = node.int() { return String(int) }
                if let double = Double(text), double.isFinite, text.range(of: #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"#, options: .regularExpression) != nil {
                    return text
                }
            }
            return jsonString(text)
        case .mapping(let pairs):
            guard !pairs.isEmpty else { return "{}" }
            let inner = indent + "  "
            let entries = pairs.map { jsonString($0.key.scalarText ?? "") + ": " + json($0.value, indent: inner, multiline: multiline) }
            return multiline ? "{\n" + entries.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + "}" : "{" + entries.joined(separator: ", ") + "}"
        case .sequence(let items):
            guard !items.isEmpty else { return "[]" }
            let inner = indent + "  "
            let entries = items.map { json($0, indent: inner, multiline: multiline) }
            return multiline ? "[\n" + entries.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + "]" : "[" + entries.joined(separator: ", ") + "]"
        }
    }
}

extension Node {
    /// The value on one line, in flow style (`v1.2`, `"4"`, `{a: 1, b: [x]}`): how a
    /// message shows it.
    public var flowText: String { Render.flow(self) }
}

/// Block-style text for new values, in the file's layout.
struct BlockRender {
    /// Spaces per nesting level.
    let step: Int
    /// Lists under a key indented by `step` (else at the key's column, Kubernetes style).
    let indentSequences: Bool

    /// The value on one line (a scalar, `{}` or `[]`), or nil when it needs lines of its own.
    func inlineIfSingleLine(_ value: Node, preferred: ScalarStyle? = nil) -> String? {
        switch value.content {
        case .scalar:
            if let quoted = Render.quoted(value, preferred: preferred) { return quoted }
            let text = Render.blockScalar(value)
            return text.contains("\n") ? nil : text
        case .mapping(let pairs): return pairs.isEmpty ? tagged(value) + "{}" : nil
        case .sequence(let items): return items.isEmpty ? tagged(value) + "[]" : nil
        }
    }

    /// `!tag ` for a collection with a tag of its own.
    private func tagged(_ node: Node) -> String {
        guard let tag = node.tag, tag != Tag.map, tag != Tag.seq, tag != Tag.nonSpecific else { return "" }
        return (tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag) + " "
    }

    /// `key: value` lines at `indent`, ending with a line break.
    func entry(key: String, value: Node, indent: String) -> String {
        let keyText = Render.blockScalar(.string(key))
        let rest = inlineIfSingleLine(value).map { " " + $0 } ?? afterIndicator(value, indent: indent, sequenceItem: false)
        return indent + keyText + ":" + rest + "\n"
    }

    /// `- value` lines with the dash at `indent`, ending with a line break.
    func item(_ value: Node, indent: String) -> String {
        let rest = inlineIfSingleLine(value).map { " " + $0 } ?? afterIndicator(value, indent: indent, sequenceItem: true)
        return indent + "-" + rest + "\n"
    }

    /// What follows `key:` (or `-`, for a list item) for a value that needs lines of its
    /// own, without a final line break. `indent` is the key's (or the dash's) indentation.
    func afterIndicator(_ value: Node, indent: String, sequenceItem: Bool) -> String {
        let tag = tagged(value)
        let lead = tag.isEmpty ? "" : " " + tag.dropLast()
        switch value.content {
        case .scalar:
            let lines = Render.blockScalar(value).split(separator: "\n", omittingEmptySubsequences: false)
            return " " + lines[0] + lines.dropFirst().map { "\n" + ($0.isEmpty ? "" : indent + $0) }.joined()
        case .mapping(let pairs):
            if sequenceItem && lead.isEmpty {
                // `- key: value` with the next keys under the first.
                let inner = indent + "  "
                var text = pairs.map { entry(key: $0.key.scalarText ?? "", value: $0.value, indent: inner) }.joined()
                text.removeFirst(inner.count)
                return " " + text.dropLast()
            }
            let inner = indent + String(repeating: " ", count: sequenceItem ? 2 : step)
            return lead + "\n" + pairs.map { entry(key: $0.key.scalarText ?? "", value: $0.value, indent: inner) }.joined().dropLast()
        case .sequence(let items):
            let inner = indent + String(repeating: " ", count: sequenceItem ? 2 : (indentSequences ? step : 0))
            return lead + "\n" + items.map { item($0, indent: inner) }.joined().dropLast()
        }
    }

    /// A whole document's text, without a final line break.
    func document(_ value: Node) -> String {
        switch value.content {
        case .mapping(let pairs) where !pairs.isEmpty:
            return String(pairs.map { entry(key: $0.key.scalarText ?? "", value: $0.value, indent: "") }.joined().dropLast())
        case .sequence(let items) where !items.isEmpty:
            return String(items.map { item($0, indent: "") }.joined().dropLast())
        default:
            return inlineIfSingleLine(value) ?? Render.blockScalar(value)
        }
    }
}
