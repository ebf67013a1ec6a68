internal import CYAML

/// How documents are written.
public struct EmitOptions: Sendable {
    /// Spaces per indentation level.
    public var indent: Int
    /// Start every document with `---`. When false, only the documents after the first in
    /// one stream get one (YAML requires it there).
    public var explicitDocumentStart: Bool

    /// Write collections in flow style (`{a: 1, b: [x, y]}`), on one line.
    public var flow: Bool

    public init(indent: Int = 2, explicitDocumentStart: Bool = false, flow: Bool = false) {
        self.indent = indent
        self.explicitDocumentStart = explicitDocumentStart
        self.flow = flow
    }

    public static let `default` = EmitOptions()
}

extension Node {
    /// This node as a YAML document in Kubernetes style: block collections, 2-space
    /// indent, sequences under a key not indented, literal blocks for multi-line strings,
    /// and quotes on every string that some YAML 1.1/1.2 reader would take for another type.
    public func yaml(options: EmitOptions = .default) throws(YAMLError) -> String {
        try Node.yaml(documents: [self], options: options)
    }

    /// A stream of documents, separated by `---`.
    public static func yaml(documents: [Node], options: EmitOptions = .default) throws(YAMLError) -> String {
        let writer = YAMLWriter(options: options)
        for document in documents { try writer.write(document) }
        try writer.finish()
        return String(decoding: writer.takeOutput(), as: UTF8.self)
    }
}

/// Output collected from libyaml's write callback.
private final class OutputBuffer {
    var bytes: [UInt8] = []
}

private func writeOutput(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let context else { return 0 }
    let output = Unmanaged<OutputBuffer>.fromOpaque(context).takeUnretainedValue()
    if let buffer, size > 0 {
        output.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
    }
    return 1
}

/// An owned libyaml emitter (`yaml_emitter_t`) writing one stream of documents, for
/// output too large to build as one string: write a document, take the output, repeat.
public final class YAMLWriter {
    private let emitter: UnsafeMutablePointer<yaml_emitter_t>
    private let output = OutputBuffer()
    private let options: EmitOptions
    private var started = false
    private var wroteDocument = false
    private var finished = false

    public init(options: EmitOptions = .default) {
        self.options = options
        emitter = .allocate(capacity: 1)
        _ = yaml_emitter_initialize(emitter)
        yaml_emitter_set_output(emitter, writeOutput, Unmanaged.passUnretained(output).toOpaque())
        yaml_emitter_set_indent(emitter, Int32(options.indent))
        yaml_emitter_set_width(emitter, -1)  // never fold long lines: diffs stay one line per value
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    /// Appends one document (`yaml_emitter_emit`, one event at a time).
    public func write(_ document: Node) throws(YAMLError) {
        if !started {
            var event = yaml_event_t()
            yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
            try emit(&event, at: document.mark)
            started = true
        }
        // A first document that is an empty null writes no text: only its `---` keeps it.
        var empty = false
        if document.tag == nil, case .scalar(let text, .plain) = document.content { empty = text.isEmpty }
        var start = yaml_event_t()
        yaml_document_start_event_initialize(&start, nil, nil, nil, options.explicitDocumentStart || (empty && !wroteDocument) ? 0 : 1)
        wroteDocument = true
        try emit(&start, at: document.mark)
        try write(node: document, isKey: false)
        var end = yaml_event_t()
        yaml_document_end_event_initialize(&end, 1)
        try emit(&end, at: document.mark)
    }

    /// Ends the stream; call once after the last document.
    public func finish() throws(YAMLError) {
        guard !finished else { return }
        finished = true
        if !started {
            var event = yaml_event_t()
            yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
            try emit(&event, at: Mark(line: 0, column: 0))
        }
        var event = yaml_event_t()
        yaml_stream_end_event_initialize(&event)
        try emit(&event, at: Mark(line: 0, column: 0))
        _ = yaml_emitter_flush(emitter)
    }

    /// The bytes written since the last call.
    public func takeOutput() -> [UInt8] {
        defer { output.bytes.removeAll(keepingCapacity: true) }
        return output.bytes
    }

    /// One step of writing a node tree: a node to write, or the end of a collection.
    private enum Step {
        case node(Node, isKey: Bool)
        case endSequence(Mark)
        case endMapping(Mark)
    }

    /// Writes `node` with a stack of its own, not the thread's: nesting as deep as the
    /// parser accepts (1 000) would otherwise need a frame per level on a worker thread's
    /// small stack (ASan's larger frames overflowed it).
    private func write(node: Node, isKey: Bool) throws(YAMLError) {
        var steps: [Step] = [.node(node, isKey: isKey)]
        while let step = steps.popLast() {
            switch step {
            case .endSequence(let mark):
                var end = yaml_event_t()
                yaml_sequence_end_event_initialize(&end)
                try emit(&end, at: mark)
            case .endMapping(let mark):
                var end = yaml_event_t()
                yaml_mapping_end_event_initialize(&end)
                try emit(&end, at: mark)
            case .node(let node, let isKey):
                switch node.content {
                case .scalar(let text, let style):
                    let plan = ScalarPlan(text: text, style: style, tag: node.tag, isKey: isKey)
                    var event = yaml_event_t()
                    let ok = withOptionalCString(plan.tag) { tag in
                        withBytes(plan.text) { value, count in
                            yaml_scalar_event_initialize(
                                &event, nil, tag, value, Int32(count),
                                plan.plainImplicit ? 1 : 0, plan.quotedImplicit ? 1 : 0, plan.style)
                        }
                    }
                    guard ok == 1 else { throw YAMLError(.emitter, "cannot write scalar \"\(text.prefix(40))\" (invalid tag?)", mark: node.mark) }
                    try emit(&event, at: node.mark)
                case .sequence(let items):
                    var event = yaml_event_t()
                    let tag = Self.collectionTag(node.tag, standard: Tag.seq)
                    let ok = withOptionalCString(tag) { yaml_sequence_start_event_initialize(&event, nil, $0, tag == nil ? 1 : 0, options.flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE) }
                    guard ok == 1 else { throw YAMLError(.emitter, "cannot write a sequence tagged \(tag ?? "")", mark: node.mark) }
                    try emit(&event, at: node.mark)
                    steps.append(.endSequence(node.mark))
                    for item in items.reversed() { steps.append(.node(item, isKey: false)) }
                case .mapping(let pairs):
                    var event = yaml_event_t()
                    let tag = Self.collectionTag(node.tag, standard: Tag.map)
                    let ok = withOptionalCString(tag) { yaml_mapping_start_event_initialize(&event, nil, $0, tag == nil ? 1 : 0, options.flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE) }
                    guard ok == 1 else { throw YAMLError(.emitter, "cannot write a mapping tagged \(tag ?? "")", mark: node.mark) }
                    try emit(&event, at: node.mark)
                    steps.append(.endMapping(node.mark))
                    for pair in pairs.reversed() {
                        steps.append(.node(pair.value, isKey: false))
                        steps.append(.node(pair.key, isKey: true))
                    }
                }
            }
        }
    }

    /// The tag to write on a collection: none for the standard or non-specific ones.
    private static func collectionTag(_ tag: String?, standard: String) -> String? {
        guard let tag, tag != standard, tag != Tag.nonSpecific else { return nil }
        return tag
    }

    /// Hands one event to libyaml, which takes ownership of it.
    private func emit(_ event: inout yaml_event_t, at mark: Mark) throws(YAMLError) {
        guard yaml_emitter_emit(emitter, &event) == 1 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown libyaml emitter error"
            throw YAMLError(.emitter, "cannot write YAML: \(problem)", mark: mark)
        }
    }
}

