import Testing
import YAML
@testable import HLD

/// Fabrikate's precedence (SPEC §1.2) as a table: layers in, highest first; merged value out.
@Suite struct ConfigMergeTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var layers: [String]
        /// The merged struct, or nil when the merge must fail.
        var expected: String?
        /// Every leaf of the merged struct, in its order, and the layer it comes from
        /// (`hld explain`, ExplainTests).
        var winners: [Won] = []
        var testDescription: String { name }
    }

    /// The leaf at `path` of the merged struct is the value at `at` (default: the same
    /// path) in layer `layer`.
    struct Won: Sendable {
        var path: String
        var layer: Int
        var at: String?

        init(_ path: String, _ layer: Int, at: String? = nil) {
            self.path = path
            self.layer = layer
            self.at = at
        }
    }

    static let rows: [Row] = [
        Row(name: "maps merge deeply, keys of the higher layer first",
            layers: ["config: {a: 1, m: {x: 1}}", "config: {b: 2, m: {y: 2}}"],
            expected: "config: {a: 1, m: {x: 1, y: 2}, b: 2}",
            winners: [Won("config.a", 0), Won("config.m.x", 0), Won("config.m.y", 1), Won("config.b", 1)]),
        Row(name: "a scalar keeps the higher layer's value",
            layers: ["config: {image: {tag: v2}}", "config: {image: {tag: v1, pullPolicy: Always}}"],
            expected: "config: {image: {tag: v2, pullPolicy: Always}}",
            winners: [Won("config.image.tag", 0), Won("config.image.pullPolicy", 1)]),
        Row(name: "an empty string in a higher layer wins",
            layers: ["config: {a: \"\"}", "config: {a: x}"], expected: "config: {a: \"\"}",
            winners: [Won("config.a", 0)]),
        Row(name: "false in a higher layer wins",
            layers: ["config: {enabled: false}", "config: {enabled: true}"], expected: "config: {enabled: false}",
            winners: [Won("config.enabled", 0)]),
        Row(name: "a null in a higher layer is filled from below",
            layers: ["config: {a: null, b: ~}", "config: {a: 5, b: {c: 1}}"], expected: "config: {a: 5, b: {c: 1}}",
            winners: [Won("config.a", 1), Won("config.b.c", 1)]),
        Row(name: "a null key of a lower layer is not added to a map the higher layer has",
            layers: ["config: {m: {x: 1}}", "config: {m: {y: null}}"], expected: "config: {m: {x: 1}}",
            winners: [Won("config.m.x", 0)]),
        Row(name: "a map only a lower layer has is taken whole, nulls included",
            layers: ["config: {other: 1}", "config: {m: {y: null, z: 2}}"], expected: "config: {other: 1, m: {y: null, z: 2}}",
            winners: [Won("config.other", 0), Won("config.m.y", 1), Won("config.m.z", 1)]),
        Row(name: "lists concatenate, higher layer first",
            layers: ["config: {hosts: [a, b]}", "config: {hosts: [c]}"], expected: "config: {hosts: [a, b, c]}",
            winners: [Won("config.hosts[0]", 0), Won("config.hosts[1]", 0), Won("config.hosts[2]", 1, at: "config.hosts[0]")]),
        Row(name: "a !replace list replaces the lower one",
            layers: ["config: {hosts: !replace [a]}", "config: {hosts: [c, d]}"], expected: "config: {hosts: [a]}",
            winners: [Won("config.hosts[0]", 0)]),
        Row(name: "a !replace list in a middle layer keeps what is above it and drops what is below",
            layers: ["config: {hosts: [a]}", "config: {hosts: !replace [b]}", "config: {hosts: [c]}"], expected: "config: {hosts: [a, b]}",
            winners: [Won("config.hosts[0]", 0), Won("config.hosts[1]", 1, at: "config.hosts[0]")]),
        Row(name: "a !replace list drops every layer below it, not only the next",
            layers: ["config: {hosts: !replace [b]}", "config: {hosts: [c]}", "config: {hosts: [d]}"], expected: "config: {hosts: [b]}",
            winners: [Won("config.hosts[0]", 0)]),
        Row(name: "first environment beats the second, which beats common",
            layers: ["config: {a: prod-east}", "config: {a: prod, b: prod}", "config: {a: common, b: common, c: common}"],
            expected: "config: {a: prod-east, b: prod, c: common}",
            winners: [Won("config.a", 0), Won("config.b", 1), Won("config.c", 2)]),
        Row(name: "a map against a scalar is an error",
            layers: ["config: {a: {x: 1}}", "config: {a: 5}"], expected: nil),
        Row(name: "a scalar against a map is an error",
            layers: ["config: {a: 5}", "config: {a: {x: 1}}"], expected: nil),
        Row(name: "a list against a map is an error",
            layers: ["config: {a: [1]}", "config: {a: {x: 1}}"], expected: nil),
        Row(name: "namespace and injectNamespace come from the layer with the namespace",
            layers: ["namespace: a", "namespace: b\ninjectNamespace: true"], expected: "namespace: a",
            winners: [Won("namespace", 0)]),
        Row(name: "injectNamespace without a namespace in its layer is lost",
            layers: ["injectNamespace: true", "namespace: b"], expected: "namespace: b",
            winners: [Won("namespace", 1)]),
        Row(name: "both come from below when the higher namespace is empty",
            layers: ["namespace: \"\"\ninjectNamespace: false", "namespace: b\ninjectNamespace: true"],
            expected: "namespace: b\ninjectNamespace: true",
            winners: [Won("namespace", 1), Won("injectNamespace", 1)]),
        Row(name: "the pairing applies to subcomponents too",
            layers: ["subcomponents: {x: {namespace: a}}", "subcomponents: {x: {namespace: b, injectNamespace: true, config: {k: 1}}}"],
            expected: "subcomponents: {x: {namespace: a, config: {k: 1}}}",
            winners: [Won("subcomponents.x.namespace", 0), Won("subcomponents.x.config.k", 1)]),
        Row(name: "disabled in a lower layer is ignored when a higher layer mentions the subcomponent",
            layers: ["subcomponents: {x: {config: {a: 1}}}", "subcomponents: {x: {disabled: true}}"],
            expected: "subcomponents: {x: {config: {a: 1}}}",
            winners: [Won("subcomponents.x.config.a", 0)]),
        Row(name: "disabled in a lower layer applies when no higher layer mentions the subcomponent",
            layers: ["subcomponents: {y: {config: {a: 1}}}", "subcomponents: {x: {disabled: true}}"],
            expected: "subcomponents: {y: {config: {a: 1}}, x: {disabled: true}}",
            winners: [Won("subcomponents.y.config.a", 0), Won("subcomponents.x.disabled", 1)]),
        Row(name: "disabled: false in a higher layer re-enables",
            layers: ["subcomponents: {x: {disabled: false}}", "subcomponents: {x: {disabled: true}}"],
            expected: "subcomponents: {x: {disabled: false}}",
            winners: [Won("subcomponents.x.disabled", 0)]),
        Row(name: "what a parent passes down beats the child's own files",
            layers: ["config: {replicas: 5}", "config: {replicas: 2, image: a}", "config: {replicas: 1}"],
            expected: "config: {replicas: 5, image: a}",
            winners: [Won("config.replicas", 0), Won("config.image", 1)]),
        Row(name: "version, branch and source may be overridden per layer",
            layers: ["subcomponents: {cat: {branch: prod}}", "subcomponents: {cat: {branch: dev, version: v1}}"],
            expected: "subcomponents: {cat: {branch: prod, version: v1}}",
            winners: [Won("subcomponents.cat.branch", 0), Won("subcomponents.cat.version", 1)]),
        Row(name: "lists concatenate over three layers, each item from its own layer",
            layers: ["config: {hosts: [a]}", "config: {hosts: [b, c]}", "config: {hosts: [d]}"],
            expected: "config: {hosts: [a, b, c, d]}",
            winners: [Won("config.hosts[0]", 0), Won("config.hosts[1]", 1, at: "config.hosts[0]"),
                      Won("config.hosts[2]", 1, at: "config.hosts[1]"), Won("config.hosts[3]", 2, at: "config.hosts[0]")]),
        Row(name: "list items that are maps come whole from their layer",
            layers: ["config: {env: [{name: A, value: x}]}", "config: {env: [{name: B}]}"],
            expected: "config: {env: [{name: A, value: x}, {name: B}]}",
            winners: [Won("config.env[0].name", 0), Won("config.env[0].value", 0), Won("config.env[1].name", 1, at: "config.env[0].name")]),
        Row(name: "empty maps and lists are values too",
            layers: ["config: {m: {}, l: []}", "config: {m: {}, l: [], n: {}}"],
            expected: "config: {m: {}, l: [], n: {}}",
            winners: [Won("config.m", 0), Won("config.l", 0), Won("config.n", 1)]),
    ]

    @Test(arguments: rows)
    func precedence(row: Row) throws {
        let layers = try row.layers.enumerated().map { ConfigLayer(node: try Node.document(in: $1, file: "layer\($0).yaml"), file: "layer\($0).yaml") }
        if let expected = row.expected {
            let merged = try ConfigFiles.merge(layers)
            let want = try Node.document(in: expected)
            let shown = (try? merged.yaml()) ?? ""
            #expect(merged.withoutReplaceMarks == want, "got:\n\(shown)")
        } else {
            #expect(throws: HLDError.self) { try ConfigFiles.merge(layers) }
        }
    }

    @Test func theGeneratorsInputCarriesNoReplaceMark() throws {
        let layers = [
            ConfigLayer(node: try Node.document(in: "config: {hosts: [a]}"), file: "config/prod.yaml"),
            ConfigLayer(node: try Node.document(in: "config: {hosts: !replace [b], nested: {list: !replace [x]}}"), file: "config/stage.yaml"),
        ]
        let values = ComponentConfig(try ConfigFiles.merge(layers)).values
        #expect(try values.yaml() == "hosts:\n- a\n- b\nnested:\n  list:\n  - x\n")
    }

    @Test func aConflictNamesBothFilesAndLines() throws {
        let layers = [
            ConfigLayer(node: try Node.document(in: "config:\n  image:\n    tag: v1\n"), file: "config/prod.yaml"),
            ConfigLayer(node: try Node.document(in: "config:\n  other: 1\n"), file: "config/stage.yaml"),
            ConfigLayer(node: try Node.document(in: "config:\n  image: nginx\n"), file: "config/common.yaml"),
        ]
        let error = try #require(throws: HLDError.self) { try ConfigFiles.merge(layers) }
        #expect(error.description == "config/common.yaml:2:10: config.image is a scalar here but a map in config/prod.yaml:3:5; a map cannot be merged with a scalar or a list")
    }

    @Test func typedView() throws {
        let config = ComponentConfig(try Node.document(in: "namespace: web\ninjectNamespace: yes\nconfig: {a: 1}\nsubcomponents: {x: {disabled: true}}\n"))
        #expect(config.namespace == "web")
        #expect(config.injectNamespace)
        #expect(!config.disabled)
        #expect(ComponentConfig(config.passedDown(to: "x")).disabled)
        #expect(config.passedDown(to: "missing") == Node(.mapping([])))
        #expect(try config.values.yaml() == "a: 1\n")
    }
}
