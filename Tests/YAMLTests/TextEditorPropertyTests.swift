import Testing
import TestSupport
import YAML

/// Random edits through the text editor, on generated commented files: the file parses
/// to the tree the same edit makes in memory, and every line that belongs to something
/// the edit does not touch is byte-identical and in its place.
@Suite struct TextEditorPropertyTests {
    /// A generated file: its text, and for each line the path of what the line belongs to.
    struct Source {
        var lines: [(text: String, owner: [PathSegment])] = []
        var text: String { lines.map { $0.text + "\n" }.joined() }
    }

    struct Generator {
        var random: SeededGenerator
        var counter = 0

        init(seed: UInt64) { random = SeededGenerator(seed: seed) }

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

        mutating func scalar() -> (Node, String) {
            counter += 1
            switch int(0...4) {
            case 0: let n = int(0...999); return (.plain(String(n)), String(n))
            case 1: return (.plain("word\(counter)"), "word\(counter)")
            case 2: return (.string("quoted \(counter)"), "\"quoted \(counter)\"")
            case 3: return (.plain("true"), "true")
            default: return (.string("it's \(counter)"), "'it''s \(counter)'")
            }
        }

        /// A flow value on one line.
        mutating func flow(depth: Int) -> (Node, String) {
            if depth > 1 || int(0...2) == 0 { return scalar() }
            if int(0...1) == 0 {
                let items = (0..<int(0...3)).map { _ in flow(depth: depth + 1) }
                return (.sequence(items.map(\.0)), "[" + items.map(\.1).joined(separator: ", ") + "]")
            }
            let entries = (0..<int(0...3)).map { index in (key: "f\(index)", value: flow(depth: depth + 1)) }
            return (Node(.mapping(entries.map { Node.Pair(key: .string($0.key), value: $0.value.0) })),
                    "{" + entries.map { "\($0.key): \($0.value.1)" }.joined(separator: ", ") + "}")
        }

        /// A block mapping at `indent`, appended to `source`.
        mutating func mapping(indent: String, owner: [PathSegment], depth: Int, into source: inout Source, firstLinePrefix: String? = nil) -> Node {
            var pairs: [Node.Pair] = []
            for index in 0..<int(1...4) {
                let key = "k\(index)"
                let path = owner + [.key(key)]
                let lead = index == 0 && firstLinePrefix != nil ? firstLinePrefix! : indent
                if int(0...3) == 0 { source.lines.append((indent + "# about \(key)", path)) }
                let value: Node
                switch depth < 3 ? int(0...5) : 0 {
                case 0, 1:
                    let (node, text) = scalar()
                    source.lines.append((lead + "\(key): \(text)   # L\(source.lines.count)", path))
                    value = node
                case 2:
                    source.lines.append((lead + "\(key):", path))
                    value = mapping(indent: indent + "  ", owner: path, depth: depth + 1, into: &source)
                case 3:
                    source.lines.append((lead + "\(key):  # a list", path))
                    var items: [Node] = []
                    for item in 0..<int(1...3) {
                        if depth < 2 && int(0...2) == 0 {
                            items.append(mapping(indent: indent + "  ", owner: path + [.index(item)], depth: depth + 1, into: &source, firstLinePrefix: indent + "- "))
                        } else {
                            let (node, text) = scalar()
                            source.lines.append((indent + "- \(text)  # L\(source.lines.count)", path + [.index(item)]))
                            items.append(node)
                        }
                    }
                    value = .sequence(items)
                case 4:
                    let (node, text) = flow(depth: 0)
                    source.lines.append((lead + "\(key): \(text)", path))
                    value = node
                default:
                    source.lines.append((lead + "\(key):", path))
                    value = .null
                }
                if int(0...4) == 0 { source.lines.append(("", path)) }
                pairs.append(Node.Pair(key: .string(key), value: value))
            }
            return Node(.mapping(pairs))
        }
    }

    enum Edit: CustomStringConvertible {
        case set([PathSegment], Node)
        case remove([PathSegment])
        case insert([PathSegment], Node, Int?)

        var path: [PathSegment] {
            switch self {
            case .set(let path, _), .remove(let path), .insert(let path, _, _): return path
            }
        }

        var description: String {
            switch self {
            case .set(let path, let value): return "set \(path.dotted) = \((try? value.yaml()) ?? "?")"
            case .remove(let path): return "remove \(path.dotted)"
            case .insert(let path, let value, let index): return "insert \((try? value.yaml()) ?? "?") into \(path.dotted) at \(index.map(String.init) ?? "end")"
            }
        }
    }

    /// Every path in the tree, with its value.
    func paths(_ node: Node, _ prefix: [PathSegment] = []) -> [([PathSegment], Node)] {
        var result = [(prefix, node)]
        switch node.content {
        case .mapping(let pairs):
            for pair in pairs { result += paths(pair.value, prefix + [.key(pair.key.scalarText ?? "")]) }
        case .sequence(let items):
            for (index, item) in items.enumerated() { result += paths(item, prefix + [.index(index)]) }
        case .scalar:
            break
        }
        return result
    }

