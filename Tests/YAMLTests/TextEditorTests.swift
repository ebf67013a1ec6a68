import Testing
import TestSupport
import YAML

/// `config.image.tag`, `subcomponents.[2].name`.
func path(_ text: String) -> [PathSegment] {
    text.split(separator: ".").map { part in
        if part.hasPrefix("["), let index = Int(part.dropFirst().dropLast()) { return .index(index) }
        return .key(String(part))
    }
}

/// Golden edits on richly commented files: each changes exactly the lines shown.
@Suite struct TextEditorGoldenTests {
    static let config = """
        # Common config for every environment.
        namespace: default   # café
        injectNamespace: true

        config:
          # Image settings
          image:
            repository: nginx   # the registry mirror rewrites this
            tag: "1.25.3"
          replicas: 2

          ports: [80, 443]
          annotations: {team: web, "app.kubernetes.io/name": shop}
          motd: |
            Welcome, naïve user.
            Be kind.

          empty:
        # Per-subcomponent settings.
        subcomponents:
          dog:
            config:
              image:
                tag: v1.2.3  # bumped by CI
          cat: {config: {replicas: 1}}
          bird:
            config: # nothing yet

        """

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var edit: @Sendable (inout TextEditor) throws -> Void
        var removed: [String]
        var added: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "an existing plain scalar, keeping the comment beside it",
             edit: { try $0.set(path("subcomponents.dog.config.image.tag"), to: .plain("v1.2.4")) },
             removed: ["        tag: v1.2.3  # bumped by CI"], added: ["        tag: v1.2.4  # bumped by CI"]),
        Case(name: "a quoted string stays quoted",
             edit: { try $0.set(path("config.image.tag"), to: .plain("v1.26")) },
             removed: ["    tag: \"1.25.3\""], added: ["    tag: \"v1.26\""]),
        Case(name: "an int replaces a quoted string unquoted",
             edit: { try $0.set(path("config.image.tag"), to: .plain("4")) },
             removed: ["    tag: \"1.25.3\""], added: ["    tag: 4"]),
        Case(name: "a string that reads as a number is quoted",
             edit: { try $0.set(path("config.replicas"), to: .string("4")) },
             removed: ["  replicas: 2"], added: ["  replicas: \"4\""]),
        Case(name: "a new key goes after the map's last entry, at its indentation",
             edit: { try $0.set(path("config.image.pullPolicy"), to: .plain("Always")) },
             removed: [], added: ["    pullPolicy: Always"]),
        Case(name: "a new nested path creates the maps on the way",
             edit: { try $0.set(path("config.resources.limits.cpu"), to: .string("500m")) },
             removed: [], added: ["  resources:", "    limits:", "      cpu: 500m"]),
        Case(name: "a new key in a flow map stays flow",
             edit: { try $0.set(path("config.annotations.owner"), to: .string("me")) },
             removed: ["  annotations: {team: web, \"app.kubernetes.io/name\": shop}"],
             added: ["  annotations: {team: web, \"app.kubernetes.io/name\": shop, owner: me}"]),
        Case(name: "a key with dots inside a flow map",
             edit: { try $0.set([.key("config"), .key("annotations"), .key("app.kubernetes.io/name")], to: .string("store")) },
             removed: ["  annotations: {team: web, \"app.kubernetes.io/name\": shop}"],
             added: ["  annotations: {team: web, \"app.kubernetes.io/name\": store}"]),
        Case(name: "a nested path under a flow map",
             edit: { try $0.set(path("subcomponents.cat.config.image.tag"), to: .string("v2")) },
             removed: ["  cat: {config: {replicas: 1}}"], added: ["  cat: {config: {replicas: 1, image: {tag: v2}}}"]),
        Case(name: "an item appended to a flow list",
             edit: { try $0.insert(.plain("8080"), into: path("config.ports")) },
             removed: ["  ports: [80, 443]"], added: ["  ports: [80, 443, 8080]"]),
        Case(name: "a multi-line string replaces a block scalar",
             edit: { try $0.set(path("config.motd"), to: .string("Hello\nWorld\n")) },
             removed: ["    Welcome, naïve user.", "    Be kind."], added: ["    Hello", "    World"]),
        Case(name: "a value under an empty key",
             edit: { try $0.set(path("config.empty.a"), to: .plain("1")) },
             removed: [], added: ["    a: 1"]),
        Case(name: "a value under a null with a comment keeps the comment",
             edit: { try $0.set(path("subcomponents.bird.config.x"), to: .plain("1")) },
             removed: [], added: ["      x: 1"]),
        Case(name: "a new subcomponent entry",
             edit: { try $0.set(path("subcomponents.fish.config.image.tag"), to: .string("v9")) },
             removed: [], added: ["  fish:", "    config:", "      image:", "        tag: v9"]),
        Case(name: "a top-level key after the last entry",
             edit: { try $0.set(path("disabled"), to: .plain("false")) },
             removed: [], added: ["disabled: false"]),
        Case(name: "an entry removed with its line",
             edit: { try $0.remove(path("config.image.repository")) },
             removed: ["    repository: nginx   # the registry mirror rewrites this"], added: []),
        Case(name: "an entry with a block value removed with all its lines",
             edit: { try $0.remove(path("config.motd")) },
             removed: ["  motd: |", "    Welcome, naïve user.", "    Be kind."], added: []),
        Case(name: "an entry removed from a flow map",
             edit: { try $0.remove(path("config.annotations.team")) },
             removed: ["  annotations: {team: web, \"app.kubernetes.io/name\": shop}"], added: ["  annotations: {\"app.kubernetes.io/name\": shop}"]),
        Case(name: "the last item removed from a flow list",
             edit: { try $0.remove(path("config.ports.[1]")) },
             removed: ["  ports: [80, 443]"], added: ["  ports: [80]"]),
        Case(name: "the only entry of a map removed leaves {}",
             edit: { try $0.remove(path("subcomponents.dog.config.image.tag")) },
             removed: ["      image:", "        tag: v1.2.3  # bumped by CI"], added: ["      image: {}"]),
        Case(name: "a whole subtree set where a scalar was",
             edit: { try $0.set(path("namespace"), to: .mapping([("a", .plain("1"))])) },
             removed: ["namespace: default   # café"], added: ["namespace:   # café", "  a: 1"]),
    ]

    @Test(arguments: cases) func edit(_ golden: Case) throws {
        var editor = try TextEditor(text: Self.config, file: "config/common.yaml")
        try golden.edit(&editor)
        #expect(changedLines(Self.config, editor.text) == Changed(removed: golden.removed, added: golden.added), "\(editor.text)")
    }
}

