import Foundation
public import HLD
public import YAML

/// A property of hld that an input broke. It ends the process with a trap, which
/// libFuzzer reports as a crash and saves the input for; the message says which property
/// and how it failed, so the artifact reads on its own.
public func violated(_ property: String, _ detail: @autoclosure () -> String) -> Never {
    fatalError("property violated: \(property)\n\(detail())")
}

/// With HLD_FUZZ_TRACE=1, says on stderr how far an input got (`accepted`, `merged`,
/// `edited`): to see whether seeds reach the property checks.
public func trace(_ message: @autoclosure () -> String) {
    if tracing { FileHandle.standardError.write(Data("hld-fuzz: \(message())\n".utf8)) }
}

private let tracing = ProcessInfo.processInfo.environment["HLD_FUZZ_TRACE"].map { $0 != "" && $0 != "0" } ?? false

/// Traps with `property` when `condition` is false.
public func require(_ condition: Bool, _ property: String, _ detail: @autoclosure () -> String = "") {
    if !condition { violated(property, detail()) }
}

/// The fuzzer's bytes as an array (libFuzzer's buffer is only lent for the call).
public func input(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// A short, one-line rendering of a value for messages, written without the emitter
/// (which is under test): plain scalars as `plain"text"`, others as `"text"`, tags first.
public func show(_ node: Node) -> String {
    var out = ""
    func write(_ node: Node) {
        guard out.count < 400 else { return }
        if let tag = node.tag { out += "!<\(tag)> " }
        switch node.content {
        case .scalar(let text, let style):
            out += (style == .plain ? "plain" : "") + text.debugDescription
        case .sequence(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += ", " }
                write(item)
            }
            out += "]"
        case .mapping(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += ", " }
                write(pair.key)
                out += ": "
                write(pair.value)
            }
            out += "}"
        }
    }
    write(node)
    return out.count > 400 ? String(out.prefix(400)) + "…" : out
}

/// Bugs in hld that the targets found, reported and not fixed yet, each with its input
/// in Fuzz/regressions/<target>/. A target steps around a known one, as narrowly as it
/// can, so that a run goes on to find the next; with HLD_FUZZ_STRICT=1 (how the
/// regression inputs are replayed) each is a finding again. Remove a case with its fix.
public enum KnownIssue: String, CaseIterable, Sendable {
    /// The emitter hands libyaml a typed plain scalar (a null, number, timestamp) that
    /// libyaml will not write plain — in flow style an empty one or one with a `:`;
    /// anywhere one starting with `...` or `---`, such as the YAML 1.1 float `...5`, or
    /// holding a tab, such as the YAML 1.1 timestamp `2001-11-3 \t5:02:31 -5` — and
    /// libyaml quotes it, so it reads back as a string
    /// (regressions/yaml-roundtrip/typed-plain-quoted-*).
    case typedPlainQuoted = "typed-plain-quoted"
    /// A tag with a `,`, `[` or `]` (`!<!a,b>`) is written as a shorthand (`!a,b`) that
    /// libyaml's own reader then rejects: the output does not parse
    /// (regressions/yaml-roundtrip/tag-with-comma).
    case tagWithFlowIndicator = "tag-with-flow-indicator"

    /// Whether the targets step around this issue in this process.
    public var isTolerated: Bool { !strict }

    /// The tolerated emitter issue that makes emitting `documents` (in flow style or
    /// not) lose something, if any: a target skips its emit-and-read-back checks then.
    public static func emitterIssue(in documents: [Node], flow: Bool) -> KnownIssue? {
        if typedPlainQuoted.isTolerated, documents.contains(where: { $0.hasUnwritablePlainScalar(flow: flow) }) { return typedPlainQuoted }
        if tagWithFlowIndicator.isTolerated, documents.contains(where: \.hasTagWithFlowIndicator) { return tagWithFlowIndicator }
        return nil
    }
}

private let strict = ProcessInfo.processInfo.environment["HLD_FUZZ_STRICT"].map { $0 != "" && $0 != "0" } ?? false

extension Node {
    /// Whether a tag holding a flow indicator is anywhere in the tree (`KnownIssue.tagWithFlowIndicator`).
    public var hasTagWithFlowIndicator: Bool {
        if let tag, tag.contains(where: { ",[]{}".contains($0) }) { return true }
        switch content {
        case .scalar: return false
        case .sequence(let items): return items.contains(where: \.hasTagWithFlowIndicator)
        case .mapping(let pairs): return pairs.contains { $0.key.hasTagWithFlowIndicator || $0.value.hasTagWithFlowIndicator }
        }
    }

    /// Whether a typed (not string) plain untagged scalar that libyaml will not write
    /// plain is anywhere in the tree (`KnownIssue.typedPlainQuoted`).
    public func hasUnwritablePlainScalar(flow: Bool) -> Bool {
        switch content {
        case .scalar(let text, let style):
            guard tag == nil, style == .plain, scalarType(.yaml11) != .string || scalarType(.core12) != .string else { return false }
            return text.hasPrefix("...") || text.hasPrefix("---") || text.contains("\t") || (flow && (text.isEmpty || text.contains(":")))
        case .sequence(let items): return items.contains { $0.hasUnwritablePlainScalar(flow: flow) }
        case .mapping(let pairs):
            return pairs.contains { $0.key.hasUnwritablePlainScalar(flow: flow) || $0.value.hasUnwritablePlainScalar(flow: flow) }
        }
    }
}

