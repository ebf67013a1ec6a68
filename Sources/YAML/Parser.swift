import Foundation

/// Limits that keep hostile input from exhausting memory or the stack.
public struct ParseLimits: Sendable {
    /// Deepest nesting of sequences and mappings accepted.
    public var maxDepth: Int
    /// Most nodes that aliases may add to one document by expansion (an alias bomb
    /// multiplies a few lines into billions of nodes).
    public var maxAliasExpansion: Int

    public init(maxDepth: Int = 1000, maxAliasExpansion: Int = 1_000_000) {
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
    }

    public static let `default` = ParseLimits()
}

/// What a reader does with a key that a mapping already has.
public enum DuplicateKeys: Sendable {
    /// An error naming both places: hld's own files (component files, config layers,
    /// `hld.yaml`) must say one thing once.
    case reject
    /// The later value replaces the earlier one, which keeps its position, and the reader
    /// records the duplicate (`DocumentReader.duplicates`): how the Kubernetes decoder,
    /// Helm and kustomize read other tools' files and generated manifests.
    case lastWins
}

/// A key given twice in one mapping, read under `DuplicateKeys.lastWins`.
public struct DuplicateKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's text.
    public var key: String
    /// The keys (and `[index]`es) from the document's root down to the mapping.
    public var path: [String]
    public var first: Mark
    public var second: Mark

    /// `spec.template.spec.restartPolicy`.
    public var dottedPath: String {
        (path + [key]).reduce("") { result, part in
            part.hasPrefix("[") || result.isEmpty ? result + part : result + "." + part
        }
    }

    public var description: String {
        "duplicate key \(dottedPath) at line \(second.line) (first at line \(first.line)); the last value is used"
    }
}

/// One document of a stream and where it lies in the source.
public struct Document: Sendable {
    public var node: Node
    /// Where the document starts: its `---`, or its first token when the marker is omitted.
    public var start: Mark
    /// Where it ends: its `...`, or where the next document or the stream's end begins.
    public var end: Mark
}

/// Reads a YAML (or JSON) stream one document at a time, each a `Node` tree with aliases
/// expanded, merge keys (`<<`) applied and duplicate keys rejected (or, when asked,
/// resolved the way Kubernetes does).
///
/// JSON is read by the same parser (every JSON text is YAML) after a strict JSON syntax
/// check, so a trailing comma or a comment in a `.json` file is an error as it is for any
/// JSON reader; its strings come out as double-quoted scalars and its numbers, booleans
/// and nulls as plain scalars.
public final class DocumentReader {
    private let events: EventParser
    private let limits: ParseLimits
    private let duplicateKeys: DuplicateKeys
    private var done = false
    private var pendingError: YAMLError?
    /// Keys given twice so far (only under `DuplicateKeys.lastWins`), in source order.
    public private(set) var duplicates: [DuplicateKey] = []

    /// Reads from UTF-8 (or BOM-marked UTF-16) bytes; `file` names the source in errors.
    public init(bytes: [UInt8], file: String? = nil, format: SourceFormat = .yaml, limits: ParseLimits = .default,
                duplicateKeys: DuplicateKeys = .reject) {
        if format == .json {
            pendingError = StrictJSON.check(bytes, file: file)
        }
        let input = format == .json ? JSONEscapes.joiningSurrogatePairs(bytes) : bytes
        self.events = EventParser(bytes: input, file: file)
        self.limits = limits
        self.duplicateKeys = duplicateKeys
    }

    public convenience init(text: String, file: String? = nil, format: SourceFormat = .yaml, limits: ParseLimits = .default,
                            duplicateKeys: DuplicateKeys = .reject) {
        self.init(bytes: Array(text.utf8), file: file, format: format, limits: limits, duplicateKeys: duplicateKeys)
    }

    /// Reads the file at `path` (JSON when it ends in `.json`); the path names the source
    /// in errors.
    public convenience init(contentsOf path: String, limits: ParseLimits = .default, duplicateKeys: DuplicateKeys = .reject) throws(YAMLError) {
        guard let bytes = readFile(path) else {
            throw YAMLError(.io, "cannot read the file", file: path)
        }
        self.init(bytes: bytes, file: path, format: SourceFormat(path: path), limits: limits, duplicateKeys: duplicateKeys)
    }

    /// The next document, or nil at the end of the stream.
    public func next() throws(YAMLError) -> Node? {
        try nextDocument()?.node
    }

