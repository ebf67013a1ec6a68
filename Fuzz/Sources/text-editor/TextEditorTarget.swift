import FuzzSupport
@testable import HLD
@testable import YAML

/// The text-preserving editor (`TextEditor`), fuzzed in the document, the key path and the
/// value. The input's first line is an edit, the rest the file:
///
///     [json] [doc1] set|set-existing|insert|insert:<n>|remove <path>[=<value>]
///
/// `json` edits it as a `.json` file, `doc1` edits its second document. A path is dotted
/// keys with `[n]` list indexes (`a."b.c"[2].d`); `@n` as its first segment stands for the
/// n-th path that exists in the document (so any file gets edits where it has content).
/// The value is read as YAML (`{a: [1, 2]}`), else taken as a string. An input whose first
/// line is no edit is a whole file, edited three times at `@<size>`: set, insert, remove.
///
/// Checked for every edit the editor makes (errors are its refusals, and fine):
/// - the result parses, and a refused edit leaves the text as it was;
/// - the file reads as the same edit made on the parsed tree in memory (set: the value
///   at the path, missing maps created; insert: the item in the list; remove: the entry
///   gone), and every other document is unchanged — unless the file uses merge keys,
///   whose entries the in-memory tree no longer shows where they are written;
/// - setting a value that is already there changes no byte, and the same set twice is the
///   same file;
/// - the editor's syntax tree reads as the parser's values, and its byte offsets point at
///   the scalars' text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let lineEnd = bytes.firstIndex(of: 0x0A) ?? bytes.count
    var firstLine = String(decoding: bytes[..<lineEnd], as: UTF8.self)
    if firstLine.hasSuffix("\r") { firstLine.removeLast() }
    if let command = Command(firstLine) {
        let file = lineEnd < bytes.count ? Array(bytes[(lineEnd + 1)...]) : []
        checkSyntaxTree(file, format: command.format)
        edit(file, command)
    } else {
        checkSyntaxTree(bytes, format: .yaml)
        for op in [Command.Operation.set(createMissing: true), .insert(index: nil), .remove] {
            edit(bytes, Command(format: .yaml, document: 0, operation: op, path: [.existing(bytes.count)], value: .string("fuzz")))
        }
    }
    return 0
}

/// One edit, as the input's first line spells it.
struct Command {
    enum Operation {
        case set(createMissing: Bool)
        case insert(index: Int?)
        case remove
    }

    enum Segment {
        case key(String)
        case index(Int)
        /// The n-th existing path of the document (modulo their number).
        case existing(Int)
    }

    var format: SourceFormat
    var document: Int
    var operation: Operation
    var path: [Segment]
    var value: Node

    init(format: SourceFormat, document: Int, operation: Operation, path: [Segment], value: Node) {
        self.format = format
        self.document = document
        self.operation = operation
        self.path = path
        self.value = value
    }

    init?(_ line: String) {
        var words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        format = .yaml
        document = 0
        while let flag = words.first, flag == "json" || flag == "doc1" {
            if flag == "json" { format = .json } else { document = 1 }
            words.removeFirst()
        }
        guard let op = words.first else { return nil }
        switch op {
        case "set": operation = .set(createMissing: true)
        case "set-existing": operation = .set(createMissing: false)
        case "insert": operation = .insert(index: nil)
        case "remove": operation = .remove
        default:
            guard op.hasPrefix("insert:"), let index = Int(op.dropFirst("insert:".count)) else { return nil }
            operation = .insert(index: index)
        }
        let rest = words.dropFirst().joined(separator: " ")
        // The assignment parser of `hld set` gets the same text (it only has to not crash).
        _ = try? Authoring.Assignment.parse(rest, string: false)
        _ = try? Authoring.Assignment.keyPath(rest)
        let (pathText, valueText) = Command.split(rest)
        path = Command.segments(pathText)
        if let valueText, !valueText.isEmpty, let node = try? Node.document(in: valueText) {
            value = node
        } else {
            value = .string(valueText ?? "")
        }
    }

    /// `path=value` at the first `=` outside double quotes.
    static func split(_ text: String) -> (String, String?) {
        var quoted = false
        for index in text.indices {
            if text[index] == "\"" { quoted.toggle() }
            if text[index] == "=" && !quoted {
                return (String(text[..<index]), String(text[text.index(after: index)...]))
            }
        }
        return (text, nil)
    }

