internal import CYAML

/// One libyaml parse event, copied into Swift values.
package struct Event: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case streamStart, streamEnd
        case documentStart(explicit: Bool)
        case documentEnd(explicit: Bool)
        case sequenceStart(flow: Bool)
        case sequenceEnd
        case mappingStart(flow: Bool)
        case mappingEnd
        case scalar(String, ScalarStyle)
        case alias(String)
    }

    package var kind: Kind
    package var anchor: String?
    package var tag: String?
    package var start: Mark
    /// Where the event's text starts and ends, in characters from the start of the input
    /// (libyaml's mark index; a CRLF counts two). Block collections start at their first
    /// key or `-` and "end" at the next token, wherever that is.
    package var range: Range<Int> = 0..<0
}

/// Bytes handed to libyaml through its read callback, so no pointer into a Swift array
/// outlives the closure that lent it.
private final class InputSource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// libyaml's read handler: copies the next chunk of the source into libyaml's buffer.
private func readInput(
    _ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int,
    _ sizeRead: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let context, let buffer, let sizeRead else { return 0 }
    let source = Unmanaged<InputSource>.fromOpaque(context).takeUnretainedValue()
    let count = min(size, source.bytes.count - source.offset)
    source.bytes.withUnsafeBufferPointer { all in
        if count > 0, let base = all.baseAddress {
            buffer.update(from: base + source.offset, count: count)
        }
    }
    source.offset += count
    sizeRead.pointee = count
    return 1
}

/// An owned libyaml parser (`yaml_parser_t`) over one source text, producing events.
///
/// Not thread-safe; one parse is confined to one task.
package final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let source: InputSource
    private let text: SourceText
    let file: String?
    private var finished = false

    package init(bytes: [UInt8], file: String?) {
        self.source = InputSource(bytes)
        self.text = SourceText(bytes: bytes)
        self.file = file
        parser = .allocate(capacity: 1)
        // Initialization only fails when malloc does; libyaml then leaves error set and the
        // first parse call reports it.
        _ = yaml_parser_initialize(parser)
        yaml_parser_set_input(parser, readInput, Unmanaged.passUnretained(source).toOpaque())
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// The next event (`yaml_parser_parse`); after stream end, stream end again.
    package func next() throws(YAMLError) -> Event {
        if finished { return Event(kind: .streamEnd, start: Mark(line: 0, column: 0)) }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parseError() }
        defer { yaml_event_delete(&event) }
        var converted = Self.convert(&event)
        let from = Int(event.start_mark.index)
        converted.range = from..<max(from, Int(event.end_mark.index))
        if case .streamEnd = converted.kind { finished = true }
        return converted
    }

    /// Reads every event up to and including stream end.
    package func allEvents() throws(YAMLError) -> [Event] {
        var events: [Event] = []
        while true {
            let event = try next()
            events.append(event)
            if case .streamEnd = event.kind { return events }
        }
    }

    private static func convert(_ event: inout yaml_event_t) -> Event {
        let start = Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return Event(kind: .streamStart, start: start)
        case YAML_STREAM_END_EVENT:
            return Event(kind: .streamEnd, start: start)
        case YAML_DOCUMENT_START_EVENT:
            return Event(kind: .documentStart(explicit: event.data.document_start.implicit == 0), start: start)
        case YAML_DOCUMENT_END_EVENT:
            return Event(kind: .documentEnd(explicit: event.data.document_end.implicit == 0), start: start)
        case YAML_ALIAS_EVENT:
            return Event(kind: .alias(string(event.data.alias.anchor)), start: start)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return Event(
                kind: .scalar(text, style(scalar.style)),
                anchor: optionalString(scalar.anchor), tag: optionalString(scalar.tag), start: start)
        case YAML_SEQUENCE_START_EVENT:
            let seq = event.data.sequence_start
            return Event(
                kind: .sequenceStart(flow: seq.style == YAML_FLOW_SEQUENCE_STYLE),
                anchor: optionalString(seq.anchor), tag: optionalString(seq.tag), start: start)
        case YAML_SEQUENCE_END_EVENT:
            return Event(kind: .sequenceEnd, start: start)
        case YAML_MAPPING_START_EVENT:
            let map = event.data.mapping_start
            return Event(
                kind: .mappingStart(flow: map.style == YAML_FLOW_MAPPING_STYLE),
                anchor: optionalString(map.anchor), tag: optionalString(map.tag), start: start)
        case YAML_MAPPING_END_EVENT:
            return Event(kind: .mappingEnd, start: start)
        default:
            // YAML_NO_EVENT is never returned by a successful parse.
            return Event(kind: .streamEnd, start: start)
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String {
        optionalString(pointer) ?? ""
    }

    private static func optionalString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    /// Turns libyaml's error state into a located error.
    private func parseError() -> YAMLError {
        finished = true
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        let mark: Mark
        let kind: YAMLError.Kind
        switch p.error {
        case YAML_READER_ERROR:
            kind = .encoding
            mark = text.mark(atByteOffset: p.problem_offset)
        case YAML_MEMORY_ERROR:
            kind = .syntax
            mark = Mark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        default:
            kind = .syntax
            mark = Mark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        }
        var message = problem
        if problem == "found character that cannot start any token", text.character(at: mark) == "\t" {
            message = "found a tab character where YAML allows only spaces (indent with spaces)"
        }
        if kind == .encoding {
            message = "invalid text encoding: \(problem)"
            if p.problem_value != -1 { message += " (byte 0x\(String(p.problem_value, radix: 16, uppercase: true)))" }
        }
        var context: String?
        if kind != .encoding, let what = p.context.map({ String(cString: $0) }) {
            context = "\(what) at \(Mark(line: Int(p.context_mark.line) + 1, column: Int(p.context_mark.column) + 1))"
        }
        return error(kind, message, at: mark, context: context)
    }

    /// An error at `mark` in this parser's source, quoting the line.
    /// `context` is what the parser was in the middle of ("while parsing a flow sequence").
    func error(_ kind: YAMLError.Kind, _ message: String, at mark: Mark, context: String? = nil) -> YAMLError {
        let line = text.line(mark.line)
        var full = message
        if line == nil { full += " at the end of the input" }
        if let context { full += " (\(context))" }
        return YAMLError(kind, full, file: file, mark: mark, sourceLine: line)
    }
}
