import Foundation

/// One step of a path into a document: a mapping key or a sequence index.
public enum PathSegment: Hashable, Sendable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let key): return key.contains(".") ? "\"\(key)\"" : key
        case .index(let index): return "[\(index)]"
        }
    }
}

extension Array where Element == PathSegment {
    /// `config.image.tag`, `subcomponents[2].name`, `config."app.kubernetes.io/name"`.
    public var dotted: String {
        reduce("") { result, segment in
            if case .index = segment { return result + segment.description }
            return result.isEmpty ? segment.description : result + "." + segment.description
        }
    }
}

/// An edit that cannot be made, with where in the file it went wrong.
public struct EditError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The path does not exist (and creating it was not allowed); `path` ends at the
        /// first segment that is missing.
        case missing
        /// The path goes through a value that is not a mapping or a list (`a.b` where `a` is a scalar).
        case notACollection
        /// The path goes through an alias or an anchored value: editing it would change
        /// other places too.
        case alias
        /// Written in a way the editor does not change (a complex key, a nested `- -` item).
        case unsupported
        /// The addressed document is not in the file.
        case noDocument
    }

    public var kind: Kind
    public var message: String
    /// The path the problem is at.
    public var path: [PathSegment]
    public var file: String?
    public var mark: Mark?

    public init(_ kind: Kind, _ message: String, path: [PathSegment], file: String?, mark: Mark?) {
        self.kind = kind
        self.message = message
        self.path = path
        self.file = file
        self.mark = mark
    }

    public var description: String {
        var location = file ?? "<input>"
        if let mark, mark.line > 0 { location += ":\(mark.line):\(mark.column)" }
        return "\(location): \(message)"
    }
}

/// Edits the text of a YAML or JSON file in place: each change replaces only the bytes of
/// what it changes, found through the parser's marks, so comments, key order, quoting,
/// blank lines and indentation of everything else stay byte for byte as they were. New
/// entries follow the style around them: block or flow, the file's indentation step,
/// whether lists are indented under their key, JSON's layout in `.json` files.
///
/// Every edit re-reads the text and checks that the result still parses, so one
/// `TextEditor` can apply any number of edits in sequence.
public struct TextEditor: Sendable {
    public private(set) var bytes: [UInt8]
    public let file: String?
    public let format: SourceFormat
    /// Which document of a multi-document file is edited (0: the first).
    public let document: Int

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Reads `bytes`; a file that does not parse is refused here, with its location.
    public init(bytes: [UInt8], file: String? = nil, format: SourceFormat = .yaml, document: Int = 0) throws(YAMLError) {
        self.bytes = bytes
        self.file = file
        self.format = format
        self.document = document
        // The whole file must read as hld reads it (strict JSON, no duplicate keys); an
        // empty file is a new one, JSON too.
        _ = try Self.documents(bytes, file: file, format: format)
    }

    public init(text: String, file: String? = nil, format: SourceFormat = .yaml, document: Int = 0) throws(YAMLError) {
        try self.init(bytes: Array(text.utf8), file: file, format: format, document: document)
    }

