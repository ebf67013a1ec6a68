import Testing
import TestSupport
import YAML

/// emit → parse is the identity on values and types, over generated trees.
@Suite struct RoundTripPropertyTests {
    @Test(arguments: 0..<8)
    func generatedTreesSurviveEmitAndParse(batch: Int) throws {
        for index in 0..<60 {
            let seed = UInt64(batch * 1000 + index)
            var generator = TreeGenerator(seed: seed)
            let documents = (0..<generator.int(1...3)).map { _ in generator.node(depth: 0) }
            let text = try Node.yaml(documents: documents, options: EmitOptions(explicitDocumentStart: true))
            let reparsed: [Node]
            do {
                reparsed = try Node.documents(in: text, file: "seed-\(seed)")
            } catch {
                Issue.record("seed \(seed): emitted text does not parse: \(error)\n\(text)")
                continue
            }
            guard reparsed.count == documents.count else {
                Issue.record("seed \(seed): \(documents.count) documents became \(reparsed.count)\n\(text)")
                continue
            }
            for (original, back) in zip(documents, reparsed) {
                if let difference = firstDifference(original, back) {
                    Issue.record("seed \(seed): \(difference)\n\(text)")
                }
            }
        }
    }

    /// Walks both trees and names the first scalar whose text or type changed.
    func firstDifference(_ a: Node, _ b: Node, path: String = "$") -> String? {
        switch (a.content, b.content) {
        case (.scalar(let x, _), .scalar(let y, _)):
            for schema in [Schema.yaml11, .core12] where a.scalarType(schema) != b.scalarType(schema) {
                return "\(path): \(x.debugDescription) was \(String(describing: a.scalarType(schema))) and came back \(String(describing: b.scalarType(schema))) under \(schema)"
            }
            if a != b { return "\(path): \(x.debugDescription) came back as \(y.debugDescription)" }
            return nil
        case (.sequence(let xs), .sequence(let ys)):
            guard xs.count == ys.count else { return "\(path): \(xs.count) items became \(ys.count)" }
            for (i, (x, y)) in zip(xs, ys).enumerated() {
                if let d = firstDifference(x, y, path: "\(path)[\(i)]") { return d }
            }
            return a == b ? nil : "\(path): sequence tag changed"
        case (.mapping(let xs), .mapping(let ys)):
            guard xs.count == ys.count else { return "\(path): \(xs.count) entries became \(ys.count)" }
            for (x, y) in zip(xs, ys) {
                let key = x.key.scalarText ?? "?"
                if let d = firstDifference(x.key, y.key, path: "\(path).key(\(key))") { return d }
                if let d = firstDifference(x.value, y.value, path: "\(path).\(key)") { return d }
            }
            return a == b ? nil : "\(path): mapping tag changed"
        default:
            return "\(path): node kind changed"
        }
    }
}

/// A seeded generator of YAML trees rich in the scalars that trip emitters up.
struct TreeGenerator {
    var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    static let ambiguous = [
        "yes", "no", "on", "off", "y", "n", "Y", "N", "true", "False", "YES", "1.10", "0755", "1e3", "~",
        "null", "Null", "", "2001-12-14", "2001-12-14T21:59:43.10-05:00", ".inf", "-.Inf", ".NaN", "1_000",
        "1:20", "0x1F", "0o17", "0b101", "08", "+inf", "0x1p3", "-0", "123", "3.14", "<<", "=",
    ]
    static let awkward = [
        "- dash", "? question", ": colon", "key: value", "a #comment", "#hash", "&anchor", "*alias", "!tag",
        "|pipe", ">fold", "'single'", "\"double\"", "%percent", "@at", "`tick", "[flow]", "{flow}", "a,b",
        " leading", "trailing ", "\ttab", "tab\tinside", "back\\slash", "bell\u{7}", "nul\u{0}byte",
        "del\u{7F}", "\u{FEFF}bom", "nel\u{85}x", "ls\u{2028}x", "ps\u{2029}x", "cr\rlf", "crlf\r\nx", "---", "...",
        "--- doc", "a: b: c", "http://example.com/a?b=c#d", "-", "?", ":", "-1-", "é", "日本語", "🚀 rocket",
        "zero\u{200D}width", "עברית", "mañana", "\u{1F600}",
    ]
    static let words = ["nginx", "app", "metadata", "spec", "v1", "release-1", "monitoring", "kube-system", "a.b/c"]
    static let plainTyped = ["0", "42", "-17", "3.5", "1e3", "true", "false", "null", "~", "", ".inf", "0x10", "yes", "off"]

    mutating func string() -> String {
        switch int(0...9) {
        case 0...2: return pick(Self.ambiguous)
        case 3...4: return pick(Self.awkward)
        case 5: return (0..<int(1...4)).map { _ in pick(Self.awkward + Self.words) }.joined(separator: pick([" ", "\n", "", "\n\n", " \n"]))
        case 6: return String(repeating: pick(Self.words) + " ", count: int(50...400))  // long, trailing space
        case 7: return (0..<int(2...6)).map { _ in pick(Self.words + Self.ambiguous) }.joined(separator: "\n") + pick(["", "\n", "\n\n"])
        case 8: return "  " + pick(Self.words) + "\n" + pick(Self.words)  // leading spaces in a block
        default: return pick(Self.words)
        }
    }

    mutating func scalar() -> Node {
        switch int(0...4) {
        case 0: return .plain(pick(Self.plainTyped))
        case 1: return .plain(pick(Self.words))
        default: return .string(string())
        }
    }

    mutating func node(depth: Int) -> Node {
        if depth >= 5 || int(0...9) < 4 { return scalar() }
        if int(0...1) == 0 {
            var items = (0..<int(0...5)).map { _ in node(depth: depth + 1) }
            if int(0...9) == 0 { items = [] }
            return Node(.sequence(items), tag: int(0...15) == 0 ? "!replace" : nil)
        }
        var pairs: [Node.Pair] = []
        for _ in 0..<int(0...6) {
            let key: Node = int(0...3) == 0 ? .plain(pick(Self.plainTyped + Self.words)) : .string(string())
            guard !pairs.contains(where: { $0.key == key }) else { continue }
            pairs.append(Node.Pair(key: key, value: node(depth: depth + 1)))
        }
        return Node(.mapping(pairs))
    }
}
