import Foundation
import Testing
import YAML
@testable import HLD

/// The resource-level comparison behind `hld diff`, on rendered files made in memory.
@Suite struct ResourceDiffTests {
    /// A file as hld writes it: each document after `---` and `# Source: <source>`.
    func file(_ path: String, component: String = "cluster", _ documents: [(source: String, yaml: String)]) throws -> RenderedFile {
        let rendered = try documents.map { RenderedDocument(source: $0.source, node: try Node.document(in: $0.yaml)) }
        return RenderedFile(path: path, bytes: try OutputLayout.text(of: rendered), component: component)
    }

    func deployment(_ name: String, image: String, replicas: Int = 2, labels: String = "app: \"cat\"") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: \(name)
          namespace: pets
          labels: {\(labels)}
        spec:
          replicas: \(replicas)
          template:
            metadata:
              labels: {\(labels)}
            spec:
              containers:
              - name: \(name)
                image: \(image)
        """
    }

    @Test func pairsResourcesByIdentityWhateverFileHoldsThemAndIgnoresKeyOrder() throws {
        let old = [
            try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.0")),
                                  ("cluster/cat", "apiVersion: v1\nkind: Service\nmetadata: {name: cat, namespace: pets}\nspec: {ports: [{port: 80}]}\n")]),
            try file("old.yaml", [("cluster/old", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: pets}\ndata: {a: \"1\"}\n")]),
        ]
        let new = [
            // The Service moved to another file and has its keys in another order: the same resource.
            try file("svc.yaml", component: "cluster/svc", [("cluster/svc", "kind: Service\nspec: {ports: [{port: 80}]}\nmetadata: {namespace: pets, name: cat}\napiVersion: v1\n")]),
            try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.1"))]),
            // Same kind and name, another namespace: another resource.
            try file("old.yaml", [("cluster/old", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: birds}\ndata: {a: \"1\"}\n")]),
        ]
        let diff = try ResourceDiff(old: old, new: new)
        #expect(diff.changes.map { "\($0.kind.rawValue) \($0.key)" } == [
            "changed apps/v1 Deployment pets/cat",
            "added v1 ConfigMap birds/settings",
            "removed v1 ConfigMap pets/settings",
        ])
        #expect((diff.added, diff.removed, diff.changed, diff.unchanged) == (1, 1, 1, 1))
        #expect((diff.oldCount, diff.newCount) == (3, 3))
        #expect(!diff.isEmpty)
        #expect(diff.changes[0].old == ResourceOrigin(file: "cat.yaml", source: "cluster/cat", component: "cluster"))
        #expect(diff.changes[0].diff == [
            "--- a/apps/v1/Deployment/pets/cat",
            "+++ b/apps/v1/Deployment/pets/cat",
            "@@ -14,4 +14,4 @@",
            "     spec:",
            "       containers:",
            "       - name: cat",
            "-        image: cat:1.0",
            "+        image: cat:1.1",
        ])
        #expect(diff.changes[1].diff.isEmpty && diff.changes[2].diff.isEmpty)

        // The same renders compared with themselves: nothing.
        let same = try ResourceDiff(old: new, new: new)
        #expect(same.isEmpty)
        #expect(same.unchanged == 3)
        // Counts only: no unified diffs computed.
        let counted = try ResourceDiff(old: old, new: new, options: ResourceDiffOptions(unifiedDiffs: false))
        #expect(counted.changes.map(\.kind) == [.changed, .added, .removed])
        #expect(counted.changes.allSatisfy { $0.diff.isEmpty })
    }

    @Test func aReorderedResourceWithAChangeShowsOnlyTheChange() throws {
        let old = [try file("a.yaml", [("a", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"1\", y: \"2\", z: \"3\"}\n")])]
        let new = [try file("a.yaml", [("a", "kind: ConfigMap\napiVersion: v1\ndata: {z: \"3\", y: \"20\", x: \"1\"}\nmetadata: {name: a}\n")])]
        #expect(try ResourceDiff(old: old, new: new).changes.map(\.diff) == [[
            "--- a/v1/ConfigMap/a", "+++ b/v1/ConfigMap/a",
            "@@ -2,7 +2,7 @@", " apiVersion: v1", " data:", "   z: \"3\"", "-  y: \"2\"", "+  y: \"20\"", "   x: \"1\"", " metadata:", "   name: a",
        ]])
    }

    static let secretValues = ["c2VjcmV0", "bmV3c2VjcmV0", "YWRtaW4=", "Z29uZQ==", "YnJhbmRuZXc=", "plain-token", "plain-token-2"]

    func secret(_ data: String, stringData: String) -> String {
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: pets, labels: {tier: \"db\"}}\ntype: Opaque\ndata: {\(data)}\nstringData: {\(stringData)}\n"
    }

    @Test func aSecretShowsWhichKeysChangedAndNeverItsValues() throws {
        let old = [try file("db.yaml", [("cluster/db", secret("password: c2VjcmV0, user: YWRtaW4=, gone: Z29uZQ==", stringData: "token: plain-token"))])]
        let new = [try file("db.yaml", [("cluster/db", secret("password: bmV3c2VjcmV0, user: YWRtaW4=, fresh: YnJhbmRuZXc=", stringData: "token: plain-token-2"))])]
        let diff = try ResourceDiff(old: old, new: new)
        #expect(diff.changes.count == 1)
        let change = try #require(diff.changes.first)
        #expect(change.secretKeys.map(\.description) == ["data.fresh added", "data.gone removed", "data.password changed", "stringData.token changed"])
        #expect(change.diff == [
            "--- a/v1/Secret/pets/db", "+++ b/v1/Secret/pets/db",
            "@@ -7,8 +7,8 @@",
            "     tier: db",
            " type: Opaque",
            " data:",
            "-  password: (hidden)",
            "+  password: (hidden, changed)",
            "   user: (hidden)",
            "-  gone: (hidden)",
            "+  fresh: (hidden)",
            " stringData:",
            "-  token: (hidden)",
            "+  token: (hidden, changed)",
        ])
        let outputs = [diff.text(old: "a", new: "b"), diff.markdown(old: "a", new: "b"), String(decoding: diff.json(old: "a", new: "b"), as: UTF8.self)]
        for output in outputs {
            #expect(output.contains("password"))
            for value in Self.secretValues {
                #expect(!output.contains(value), "a Secret value in \(output)")
            }
        }
    }

    @Test func aSecretWhoseOnlyChangeIsAValueIsChanged() throws {
        let old = [try file("db.yaml", [("cluster/db", secret("password: c2VjcmV0", stringData: ""))])]
        let new = [try file("db.yaml", [("cluster/db", secret("password: bmV3c2VjcmV0", stringData: ""))])]
        let diff = try ResourceDiff(old: old, new: new)
        #expect(diff.changes.map(\.secretKeys) == [[SecretKeyChange(field: "data", key: "password", kind: .changed)]])
        #expect(diff.changes[0].diff.filter { $0.hasPrefix("-") || $0.hasPrefix("+") }.dropFirst(2) == ["-  password: (hidden)", "+  password: (hidden, changed)"])
        // `data` that is no mapping is hidden whole.
        let scalar = [try file("db.yaml", [("cluster/db", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: pets}\ndata: c2VjcmV0\n")])]
        let whole = try ResourceDiff(old: old, new: scalar)
        #expect(whole.changes.map { $0.secretKeys.map(\.description) } == [["data changed"]])
        #expect(!whole.changes[0].diff.joined().contains("c2VjcmV0"))
    }

    @Test func ignoredLabelsAreDroppedFromEveryMetadataLabelsOnly() throws {
        let labels = { (chart: String, version: String) in "app: \"cat\", helm.sh/chart: \"\(chart)\", app.kubernetes.io/version: \"\(version)\"" }
        let old = [try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.0", labels: labels("cat-0.1.0", "1.0"))),
                                         ("cluster/cat", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {helm.sh/chart: \"cat-0.1.0\"}}\ndata: {helm.sh/chart: \"cat-0.1.0\"}\n")])]
        let bumped = [try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.0", labels: labels("cat-0.2.0", "1.0"))),
                                            ("cluster/cat", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {helm.sh/chart: \"cat-0.2.0\"}}\ndata: {helm.sh/chart: \"cat-0.1.0\"}\n")])]
        // Without the option: the chart label differs in the Deployment (its own labels and
        // its pod template's) and in the ConfigMap.
        let noisy = try ResourceDiff(old: old, new: bumped)
        #expect(noisy.changes.map(\.key.kind) == ["Deployment", "ConfigMap"])
        #expect(noisy.changes[0].diff.filter { $0.hasPrefix("+ ") || $0.hasPrefix("+\t") || ($0.hasPrefix("+") && !$0.hasPrefix("+++")) }
            == ["+    helm.sh/chart: cat-0.2.0", "+        helm.sh/chart: cat-0.2.0"])
        let ignoring = ResourceDiffOptions(ignoredLabels: ["helm.sh/chart"])
        let quiet = try ResourceDiff(old: old, new: bumped, options: ignoring)
        #expect(quiet.isEmpty)
        #expect(quiet.unchanged == 2)

        // Another label still counts, and a data key of the same name is data, not a label.
        let other = [try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.0", labels: labels("cat-0.2.0", "1.1"))),
                                           ("cluster/cat", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {helm.sh/chart: \"cat-0.2.0\"}}\ndata: {helm.sh/chart: \"cat-0.2.0\"}\n")])]
        let still = try ResourceDiff(old: old, new: other, options: ignoring)
        #expect(still.changes.map(\.key.kind) == ["Deployment", "ConfigMap"])
        #expect(!still.changes[0].diff.joined(separator: "\n").contains("helm.sh/chart"))
        #expect(still.changes[1].diff.contains("+  helm.sh/chart: cat-0.2.0"))
        // A labels mapping emptied by the option is dropped; the rest of metadata stays.
        let dropped = ResourceDiff.droppingLabels(["helm.sh/chart"], from: try Node.document(in: "metadata: {name: c, labels: {helm.sh/chart: x}}\n"))
        #expect(try dropped.yaml() == "metadata:\n  name: c\n")
    }

    @Test func aResourceRenderedTwiceIsCountedTwice() throws {
        let map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n"
        let old = [try file("a.yaml", [("cluster/a", map)]), try file("b.yaml", [("cluster/b", map)])]
        let new = [try file("a.yaml", [("cluster/a", map)])]
        let diff = try ResourceDiff(old: old, new: new)
        #expect(diff.changes.map { "\($0.kind.rawValue) \($0.key) \($0.source)" } == ["removed v1 ConfigMap shared (#2) cluster/b"])
        #expect(diff.unchanged == 1)
    }

    @Test func theItemsOfAListAreResourcesOfTheirOwn() throws {
        func list(_ password: String) throws -> [RenderedFile] {
            [try file("list.yaml", [("cluster/list", """
                apiVersion: v1
                kind: List
                items:
                - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
                - {apiVersion: v1, kind: Secret, metadata: {name: s}, data: {password: \(password)}}
                """)])]
        }
        let diff = try ResourceDiff(old: try list("c2VjcmV0"), new: try list("bmV3c2VjcmV0"))
        #expect(diff.changes.map { "\($0.kind.rawValue) \($0.key) \($0.secretKeys)" } == ["changed v1 Secret s [data.password changed]"])
        #expect(diff.unchanged == 1)
        #expect(!diff.text(old: "a", new: "b").contains("c2VjcmV0") && !diff.text(old: "a", new: "b").contains("bmV3c2VjcmV0"))
    }

    /// A small comparison with one of each change, shown three ways.
    func sample() throws -> ResourceDiff {
        let old = [
            try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.0")), ("cluster/cat", "apiVersion: v1\nkind: Service\nmetadata: {name: gone, namespace: pets}\n")]),
            try file("db.yaml", [("cluster/db", secret("password: c2VjcmV0", stringData: ""))]),
        ]
        let new = [
            try file("cat.yaml", [("cluster/cat", deployment("cat", image: "cat:1.1")), ("cluster/cat", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: pets}\n")]),
            try file("db.yaml", [("cluster/db", secret("password: bmV3c2VjcmV0", stringData: ""))]),
        ]
        return try ResourceDiff(old: old, new: new)
    }

    @Test func textFormat() throws {
        #expect(try sample().text(old: "dev", new: "prod") == """
            dev → prod: 1 added, 1 removed, 2 changed, 0 unchanged
            changed: apps/v1 Deployment pets/cat (cluster/cat)
            added: v1 ConfigMap pets/extra (cluster/cat)
            changed: v1 Secret pets/db (cluster/db): data.password changed
            removed: v1 Service pets/gone (cluster/cat)
            --- a/apps/v1/Deployment/pets/cat
            +++ b/apps/v1/Deployment/pets/cat
            @@ -14,4 +14,4 @@
                 spec:
                   containers:
                   - name: cat
            -        image: cat:1.0
            +        image: cat:1.1
            --- a/v1/Secret/pets/db
            +++ b/v1/Secret/pets/db
            @@ -7,5 +7,5 @@
                 tier: db
             type: Opaque
             data:
            -  password: (hidden)
            +  password: (hidden, changed)
             stringData: {}