    /// The value at `path` (aliases expanded), or nil when there is none.
    public func value(at path: [PathSegment]) -> Node? {
        guard let documents = try? DocumentReader(bytes: bytes, file: file, format: format).readAll(),
              document < max(documents.count, 1) else { return nil }
        var current: Node? = documents.isEmpty ? Node.null : documents[document]
        for segment in path {
            switch segment {
            case .key(let key): current = current?.pairs?.first { $0.key.scalarText == key }?.value
            case .index(let index): current = current?.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil }
            }
        }
        return current
    }

    // MARK: edits

    /// Sets the value at `path`. Missing mapping entries on the way are created (as
    /// nested maps, in the surrounding style), unless `createMissing` is false; a null
    /// on the way becomes a map. Setting the value it already has changes nothing.
    public mutating func set(_ path: [PathSegment], to value: Node, createMissing: Bool = true) throws(EditError) {
        let session = try Session(self)
        let walk = try session.walk(path)
        guard walk.depth < path.count else {
            if let current = walk.node.value, current == value, tagsAgree(current, value) { return }
            try commit(session.replacing(walk, with: value), .set(path, value, createMissing: createMissing), session)
            return
        }
        let missing = Array(path[..<(walk.depth + 1)])
        guard createMissing else {
            throw session.error(.missing, "\(missing.dotted) does not exist", path: missing, at: walk.node)
        }
        let rest = Array(path[walk.depth...])
        guard case .key(let key) = rest[0] else {
            throw session.error(.missing, "\(missing.dotted) does not exist (the list has \(walk.node.itemCount) item(s))", path: missing, at: walk.node)
        }
        if let index = rest.dropFirst().firstIndex(where: { if case .index = $0 { true } else { false } }) {
            // hld creates maps on the way, never list items: `a.b[0].c` needs the list first.
            let list = Array(path[..<(walk.depth + index)])
            throw session.error(.missing, "\(missing.dotted) does not exist, and hld does not create lists on the way: add \(list.dotted) as a list first", path: missing, at: walk.node)
        }
        let nested = Self.nest(Array(rest.dropFirst()), value)
        let intent = EditIntent.set(path, value, createMissing: createMissing)
        switch walk.node.kind {
        case .mapping:
            try commit(session.inserting(key: key, value: nested, into: walk), intent, session)
        case .scalar where walk.node.isNullScalar:
            try commit(session.replacing(walk, with: Node(.mapping([Node.Pair(key: .string(key), value: nested)]))), intent, session)
        default:
            let at = Array(path[..<walk.depth])
            throw session.error(.notACollection, "cannot set \(path.dotted): \(at.isEmpty ? "the document" : at.dotted) is \(walk.node.kindName), not a map", path: at, at: walk.node)
        }
    }

    /// Removes the mapping entry or list item at `path`; an error when it does not exist.
    public mutating func remove(_ path: [PathSegment]) throws(EditError) {
        guard !path.isEmpty else { throw EditError(.unsupported, "cannot remove the whole document", path: [], file: file, mark: nil) }
        let session = try Session(self)
        let walk = try session.walk(path)
        guard walk.depth == path.count, let parent = walk.parents.last else {
            let missing = Array(path[..<(walk.depth + 1)])
            throw session.error(.missing, "\(missing.dotted) does not exist", path: missing, at: walk.node)
        }
        try commit(session.removing(walk, parent: parent), .remove(path), session)
    }

    /// Adds `value` to the list at `path`: at the end, or before item `index`. A missing
    /// (or null) list is created.
    public mutating func insert(_ value: Node, into path: [PathSegment], at index: Int? = nil) throws(EditError) {
        let session = try Session(self)
        let walk = try session.walk(path)
        guard walk.depth == path.count else {
            try set(path, to: .sequence([value]))
            return
        }
        switch walk.node.kind {
        case .sequence(let items):
            if let index, !(0...items.count).contains(index) {
                throw session.error(.missing, "\(path.dotted) has \(items.count) item(s); there is no place \(index)", path: path, at: walk.node)
            }
            try commit(session.inserting(item: value, into: walk, at: index ?? items.count), .insert(value, into: path, at: index), session)
        case .scalar where walk.node.isNullScalar:
            try commit(session.replacing(walk, with: .sequence([value])), .insert(value, into: path, at: index), session)
        default:
            throw session.error(.notACollection, "\(path.dotted) is \(walk.node.kindName), not a list", path: path, at: walk.node)
        }
    }

    /// `a.b.c = v` as nested maps: `{a: {b: {c: v}}}`.
    static func nest(_ keys: [PathSegment], _ value: Node) -> Node {
        keys.reversed().reduce(value) { inner, segment in
            guard case .key(let key) = segment else { return inner }
            return Node(.mapping([Node.Pair(key: .string(key), value: inner)]))
        }
    }

    private func tagsAgree(_ a: Node, _ b: Node) -> Bool {
        func effective(_ node: Node) -> String? { node.tag == Tag.nonSpecific ? nil : node.tag }
        return effective(a) == effective(b)
    }

    /// Applies one replacement, after checking that the result still reads and reads as
    /// `intent` made on the values: the edited document as asked, the others as they were.
    private mutating func commit(_ change: Change, _ intent: EditIntent, _ session: Session) throws(EditError) {
        var result = bytes
        // New lines end the way the file's lines do.
        let crlf = bytes.firstIndex(of: 0x0A).map { $0 > 0 && bytes[$0 - 1] == 0x0D } ?? false
        let text = crlf ? change.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n") : change.text
        result.replaceSubrange(change.range, with: Array(text.utf8))
        let after: [Node]
        do {
            after = try Self.documents(result, file: file, format: format)
        } catch {
            throw EditError(.unsupported, "hld cannot make this change without breaking the file (\(error.message)); edit it by hand",
                            path: [], file: file, mark: nil)
        }
        if let place = try? misreading(intent, before: Self.documents(bytes, file: file, format: format), after: after,
                                        mergeKeys: session.root.hasMergeKey) {
            throw EditError(.unsupported, "hld cannot make this change here without \(place); edit it by hand",
                            path: [], file: file, mark: nil)
        }
        bytes = result
    }

    /// A file's documents; none for a blank one (a new file).
    private static func documents(_ bytes: [UInt8], file: String?, format: SourceFormat) throws(YAMLError) -> [Node] {
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return [] }
        return try DocumentReader(bytes: bytes, file: file, format: format).readAll()
    }

    /// Where the edited text reads differently from `intent` made on the values, said as
    /// what the change would also do; nil when it reads as asked.
    private func misreading(_ intent: EditIntent, before: [Node], after: [Node], mergeKeys: Bool) -> String? {
        let count = max(before.count, 1)
        guard after.count == count || (after.isEmpty && count == 1) else {
            return "turning \(count) document(s) into \(after.count)"
        }
        for index in before.indices where index != document {
            if let place = before[index].firstDifference(from: after[index]) {
                return "changing document \(index + 1)" + (place.isEmpty ? "" : " at \(place.dotted)")
            }
        }
        // A merge key (`<<`) reads entries from elsewhere: the values are not the entries written.
        guard !mergeKeys else { return nil }
        let target = document < before.count ? before[document] : Node.null
        guard let expected = intent.applied(to: target) else { return "writing a value at another path" }
        let edited = after.isEmpty ? Node.null : after[document]
        let json = format == .json
        guard let place = (json ? expected.asJSONValue : expected).firstDifference(from: json ? edited.asJSONValue : edited) else { return nil }
        return place.isEmpty ? "changing how the document reads" : "changing how \(place.dotted) reads"
    }
}