@Suite struct TextEditorListTests {
    static let component = """
        # The cluster's top-level component.
        name: cluster   # the output directory

        subcomponents:
        # Infrastructure first.
        - name: infra
          source: ./infra
        - name: cat       # an app from its own repository
          method: git
          source: https://github.com/example/cat.git
          branch: main

        # Charts
        - {name: metrics, type: helm, method: helm, source: "https://charts.example.com", path: metrics}

        """

    @Test func anItemAppendedAfterTheLastOneInTheListsStyle() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.insert(.mapping([("name", .plain("dog")), ("method", .plain("git")), ("source", .plain("https://github.com/example/dog.git"))]),
                          into: path("subcomponents"))
        #expect(changedLines(Self.component, editor.text) == Changed(removed: [], added: [
            "- name: dog", "  method: git", "  source: https://github.com/example/dog.git",
        ]))
    }

    @Test func fieldsOfAnEntrySetAndRemovedInPlace() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.set(path("subcomponents.[1].branch"), to: .plain("release"))
        try editor.set(path("subcomponents.[1].version"), to: .plain("v1.0.0"))
        try editor.remove(path("subcomponents.[1].method"))
        #expect(changedLines(Self.component, editor.text) == Changed(
            removed: ["  method: git", "  source: https://github.com/example/cat.git", "  branch: main"],
            added: ["  source: https://github.com/example/cat.git", "  branch: release", "  version: v1.0.0"]))
    }

    @Test func theFirstKeyOfAnItemRemovedMovesTheNextUp() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.remove(path("subcomponents.[1].name"))
        #expect(changedLines(Self.component, editor.text) == Changed(
            removed: ["- name: cat       # an app from its own repository", "  method: git"], added: ["- method: git"]))
    }

    @Test func itemsRemovedWithTheirLines() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.remove(path("subcomponents.[1]"))
        #expect(changedLines(Self.component, editor.text) == Changed(
            removed: ["- name: cat       # an app from its own repository", "  method: git", "  source: https://github.com/example/cat.git", "  branch: main"],
            added: []))
        try editor.remove(path("subcomponents.[1]"))
        #expect(!editor.text.contains("metrics"))
        #expect(editor.text.contains("# Charts\n"))
        try editor.remove(path("subcomponents.[0]"))
        #expect(editor.text.contains("subcomponents: []\n"), "\(editor.text)")
    }

    @Test func anItemInsertedBeforeAnother() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.insert(.mapping([("name", .plain("first"))]), into: path("subcomponents"), at: 0)
        #expect(changedLines(Self.component, editor.text) == Changed(removed: [], added: ["- name: first"]))
        #expect(editor.value(at: path("subcomponents.[0].name")) == .plain("first"))
    }

    @Test func aFlowItemReplacedStaysFlow() throws {
        var editor = try TextEditor(text: Self.component)
        try editor.set(path("subcomponents.[2].version"), to: .plain("1.2.3"))
        #expect(changedLines(Self.component, editor.text) == Changed(
            removed: ["- {name: metrics, type: helm, method: helm, source: \"https://charts.example.com\", path: metrics}"],
            added: ["- {name: metrics, type: helm, method: helm, source: \"https://charts.example.com\", path: metrics, version: 1.2.3}"]))
    }

    @Test func newEntriesFollowTheFilesIndentation() throws {
        let text = "config:\n    image:\n        tag: v1\n    hosts:\n        - a\n"
        var editor = try TextEditor(text: text)
        try editor.set(path("config.resources.limits.cpu"), to: .plain("1"))
        try editor.set(path("config.ports"), to: .sequence([.plain("80")]))
        #expect(editor.text == "config:\n    image:\n        tag: v1\n    hosts:\n        - a\n    resources:\n        limits:\n            cpu: 1\n    ports:\n        - 80\n")
        let kubernetes = "config:\n  hosts:\n  - a\n"
        var other = try TextEditor(text: kubernetes)
        try other.set(path("config.ports"), to: .sequence([.plain("80")]))
        try other.insert(.plain("b"), into: path("config.hosts"))
        #expect(other.text == "config:\n  hosts:\n  - a\n  - b\n  ports:\n  - 80\n")
    }

    @Test func onlyTheAddressedDocumentChanges() throws {
        let text = "# first\nname: a\nconfig: {x: 1}\n---\n# second\nname: b\nconfig:\n  x: 1\n"
        var editor = try TextEditor(text: text, document: 1)
        try editor.set(path("config.x"), to: .plain("2"))
        try editor.set(path("config.z"), to: .plain("3"))
        #expect(editor.text == "# first\nname: a\nconfig: {x: 1}\n---\n# second\nname: b\nconfig:\n  x: 2\n  z: 3\n")
        #expect(throws: EditError.self) { var third = try TextEditor(text: text, document: 2); try third.set(path("a"), to: .plain("1")) }
    }

    @Test func windowsLineEndingsStayWindowsLineEndings() throws {
        var editor = try TextEditor(text: "# c\r\nconfig:\r\n  a: 1\r\n")
        try editor.set(path("config.b.c"), to: .plain("2"))
        try editor.set(path("config.a"), to: .plain("3"))
        #expect(editor.text == "# c\r\nconfig:\r\n  a: 3\r\n  b:\r\n    c: 2\r\n")
    }

    @Test func anEmptyFileGetsItsFirstEntries() throws {
        var editor = try TextEditor(text: "")
        try editor.set(path("config.image.tag"), to: .string("v1"))
        #expect(editor.text == "config:\n  image:\n    tag: v1\n")
        var commented = try TextEditor(text: "# prod overrides\n")
        try commented.set(path("namespace"), to: .string("prod"))
        #expect(commented.text == "# prod overrides\nnamespace: prod\n")
        var json = try TextEditor(text: "", format: .json)
        try json.set(path("config.replicas"), to: .plain("3"))
        #expect(json.text == "{\n  \"config\": {\n    \"replicas\": 3\n  }\n}\n")
    }

    @Test func settingTheValueItHasChangesNothing() throws {
        let text = TextEditorGoldenTests.config
        var editor = try TextEditor(text: text)
        try editor.set(path("config.image.tag"), to: .plain("1.25.3"))   // plain 1.25.3 reads as a float in YAML 1.1: a change
        var same = try TextEditor(text: text)
        try same.set(path("config.image.tag"), to: .string("1.25.3"))
        try same.set(path("config.replicas"), to: .plain("2"))
        try same.set(path("config.ports"), to: .sequence([.plain("80"), .plain("443")]))
        try same.set(path("subcomponents.dog.config.image.tag"), to: .string("v1.2.3"))
        #expect(same.bytes == Array(text.utf8))
        #expect(editor.bytes != Array(text.utf8))
    }
}