/// Whether `b` reads as `a` but for typed plain scalars of `a` that came back as strings of
/// the same text: `KnownIssue.typedPlainQuoted`, whichever scalar libyaml declined to
/// write plain.
public func differsOnlyByQuotedTypedPlain(_ a: [Node], _ b: [Node]) -> Bool {
    func same(_ a: Node, _ b: Node) -> Bool {
        switch (a.content, b.content) {
        case (.sequence(let xs), .sequence(let ys)):
            return Node(.sequence([]), tag: a.tag) == Node(.sequence([]), tag: b.tag) && xs.count == ys.count && zip(xs, ys).allSatisfy(same)
        case (.mapping(let xs), .mapping(let ys)):
            return Node(.mapping([]), tag: a.tag) == Node(.mapping([]), tag: b.tag) && xs.count == ys.count
                && zip(xs, ys).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
        case (.scalar(let x, let style), .scalar(let y, _)):
            if a == b { return true }
            let typed = a.scalarType(.yaml11) != .string || a.scalarType(.core12) != .string
            return a.tag == nil && style == .plain && typed && x == y && b.scalarType(.yaml11) == .string && b.scalarType(.core12) == .string
        default:
            return false
        }
    }
    return a.count == b.count && zip(a, b).allSatisfy(same)
}

/// A text for messages, escaped so that control and line-break characters are visible.
public func quote(_ text: String, limit: Int = 2000) -> String {
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return shown.debugDescription
}

/// Where two values first differ (by `==`, the value equality hld uses), or nil when they
/// are equal: a path from the root and both sides.
public func difference(_ a: Node, _ b: Node, path: String = "$") -> String? {
    switch (a.content, b.content) {
    case (.sequence(let xs), .sequence(let ys)):
        guard xs.count == ys.count else { return "\(path): \(xs.count) items against \(ys.count): \(show(a)) vs \(show(b))" }
        for (index, (x, y)) in zip(xs, ys).enumerated() {
            if let found = difference(x, y, path: "\(path)[\(index)]") { return found }
        }
    case (.mapping(let xs), .mapping(let ys)):
        guard xs.count == ys.count else { return "\(path): \(xs.count) entries against \(ys.count): \(show(a)) vs \(show(b))" }
        for (x, y) in zip(xs, ys) {
            let key = x.key.scalarText ?? "?"
            if let found = difference(x.key, y.key, path: "\(path).key(\(key))") { return found }
            if let found = difference(x.value, y.value, path: "\(path).\(key)") { return found }
        }
    default:
        break
    }
    guard a != b else { return nil }
    return "\(path): \(show(a)) (tag \(a.tag ?? "none"), \(a.typeName)) vs \(show(b)) (tag \(b.tag ?? "none"), \(b.typeName))"
}

/// `difference` over two document lists.
public func difference(_ a: [Node], _ b: [Node]) -> String? {
    guard a.count == b.count else { return "\(a.count) documents against \(b.count)" }
    for (index, (x, y)) in zip(a, b).enumerated() {
        if let found = difference(x, y, path: "document \(index)") { return found }
    }
    return nil
}

extension Node {
    /// `int/int`, `string/string`, `bool/string`: the type under YAML 1.1 and 1.2 core.
    var typeName: String {
        switch content {
        case .scalar:
            let t11 = scalarType(.yaml11).map { "\($0)" } ?? "?"
            let t12 = scalarType(.core12).map { "\($0)" } ?? "?"
            return "\(t11)/\(t12)"
        case .sequence: return "sequence"
        case .mapping: return "mapping"
        }
    }

    /// Whether any node of this tree carries an explicit tag.
    public var hasTags: Bool {
        if tag != nil { return true }
        switch content {
        case .scalar: return false
        case .sequence(let items): return items.contains(where: \.hasTags)
        case .mapping(let pairs): return pairs.contains { $0.key.hasTags || $0.value.hasTags }
        }
    }
}

/// Warnings go nowhere: a fuzz run only cares about crashes and broken properties.
public struct DiscardedDiagnostics: DiagnosticsSink {
    public init() {}
    public func warning(_ message: String) {}
    public func progress(_ message: String) {}
}

/// Splits an input into parts at separator lines (`#== <label> ==`, a YAML comment, so
/// every part and the whole input stay YAML). The text before the first separator is the
/// first part, labelled `""`.
public func sections(_ bytes: [UInt8], maximum: Int) -> [(label: String, bytes: [UInt8])] {
    let prefix = Array("#== ".utf8)
    var result: [(label: String, bytes: [UInt8])] = []
    var label = ""
    var current: [UInt8] = []
    var lineStart = 0
    while lineStart < bytes.count {
        let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
        let line = bytes[lineStart..<lineEnd]
        if line.starts(with: prefix), result.count + 1 < maximum {
            result.append((label, current))
            var text = String(decoding: line.dropFirst(prefix.count), as: UTF8.self)
            while let last = text.last, last == "\n" || last == "\r" || last == " " || last == "=" { text.removeLast() }
            label = text
            current = []
        } else {
            current += line
        }
        lineStart = lineEnd
    }
    result.append((label, current))
    return result
}

/// One directory per process for entry points that read files, under `$TMPDIR`
/// (scripts/fuzz gives each run its own and removes it afterwards).
public enum Scratch {
    public static let directory: String = {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = "\(base)/hld-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
        return path
    }()

    /// Writes `bytes` to `name` in the scratch directory (replacing what was there).
    public static func write(_ bytes: [UInt8], to name: String) {
        let path = directory + "/" + name
        var fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            let parent = (path as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { fatalError("fuzz harness: cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        var written = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + written, buffer.count - written)
                guard n > 0 else { fatalError("fuzz harness: cannot write \(path): errno \(errno)") }
                written += n
            }
        }
    }

    public static func remove(_ name: String) {
        unlink(directory + "/" + name)
    }
}