    /// The next document with where it lies, or nil at the end of the stream.
    public func nextDocument() throws(YAMLError) -> Document? {
        guard !done else { return nil }
        if let pendingError {
            done = true
            throw pendingError
        }
        do throws(YAMLError) {
            while true {
                let event = try events.next()
                switch event.kind {
                case .streamStart, .documentEnd:
                    continue
                case .streamEnd:
                    done = true
                    return nil
                case .documentStart:
                    var composer = Composer(events: events, limits: limits, duplicateKeys: duplicateKeys)
                    let (node, end) = try composer.composeDocument()
                    duplicates += composer.duplicates
                    return Document(node: node, start: event.start, end: end)
                default:
                    throw events.error(.syntax, "unexpected event outside a document", at: event.start)
                }
            }
        } catch {
            done = true
            throw error
        }
    }

    /// Every remaining document.
    public func readAll() throws(YAMLError) -> [Node] {
        var documents: [Node] = []
        while let document = try next() { documents.append(document) }
        return documents
    }
}

extension Node {
    /// Parses every document of a YAML or JSON stream.
    public static func documents(in text: String, file: String? = nil, format: SourceFormat = .yaml, limits: ParseLimits = .default) throws(YAMLError) -> [Node] {
        try DocumentReader(text: text, file: file, format: format, limits: limits).readAll()
    }

    /// Parses a stream that must hold exactly one document (an empty stream is one null
    /// document, as an empty config file means "nothing set").
    public static func document(in text: String, file: String? = nil, format: SourceFormat = .yaml, limits: ParseLimits = .default) throws(YAMLError) -> Node {
        try single(DocumentReader(text: text, file: file, format: format, limits: limits), file: file)
    }

    /// Reads a file holding exactly one YAML or JSON document.
    public static func document(contentsOf path: String, limits: ParseLimits = .default) throws(YAMLError) -> Node {
        try single(DocumentReader(contentsOf: path, limits: limits), file: path)
    }

    private static func single(_ reader: DocumentReader, file: String?) throws(YAMLError) -> Node {
        guard let first = try reader.next() else { return Node(.scalar("", .plain), mark: Mark(line: 1, column: 1)) }
        if let second = try reader.next() {
            throw YAMLError(.documentCount, "expected a single document, found another one here", file: file, mark: second.mark)
        }
        return first
    }
}

/// What a source is written in. JSON goes through the same parser (every JSON text is
/// YAML) after one fix-up: libyaml rejects JSON's UTF-16 surrogate-pair escapes
/// (`"\\ud83d\\ude00"`), which JSON writers such as Python's emit for characters beyond
/// the BMP, so they are rewritten to the equivalent YAML escape first.
public enum SourceFormat: Sendable {
    case yaml, json

    /// JSON for a `.json` file name, else YAML.
    public init(path: String) {
        self = path.lowercased().hasSuffix(".json") ? .json : .yaml
    }
}