/// A replacement of `range` (bytes) by `text`.
struct Change {
    var range: Range<Int>
    var text: String
}

extension SyntaxNode {
    var kindName: String {
        switch kind {
        case .scalar: return isNullScalar ? "null" : "a scalar"
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    var itemCount: Int {
        if case .sequence(let items) = kind { return items.count }
        return 0
    }
}

/// One edit's view of the text: the syntax tree and the layout facts new text follows.
private struct Session {
    let editor: TextEditor
    let bytes: [UInt8]
    let root: SyntaxNode
    let json: Bool
    let layout: Layout

    init(_ editor: TextEditor) throws(EditError) {
        self.editor = editor
        bytes = editor.bytes
        json = editor.format == .json
        let tree: SyntaxTree
        do {
            tree = try SyntaxTree(bytes: editor.bytes, file: editor.file)
        } catch {
            throw EditError(.unsupported, error.message, path: [], file: editor.file, mark: error.mark)
        }
        if tree.documents.isEmpty && editor.document == 0 {
            // An empty file (or comments only): a null document at the end.
            let end = editor.bytes.count
            root = SyntaxNode(kind: .scalar("", .plain), flow: false, start: end, end: end, mark: Mark(line: 0, column: 0))
        } else if editor.document < tree.documents.count {
            root = tree.documents[editor.document]
        } else {
            throw EditError(.noDocument, "the file has \(tree.documents.count) document(s); there is no document \(editor.document + 1)",
                            path: [], file: editor.file, mark: nil)
        }
        layout = Layout(bytes: bytes, root: root, json: json)
    }

    func error(_ kind: EditError.Kind, _ message: String, path: [PathSegment], at node: SyntaxNode) -> EditError {
        EditError(kind, message, path: path, file: editor.file, mark: node.mark.line > 0 ? node.mark : nil)
    }

    // MARK: finding

    /// How far `path` exists: the deepest node reached, and the collections (with the
    /// entry taken) above it.
    struct Walk {
        var node: SyntaxNode
        var depth: Int
        /// For each step taken: the collection and which entry of it.
        var parents: [(collection: SyntaxNode, entry: Int)]
    }

    func walk(_ path: [PathSegment]) throws(EditError) -> Walk {
        var walk = Walk(node: root, depth: 0, parents: [])
        for segment in path {
            let here = Array(path[..<walk.depth])
            if walk.node.anchor != nil || { if case .alias = walk.node.kind { return true } else { return false } }() {
                throw error(.alias, "\(here.isEmpty ? "the document" : here.dotted) is an anchor or an alias; edit it by hand (a change would reach other places)", path: here, at: walk.node)
            }
            switch (segment, walk.node.kind) {
            case (.key(let key), .mapping(let pairs)):
                guard let index = pairs.firstIndex(where: { pair in
                    if case .scalar(let text, _) = pair.key.kind { return text == key }
                    return false
                }) else { return walk }
                walk.parents.append((walk.node, index))
                walk.node = pairs[index].value
            case (.index(let index), .sequence(let items)):
                guard items.indices.contains(index) else { return walk }
                walk.parents.append((walk.node, index))
                walk.node = items[index]
            case (.key, .sequence):
                throw error(.notACollection, "\(here.dotted) is a list; \((here + [segment]).dotted) needs a map", path: here, at: walk.node)
            case (.index, .mapping):
                throw error(.notACollection, "\(here.dotted) is a map, not a list", path: here, at: walk.node)
            default:
                return walk
            }
            walk.depth += 1
        }
        if walk.node.hasAnchorOrAlias {
            throw error(.alias, "\(path.dotted) holds an anchor or an alias; edit it by hand (a change would reach other places)", path: path, at: walk.node)
        }
        return walk
    }

    // MARK: changes

    /// Replaces the value `walk` reached with `value`.
    func replacing(_ walk: Walk, with value: Node) throws(EditError) -> Change {
        let old = walk.node
        guard let parent = walk.parents.last else {
            // The whole document.
            let text = json ? Render.json(value, indent: "", multiline: true) : render.document(value)
            if old.start == old.end {
                let prefix = old.start > 0 && bytes[old.start - 1] != 0x0A ? "\n" : ""
                return Change(range: old.start..<old.end, text: prefix + text + "\n")
            }
            return Change(range: old.start..<layout.contentEnd(old), text: text)
        }
        let inFlow = parent.collection.flow || json
        if inFlow || (old.flow && value.isCollection) {
            let indent = layout.indentation(ofLineAt: old.start)
            let text = json ? Render.json(value, indent: indent, multiline: layout.isMultiline(parent.collection))
                            : Render.flow(value, preferred: old.scalarStyle)
            return Change(range: old.start..<old.end, text: text)
        }
        // Block context: after `key:` or `-`.
        let lead: Int
        let indent: String
        if case .mapping(let pairs) = parent.collection.kind {
            let key = pairs[parent.entry].key
            lead = try colonEnd(after: key)
            indent = layout.indentString(at: key.start)
        } else {
            lead = try dashEnd(before: old)
            indent = layout.indentString(at: lead - 1)
        }
        let isBlockValue = !old.flow && (old.isBlockScalar || old.isCollection)
        let end = layout.contentEnd(old)
        guard lead <= end else { throw error(.unsupported, "a complex key (? …); edit it by hand", path: [], at: old) }
        // A comment after the old value, on its last line.
        let comment = layout.trailingComment(after: end)
        if let inline = render.inlineIfSingleLine(value, preferred: old.scalarStyle) {
            if !isBlockValue && old.start != old.end { return Change(range: old.start..<old.end, text: inline) }
            // The comment belonged to the last line of what goes.
            return Change(range: lead..<(isBlockValue ? comment?.upperBound ?? end : end), text: " " + inline)
        }
        let text = render.afterIndicator(value, indent: indent, sequenceItem: !parent.collection.isMapping)
        if let comment, !isBlockValue, let lineBreak = text.firstIndex(of: "\n") {
            // `key: old  # why` keeps its comment on the key's line, before the new lines.
            let kept = String(decoding: bytes[end..<comment.upperBound], as: UTF8.self)
            return Change(range: lead..<comment.upperBound, text: text[..<lineBreak] + kept + text[lineBreak...])
        }
        return Change(range: lead..<end, text: text)
    }

    /// Adds `key: value` to the mapping `walk` reached.
    func inserting(key: String, value: Node, into walk: Walk) throws(EditError) -> Change {
        let mapping = walk.node
        guard case .mapping(let pairs) = mapping.kind else { throw error(.unsupported, "not a map", path: [], at: mapping) }
        if mapping.flow || json {
            let keyText = json ? Render.jsonString(key) : Render.flowKey(key)
            guard let last = pairs.last else {
                // `{}`: between the braces.
                let inner = mapping.end - 1
                let valueText = json ? Render.json(value, indent: layout.indentation(ofLineAt: mapping.start), multiline: true) : Render.flow(value)
                if json {
                    let indent = layout.indentation(ofLineAt: mapping.start)
                    return Change(range: (mapping.start + 1)..<inner, text: "\n\(indent)  \(keyText): \(valueText)\n\(indent)")
                }
                return Change(range: (mapping.start + 1)..<inner, text: "\(keyText): \(valueText)")
            }
            if layout.isMultiline(mapping) {
                let indent = layout.indentation(ofLineAt: last.key.start)
                let valueText = json ? Render.json(value, indent: indent, multiline: true) : Render.flow(value)
                return Change(range: last.value.end..<last.value.end, text: ",\n\(indent)\(keyText): \(valueText)")
            }
            let valueText = json ? Render.json(value, indent: "", multiline: false) : Render.flow(value)
            return Change(range: last.value.end..<last.value.end, text: ", \(keyText): \(valueText)")
        }
        guard let first = pairs.first, let last = pairs.last else { throw error(.unsupported, "an empty block map", path: [], at: mapping) }
        let indent = layout.indentString(at: first.key.start)
        return appending(render.entry(key: key, value: value, indent: indent), after: last.value)
    }

    /// Adds `value` to the list `walk` reached, before item `index` (at the end when it
    /// is the count).
    func inserting(item value: Node, into walk: Walk, at index: Int) throws(EditError) -> Change {
        let list = walk.node
        guard case .sequence(let items) = list.kind else { throw error(.unsupported, "not a list", path: [], at: list) }
        if list.flow || json {
            let multiline = layout.isMultiline(list)
            let indent = items.first.map { layout.indentation(ofLineAt: $0.start) } ?? layout.indentation(ofLineAt: list.start)
            let text = json ? Render.json(value, indent: indent, multiline: multiline) : Render.flow(value)
            let separator = multiline ? ",\n" + indent : ", "
            if items.isEmpty {
                return Change(range: (list.start + 1)..<(list.end - 1), text: multiline ? "\n\(indent)  \(text)\n\(indent)" : text)
            }
            if index < items.count {
                return Change(range: items[index].start..<items[index].start, text: text + separator)
            }
            return Change(range: items[items.count - 1].end..<items[items.count - 1].end, text: separator + text)
        }
        guard let first = items.first else { throw error(.unsupported, "an empty block list", path: [], at: list) }
        let dash = try dashEnd(before: first) - 1
        guard layout.onlyWhitespaceBefore(dash) else {
            throw error(.unsupported, "the list starts on the line of another item; edit it by hand", path: [], at: list)
        }
        let indent = layout.indentString(at: dash)
        if index < items.count {
            let at = layout.lineStart(try dashEnd(before: items[index]) - 1)
            return Change(range: at..<at, text: render.item(value, indent: indent))
        }
        return appending(render.item(value, indent: indent), after: items[items.count - 1])
    }

    /// New lines after the block value `node`. When `node` ends the file without a final
    /// line break and its last scalar is a block scalar written `|` or `>`, the break the
    /// new lines need would become that scalar's final line break: its header gains `-`
    /// (strip), so the scalar still reads as it did.
    func appending(_ text: String, after node: SyntaxNode) -> Change {
        let at = layout.endOfLine(layout.contentEnd(node))
        guard at > 0, bytes[at - 1] != 0x0A else { return Change(range: at..<at, text: text) }
        var last = node
        descent: while !last.flow {
            switch last.kind {
            case .mapping(let pairs) where !pairs.isEmpty: last = pairs[pairs.count - 1].value
            case .sequence(let items) where !items.isEmpty: last = items[items.count - 1]
            default: break descent
            }
        }
        guard last.isBlockScalar, let indicator = clipIndicator(of: last) else { return Change(range: at..<at, text: "\n" + text) }
        let between = String(decoding: bytes[(indicator + 1)..<at], as: UTF8.self)
        return Change(range: (indicator + 1)..<at, text: "-" + between + "\n" + text)
    }

    /// The offset of a block scalar's `|` or `>` when its header has no chomping
    /// indicator (clip), else nil.
    func clipIndicator(of scalar: SyntaxNode) -> Int? {
        var index = scalar.start
        func skipBlanks() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
        // Its tag and anchor come first.
        while index < bytes.count, bytes[index] == UInt8(ascii: "!") || bytes[index] == UInt8(ascii: "&") {
            while index < bytes.count, ![0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            skipBlanks()
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "|") || bytes[index] == UInt8(ascii: ">") else { return nil }
        var end = index + 1
        while end < bytes.count, (0x31...0x39).contains(bytes[end]) || bytes[end] == UInt8(ascii: "+") || bytes[end] == UInt8(ascii: "-") {
            if !(0x31...0x39).contains(bytes[end]) { return nil }
            end += 1
        }
        return index
    }

    /// Removes the entry `walk` reached from its collection.
    func removing(_ walk: Walk, parent: (collection: SyntaxNode, entry: Int)) throws(EditError) -> Change {
        let collection = parent.collection
        let index = parent.entry
        // Where each entry starts (the key, or the item) and its value ends.
        let starts: [Int]
        let ends: [Int]
        switch collection.kind {
        case .mapping(let pairs):
            starts = pairs.map(\.key.start)
            ends = pairs.map { collection.flow || json ? $0.value.end : layout.contentEnd($0.value) }
        case .sequence(let items):
            starts = collection.flow || json ? items.map(\.start) : try items.map { item throws(EditError) in try dashEnd(before: item) - 1 }
            ends = items.map { collection.flow || json ? $0.end : layout.contentEnd($0) }
        default:
            throw error(.unsupported, "not a collection", path: [], at: collection)
        }
        if collection.flow || json {
            if index + 1 < starts.count { return Change(range: starts[index]..<starts[index + 1], text: "") }
            if index > 0 { return Change(range: ends[index - 1]..<ends[index], text: "") }
            return Change(range: (collection.start + 1)..<(collection.end - 1), text: "")
        }
        if starts.count == 1 {
            // The last entry: the collection becomes empty, written `{}` or `[]`.
            var outer = walk
            outer.node = collection
            outer.parents.removeLast()
            outer.depth -= 1
            // Its tag stays: `args: !replace` with no items still replaces lower layers' lists.
            return try replacing(outer, with: collection.isMapping ? Node(.mapping([]), tag: collection.tag) : Node(.sequence([]), tag: collection.tag))
        }
        if layout.onlyWhitespaceBefore(starts[index]) {
            return Change(range: layout.lineStart(starts[index])..<layout.endOfLine(ends[index]), text: "")
        }
        // The first key of a map that is a list item (`- name: a`): the next key moves up.
        guard collection.isMapping, index + 1 < starts.count else {
            throw error(.unsupported, "this entry shares its line with another; edit it by hand", path: [], at: walk.node)
        }
        return Change(range: starts[index]..<starts[index + 1], text: "")
    }

    // MARK: positions

    /// Just after the `:` that follows a block mapping key.
    func colonEnd(after key: SyntaxNode) throws(EditError) -> Int {
        var index = key.end
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        // In a block map the `:` is followed by a space or a line break; `:1` is the next key's text.
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":"),
              index + 1 == bytes.count || [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index + 1]) else {
            throw error(.unsupported, "a complex key (? …); edit it by hand", path: [], at: key)
        }
        return index + 1
    }

    /// Just after the `-` that introduces a block list item.
    func dashEnd(before item: SyntaxNode) throws(EditError) -> Int {
        var index = item.start
        while index > 0, bytes[index - 1] == 0x20 || bytes[index - 1] == 0x09 || bytes[index - 1] == 0x0A || bytes[index - 1] == 0x0D {
            index -= 1
        }
        guard index > 0, bytes[index - 1] == UInt8(ascii: "-") else {
            throw error(.unsupported, "a list item without its -; edit it by hand", path: [], at: item)
        }
        return index
    }

    var render: BlockRender { BlockRender(step: layout.step, indentSequences: layout.indentSequences) }
}

extension SyntaxNode {
    var isCollection: Bool {
        switch kind {
        case .mapping, .sequence: return true
        default: return false
        }
    }

