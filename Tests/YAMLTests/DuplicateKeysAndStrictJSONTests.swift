import Testing
@testable import YAML

@Suite struct DuplicateKeyPolicyTests {
    @Test func rejectIsTheDefault() {
        #expect(throws: YAMLError.self) { try Node.documents(in: "a: 1\na: 2\n") }
    }

    @Test func lastWinsKeepsTheFirstPositionAndRecordsEveryRepeat() throws {
        let text = "---\nx: 0\n---\nspec:\n  items:\n  - a: 1\n    b: 2\n    a: 3\n    a: 4\n  k: v\n  k: w\n"
        let reader = DocumentReader(text: text, duplicateKeys: .lastWins)
        let documents = try reader.readAll()
        let spec = try #require(documents.last?["spec"])
        #expect(spec.pairs?.compactMap(\.key.scalarText) == ["items", "k"])
        #expect(spec["k"]?.scalarText == "w")
        let item = try #require(spec["items"]?.sequence?.first)
        #expect(item.pairs?.compactMap(\.key.scalarText) == ["a", "b"])
        #expect(item["a"]?.scalarText == "4")
        // Lines are the stream's, not the document's.
        #expect(reader.duplicates == [
            DuplicateKey(key: "a", path: ["spec", "items", "[0]"], first: Mark(line: 6, column: 5), second: Mark(line: 8, column: 5)),
            DuplicateKey(key: "a", path: ["spec", "items", "[0]"], first: Mark(line: 6, column: 5), second: Mark(line: 9, column: 5)),
            DuplicateKey(key: "k", path: ["spec"], first: Mark(line: 10, column: 3), second: Mark(line: 11, column: 3)),
        ])
        #expect(reader.duplicates.first?.dottedPath == "spec.items[0].a")
    }

    @Test func keysThatOnlyLookAlikeAreNotDuplicates() throws {
        // `1` (an int) and `"1"` (a string) are different keys; `~` and `null` are the same.
        let reader = DocumentReader(text: "1: a\n\"1\": b\n~: c\nnull: d\n", duplicateKeys: .lastWins)
        let node = try #require(try reader.next())
        #expect(node.pairs?.count == 3)
        #expect(reader.duplicates.map(\.key) == ["null"])
    }

    @Test func mergeKeysStillYieldToTheMappingsOwnKeys() throws {
        let reader = DocumentReader(text: "base: &b {a: 1, c: 1}\nm:\n  <<: *b\n  a: 2\n  a: 3\n", duplicateKeys: .lastWins)
        let node = try #require(try reader.next())
        #expect(node["m"]?["a"]?.scalarText == "3")
        #expect(node["m"]?["c"]?.scalarText == "1")
        #expect(reader.duplicates.count == 1)
    }

    @Test func documentSpans() throws {
        let reader = DocumentReader(text: "a: 1\n--- # two\nb: 2\n...\n---\n")
        let first = try #require(try reader.nextDocument())
        let second = try #require(try reader.nextDocument())
        let third = try #require(try reader.nextDocument())
        #expect(try reader.nextDocument() == nil)
        #expect((first.start.line, second.start.line, second.node.mark.line, second.end.line) == (1, 2, 3, 4))
        #expect(third.node.isNull)
    }
}

@Suite struct StrictJSONTests {
    @Test(arguments: [
        ("{\"a\": [1, 2,]}", "1:13: invalid JSON: a trailing comma before ] is not allowed in JSON"),
        ("{\"a\": 1,\n}", "2:1: invalid JSON: a trailing comma before } is not allowed in JSON"),
        ("{\"a\": 1} // note", "1:10: invalid JSON: comments are not allowed in JSON"),
        ("# c\n{}", "1:1: invalid JSON: comments are not allowed in JSON"),
        ("{'a': 1}", "1:2: invalid JSON: strings in JSON use double quotes, not single quotes"),
        ("{a: 1}", "1:2: invalid JSON: found 'a' where a key in double quotes should be"),
        ("{\"a\": 01}", "1:8: invalid JSON: numbers in JSON have no leading zeros"),
        ("{\"a\": yes}", "1:7: invalid JSON: found 'y' where a value should be"),
        ("{\"a\": tru}", "1:7: invalid JSON: found 't' where a value (true, false, null, a number, a string, an object or an array) should be"),
        ("{\"a\": 1}\n{\"b\": 2}", "2:1: invalid JSON: found '{' where the end of the text (a JSON file holds one value) should be"),
        ("{\"a\": \"x\ny\"}", "1:9: invalid JSON: a string runs past the end of the line (close it with \")"),
        ("{\"a\": \"\\q\"}", "1:9: invalid JSON: invalid escape in a string (JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\u with four hex digits)"),
        ("{\"a\" 1}", "1:6: invalid JSON: found '1' where ':' after the key should be"),
        ("[1 2]", "1:4: invalid JSON: found '2' where ',' or ']' should be"),
        ("{\"a\": [1}", "1:9: invalid JSON: found '}' where ',' or ']' should be"),
        ("{\"a\": 1", "1:8: invalid JSON: the text ends where ',' or '}' should be"),
        ("   \n", "2:1: invalid JSON: the file is empty; a JSON file holds one value (write {} for an empty object)"),
    ])
    func rejected(text: String, message: String) {
        #expect(throws: YAMLError.self) { try Node.documents(in: text, format: .json) }
        do {
            _ = try Node.documents(in: text, file: "f.json", format: .json)
        } catch {
            #expect(error.headline == "f.json:" + message)
        }
    }

    @Test(arguments: [
        "{}", "[]", "0", "-0.5e+3", "\"x\"", "null", " {\"a\": [true, false, null, 1.5, \"\\u00e9\\ud83d\\ude80\\n\"], \"b\": {}}\n",
        "\u{FEFF}{\"bom\": 1}", "{\n\t\"tab\": 1\n}",
    ])
    func accepted(text: String) throws {
        #expect(try Node.documents(in: text, format: .json).count == 1)
    }

    /// Found by the yaml-roundtrip fuzz target: the surrogate-pair rewrite ran on UTF-16
    /// bytes and matched inside characters (Fuzz/regressions/yaml-roundtrip/utf16-json-surrogate-rewrite).
    @Test func utf16JSONReadsAsItsText() throws {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in #"["\u00e9 x", "y"]"#.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let json = try DocumentReader(bytes: bytes, format: .json).readAll()
        #expect(json == [.sequence([.string("é x"), .string("y")])])
        #expect(try DocumentReader(bytes: bytes).readAll() == json)
        let raw: [UInt8] = [0xFF, 0xFE, 0x5B, 0x00, 0x22, 0x00, 0x5C, 0x00, 0x75, 0x00, 0x64, 0x00, 0x38, 0x00, 0x33, 0x00, 0x64, 0x00,
                            0x5C, 0x00, 0x75, 0x00, 0x64, 0x00, 0x65, 0x00, 0x30, 0x00, 0x30, 0x00, 0x22, 0x00, 0x5D, 0x00, 0x0A, 0x00]
        let asJSON = try? DocumentReader(bytes: raw, format: .json).readAll()
        let asYAML = try? DocumentReader(bytes: raw).readAll()
        #expect(asJSON == asYAML)
    }

    @Test func deepNestingIsCheckedWithoutRecursion() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(StrictJSON.check(Array(deep.utf8), file: nil) == nil)
    }
}