            """)
        let same = try ResourceDiff(old: [try file("a.yaml", [("a", "kind: ConfigMap\nmetadata: {name: a}\n")])], new: [try file("b.yaml", [("b", "kind: ConfigMap\nmetadata: {name: a}\n")])])
        #expect(same.text(old: "dev", new: "prod") == "dev and prod render the same 1 resource(s)\n")
    }

    @Test func markdownFormat() throws {
        #expect(try sample().markdown(old: "dev", new: "prod") == """
            ### hld diff: `dev` → `prod`

            1 added, 1 removed, 2 changed, 0 unchanged.

            | Change | API version | Kind | Namespace | Name |
            |---|---|---|---|---|
            | changed | apps/v1 | Deployment | pets | cat |
            | added | v1 | ConfigMap | pets | extra |
            | changed | v1 | Secret | pets | db |
            | removed | v1 | Service | pets | gone |

            <details>
            <summary>changed: <code>apps/v1 Deployment pets/cat</code> (cluster/cat)</summary>

            ```diff
            --- a/apps/v1/Deployment/pets/cat
            +++ b/apps/v1/Deployment/pets/cat
            @@ -14,4 +14,4 @@
                 spec:
                   containers:
                   - name: cat
            -        image: cat:1.0
            +        image: cat:1.1
            ```

