import Foundation
import Testing
@testable import YAML

/// Runs every case of the official yaml-test-suite (../shared/testdata/yaml-test-suite).
@Suite struct YAMLTestSuiteTests {
    @Test func wholeSuite() throws {
        let root = try #require(SuiteCase.suiteDirectory(), "yaml-test-suite not found next to the repository (../shared/testdata/yaml-test-suite)")
        let cases = try SuiteCase.all(in: root)
        #expect(cases.count == 402, "the suite should hold 402 cases including sub-cases")

        var passed = 0
        var deviations = 0
        for suiteCase in cases {
            let failure = suiteCase.check()
            switch (failure, KnownLibyamlDeviations.reasons[suiteCase.id]) {
            case (nil, nil):
                passed += 1
            case (nil, let reason?):
                Issue.record("\(suiteCase.id) passes but is listed as a known libyaml deviation (\(reason)): remove it from the list")
            case (let failure?, nil):
                Issue.record("\(suiteCase.id) (\(suiteCase.title)): \(failure)")
            case (_?, _?):
                deviations += 1
            }
        }
        print("yaml-test-suite: \(passed) passed, \(deviations) known libyaml deviations")
        #expect(passed + deviations == cases.count)
        #expect(KnownLibyamlDeviations.reasons.keys.allSatisfy { id in cases.contains { $0.id == id } },
                "every listed deviation names a case of the suite")
    }
}

/// One case (or sub-case) of the suite.
struct SuiteCase {
    let id: String
    let directory: URL
    let title: String