    static func segments(_ text: String) -> [Segment] {
        guard !text.isEmpty else { return [] }
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle(); current.append(character) } else if character == "." && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        var result: [Segment] = []
        for (position, part) in parts.enumerated() {
            if position == 0, part.hasPrefix("@"), let n = Int(part.dropFirst()) {
                result.append(.existing(n))
                continue
            }
            if part.count >= 2, part.hasPrefix("\""), part.hasSuffix("\"") {
                result.append(.key(String(part.dropFirst().dropLast())))
                continue
            }
            // `name[1][2]`: a key, then indexes.
            var name = Substring(part)
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "["), let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty || indexes.isEmpty { result.append(.key(String(name))) }
            result += indexes.map { .index($0) }
        }
        return result
    }

    /// The path with `@n` replaced by an existing path of `root`.
    func resolvedPath(in root: Node) -> [PathSegment] {
        path.flatMap { segment -> [PathSegment] in
            switch segment {
            case .key(let key): return [.key(key)]
            case .index(let index): return [.index(index)]
            case .existing(let n):
                let all = existingPaths(root)
                return all[((n % all.count) + all.count) % all.count]
            }
        }
    }
}

/// The paths of a tree in pre-order, the root first (at most 512).
func existingPaths(_ root: Node) -> [[PathSegment]] {
    var result: [[PathSegment]] = []
    func visit(_ node: Node, _ path: [PathSegment]) {
        guard result.count < 512 else { return }
        result.append(path)
        switch node.content {
        case .scalar: break
        case .sequence(let items): for (index, item) in items.enumerated() { visit(item, path + [.index(index)]) }
        case .mapping(let pairs):
            for pair in pairs {
                guard let key = pair.key.scalarText, pair.key.pairs == nil else { continue }
                visit(pair.value, path + [.key(key)])
            }
        }
    }
    visit(root, [])
    return result
}

func edit(_ file: [UInt8], _ command: Command) {
    guard var editor = try? TextEditor(bytes: file, file: "fuzz", format: command.format, document: command.document) else { return }
    // An empty (or blank) file is a new one, JSON too: no documents yet.
    let blank = file.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
    guard let before = blank ? [] : try? DocumentReader(bytes: file, format: command.format).readAll() else {
        violated("a file the editor opens parses", "")
    }
    let target = before.isEmpty ? Node.null : (command.document < before.count ? before[command.document] : Node.null)
    let path = command.resolvedPath(in: target)
    let value = command.value
    let description = "\(command.operation) \(quote(path.dotted)) = \(show(value)) in\n\(quote(String(decoding: file, as: UTF8.self)))"
    do {
        switch command.operation {
        case .set(let createMissing): try editor.set(path, to: value, createMissing: createMissing)
        case .insert(let index): try editor.insert(value, into: path, at: index)
        case .remove: try editor.remove(path)
        }
    } catch {
        require(editor.bytes == file, "a refused edit leaves the text as it was", description)
        return
    }
    let result = editor.bytes
    let resultText = String(decoding: result, as: UTF8.self)
    let after: [Node]
    do {
        let blankResult = result.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        after = blankResult ? [] : try DocumentReader(bytes: result, format: command.format).readAll()
    } catch {
        violated("an edited file parses", "\(error)\n\(description)\nresult:\n\(quote(resultText))")
    }
    if let issue = toleratedIssue(file, before, command, path, value, target) {
        trace("edited \(description); known issue \(issue.rawValue): checked only that it parses")
        return
    }
    trace("edited \(description)")
    // A file of one document set to null may be written as nothing: an empty file reads
    // as one null document.
    require(result == file || after.count == max(before.count, 1) || (after.isEmpty && before.count <= 1),
            "an edit changes no document count",
            "\(before.count) documents became \(after.count)\n\(description)\nresult:\n\(quote(resultText))")
    let edited = after.isEmpty ? Node.null : (command.document < after.count ? after[command.document] : Node.null)
    for index in before.indices where index != command.document {
        require(index < after.count, "an edit keeps the other documents", "\(description)\nresult:\n\(quote(resultText))")
        if let found = difference(before[index], after[index], path: "document \(index)") {
            violated("an edit leaves the other documents alone", "\(found)\n\(description)\nresult:\n\(quote(resultText))")
        }
    }
    guard !usesMergeKeys(file) else { return }
    guard let expected = model(command.operation, path, value, target) else {
        violated("the editor makes only edits the path allows", "\(description)\nresult:\n\(quote(resultText))")
    }
    let json = command.format == .json
    if let found = difference(json ? jsonValue(edited) : edited, json ? jsonValue(expected) : expected) {
        violated("an edit reads as the same edit made on the parsed tree", "\(found)\n\(description)\nresult:\n\(quote(resultText))")
    }
    guard case .set(let createMissing) = command.operation, !value.hasTags else { return }
    // The same set again: the value is there now, so nothing changes.
    do {
        try editor.set(path, to: value, createMissing: createMissing)
    } catch {
        violated("a set that succeeded succeeds again", "\(error)\n\(description)\nresult:\n\(quote(resultText))")
    }
    require(editor.bytes == result, "setting the value that is there changes no byte",
            "\(description)\nfirst:\n\(quote(resultText))\nsecond:\n\(quote(String(decoding: editor.bytes, as: UTF8.self)))")
}