    var isMapping: Bool {
        if case .mapping = kind { return true }
        return false
    }

    var isBlockScalar: Bool {
        if case .scalar(_, let style) = kind { return style == .literal || style == .folded }
        return false
    }

    /// The quoting a replacement string should keep.
    var scalarStyle: ScalarStyle? {
        if case .scalar(_, let style) = kind, style == .singleQuoted || style == .doubleQuoted { return style }
        return nil
    }
}

extension Node {
    var isCollection: Bool {
        switch content {
        case .scalar: return false
        default: return true
        }
    }
}

/// The facts about a file's layout that new text follows.
struct Layout {
    let bytes: [UInt8]
    /// Spaces per nesting level.
    let step: Int
    /// Whether lists under a key are indented (`key:\n  - a`) or not (`key:\n- a`).
    let indentSequences: Bool

    init(bytes: [UInt8], root: SyntaxNode, json: Bool) {
        self.bytes = bytes
        var step: Int?
        var indented: Bool?
        func visit(_ node: SyntaxNode, layout: Layout) {
            guard !node.flow else { return }
            switch node.kind {
            case .mapping(let pairs):
                for pair in pairs {
                    let keyColumn = layout.column(of: pair.key.start)
                    switch pair.value.kind {
                    case .mapping(let inner) where !pair.value.flow && step == nil:
                        if let first = inner.first, layout.onlyWhitespaceBefore(first.key.start) {
                            let difference = layout.column(of: first.key.start) - keyColumn
                            if difference > 0 { step = difference }
                        }
                    case .sequence(let items) where !pair.value.flow && indented == nil:
                        if let first = items.first, let dash = layout.dash(before: first.start) {
                            indented = layout.column(of: dash) > keyColumn
                        }
                    default:
                        break
                    }
                    visit(pair.value, layout: layout)
                }
            case .sequence(let items):
                for item in items { visit(item, layout: layout) }
            default:
                break
            }
        }
        let probe = Layout(bytes: bytes, step: 2, indentSequences: false)
        visit(root, layout: probe)
        self.step = step ?? 2
        indentSequences = indented ?? false
    }