enum JSONEscapes {
    /// Rewrites each surrogate-pair escape to one `\U` escape of eight hex digits;
    /// everything else is unchanged. UTF-16 text (a byte order mark) is left alone: a
    /// byte search would match inside its characters.
    static func joiningSurrogatePairs(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x5C), !bytes.starts(with: [0xFE, 0xFF]), !bytes.starts(with: [0xFF, 0xFE]) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == 0x5C, i + 1 < bytes.count else {
                out.append(bytes[i])
                i += 1
                continue
            }
            if bytes[i + 1] == UInt8(ascii: "u"), let high = hex4(bytes, i + 2), (0xD800...0xDBFF).contains(high),
               i + 11 < bytes.count, bytes[i + 6] == 0x5C, bytes[i + 7] == UInt8(ascii: "u"),
               let low = hex4(bytes, i + 8), (0xDC00...0xDFFF).contains(low) {
                let scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                out += Array("\\U".utf8) + Array(String(scalar, radix: 16).leftPadded(to: 8).utf8)
                i += 12
            } else {
                // Any other escape (including `\\`) is copied as a pair, so an escaped
                // backslash followed by `u` is never mistaken for an escape.
                out.append(bytes[i])
                out.append(bytes[i + 1])
                i += 2
            }
        }
        return out
    }

    private static func hex4(_ bytes: [UInt8], _ start: Int) -> Int? {
        guard start + 4 <= bytes.count else { return nil }
        return Int(String(decoding: bytes[start..<start + 4], as: UTF8.self), radix: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// Builds one document's node tree from parse events, without recursion (depth is bounded
/// by `ParseLimits.maxDepth`, not by the stack).
private struct Composer {
    /// A collection being built. A class so appending to `items` never copies the array.
    final class Frame {
        let isMapping: Bool
        let tag: String?
        let anchor: String?
        let mark: Mark
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var pendingKey: Node?
        var size = 1
        var hasMergeKey = false

        init(isMapping: Bool, tag: String?, anchor: String?, mark: Mark) {
            self.isMapping = isMapping
            self.tag = tag
            self.anchor = anchor
            self.mark = mark
        }
    }

    let events: EventParser
    let limits: ParseLimits
    let duplicateKeys: DuplicateKeys
    var frames: [Frame] = []
    var anchors: [String: (node: Node, size: Int)] = [:]
    var expanded = 0
    var root: Node?
    var duplicates: [DuplicateKey] = []

    init(events: EventParser, limits: ParseLimits, duplicateKeys: DuplicateKeys) {
        self.events = events
        self.limits = limits
        self.duplicateKeys = duplicateKeys
    }

    /// The document's root and where its end event is.
    mutating func composeDocument() throws(YAMLError) -> (Node, Mark) {
        while true {
            let event = try events.next()
            switch event.kind {
            case .scalar(let text, let style):
                try attach(Node(.scalar(text, style), tag: event.tag, mark: event.start), size: 1, anchor: event.anchor)
            case .alias(let name):
                guard let (node, size) = anchors[name] else {
                    throw events.error(.undefinedAlias, "undefined alias *\(name)", at: event.start)
                }
                expanded += size
                if expanded > limits.maxAliasExpansion {
                    throw events.error(
                        .aliasExpansionLimit,
                        "aliases expand to more than \(limits.maxAliasExpansion) nodes in this document (an alias bomb?)",
                        at: event.start)
                }
                var copy = node
                copy.mark = event.start
                try attach(copy, size: size, anchor: nil)
            case .sequenceStart, .mappingStart:
                guard frames.count < limits.maxDepth else {
                    throw events.error(.depthLimit, "collections nested deeper than \(limits.maxDepth) levels", at: event.start)
                }
                var isMapping = false
                if case .mappingStart = event.kind { isMapping = true }
                frames.append(Frame(isMapping: isMapping, tag: event.tag, anchor: event.anchor, mark: event.start))
            case .sequenceEnd:
                let frame = frames.removeLast()
                try attach(Node(.sequence(frame.items), tag: frame.tag, mark: frame.mark), size: frame.size, anchor: frame.anchor)
            case .mappingEnd:
                let frame = frames.removeLast()
                let pairs = try finishMapping(frame)
                try attach(Node(.mapping(pairs), tag: frame.tag, mark: frame.mark), size: frame.size, anchor: frame.anchor)
            case .documentEnd:
                return (root ?? Node(.scalar("", .plain), mark: event.start), event.start)
            case .streamStart, .streamEnd, .documentStart:
                throw events.error(.syntax, "unexpected event inside a document", at: event.start)
            }
        }
    }

    private mutating func attach(_ node: Node, size: Int, anchor: String?) throws(YAMLError) {
        if let anchor { anchors[anchor] = (node, size) }
        guard let frame = frames.last else {
            root = node
            return
        }
        frame.size += size
        if !frame.isMapping {
            frame.items.append(node)
        } else if let key = frame.pendingKey {
            frame.pairs.append(Node.Pair(key: key, value: node))
            frame.pendingKey = nil
        } else {
            if node.isMergeKey { frame.hasMergeKey = true }
            frame.pendingKey = node
        }
    }

    /// Rejects (or resolves) duplicate keys, then applies merge keys: merged entries never
    /// override the mapping's own keys, and among several merged mappings the earlier one wins.
    private mutating func finishMapping(_ frame: Frame) throws(YAMLError) -> [Node.Pair] {
        var pairs = frame.pairs
        if let (first, second) = firstDuplicate(pairs.filter { !$0.key.isMergeKey }) {
            guard duplicateKeys == .lastWins else { throw duplicate(second, first: first) }
            pairs = keepingLastValues(pairs)
        }
        guard frame.hasMergeKey else { return pairs }

        var seen = KeySet()
        for pair in pairs where !pair.key.isMergeKey { seen.insert(pair.key) }
        var result: [Node.Pair] = []
        for pair in pairs {
            guard pair.key.isMergeKey else {
                result.append(pair)
                continue
            }
            let sources: [Node]
            switch pair.value.content {
            case .mapping: sources = [pair.value]
            case .sequence(let items) where items.allSatisfy(\.isMapping): sources = items
            default:
                throw events.error(.invalidMergeKey, "the value of a merge key (<<) must be a mapping or a list of mappings", at: pair.value.mark)
            }
            for source in sources {
                guard case .mapping(let merged) = source.content else { continue }
                for entry in merged where !seen.contains(entry.key) {
                    seen.insert(entry.key)
                    result.append(entry)
                }
            }
        }
        return result
    }

    /// The first key given twice (its first and second occurrence), or nil.
    private func firstDuplicate(_ pairs: [Node.Pair]) -> (Node, Node)? {
        guard pairs.count > 1 else { return nil }
        if pairs.count <= 8 {
            for i in 1..<pairs.count {
                for j in 0..<i where sameKey(pairs[j].key, pairs[i].key) { return (pairs[j].key, pairs[i].key) }
            }
            return nil
        }
        var seen = KeySet()
        for pair in pairs {
            if let first = seen.member(equalTo: pair.key) { return (first, pair.key) }
            seen.insert(pair.key)
        }
        return nil
    }

    /// Each key once, at its first position, with its last value; every repeat recorded.
    private mutating func keepingLastValues(_ pairs: [Node.Pair]) -> [Node.Pair] {
        var result: [Node.Pair] = []
        var positions: [ScalarIdentity: Int] = [:]
        let path = frames.map { frame in
            frame.isMapping ? (frame.pendingKey?.scalarText ?? "?") : "[\(frame.items.count)]"
        }
        for pair in pairs {
            let existing: Int?
            if pair.key.isMergeKey {
                existing = nil
            } else if let id = pair.key.scalarIdentity {
                existing = positions[id]
                if existing == nil { positions[id] = result.count }
            } else {
                existing = result.firstIndex { !$0.key.isMergeKey && $0.key == pair.key }
            }
            guard let index = existing else {
                result.append(pair)
                continue
            }
            duplicates.append(DuplicateKey(key: pair.key.scalarText ?? "(a complex key)", path: path,
                                           first: result[index].key.mark, second: pair.key.mark))
            result[index].value = pair.value
        }
        return result
    }

    /// Key equality with a fast path: two scalars with the same text, tag and kind of style
    /// (plain or not) are the same key without resolving their types.
    private func sameKey(_ a: Node, _ b: Node) -> Bool {
        if case .scalar(let x, let xs) = a.content, case .scalar(let y, let ys) = b.content,
           a.tag == nil, b.tag == nil {
            if x == y && (xs == .plain) == (ys == .plain) { return true }
            // Different texts are different keys unless both are plain nulls (`~`, `null`).
            if x != y { return xs == .plain && ys == .plain && a.isNull && b.isNull }
        }
        return a == b
    }

    private func duplicate(_ key: Node, first: Node) -> YAMLError {
        let name: String
        if case .scalar(let text, _) = key.content { name = "\"\(text)\"" } else { name = "(a complex key)" }
        return events.error(.duplicateKey, "duplicate key \(name); it was first defined at \(first.mark)", at: key.mark)
    }
}

/// Mapping keys seen so far: scalars by identity, anything else by linear equality.
private struct KeySet {
    var scalars: [ScalarIdentity: Node] = [:]
    var others: [Node] = []

    mutating func insert(_ key: Node) {
        if let id = key.scalarIdentity { scalars[id] = scalars[id] ?? key } else { others.append(key) }
    }

    func member(equalTo key: Node) -> Node? {
        if let id = key.scalarIdentity { return scalars[id] }
        return others.first { $0 == key }
    }

    func contains(_ key: Node) -> Bool { member(equalTo: key) != nil }
}

extension Node {
    /// A YAML 1.1 merge key: plain `<<` or one tagged `!!merge`.
    var isMergeKey: Bool {
        guard case .scalar(let text, let style) = content else { return false }
        if tag == Tag.merge { return true }
        return tag == nil && style == .plain && text == "<<"
    }

    var isMapping: Bool {
        if case .mapping = content { return true }
        return false
    }
}

/// The whole file as bytes, read straight into the array (no intermediate `Data` copy).
func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT != S_IFDIR else { return nil }
    var result: [UInt8] = []
    // One byte more than the size tells "the file ended" from "the file is larger than
    // fstat said" (it grew, or it is a pipe), in which case reading goes on in chunks.
    var room = Int(info.st_size) + 1
    while true {
        var failed = false
        let chunk = [UInt8](unsafeUninitializedCapacity: room) { buffer, count in
            count = 0
            guard let base = buffer.baseAddress else { return }
            while count < buffer.count {
                let n = read(fd, base + count, buffer.count - count)
                if n > 0 { count += n } else if n == 0 || errno != EINTR { failed = n < 0; return }
            }
        }
        if failed { return nil }
        if result.isEmpty { result = chunk } else { result += chunk }
        if chunk.count < room { return result }
        room = max(room, 65_536)
    }
}
