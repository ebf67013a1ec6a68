/// One node of a document as it is written: what it holds and where its text lies, as
/// byte offsets into the source. The text-preserving editor (``TextEditor``) works on
/// these; nothing here expands aliases or applies merge keys.
struct SyntaxNode: Sendable {
    indirect enum Kind: Sendable {
        case scalar(String, ScalarStyle)
        case mapping([SyntaxPair])
        case sequence([SyntaxNode])
        case alias(String)
    }

    var kind: Kind
    var tag: String?
    var anchor: String?
    /// Written in flow style (`{…}`, `[…]`); scalars inherit their collection's context.
    var flow: Bool
    /// Where the node's text starts (its anchor or tag, if any) and ends. A block
    /// collection ends where its last child ends.
    var start: Int
    var end: Int
    var mark: Mark

    var isNullScalar: Bool {
        guard case .scalar = kind, let node = value else { return false }
        return node.isNull
    }

    /// The value, when no alias is inside.
    var value: Node? {
        switch kind {
        case .scalar(let text, let style):
            return Node(.scalar(text, style), tag: tag, mark: mark)
        case .mapping(let pairs):
            var result: [Node.Pair] = []
            for pair in pairs {
                guard let key = pair.key.value, let value = pair.value.value else { return nil }
                result.append(Node.Pair(key: key, value: value))
            }
            return Node(.mapping(result), tag: tag, mark: mark)
        case .sequence(let items):
            var result: [Node] = []
            for item in items {
                guard let value = item.value else { return nil }
                result.append(value)
            }
            return Node(.sequence(result), tag: tag, mark: mark)
        case .alias:
            return nil
        }
    }

    /// Whether an anchor or an alias is anywhere in this subtree.
    var hasAnchorOrAlias: Bool {
        if anchor != nil { return true }
        switch kind {
        case .alias: return true
        case .scalar: return false
        case .mapping(let pairs): return pairs.contains { $0.key.hasAnchorOrAlias || $0.value.hasAnchorOrAlias }
        case .sequence(let items): return items.contains { $0.hasAnchorOrAlias }
        }
    }
}

struct SyntaxPair: Sendable {
    var key: SyntaxNode
    var value: SyntaxNode
}

/// The documents of a source as ``SyntaxNode`` trees, with the source's bytes.
struct SyntaxTree {
    let bytes: [UInt8]
    /// Each document's root; nil for a document with no content (empty file, comments only).
    let documents: [SyntaxNode]

    /// Parses `bytes`; a syntax error is thrown with its location.
    init(bytes: [UInt8], file: String?) throws(YAMLError) {
        self.bytes = bytes
        let offsets = CharacterOffsets(bytes)
        let events = EventParser(bytes: bytes, file: file)
        var documents: [SyntaxNode] = []
        var builder = Builder(events: events, offsets: offsets)
        while let document = try builder.nextDocument() { documents.append(document) }
        self.documents = documents
    }

    private struct Builder {
        let events: EventParser
        let offsets: CharacterOffsets
        var depth = 0

        mutating func nextDocument() throws(YAMLError) -> SyntaxNode? {
            while true {
                let event = try events.next()
                switch event.kind {
                case .streamEnd: return nil
                case .documentStart:
                    let root = try node(try events.next(), flow: false)
                    return root
                default: continue
                }
            }
        }

        private mutating func node(_ event: Event, flow: Bool) throws(YAMLError) -> SyntaxNode {
            let start = offsets.byte(event.range.lowerBound)
            switch event.kind {
            case .scalar(let text, let style):
                return SyntaxNode(kind: .scalar(text, style), tag: event.tag, anchor: event.anchor, flow: flow,
                                  start: start, end: offsets.byte(event.range.upperBound), mark: event.start)
            case .alias(let name):
                return SyntaxNode(kind: .alias(name), flow: flow, start: start, end: offsets.byte(event.range.upperBound), mark: event.start)
            case .mappingStart(let isFlow):
                depth += 1
                guard depth <= ParseLimits.default.maxDepth else { throw events.error(.depthLimit, "nested too deeply to edit", at: event.start) }
                defer { depth -= 1 }
                var pairs: [SyntaxPair] = []
                while true {
                    let next = try events.next()
                    if case .mappingEnd = next.kind {
                        let end = isFlow ? offsets.byte(next.range.upperBound) : (pairs.last?.value.end ?? start)
                        return SyntaxNode(kind: .mapping(pairs), tag: event.tag, anchor: event.anchor, flow: isFlow,
                                          start: start, end: end, mark: event.start)
                    }
                    let key = try node(next, flow: isFlow || flow)
                    let value = try node(try events.next(), flow: isFlow || flow)
                    pairs.append(SyntaxPair(key: key, value: value))
                }
            case .sequenceStart(let isFlow):
                depth += 1
                guard depth <= ParseLimits.default.maxDepth else { throw events.error(.depthLimit, "nested too deeply to edit", at: event.start) }
                defer { depth -= 1 }
                var items: [SyntaxNode] = []
                while true {
                    let next = try events.next()
                    if case .sequenceEnd = next.kind {
                        let end = isFlow ? offsets.byte(next.range.upperBound) : (items.last?.end ?? start)
                        return SyntaxNode(kind: .sequence(items), tag: event.tag, anchor: event.anchor, flow: isFlow,
                                          start: start, end: end, mark: event.start)
                    }
                    items.append(try node(next, flow: isFlow || flow))
                }
            default:
                throw events.error(.syntax, "unexpected event in a document", at: event.start)
            }
        }
    }
}

/// libyaml counts positions in characters; the editor needs bytes.
struct CharacterOffsets {
    /// The byte offset of each character (only for text that is not plain ASCII).
    private let starts: [Int]?
    private let base: Int
    private let count: Int

    init(_ bytes: [UInt8]) {
        // libyaml skips a byte order mark without counting it.
        base = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        count = bytes.count
        if bytes[base...].allSatisfy({ $0 < 0x80 }) {
            starts = nil
        } else {
            var starts: [Int] = []
            starts.reserveCapacity(bytes.count)
            for index in base..<bytes.count where bytes[index] & 0xC0 != 0x80 { starts.append(index) }
            self.starts = starts
        }
    }

    func byte(_ character: Int) -> Int {
        guard let starts else { return min(base + character, count) }
        return character < starts.count ? starts[character] : count
    }
}