    private init(bytes: [UInt8], step: Int, indentSequences: Bool) {
        self.bytes = bytes
        self.step = step
        self.indentSequences = indentSequences
    }

    func lineStart(_ offset: Int) -> Int {
        var index = min(offset, bytes.count)
        while index > 0, bytes[index - 1] != 0x0A { index -= 1 }
        // A byte order mark is before the first line, not indentation.
        if index == 0, offset >= 3, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return 3 }
        return index
    }

    /// After the line break of the line `offset` is on (`offset` itself when it starts a line).
    func endOfLine(_ offset: Int) -> Int {
        if offset > 0 && offset <= bytes.count && bytes[offset - 1] == 0x0A { return offset }
        var index = offset
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        return min(index + 1, bytes.count)
    }

    func column(of offset: Int) -> Int { offset - lineStart(offset) }

    func onlyWhitespaceBefore(_ offset: Int) -> Bool {
        bytes[lineStart(offset)..<offset].allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// The leading whitespace of the line `offset` is on.
    func indentation(ofLineAt offset: Int) -> String {
        let start = lineStart(offset)
        var end = start
        while end < bytes.count, bytes[end] == 0x20 || bytes[end] == 0x09 { end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The indentation that puts text at `offset`'s column: the line's own whitespace when
    /// only whitespace precedes it, else spaces (after `- `).
    func indentString(at offset: Int) -> String {
        if onlyWhitespaceBefore(offset) { return String(decoding: bytes[lineStart(offset)..<offset], as: UTF8.self) }
        return String(repeating: " ", count: column(of: offset))
    }

    /// The `-` of the block list item that starts at `offset`.
    func dash(before offset: Int) -> Int? {
        var index = offset
        while index > 0, bytes[index - 1] == 0x20 || bytes[index - 1] == 0x09 { index -= 1 }
        return index > 0 && bytes[index - 1] == UInt8(ascii: "-") ? index - 1 : nil
    }

    /// The comment (with the spaces before it) that follows `offset` on its line, if any.
    func trailingComment(after offset: Int) -> Range<Int>? {
        var index = offset
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "#") else { return nil }
        var end = index
        while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
        return offset..<end
    }

    func isMultiline(_ node: SyntaxNode) -> Bool {
        bytes[node.start..<node.end].contains(0x0A)
    }

    /// Where the node's own text ends: a block collection at its last child's end, a
    /// block scalar before its trailing blank lines (unless it keeps them: `|+`).
    func contentEnd(_ node: SyntaxNode) -> Int {
        switch node.kind {
        case .scalar(_, let style) where style == .literal || style == .folded:
            var header = node.start
            while header < bytes.count, bytes[header] != 0x0A { header += 1 }
            if bytes[node.start..<header].contains(UInt8(ascii: "+")) { return node.end }
            var end = node.end
            while end > header, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end - 1]) { end -= 1 }
            return max(end, header)
        case .mapping(let pairs) where !node.flow:
            return pairs.last.map { contentEnd($0.value) } ?? node.end
        case .sequence(let items) where !node.flow:
            return items.last.map { contentEnd($0) } ?? node.end
        default:
            return node.end
        }
    }
}