@Suite struct TextEditorJSONTests {
    static let component = """
        {
          "name": "cluster",
          "subcomponents": [
            {
              "name": "infra",
              "source": "./infra"
            }
          ]
        }

        """

    @Test func jsonIsEditedInItsOwnLayout() throws {
        var editor = try TextEditor(text: Self.component, format: .json)
        try editor.set(path("subcomponents.[0].branch"), to: .plain("main"))
        try editor.insert(.mapping([("name", .plain("cat")), ("replicas", .plain("2"))]), into: path("subcomponents"))
        try editor.set(path("name"), to: .string("fleet"))
        #expect(editor.text == """
            {
              "name": "fleet",
              "subcomponents": [
                {
                  "name": "infra",
                  "source": "./infra",
                  "branch": "main"
                },
                {
                  "name": "cat",
                  "replicas": 2
                }
              ]
            }

            """)
        try editor.remove(path("subcomponents.[0]"))
        try editor.remove(path("subcomponents.[0].replicas"))
        #expect(editor.text == "{\n  \"name\": \"fleet\",\n  \"subcomponents\": [\n    {\n      \"name\": \"cat\"\n    }\n  ]\n}\n")
    }
}

@Suite struct TextEditorErrorTests {
    @Test func aFileThatDoesNotParseIsRefusedWithItsLocation() {
        let error = #expect(throws: YAMLError.self) { try TextEditor(text: "a: 1\nb: [2\n", file: "config/prod.yaml") }
        #expect(error?.headline.hasPrefix("config/prod.yaml:") == true)
        #expect(throws: YAMLError.self) { try TextEditor(text: "{\"a\": 1,}", file: "c.json", format: .json) }
        #expect(throws: YAMLError.self) { try TextEditor(text: "a: 1\na: 2\n", file: "c.yaml") }
    }

    @Test func pathsThatCannotBeSet() throws {
        var editor = try TextEditor(text: "config:\n  image: nginx\n  list: [a]\n", file: "config/common.yaml")
        let scalar = #expect(throws: EditError.self) { try editor.set(path("config.image.tag"), to: .plain("v1")) }
        #expect(scalar?.description == "config/common.yaml:2:10: cannot set config.image.tag: config.image is a scalar, not a map")
        let missing = #expect(throws: EditError.self) { try editor.set(path("config.other.x"), to: .plain("1"), createMissing: false) }
        #expect(missing?.kind == .missing)
        #expect(missing?.path == path("config.other"))
        let list = #expect(throws: EditError.self) { try editor.set(path("config.list.x"), to: .plain("1")) }
        #expect(list?.kind == .notACollection)
        #expect(throws: EditError.self) { try editor.remove(path("config.nothing")) }
        #expect(editor.text == "config:\n  image: nginx\n  list: [a]\n")
    }

    @Test func anchorsAndAliasesAreLeftToPeople() throws {
        var editor = try TextEditor(text: "base: &b {tag: v1}\nprod: *b\n")
        let error = #expect(throws: EditError.self) { try editor.set(path("prod.tag"), to: .plain("v2")) }
        #expect(error?.kind == .alias)
        #expect(throws: EditError.self) { try editor.set(path("base.tag"), to: .plain("v2")) }
    }
}

/// Inputs the text-editor fuzz target found (Fuzz/regressions/text-editor/): each edit is
/// made right, or refused with the file left as it was, never written wrong.
@Suite struct TextEditorFuzzFindingsTests {
    enum Outcome: Sendable {
        case text(String)
        case refused(EditError.Kind, String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var format: SourceFormat = .yaml
        var edit: @Sendable (inout TextEditor) throws -> Void
        var outcome: Outcome
        var testDescription: String { name }
    }

    static let refusal = "fuzz: hld cannot make this change here without"

    static let cases: [Case] = [
        Case(name: "an explicit key without a value before a key starting with ':' (was a crash)", file: "? >\n:1:\n",
             edit: { try $0.set([.key("")], to: .plain("x")) }, outcome: .refused(.unsupported, "fuzz:1:3: a complex key (? …); edit it by hand")),
        Case(name: "removing the last item keeps the list's !replace", file: "config:\n  args: !replace\n  - --verbose\n",
             edit: { try $0.remove(path("config.args.[0]")) }, outcome: .text("config:\n  args: !replace []\n")),
        Case(name: "a missing list index on the way is not created as a map", file: "x: 1\n",
             edit: { try $0.set([.key("a"), .key("b"), .index(0), .key("c")], to: .plain("1")) },
             outcome: .refused(.missing, "fuzz:1:1: a does not exist, and hld does not create lists on the way: add a.b as a list first")),
        Case(name: "a byte order mark is not indentation", file: "\u{FEFF}a:\n",
             edit: { try $0.set(path("b"), to: .plain("1")) }, outcome: .text("\u{FEFF}a:\nb: 1\n")),
        Case(name: "U+2028 and U+2029 are escaped in JSON strings", file: "{\"a\": \"b\"}\n", format: .json,
             edit: { try $0.set(path("a"), to: .string("x\u{2028}y\u{2029}")) }, outcome: .text("{\"a\": \"x\\u2028y\\u2029\"}\n")),
        Case(name: "U+2028 is escaped in a double-quoted replacement", file: "a: \"b\"\n",
             edit: { try $0.set(path("a"), to: .string("x\u{2028}y")) }, outcome: .text("a: \"x\\u2028y\"\n")),
        Case(name: "a block scalar ending the file without a line break keeps its value (key)", file: "a: |\n x",
             edit: { try $0.set(path("b"), to: .plain("1")) }, outcome: .text("a: |-\n x\nb: 1\n")),
        Case(name: "a block scalar ending the file without a line break keeps its value (item)", file: "l:\n- >2\n   x",
             edit: { try $0.insert(.plain("y"), into: path("l")) }, outcome: .text("l:\n- >-2\n   x\n- y\n")),
        Case(name: "a kept block scalar ending the file without a line break is refused", file: "a: |+\n x",
             edit: { try $0.set(path("b"), to: .plain("1")) }, outcome: .refused(.unsupported, "\(refusal) changing how a reads; edit it by hand")),
        Case(name: "removing an explicit key's entry", file: "a: 1\n? b\n: 2\nc: 3\n",
             edit: { try $0.remove(path("b")) }, outcome: .refused(.unsupported, "\(refusal) changing how the document reads; edit it by hand")),
        Case(name: "a new key after explicit keys", file: "? a\n? b\nc:\n",
             edit: { try $0.set(path("new"), to: .plain("item")) }, outcome: .refused(.unsupported, "\(refusal) changing how the document reads; edit it by hand")),
        Case(name: "a document ending in an explicit key set whole", file: "? a\n---\nb\n",
             edit: { try $0.set([], to: .string("x")) }, outcome: .refused(.unsupported, "\(refusal) turning 2 document(s) into 1; edit it by hand")),
        Case(name: "a single-pair mapping inside a flow list", file: "[a: 1, b]\n",
             edit: { try $0.remove([.index(0), .key("a")]) }, outcome: .refused(.unsupported, "\(refusal) changing how [0] reads; edit it by hand")),
        Case(name: "a flow entry written without a value", file: "m: {a, b: 1}\n",
             edit: { try $0.set(path("m.a"), to: .plain("x")) }, outcome: .refused(.unsupported, "\(refusal) changing how m reads; edit it by hand")),
        Case(name: "a comment glued to a flow list", file: "a: [1]#c\n",
             edit: { try $0.set(path("a"), to: .plain("x y")) }, outcome: .refused(.unsupported, "\(refusal) changing how a reads; edit it by hand")),
        Case(name: "a block scalar whose last line is spaces", file: "foo: |\n  x\n   \n",
             edit: { try $0.set(path("b"), to: .plain("1")) }, outcome: .refused(.unsupported, "\(refusal) changing how foo reads; edit it by hand")),
        Case(name: "removing the item after a kept empty block scalar", file: "- |+\n- >\n a\n\n- b\n",
             edit: { try $0.remove([.index(1)]) }, outcome: .refused(.unsupported, "\(refusal) changing how [0] reads; edit it by hand")),
    ]

    @Test(arguments: cases) func finding(_ example: Case) throws {
        var editor = try TextEditor(text: example.file, file: "fuzz", format: example.format)
        switch example.outcome {
        case .text(let expected):
            try example.edit(&editor)
            #expect(editor.text == expected)
        case .refused(let kind, let message):
            let error = #expect(throws: EditError.self) { try example.edit(&editor) }
            #expect(error?.kind == kind)
            #expect(error?.description == message)
            #expect(editor.text == example.file)
        }
    }
}