/// The known issue (`KnownIssue`) this edit of this file may run into, if the targets
/// step around it: then only "the result parses" is checked.
func toleratedIssue(_ file: [UInt8], _ before: [Node], _ command: Command, _ path: [PathSegment], _ value: Node, _ target: Node) -> KnownIssue? {
    // New values are written by the emitter (flow style inside flow collections).
    return KnownIssue.emitterIssue(in: [value], flow: true)
}

// MARK: the same edits on the parsed tree

/// What `operation` makes of the document `root`, or nil when the path does not allow it
/// (the editor must then refuse).
func model(_ operation: Command.Operation, _ path: [PathSegment], _ value: Node, _ root: Node) -> Node? {
    switch operation {
    case .set(let createMissing):
        return set(root, path[...], value, createMissing: createMissing)
    case .insert(let index):
        if let list = lookup(root, path[...]) {
            if let items = list.sequence {
                let at = index ?? items.count
                guard (0...items.count).contains(at) else { return nil }
                var copy = items
                copy.insert(value, at: at)
                return set(root, path[...], Node(.sequence(copy), tag: list.tag), createMissing: false)
            }
            guard list.isNull, list.scalarText != nil else { return nil }
        }
        return set(root, path[...], .sequence([value]), createMissing: true)
    case .remove:
        guard let last = path.last, lookup(root, path[...]) != nil else { return nil }
        return update(root, path.dropLast()[...]) { parent in
            switch (last, parent.content) {
            case (.key(let key), .mapping(var pairs)):
                guard let index = entryIndex(pairs, key) else { return nil }
                pairs.remove(at: index)
                return Node(.mapping(pairs), tag: parent.tag)
            case (.index(let index), .sequence(var items)):
                items.remove(at: index)
                return Node(.sequence(items), tag: parent.tag)
            default:
                return nil
            }
        }
    }
}

func entryIndex(_ pairs: [Node.Pair], _ key: String) -> Int? {
    pairs.firstIndex { $0.key.scalarText == key }
}

func lookup(_ node: Node, _ path: ArraySlice<PathSegment>) -> Node? {
    guard let first = path.first else { return node }
    switch (first, node.content) {
    case (.key(let key), .mapping(let pairs)):
        return entryIndex(pairs, key).flatMap { lookup(pairs[$0].value, path.dropFirst()) }
    case (.index(let index), .sequence(let items)):
        return items.indices.contains(index) ? lookup(items[index], path.dropFirst()) : nil
    default:
        return nil
    }
}

/// `node` with the value at `path` (which exists) replaced by `change` of it.
func update(_ node: Node, _ path: ArraySlice<PathSegment>, _ change: (Node) -> Node?) -> Node? {
    guard let first = path.first else { return change(node) }
    switch (first, node.content) {
    case (.key(let key), .mapping(var pairs)):
        guard let index = entryIndex(pairs, key), let inner = update(pairs[index].value, path.dropFirst(), change) else { return nil }
        pairs[index].value = inner
        return Node(.mapping(pairs), tag: node.tag, mark: node.mark)
    case (.index(let index), .sequence(var items)):
        guard items.indices.contains(index), let inner = update(items[index], path.dropFirst(), change) else { return nil }
        items[index] = inner
        return Node(.sequence(items), tag: node.tag, mark: node.mark)
    default:
        return nil
    }
}

/// Set as `TextEditor.set` documents it: missing map entries are created as nested maps,
/// a null on the way becomes a map; anything else on the way is refused.
func set(_ node: Node, _ path: ArraySlice<PathSegment>, _ value: Node, createMissing: Bool) -> Node? {
    guard let first = path.first else { return value }
    switch (first, node.content) {
    case (.key(let key), .mapping(var pairs)):
        if let index = entryIndex(pairs, key) {
            guard let inner = set(pairs[index].value, path.dropFirst(), value, createMissing: createMissing) else { return nil }
            pairs[index].value = inner
        } else {
            guard createMissing, let nested = nest(path.dropFirst(), value) else { return nil }
            pairs.append(Node.Pair(key: .string(key), value: nested))
        }
        return Node(.mapping(pairs), tag: node.tag, mark: node.mark)
    case (.key(let key), .scalar) where node.isNull:
        guard createMissing, let nested = nest(path.dropFirst(), value) else { return nil }
        return Node(.mapping([Node.Pair(key: .string(key), value: nested)]))
    case (.index(let index), .sequence(var items)):
        guard items.indices.contains(index), let inner = set(items[index], path.dropFirst(), value, createMissing: createMissing) else { return nil }
        items[index] = inner
        return Node(.sequence(items), tag: node.tag, mark: node.mark)
    default:
        return nil
    }
}