            </details>

            <details>
            <summary>changed: <code>v1 Secret pets/db</code> (cluster/db)</summary>

            Secret keys: `data.password` changed (values are never shown).

            ```diff
            --- a/v1/Secret/pets/db
            +++ b/v1/Secret/pets/db
            @@ -7,5 +7,5 @@
                 tier: db
             type: Opaque
             data:
            -  password: (hidden)
            +  password: (hidden, changed)
             stringData: {}
            ```

            </details>

            """)
        let same = try ResourceDiff(old: [RenderedFile](), new: [])
        #expect(same.markdown(old: "HEAD~1 (abc)", new: "working tree") == "### hld diff: `HEAD~1 (abc)` → `working tree`\n\nNo resource differs: both render the same 0 resource(s).\n")
    }

    @Test func markdownFencesOutgrowBackticksInTheDiff() throws {
        let old = [try file("a.yaml", [("a", "kind: ConfigMap\nmetadata: {name: a}\ndata: {doc: \"x\"}\n")])]
        let new = [try file("a.yaml", [("a", "kind: ConfigMap\nmetadata: {name: a}\ndata: {doc: \"```sh\\nmake\\n```\\n\"}\n")])]
        let markdown = try ResourceDiff(old: old, new: new).markdown(old: "a", new: "b")
        #expect(markdown.contains("\n````diff\n"))
        #expect(markdown.contains("\n````\n\n</details>"))
    }

    @Test func jsonFormat() throws {
        #expect(String(decoding: try sample().json(old: "dev", new: "prod"), as: UTF8.self) == #"""
            {
              "changes" : [
                {
                  "apiVersion" : "apps/v1",
                  "change" : "changed",
                  "diff" : [
                    "--- a/apps/v1/Deployment/pets/cat",
                    "+++ b/apps/v1/Deployment/pets/cat",
                    "@@ -14,4 +14,4 @@",
                    "     spec:",
                    "       containers:",
                    "       - name: cat",
                    "-        image: cat:1.0",
                    "+        image: cat:1.1"
                  ],
                  "kind" : "Deployment",
                  "name" : "cat",
                  "namespace" : "pets",
                  "new" : {
                    "component" : "cluster",
                    "file" : "cat.yaml",
                    "source" : "cluster/cat"
                  },
                  "old" : {
                    "component" : "cluster",
                    "file" : "cat.yaml",
                    "source" : "cluster/cat"
                  }
                },
                {
                  "apiVersion" : "v1",
                  "change" : "added",
                  "kind" : "ConfigMap",
                  "name" : "extra",
                  "namespace" : "pets",
                  "new" : {
                    "component" : "cluster",
                    "file" : "cat.yaml",
                    "source" : "cluster/cat"
                  }
                },
                {
                  "apiVersion" : "v1",
                  "change" : "changed",
                  "diff" : [
                    "--- a/v1/Secret/pets/db",
                    "+++ b/v1/Secret/pets/db",
                    "@@ -7,5 +7,5 @@",
                    "     tier: db",
                    " type: Opaque",
                    " data:",
                    "-  password: (hidden)",
                    "+  password: (hidden, changed)",
                    " stringData: {}"
                  ],
                  "kind" : "Secret",
                  "name" : "db",
                  "namespace" : "pets",
                  "new" : {
                    "component" : "cluster",
                    "file" : "db.yaml",
                    "source" : "cluster/db"
                  },
                  "old" : {
                    "component" : "cluster",
                    "file" : "db.yaml",
                    "source" : "cluster/db"
                  },
                  "secretKeys" : [
                    {
                      "change" : "changed",
                      "field" : "data",
                      "key" : "password"
                    }
                  ]
                },
                {
                  "apiVersion" : "v1",
                  "change" : "removed",
                  "kind" : "Service",
                  "name" : "gone",
                  "namespace" : "pets",
                  "old" : {
                    "component" : "cluster",
                    "file" : "cat.yaml",
                    "source" : "cluster/cat"
                  }
                }
              ],
              "new" : {
                "label" : "prod",
                "resources" : 3
              },
              "old" : {
                "label" : "dev",
                "resources" : 3
              },
              "same" : false,
              "summary" : {
                "added" : 1,
                "changed" : 2,
                "removed" : 1,
                "unchanged" : 0
              }
            }