/// How one scalar is handed to libyaml so that it reads back as the same value.
private struct ScalarPlan {
    var text: String
    var tag: String?
    var style: yaml_scalar_style_t
    var plainImplicit: Bool
    var quotedImplicit: Bool

    init(text: String, style: ScalarStyle, tag: String?, isKey: Bool) {
        self.text = text
        switch tag {
        case nil where style == .plain && !text.utf8.contains(0x0A):
            // Resolved by the reader: keep it plain (a plain scalar over lines is a
            // string, and written as one below). libyaml quotes an empty plain key,
            // which would turn null into "", so a null key is spelled out.
            if isKey && text.isEmpty { self.text = "null" }
            self.tag = nil
            self.style = YAML_PLAIN_SCALAR_STYLE
            plainImplicit = true
            quotedImplicit = true
        case nil, Tag.nonSpecific?, Tag.str?:
            // A string: plain when every reader sees a string, else quoted.
            self.tag = nil
            if text.utf8.contains(0x0A) {
                self.style = YAML_LITERAL_SCALAR_STYLE
            } else if ScalarResolver.isAmbiguous(text) {
                self.style = YAML_DOUBLE_QUOTED_SCALAR_STYLE
            } else {
                self.style = YAML_PLAIN_SCALAR_STYLE
            }
            plainImplicit = self.style == YAML_PLAIN_SCALAR_STYLE
            quotedImplicit = true
        case let explicit?:
            // The tag says what it is; write it out and let libyaml pick the lightest style.
            self.tag = explicit
            self.style = text.utf8.contains(0x0A) ? YAML_LITERAL_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE
            plainImplicit = false
            quotedImplicit = false
        }
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafeMutablePointer<UInt8>?) -> R) -> R {
    guard let string else { return body(nil) }
    var bytes = Array(string.utf8)
    bytes.append(0)
    return bytes.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

/// Lends `text`'s UTF-8 bytes without copying when the string is contiguous.
private func withBytes<R>(_ text: String, _ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
    var text = text
    return text.withUTF8 { buffer in
        if let base = buffer.baseAddress {
            return body(UnsafeMutablePointer(mutating: base), buffer.count)
        }
        var empty: UInt8 = 0
        return body(&empty, 0)
    }
}
