import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// `hld explain`: every value of a merged config traced to the file and line that won,
/// checked on the precedence table of ConfigMergeTests.
@Suite(.timeLimit(.minutes(10))) struct ExplainTests {
    typealias Row = ConfigMergeTests.Row

    static let rows = ConfigMergeTests.rows.filter { $0.expected != nil }

    /// The node at `path` in `node`.
    static func node(at path: [ConfigPathComponent], in node: Node) -> Node? {
        var current: Node? = node
        for step in path {
            switch step {
            case .key(let key): current = current?[key]
            case .index(let index): current = current?.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil }
            }
        }
        return current
    }

    /// `path ← file:line:column (layer)` for every leaf, in the merged config's order.
    static func lines(_ leaves: [ExplainedLeaf]) -> [String] {
        leaves.map { "\($0.path.dotted) ← \($0.origin.map { "\($0.location) (\($0.layer))" } ?? "nowhere")" }
    }

    /// What `row.winners` says, with each layer's file, where that layer's text ends up in
    /// it (line and column offsets) and the layer's name.
    static func expected(_ row: Row, files: [(file: String, lines: Int, columns: Int, layer: String)]) throws -> [String] {
        try row.winners.map { won in
            let layer = try Node.document(in: row.layers[won.layer])
            let path = try ConfigExplanation.path(won.at ?? won.path)
            let value = try #require(node(at: path, in: layer), "\(won.at ?? won.path) is not in layer \(won.layer)")
            let slot = files[won.layer]
            return "\(won.path) ← \(slot.file):\(value.mark.line + slot.lines):\(value.mark.column + slot.columns) (\(slot.layer))"
        }
    }

    @Test(arguments: rows)
    func inMemoryLayers(row: Row) throws {
        let layers = try row.layers.enumerated().map { ConfigLayer(node: try Node.document(in: $1, file: "layer\($0).yaml"), file: "layer\($0).yaml") }
        let explained = try ConfigOrigin(layers: layers, entryName: "x").explained()
        // The value is the merge's, marks included.
        #expect(explained.node == (try ConfigFiles.merge(layers)))
        #expect(explained.node.withoutReplaceMarks == (try Node.document(in: row.expected ?? "")))
        let files = row.layers.indices.map { (file: "layer\($0).yaml", lines: 0, columns: 0, layer: "layer\($0)") }
        #expect(Self.lines(explained.leaves()) == (try Self.expected(row, files: files)))
    }

    /// Where a layer of a row can be on disk, highest first: what a parent two levels up
    /// passes down, what the parent passes down, the component's prod, stage and common.
    static let slots: [(file: String, wrap: [String], layer: String)] = [
        ("config/prod.yaml", ["subcomponents:", "  mid:", "    subcomponents:", "      app:"], "parent"),
        ("mid/config/prod.yaml", ["subcomponents:", "  app:"], "parent"),
        ("mid/app/config/prod.yaml", [], "prod"),
        ("mid/app/config/stage.yaml", [], "stage"),
        ("mid/app/config/common.yaml", [], "common"),
    ]

    /// Every way of putting `count` layers into the slots, in order.
    static func placements(_ count: Int, from start: Int = 0) -> [[Int]] {
        guard count > 0 else { return [[]] }
        guard start < slots.count else { return [] }
        return (start..<slots.count).flatMap { first in placements(count - 1, from: first + 1).map { [first] + $0 } }
    }

    /// The table as real component and config files: root → mid → app, the row's layers
    /// spread over the slots in every order-keeping way, explained through a resolve.
    @Test(arguments: rows)
    func onDisk(row: Row) async throws {
        let placements = Self.placements(row.layers.count)
        #expect(placements.count == 10)
        for placement in placements {
            var files = [
                "component.yaml": "name: root\nsubcomponents:\n- name: mid\n  source: ./mid\n",
                "mid/component.yaml": "name: mid\nsubcomponents:\n- name: app\n  source: ./app\n",
                "mid/app/component.yaml": "name: app\n",
            ]
            var where_: [(file: String, lines: Int, columns: Int, layer: String)] = []
            for (layer, slotIndex) in zip(row.layers, placement) {
                let slot = Self.slots[slotIndex]
                let indent = String(repeating: " ", count: slot.wrap.count * 2)
                let body = layer.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }
                files[slot.file] = (slot.wrap + body).joined(separator: "\n") + "\n"
                where_.append((slot.file, slot.wrap.count, indent.count, slot.layer))
            }
            let fixture = try HLDFixture(files)
            let resolution = try await Materializer.resolve(fixture.options(["prod", "stage"]))
            let app = try resolution.tree.component(at: "mid/app")
            #expect(app.componentPath == "mid/app/app")
            let explanation = try resolution.explain(component: "mid/app")
            let shown = "\(row.name), layers in \(placement.map { Self.slots[$0].file })"
            // What the tree merged (and would render with) is the row's expected struct.
            #expect(app.config.node.withoutReplaceMarks == (try Node.document(in: row.expected ?? "")), "\(shown)")
            #expect(explanation.config.node == app.config.node, "\(shown)")
            #expect(Self.lines(explanation.leaves) == (try Self.expected(row, files: where_)), "\(shown)")
        }
    }

    // MARK: looking things up

    func threeLevels() throws -> HLDFixture {
        try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- name: infra\n  source: ./infra\n- name: old\n  source: ./old\n",
            "config/prod.yaml": """
                subcomponents:
                  old:
                    disabled: true
                  infra:
                    subcomponents:
                      prometheus:
                        config:
                          image: {tag: v2}

                """,
            "infra/component.yaml": "name: infra-impl\nsubcomponents:\n- name: prometheus\n  type: static\n  path: ./m\n",
            "infra/m/a.yaml": manifest("ConfigMap", "a"),
            "infra/config/common.yaml": "subcomponents:\n  prometheus:\n    namespace: monitoring\n    config:\n      image: {tag: v1, pullPolicy: Always}\n",
            "old/component.yaml": "name: old\n",
        ])
    }

    @Test func componentsByPathOrEntryChain() async throws {
        let fixture = try threeLevels()
        let resolution = try await Materializer.resolve(fixture.options(["prod"]))
        #expect(try resolution.tree.component(at: nil).componentPath == "cluster")
        #expect(try resolution.tree.component(at: "cluster").componentPath == "cluster")
        #expect(try resolution.tree.component(at: "infra").componentPath == "infra/infra-impl")
        #expect(try resolution.tree.component(at: "infra/infra-impl").componentPath == "infra/infra-impl")
        #expect(try resolution.tree.component(at: "infra/prometheus").componentPath == "infra/prometheus")
        #expect(throws: HLDError("no component infra/prometheos in the tree (did you mean infra/prometheus?)")) {
            try resolution.tree.component(at: "infra/prometheos")
        }
        #expect(throws: HLDError("no component web in the tree (components: cluster, infra/infra-impl, infra/prometheus)")) {
            try resolution.tree.component(at: "web")
        }
        #expect(throws: HLDError(SourceLocation(file: "config/prod.yaml", line: 3, column: 15), "old is disabled here, so it has no merged config to explain")) {
            try resolution.tree.component(at: "old")
        }
    }

    @Test func keyPaths() async throws {
        let fixture = try threeLevels()
        let resolution = try await Materializer.resolve(fixture.options(["prod"]))
        let tag = try resolution.explain(component: "infra/prometheus", key: "config.image.tag")
        #expect(Self.lines(tag.leaves) == ["config.image.tag ← config/prod.yaml:8:24 (parent)"])
        let image = try resolution.explain(component: "infra/prometheus", key: "config.image")
        #expect(Self.lines(image.leaves) == ["config.image.tag ← config/prod.yaml:8:24 (parent)",
                                              "config.image.pullPolicy ← infra/config/common.yaml:5:36 (parent)"])
        #expect(try image.config.node.yaml() == "config:\n  image:\n    tag: v2\n    pullPolicy: Always\n")
        #expect(throws: HLDError("config.image of infra/prometheus has no key tga (did you mean tag?)")) {
            try resolution.explain(component: "infra/prometheus", key: "config.image.tga")
        }
        #expect(throws: HLDError("the merged config of infra/prometheus has no key image (did you mean config.image? key paths start at the top of a config file)")) {
            try resolution.explain(component: "infra/prometheus", key: "image")
        }
        #expect(throws: HLDError("config.image.tag of infra/prometheus is a scalar (v2); it has no key x")) {
            try resolution.explain(component: "infra/prometheus", key: "config.image.tag.x")
        }
        #expect(throws: HLDError("config..image is not a key path (keys separated by dots, such as config.image.tag)")) {
            try resolution.explain(component: "infra/prometheus", key: "config..image")
        }
    }

    @Test func keyPathSyntax() throws {
        #expect(try ConfigExplanation.path("config.hosts[1].name") == [.key("config"), .key("hosts"), .index(1), .key("name")])
        #expect(try ConfigExplanation.path("config.hosts.1") == [.key("config"), .key("hosts"), .key("1")])
        #expect(try ConfigExplanation.path("m[0][2]") == [.key("m"), .index(0), .index(2)])
        #expect(throws: HLDError.self) { try ConfigExplanation.path("a[x]") }
        #expect(throws: HLDError.self) { try ConfigExplanation.path("a[1]b") }
        #expect(throws: HLDError.self) { try ConfigExplanation.path("a.") }
        #expect([ConfigPathComponent.key("config"), .key("hosts"), .index(1), .key("name")].dotted == "config.hosts[1].name")
    }

    /// A component fetched from git: its own config files are named as messages name
    /// them (URL, commit, path), below what the parent passes down.
    @Test func aComponentFromGit() async throws {
        let fixture = try HLDFixture([:])
        let repo = try FixtureRepository.create(at: fixture.scratch.appending("app-work"))
        try repo.write("component.yaml", "name: app\ntype: static\npath: ./m\n")
        try repo.write("m/a.yaml", manifest("ConfigMap", "a"))
        try repo.write("config/common.yaml", "config:\n  replicas: 1\n  hosts: [from-git]\n")
        let commit = try repo.commit("app")
        let served = try repo.publishBare(into: fixture.scratch.appending("served"), name: "app").path
        try fixture.write([
            "component.yaml": "name: root\nsubcomponents:\n- name: app\n  method: git\n  source: \(served)\n",
            "config/common.yaml": "subcomponents:\n  app:\n    config:\n      hosts: [from-root]\n",
        ])
        let resolution = try await Materializer.resolve(fixture.options([]))
        let explanation = try resolution.explain(component: "app")
        let file = "\(served)@\(commit.prefix(12))/config/common.yaml"
        #expect(Self.lines(explanation.leaves) == [
            "config.hosts[0] ← config/common.yaml:4:15 (parent)",
            "config.hosts[1] ← \(file):3:11 (common)",
            "config.replicas ← \(file):2:13 (common)",
        ])
    }
}
