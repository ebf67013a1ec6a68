import Testing
import YAML

/// Hostile or broken input: each a clear, located error or a correct result; never a crash
/// or a hang (the time limit turns a hang into a failure instead of a stuck CI run).
@Suite(.timeLimit(.minutes(10))) struct BadInputTests {
    func parseError(_ text: String, file: String = "bad.yaml", limits: ParseLimits = .default) -> YAMLError? {
        do {
            _ = try Node.documents(in: text, file: file, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func parseError(bytes: [UInt8]) -> YAMLError? {
        do {
            _ = try DocumentReader(bytes: bytes, file: "bad.yaml").readAll()
            return nil
        } catch {
            return error
        }
    }

    @Test func truncatedFlowSequence() throws {
        let error = try #require(parseError("a: [1, 2"))
        #expect(error.kind == .syntax)
        #expect(error.description == "bad.yaml:2:1: did not find expected ',' or ']' at the end of the input (while parsing a flow sequence at 1:4)")
    }

    @Test func truncatedQuotedScalar() throws {
        let error = try #require(parseError("kind: Service\nname: \"web"))
        #expect(error.description == """
            bad.yaml:2:11: found unexpected end of stream (while scanning a quoted scalar at 2:7)
            name: "web
                      ^
            """)
    }

    @Test func truncatedSecondDocument() throws {
        let error = try #require(parseError("a: 1\n---\nb: {c: [1\n"))
        #expect(error.kind == .syntax)
        #expect(error.mark?.line == 4)
        #expect(error.headline.hasPrefix("bad.yaml:4:1: did not find expected ',' or ']' at the end of the input"))
    }

    @Test func tabInIndentation() throws {
        let error = try #require(parseError("spec:\n\treplicas: 3\n"))
        #expect(error.description == """
            bad.yaml:2:1: found a tab character where YAML allows only spaces (indent with spaces) (while scanning for the next token at 2:1)
            \treplicas: 3
            ^
            """)
    }

    @Test func invalidUTF8() throws {
        let error = try #require(parseError(bytes: Array("name: caf".utf8) + [0xC3, 0x28] + Array("\n".utf8)))
        #expect(error.kind == .encoding)
        #expect(error.headline == "bad.yaml:1:11: invalid text encoding: invalid trailing UTF-8 octet (byte 0x28)")
        let lone = try #require(parseError(bytes: Array("a: 1\nb: x".utf8) + [0xFF]))
        #expect(lone.headline == "bad.yaml:2:5: invalid text encoding: invalid leading UTF-8 octet (byte 0xFF)")
    }

    @Test func oneMegabyteSingleLineScalar() throws {
        let value = String(repeating: "0123456789abcdef", count: 65_536)  // 1 MiB
        let node = try Node.document(in: "data: \(value)\nquoted: \"\(value)\"\n")
        #expect(node["data"]?.scalarText == value)
        #expect(node["quoted"]?.scalarText == value)
        let emitted = try node.yaml()
        #expect(emitted == "data: \(value)\nquoted: \(value)\n")
        #expect(try Node.document(in: emitted) == node)
    }

    @Test func tenThousandDeepNestingIsRefused() throws {
        let flow = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(parseError(flow))
        #expect(error.kind == .depthLimit)
        #expect(error.headline == "bad.yaml:1:1001: collections nested deeper than 1000 levels")

        var block = ""
        for depth in 0..<10_000 { block += String(repeating: " ", count: depth) + "k:\n" }
        let blockError = try #require(parseError(block))
        #expect(blockError.kind == .depthLimit)
        #expect(blockError.mark?.line == 1001)
    }

    @Test func nestingUpToTheLimitWorks() throws {
        let depth = ParseLimits.default.maxDepth
        let flow = String(repeating: "[", count: depth) + "x" + String(repeating: "]", count: depth)
        let node = try Node.document(in: flow)
        var innermost = node
        var levels = 0
        while let items = innermost.sequence, let first = items.first {
            innermost = first
            levels += 1
        }
        #expect(levels == depth)
        #expect(innermost.scalarText == "x")
        #expect(try Node.document(in: node.yaml()) == node)
    }

    @Test func aliasBombIsRefused() throws {
        let bomb = """
            a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
            b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
            d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
            f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
            g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
            h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
            i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
            """
        let error = try #require(parseError(bomb))
        #expect(error.kind == .aliasExpansionLimit)
        #expect(error.headline.hasPrefix("bad.yaml:7:"))
        #expect(error.headline.hasSuffix("aliases expand to more than 1000000 nodes in this document (an alias bomb?)"))
    }

    @Test func modestAliasesExpand() throws {
        let node = try Node.document(in: "base: &b {cpu: 1, mem: 2}\nx: *b\ny: [*b, *b]\n")
        #expect(node["x"] == node["base"])
        #expect(node["y"]?.sequence?.count == 2)
        #expect(node["x"]?.mark == Mark(line: 2, column: 4))
    }

    @Test func duplicateKeysNameBothLocations() throws {
        let error = try #require(parseError("metadata:\n  name: a\n  labels: {}\n  name: b\n"))
        #expect(error.kind == .duplicateKey)
        #expect(error.description == """
            bad.yaml:4:3: duplicate key "name"; it was first defined at 2:3
              name: b
              ^
            """)
        // Plain and quoted spellings of one string are one key.
        #expect(parseError("a: 1\n\"a\": 2\n")?.kind == .duplicateKey)
        // A big mapping takes the hashed path.
        let big = (0..<50).map { "k\($0): \($0)" }.joined(separator: "\n") + "\nk7: again\n"
        #expect(parseError(big)?.headline == "bad.yaml:51:1: duplicate key \"k7\"; it was first defined at 8:1")
        // Different types are different keys: 1 (int) and "1" (string).
        #expect(parseError("1: int\n\"1\": string\n") == nil)
    }

    @Test func undefinedAlias() throws {
        let error = try #require(parseError("a: *missing\n"))
        #expect(error.headline == "bad.yaml:1:4: undefined alias *missing")
    }

    @Test func mergeKeys() throws {
        let node = try Node.document(in: """
            base: &base {a: 1, b: 2}
            other: &other {b: 3, c: 4}
            one: {<<: *base, b: 9}
            many:
              <<: [*base, *other]
              d: 5
            """)
        #expect(try node["one"]?.yaml() == "a: 1\nb: 9\n")
        #expect(try node["many"]?.yaml() == "a: 1\nb: 2\nc: 4\nd: 5\n")
        let error = try #require(parseError("x: &x 1\ny:\n  <<: *x\n"))
        #expect(error.headline == "bad.yaml:3:7: the value of a merge key (<<) must be a mapping or a list of mappings")
        // A quoted "<<" is an ordinary key.
        #expect(try Node.document(in: "\"<<\": {a: 1}\n").keys == ["<<"])
    }

    @Test func singleDocumentAPI() throws {
        let error = try #require(throws: YAMLError.self) { try Node.document(in: "a: 1\n---\nb: 2\n", file: "c.yaml") }
        #expect(error.headline == "c.yaml:3:1: expected a single document, found another one here")
        #expect(try Node.document(in: "").isNull)
        #expect(try Node.document(in: "# only a comment\n").isNull)
    }

    @Test func unreadableFile() throws {
        let error = try #require(throws: YAMLError.self) { try Node.document(contentsOf: "/nonexistent/component.yaml") }
        #expect(error.description == "/nonexistent/component.yaml: cannot read the file")
    }
}

@Suite struct JSONInputTests {
    @Test func jsonReadsIntoTheSameTreeInOrder() throws {
        let json = """
            {"name": "cloud-native", "subcomponents": [
              {"name": "zeta", "source": "https://github.com/x/y", "method": "git", "version": "1.10"},
              {"name": "alpha", "generator": "static", "path": "./manifests", "count": 3, "on": true, "nothing": null}
            ]}
            """
        let node = try Node.document(in: json, file: "component.json")
        #expect(node.keys == ["name", "subcomponents"])
        let subs = try #require(node["subcomponents"]?.sequence)
        #expect(subs.map { $0["name"]?.string() } == ["zeta", "alpha"])
        #expect(subs[0].keys == ["name", "source", "method", "version"])
        #expect(subs[0]["version"]?.string() == "1.10")
        #expect(subs[1]["count"]?.int() == 3)
        #expect(subs[1]["on"]?.bool() == true)
        #expect(subs[1]["nothing"]?.isNull == true)
        let yaml = try Node.document(in: "name: cloud-native\nsubcomponents:\n- {name: zeta, source: 'https://github.com/x/y', method: git, version: \"1.10\"}\n- {name: alpha, generator: static, path: ./manifests, count: 3, \"on\": true, nothing: null}\n")
        #expect(node == yaml)
    }

    @Test func jsonSurrogatePairEscapesBecomeOneCharacter() throws {
        // Python's json.dumps writes characters beyond the BMP as UTF-16 surrogate pairs.
        let json = #"{"emoji": "caf\u00e9 \ud83d\ude80", "escaped": "\\ud83d", "tabbed":\#t"a\tb"}"#
        let node = try Node.document(in: json, file: "config/common.json", format: .json)
        #expect(node["emoji"]?.string() == "café 🚀")
        #expect(node["escaped"]?.string() == #"\ud83d"#)
        #expect(node["tabbed"]?.string() == "a\tb")
        // As YAML, the same text is refused by libyaml, with the location.
        let error = try #require(throws: YAMLError.self) { try Node.document(in: json, file: "x.yaml") }
        #expect(error.headline == "x.yaml:1:24: found invalid Unicode character escape code (while parsing a quoted scalar at 1:11)")
    }

    @Test func tabIndentedJSON() throws {
        let node = try Node.document(in: "{\n\t\"name\": \"x\",\n\t\"list\": [\n\t\t1\n\t]\n}\n", format: .json)
        #expect(node["name"]?.string() == "x")
        #expect(node["list"]?.sequence?.first?.int() == 1)
    }

    @Test func jsonSyntaxErrorsAreLocated() throws {
        let error = try #require(throws: YAMLError.self) {
            try Node.document(in: "{\n  \"a\": 1,\n  \"b\": [1, 2,\n}\n", file: "config/dev.json")
        }
        #expect(error.description == """
            config/dev.json:4:1: did not find expected node content (while parsing a flow node at 4:1)
            }
            ^
            """)
    }
}