            """#)
    }

    /// Many changed resources: the sections are cut to fit, the table stays whole, a note
    /// says what was left out, and the whole is within the limit.
    @Test(arguments: [20_000, 30_000, ResourceDiff.defaultMarkdownLimit])
    func markdownIsCappedWithANote(limit: Int) throws {
        let count = 300
        func render(_ value: String) throws -> [RenderedFile] {
            try (0..<count).map { index in
                let body = (0..<20).map { "    line \($0) of \(value)" }.joined(separator: "\n")
                return try file("c\(index).yaml", [("cluster/c\(index)", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-\(index), namespace: pets}\ndata:\n  text: |\n\(body)\n")])
            }
        }
        let diff = try ResourceDiff(old: try render("old"), new: try render("new"))
        #expect(diff.changed == count)
        let full = diff.markdown(old: "dev", new: "prod", limit: 10_000_000)
        #expect(!full.contains("Cut to stay under"))
        #expect(full.components(separatedBy: "<details>").count - 1 == count)

        let markdown = diff.markdown(old: "dev", new: "prod", limit: limit)
        #expect(markdown.utf8.count <= limit)
        #expect(markdown.utf8.count > limit - 2_000, "the cap leaves much unused: \(markdown.utf8.count) of \(limit)")
        let shown = markdown.components(separatedBy: "<details>").count - 1
        #expect(shown > 0 && shown < count)
        let whole = markdown.components(separatedBy: "… ").count == 1 ? shown : shown - 1
        #expect(markdown.hasSuffix("**Cut to stay under \(limit) characters:** \(whole) of \(count) changed resource(s) shown in full\(whole < shown ? ", the next one shortened" : ""). Run `hld diff` (text output) to see everything.\n"))
        // The table lists every resource, whatever was cut.
        for index in 0..<count { #expect(markdown.contains("| changed | v1 | ConfigMap | pets | config-\(index) |\n")) }
    }

    @Test func aTableTooLongForTheLimitIsCutToo() throws {
        let old = try (0..<200).map { try file("c\($0).yaml", [("c", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-\($0)}\n")]) }
        let markdown = try ResourceDiff(old: old, new: []).markdown(old: "dev", new: "prod", limit: 2_000)
        #expect(markdown.utf8.count <= 2_000)
        let rows = markdown.components(separatedBy: "| removed |").count - 1
        #expect(rows > 10 && rows < 200)
        #expect(markdown.hasSuffix("**Cut to stay under 2000 characters:** 0 of 0 changed resource(s) shown in full, \(rows) of 200 rows of the table. Run `hld diff` (text output) to see everything.\n"))
    }
}