    var isErrorCase: Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent("error").path) }

    static func suiteDirectory() -> URL? {
        var candidates: [URL] = []
        if let shared = ProcessInfo.processInfo.environment["HLD_SHARED_DIR"] {
            candidates.append(URL(fileURLWithPath: shared).appendingPathComponent("testdata/yaml-test-suite"))
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(repository.deletingLastPathComponent().appendingPathComponent("shared/testdata/yaml-test-suite"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    static func all(in root: URL) throws -> [SuiteCase] {
        let fm = FileManager.default
        var cases: [SuiteCase] = []
        for id in try fm.contentsOfDirectory(atPath: root.path).sorted() {
            let dir = root.appendingPathComponent(id)
            let title = (try? String(contentsOf: dir.appendingPathComponent("==="), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if fm.fileExists(atPath: dir.appendingPathComponent("in.yaml").path) {
                cases.append(SuiteCase(id: id, directory: dir, title: title ?? ""))
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for sub in try fm.contentsOfDirectory(atPath: dir.path).sorted() {
                let subDir = dir.appendingPathComponent(sub)
                guard fm.fileExists(atPath: subDir.appendingPathComponent("in.yaml").path) else { continue }
                let subTitle = (try? String(contentsOf: subDir.appendingPathComponent("==="), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                cases.append(SuiteCase(id: "\(id)/\(sub)", directory: subDir, title: subTitle ?? title ?? ""))
            }
        }
        return cases
    }

    func bytes(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: directory.appendingPathComponent(name).path).map { [UInt8]($0) }
    }

    /// Nil when the case passes, else what went wrong.
    func check() -> String? {
        guard let input = bytes("in.yaml") else { return "no in.yaml" }
        if isErrorCase {
            do {
                let documents = try DocumentReader(bytes: input, file: "in.yaml").readAll()
                return "invalid input accepted (\(documents.count) documents)"
            } catch {
                return nil
            }
        }

        // 1. Events match test.event.
        let expected = String(decoding: bytes("test.event") ?? [], as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let actual: [String]
        do {
            actual = try EventParser(bytes: input, file: "in.yaml").allEvents().map(\.testSuiteLine)
        } catch {
            return "valid input rejected by the parser: \(error.headline)"
        }
        if actual != expected {
            let index = (0..<min(actual.count, expected.count)).first { actual[$0] != expected[$0] } ?? min(actual.count, expected.count)
            let got = index < actual.count ? actual[index] : "<end>"
            let want = index < expected.count ? expected[index] : "<end>"
            return "event \(index + 1) is \(got.debugDescription), expected \(want.debugDescription)"
        }

        // 2. The tree; parse → emit → parse gives an equal tree.
        let documents: [Node]
        do {
            documents = try DocumentReader(bytes: input, file: "in.yaml").readAll()
        } catch {
            if let expected = DeliberateRejections.reasons[id] {
                return error.kind == expected.kind ? nil : "expected a \(expected.kind) error (\(expected.reason)), got \(error.headline)"
            }
            return "valid input rejected while building the tree: \(error.headline)"
        }
        if let expected = DeliberateRejections.reasons[id] {
            return "expected a \(expected.kind) error (\(expected.reason)), but the tree was built"
        }
        let emitted: String
        do {
            emitted = try Node.yaml(documents: documents, options: EmitOptions(explicitDocumentStart: true))
        } catch {
            return "emitting failed: \(error)"
        }
        do {
            let reparsed = try Node.documents(in: emitted, file: "emitted")
            if reparsed != documents {
                return "round trip changed the tree; emitted:\n\(emitted)"
            }
        } catch {
            return "emitted text does not parse: \(error)\n\(emitted)"
        }

        // 3. The tree equals in.json, where the suite has one.
        if let json = bytes("in.json") {
            let values: [Node]
            do {
                values = try JSONStream.values(in: json).map { try Node.document(in: $0, file: "in.json") }
            } catch {
                return "in.json does not parse: \(error)"
            }
            let ours = documents.map(JSONValue.init(core12:))
            let theirs = values.map(JSONValue.init(core12:))
            if ours != theirs {
                return "tree differs from in.json: \(ours) vs \(theirs)"
            }
        }
        return nil
    }
}

extension Event {
    /// The event in the suite's `test.event` notation.
    var testSuiteLine: String {
        func properties(_ anchor: String?, _ tag: String?) -> String {
            var text = ""
            if let anchor { text += " &\(anchor)" }
            if let tag { text += " <\(tag)>" }
            return text
        }
        switch kind {
        case .streamStart: return "+STR"
        case .streamEnd: return "-STR"
        case .documentStart(let explicit): return explicit ? "+DOC ---" : "+DOC"
        case .documentEnd(let explicit): return explicit ? "-DOC ..." : "-DOC"
        case .sequenceStart(let flow): return "+SEQ" + (flow ? " []" : "") + properties(anchor, tag)
        case .sequenceEnd: return "-SEQ"
        case .mappingStart(let flow): return "+MAP" + (flow ? " {}" : "") + properties(anchor, tag)
        case .mappingEnd: return "-MAP"
        case .alias(let name): return "=ALI *\(name)"
        case .scalar(let text, let style):
            let indicator: String
            switch style {
            case .plain: indicator = ":"
            case .singleQuoted: indicator = "'"
            case .doubleQuoted: indicator = "\""
            case .literal: indicator = "|"
            case .folded: indicator = ">"
            }
            var escaped = ""
            for char in text.unicodeScalars {
                switch char {
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\t": escaped += "\\t"
                case "\r": escaped += "\\r"
                case "\u{8}": escaped += "\\b"
                default: escaped.unicodeScalars.append(char)
                }
            }
            return "=VAL" + properties(anchor, tag) + " " + indicator + escaped
        }
    }
}

/// A JSON-like value for comparing a YAML tree with the suite's `in.json`, typing plain
/// scalars by the YAML 1.2 core schema (the suite's schema).
indirect enum JSONValue: Equatable, CustomStringConvertible {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String], [JSONValue])

    /// JSON objects are unordered (the suite's in.json does not always keep YAML's order).
    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let ak, let av), .object(let bk, let bv)):
            guard ak.count == bk.count else { return false }
            let b = Dictionary(zip(bk, bv), uniquingKeysWith: { first, _ in first })
            return zip(ak, av).allSatisfy { key, value in b[key] == value }
        default: return false
        }
    }

    init(core12 node: Node) {
        switch node.content {
        case .sequence(let items):
            self = .array(items.map(JSONValue.init(core12:)))
        case .mapping(let pairs):
            self = .object(pairs.map { pair in
                if case .scalar(let text, _) = pair.key.content { return text }
                return "\(JSONValue(core12: pair.key))"
            }, pairs.map { JSONValue(core12: $0.value) })
        case .scalar(let text, _):
            switch node.scalarType(.core12) {
            case .null?: self = .null
            case .bool?: self = .bool(text.lowercased() == "true")
            case .int?, .float?: self = JSONValue.number(text).map { $0 } ?? .string(text)
            default: self = .string(text)
            }
        }
    }

    private static func number(_ text: String) -> JSONValue? {
        var body = Substring(text)
        var sign = 1.0
        if body.first == "-" { sign = -1; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        if body.hasPrefix("0x"), let v = Int(body.dropFirst(2), radix: 16) { return .number(sign * Double(v)) }
        if body.hasPrefix("0o"), let v = Int(body.dropFirst(2), radix: 8) { return .number(sign * Double(v)) }
        if body.lowercased() == ".inf" { return .number(sign * .infinity) }
        if body.lowercased() == ".nan" { return .number(.nan) }
        return Double(body).map { .number(sign * $0) }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return "\(n)"
        case .string(let s): return s.debugDescription
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .object(let keys, let values):
            return "{" + zip(keys, values).map { "\($0.debugDescription): \($1)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Splits the suite's `in.json` (one JSON text per YAML document, one after another) into
/// its texts.
enum JSONStream {
    static func values(in bytes: [UInt8]) -> [String] {
        var values: [String] = []
        var start: Int?
        var depth = 0
        var inString = false
        var escaped = false
        var i = 0
        func finish(_ end: Int) {
            if let s = start { values.append(String(decoding: bytes[s..<end], as: UTF8.self)) }
            start = nil
        }
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 {
                    inString = false
                    if depth == 0 { finish(i + 1) }
                }
            } else if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                if depth == 0 { finish(i) }
            } else {
                if start == nil { start = i }
                switch c {
                case 0x22: inString = true
                case 0x5B, 0x7B: depth += 1
                case 0x5D, 0x7D:
                    depth -= 1
                    if depth == 0 { finish(i + 1) }
                default: break
                }
            }
            i += 1
        }
        finish(bytes.count)
        return values
    }
}