/// `a.b = v` as new maps `{a: {b: v}}`; a list index cannot be created.
func nest(_ path: ArraySlice<PathSegment>, _ value: Node) -> Node? {
    var result = value
    for segment in path.reversed() {
        guard case .key(let key) = segment else { return nil }
        result = Node(.mapping([Node.Pair(key: .string(key), value: result)]))
    }
    return result
}

/// A value as a JSON file holds it: null, booleans and numbers as JSON writes them,
/// everything else a string; keys are strings; no tags.
func jsonValue(_ node: Node) -> Node {
    switch node.content {
    case .scalar(let text, _):
        if Render.isString(node) { return .string(text) }
        if node.isNull { return .plain("null") }
        if let bool = node.bool() { return .plain(bool ? "true" : "false") }
        if let int = node.int() { return .plain(String(int)) }
        if let double = Double(text), double.isFinite, text.wholeMatch(of: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/) != nil {
            return .plain(String(double))
        }
        return .string(text)
    case .sequence(let items):
        return .sequence(items.map(jsonValue))
    case .mapping(let pairs):
        return Node(.mapping(pairs.map { Node.Pair(key: .string($0.key.scalarText ?? ""), value: jsonValue($0.value)) }))
    }
}

// MARK: the editor's syntax tree

/// Whether any mapping of the file has a merge key (`<<`, or one tagged `!!merge`).
func usesMergeKeys(_ bytes: [UInt8]) -> Bool {
    guard let tree = try? SyntaxTree(bytes: bytes, file: nil) else { return false }
    func visit(_ node: SyntaxNode) -> Bool {
        switch node.kind {
        case .scalar, .alias: return false
        case .sequence(let items): return items.contains(where: visit)
        case .mapping(let pairs):
            return pairs.contains { pair in
                if case .scalar(let text, let style) = pair.key.kind,
                   pair.key.tag == Tag.merge || (pair.key.tag == nil && style == .plain && text == "<<") { return true }
                return visit(pair.key) || visit(pair.value)
            }
        }
    }
    return tree.documents.contains(where: visit)
}

/// The syntax tree the editor works on agrees with the parser: as many documents, the
/// same values where no alias or merge key is involved, offsets at each scalar's text.
func checkSyntaxTree(_ bytes: [UInt8], format: SourceFormat) {
    guard let documents = try? DocumentReader(bytes: bytes, format: format).readAll() else { return }
    let tree: SyntaxTree
    do {
        tree = try SyntaxTree(bytes: bytes, file: nil)
    } catch {
        // Deeper than the editor goes is its one refusal of a file the parser reads.
        guard error.kind == .depthLimit else { violated("the editor's syntax tree reads every file the parser reads", "\(error)") }
        return
    }
    require(tree.documents.count == documents.count, "the syntax tree has the parser's documents",
            "\(tree.documents.count) against \(documents.count)")
    let merges = usesMergeKeys(bytes)
    for (syntax, node) in zip(tree.documents, documents) {
        if !merges, !syntax.hasAnchorOrAlias {
            guard let value = syntax.value else { violated("a syntax tree without aliases has a value", "") }
            if let found = difference(value, node) { violated("the syntax tree reads as the parser's values", found) }
        }
        // Offsets are counted in UTF-8; libyaml reads BOM-marked UTF-16 too.
        if !(bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) || (bytes.count > 1 && (bytes[0] == 0 || bytes[1] == 0))) {
            checkOffsets(syntax, bytes)
        }
    }
}

func checkOffsets(_ node: SyntaxNode, _ bytes: [UInt8]) {
    require(0 <= node.start && node.start <= node.end && node.end <= bytes.count, "a syntax node lies inside the text",
            "\(node.start)..<\(node.end) of \(bytes.count) bytes")
    let slice = String(decoding: bytes[node.start..<node.end], as: UTF8.self)
    switch node.kind {
    case .scalar(let text, let style):
        guard node.tag == nil, node.anchor == nil, !slice.contains(where: \.isNewline) else { break }
        switch style {
        case .plain where !node.flow:
            require(slice == text, "a plain scalar's offsets span its text", "\(quote(slice)) for \(quote(text))")
        case .singleQuoted, .doubleQuoted:
            let mark: Character = style == .singleQuoted ? "'" : "\""
            require(slice.first == mark && slice.last == mark && slice.count >= 2, "a quoted scalar's offsets span its quotes",
                    "\(quote(slice)) for \(quote(text))")
        default:
            break
        }
    case .mapping(let pairs):
        for pair in pairs {
            checkOffsets(pair.key, bytes)
            checkOffsets(pair.value, bytes)
        }
    case .sequence(let items):
        for item in items { checkOffsets(item, bytes) }
    case .alias:
        break
    }
}