    /// The same edit on the tree in memory.
    func apply(_ edit: Edit, to node: Node) -> Node {
        func update(_ node: Node, _ path: ArraySlice<PathSegment>, _ change: (Node?) -> Node?) -> Node? {
            guard let first = path.first else { return change(node) }
            switch (first, node.content) {
            case (.key(let key), .mapping(var pairs)):
                if let index = pairs.firstIndex(where: { $0.key.scalarText == key }) {
                    if let value = update(pairs[index].value, path.dropFirst(), change) { pairs[index].value = value } else { pairs.remove(at: index) }
                } else if let value = update(.null, path.dropFirst(), change) {
                    pairs.append(Node.Pair(key: .string(key), value: value))
                }
                return Node(.mapping(pairs))
            case (.key, .scalar) where node.isNull:
                return update(Node(.mapping([])), path, change)
            case (.index(let index), .sequence(var items)):
                if let value = update(items[index], path.dropFirst(), change) { items[index] = value } else { items.remove(at: index) }
                return Node(.sequence(items))
            default:
                return node
            }
        }
        switch edit {
        case .set(let path, let value):
            return update(node, path[...]) { _ in value } ?? node
        case .remove(let path):
            return update(node, path[...]) { _ in nil } ?? node
        case .insert(let path, let value, let index):
            return update(node, path[...]) { list in
                guard case .sequence(var items)? = list?.content else { return .sequence([value]) }
                items.insert(value, at: index ?? items.count)
                return .sequence(items)
            } ?? node
        }
    }

    /// Whether a line owned by `owner` may change when editing at `path`: it belongs to
    /// the edited value, or to a collection on the way to it.
    func mayChange(_ owner: [PathSegment], _ path: [PathSegment]) -> Bool {
        owner.starts(with: path) || path.starts(with: owner)
    }

    @Test(arguments: 0..<6)
    func randomEditsMatchTheTreeEditedInMemory(batch: Int) throws {
        var failures = 0
        for index in 0..<100 where failures < 3 {
            let seed = UInt64(batch * 1000 + index)
            var generator = Generator(seed: seed)
            var source = Source()
            source.lines.append(("# generated, seed \(seed)", []))
            var tree = generator.mapping(indent: "", owner: [], depth: 0, into: &source)
            var editor = try TextEditor(text: source.text, file: "seed-\(seed).yaml")
            #expect(try Node.document(in: source.text) == tree, "seed \(seed): the generator wrote what it meant")
            for _ in 0..<3 {
                let before = editor.text
                let all = paths(tree).filter { !$0.0.isEmpty }
                guard !all.isEmpty else { break }
                let (target, current) = all[generator.int(0...(all.count - 1))]
                let (value, _) = generator.scalar()
                let edit: Edit
                switch generator.int(0...5) {
                case 0: edit = .set(target, value)
                case 1: edit = .set(target + (current.pairs != nil || current.isNull ? [.key("new\(generator.counter)")] : []), value)
                case 2 where current.pairs != nil || current.isNull:
                    edit = .set(target + [.key("n\(generator.counter)"), .key("deep")], .mapping([("x", value), ("list", .sequence([value, .plain("2")]))]))
                case 3 where current.sequence != nil:
                    let count = current.sequence!.count
                    edit = .insert(target, value, generator.int(0...1) == 0 ? nil : generator.int(0...count))
                default: edit = .remove(target)
                }
                do {
                    switch edit {
                    case .set(let path, let value): try editor.set(path, to: value)
                    case .remove(let path): try editor.remove(path)
                    case .insert(let path, let value, let at): try editor.insert(value, into: path, at: at)
                    }
                } catch {
                    Issue.record("seed \(seed): \(edit) failed: \(error)\n\(before)")
                    failures += 1
                    break
                }
                let expected = apply(edit, to: tree)
                let parsed = try Node.document(in: editor.text)
                if parsed != expected {
                    Issue.record("seed \(seed): \(edit) gave\n\(editor.text)\nexpected\n\((try? expected.yaml()) ?? "")\nfrom\n\(before)")
                    failures += 1
                    break
                }
                // Lines of what the edit does not touch: all there, unchanged, in order.
                let kept = source.lines.filter { !mayChange($0.owner, edit.path) && $0.text.contains("# L") }.map(\.text)
                let after = editor.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                var position = 0
                for line in kept {
                    guard let found = after[position...].firstIndex(of: line) else {
                        Issue.record("seed \(seed): \(edit) changed or moved an untouched line: \(line)\n\(editor.text)\nfrom\n\(before)")
                        failures += 1
                        break
                    }
                    position = found + 1
                }
                tree = expected
                // Further edits start from this text; ownership is only known for the first.
                source.lines = editor.text.split(separator: "\n").map { (String($0), []) }
            }
        }
    }
}
