import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Charts whose output has the shapes published charts produce and `helm create` never
/// does: YAML files embedded in ConfigMaps (with their own `---` lines), block scalars
/// ending a document, comment-only and empty documents, `--- # comment` separators, `...`,
/// CRLF line ends, and a key given twice. Each chart is written here, at test time.
@Suite(.timeLimit(.minutes(10)), .serialized) struct HelmOutputTests {
    /// A local chart `patterns` beside the HLD, rendered by real helm.
    static let templates: [String: String] = [
        // As stable/elasticsearch-curator does: a YAML file in a ConfigMap, whose own
        // document markers are indented inside the block scalar.
        "curator.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-curator
            data:
              action_file.yml: |-
                ---
                actions:
                  1:
                    action: delete_indices
                    options:
                      ignore_empty_list: True
                ---
                # a second document inside the file
              config.yml: |
                ---
                client:
                  hosts:
                    - elasticsearch
            """,
        // Block scalars that end a document which is followed by another one.
        "literal-clip.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: clip\ndata:\n  values.yaml: |\n    a: 1\n    b: \"2\"\n",
        "literal-keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  script.sh: |+\n    echo hi\n\n",
        "literal-strip.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strip\ndata:\n  token: |-\n    abc\n",
        // A template that renders to comments only, and one that renders to nothing.
        "comments.yaml": "# Nothing to deploy unless .Values.extra is set.\n{{- if .Values.extra }}\nkind: ConfigMap\n{{- end }}\n",
        "empty.yaml": "{{- if .Values.never }}\nkind: Secret\n{{- end }}\n",
        // Two documents in one template, the separator carrying a comment, then an
        // explicit document end and an empty document.
        "pair.yaml": """
            apiVersion: v1
            kind: Service
            metadata:
              name: first
            --- # the second service
            apiVersion: v1
            kind: Service
            metadata:
              name: second
            ...
            ---
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: after-empty
            data:
              on: "yes"
              version: "1.10"
            """,
        // A key twice, as stable/kured's DaemonSet has restartPolicy twice.
        "daemonset.yaml": """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: kured
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: kured
                    image: kured:1.2
                  restartPolicy: Always
            """,
    ]

    /// The chart, with `crlf.yaml` written with CRLF line ends (and a CRLF file embedded
    /// through .Files.Get).
    static func writeChart(at directory: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try fm.createDirectory(at: directory.appendingPathComponent("files"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: patterns\nversion: 0.1.0\n".write(to: directory.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "extra: false\n".write(to: directory.appendingPathComponent("values.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in templates {
            try (text.hasSuffix("\n") ? text : text + "\n").write(to: directory.appendingPathComponent("templates/\(name)"), atomically: true, encoding: .utf8)
        }
        let crlf = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crlf\ndata:\n  app.conf: |\n{{ .Files.Get \"files/app.conf\" | indent 4 }}\n  plain: value\n"
        try crlf.replacingOccurrences(of: "\n", with: "\r\n").write(to: directory.appendingPathComponent("templates/crlf.yaml"), atomically: true, encoding: .utf8)
        try "[server]\r\nport = 8080\r\n".write(to: directory.appendingPathComponent("files/app.conf"), atomically: true, encoding: .utf8)
    }

    func fixture() throws -> (HLDFixture, String) {
        let fixture = try HLDFixture([
            "component.yaml": "name: cluster\nsubcomponents:\n- {name: patterns, type: helm, path: ./patterns}\n",
            "config/common.yaml": "subcomponents:\n  patterns: {namespace: apps}\n",
        ])
        try Self.writeChart(at: URL(fileURLWithPath: fixture.root).appendingPathComponent("patterns"))
        return (fixture, try findHelm())
    }

    func render(_ fixture: HLDFixture, helm: String, strict: Bool = false) async throws -> Materialization {
        var options = fixture.options([])
        options.helmPath = helm
        options.strict = strict
        return try await Materializer.render(options)
    }

    /// helm's own output for the chart, read by the YAML layer as one stream.
    func helmStream(_ fixture: HLDFixture, helm: String) throws -> (text: String, documents: [Node]) {
        let scratch = try TemporaryDirectory(prefix: "hld-helm-direct")
        let values = scratch.appending("values.yaml")
        try "{}\n".write(to: values, atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(helm, ["template", "patterns", fixture.root + "/patterns", "--namespace", "apps", "--values", values.path, "--include-crds"],
                                          environment: ChartRepositoryFixture.helmEnvironment(scratch))
        #expect(result.succeeded, "\(result.stderr)")
        return (result.stdout, try DocumentReader(text: result.stdout, duplicateKeys: .lastWins).readAll().filter { !$0.isNull })
    }

    @Test func documentsAreExactlyWhatTheYAMLGrammarReadsFromHelmsWholeStream() async throws {
        let (fixture, helm) = try fixture()
        let output = try await render(fixture, helm: helm)
        let text = try #require(output.text("patterns.yaml"))
        let ours = try Node.documents(in: text)
        let (helmText, theirs) = try helmStream(fixture, helm: helm)
        #expect(helmText.contains("\n    ---\n"), "the chart really embeds indented --- lines")
        // Value for value and type for type (Node equality compares resolved types).
        #expect(ours == theirs)
        #expect(ours.count == 9, "curator, clip, keep, strip, first, second, after-empty, kured, crlf; no empty or comment-only documents: \(ours.count)")

        func data(_ name: String) -> Node? { ours.first { $0["metadata"]?["name"]?.scalarText == name }?["data"] }
        #expect(data("patterns-curator")?["action_file.yml"]?.scalarText
                == "---\nactions:\n  1:\n    action: delete_indices\n    options:\n      ignore_empty_list: True\n---\n# a second document inside the file")
        #expect(data("patterns-curator")?["config.yml"]?.scalarText == "---\nclient:\n  hosts:\n    - elasticsearch\n")
        #expect(data("clip")?["values.yaml"]?.scalarText == "a: 1\nb: \"2\"\n", "a literal block keeps its final newline")
        #expect(data("strip")?["token"]?.scalarText == "abc")
        #expect(data("keep")?["script.sh"]?.scalarText?.hasPrefix("echo hi\n") == true)
        #expect(data("crlf")?["app.conf"]?.scalarText == "[server]\nport = 8080\n")
        #expect(data("crlf")?["plain"]?.scalarText == "value")
        #expect(data("after-empty")?["on"] == .string("yes"), "a quoted string stays a string")
        #expect(data("after-empty")?["version"] == .string("1.10"))

        // Every document keeps the template it came from.
        let sources = text.split(separator: "\n").filter { $0.hasPrefix("# Source: ") }.map { String($0.dropFirst("# Source: ".count)) }
        #expect(sources.count == ours.count)
        #expect(sources.filter { $0 == "patterns/patterns/templates/pair.yaml" }.count == 3)
        #expect(sources.contains("patterns/patterns/templates/curator.yaml"))
        #expect(sources.contains("patterns/patterns/templates/crlf.yaml"))
        #expect(text.contains("  values.yaml: |\n    a: 1\n    b: \"2\"\n"), "re-emitted with clip chomping, not |-")
    }

    @Test func aDuplicateKeyInTheOutputIsAWarningAndTheLastValueWins() async throws {
        let (fixture, helm) = try fixture()
        let output = try await render(fixture, helm: helm)
        let kured = try #require(try Node.documents(in: output.text("patterns.yaml") ?? "").first { $0["kind"]?.scalarText == "DaemonSet" })
        #expect(kured["spec"]?["template"]?["spec"]?["restartPolicy"]?.scalarText == "Always")
        #expect(kured["spec"]?["template"]?["spec"]?.pairs?.compactMap(\.key.scalarText) == ["restartPolicy", "containers"])

        // Lines are counted in helm's whole output.
        let (helmText, _) = try helmStream(fixture, helm: helm)
        // By bytes: in Swift "\r\n" is one Character, which a split at "\n" never sees.
        let lines = helmText.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let first = try #require(lines.firstIndex { $0.contains("restartPolicy: Never") }) + 1
        let second = try #require(lines.firstIndex { $0.contains("restartPolicy: Always") }) + 1
        #expect(fixture.diagnostics.warnings == [
            "patterns: duplicate key spec.template.spec.restartPolicy in patterns/templates/daemonset.yaml (lines \(first) and \(second) of helm's output); the last value is used, as in the cluster",
        ])

        let strict = try self.fixture().0
        await #expect(throws: HLDError("""
            --strict turns this warning into an error; nothing was written:
              patterns: duplicate key spec.template.spec.restartPolicy in patterns/templates/daemonset.yaml (lines \(first) and \(second) of helm's output); the last value is used, as in the cluster
            """)) {
            try await render(strict, helm: helm, strict: true)
        }
    }

    @Test func aChartYAMLWithAKeyTwiceRendersWithAWarning() async throws {
        // As stable/aws-cluster-autoscaler's Chart.yaml has `deprecated: true` twice: helm
        // accepts it, so hld reads it as helm does.
        let (fixture, helm) = try fixture()
        try "apiVersion: v2\nname: patterns\nversion: 0.1.0\ndeprecated: false\ndescription: x\ndeprecated: false\n"
            .write(toFile: fixture.root + "/patterns/Chart.yaml", atomically: true, encoding: .utf8)
        let output = try await render(fixture, helm: helm)
        #expect(output.resources["patterns.yaml"]?.count == 9)
        #expect(fixture.diagnostics.warnings.contains("patterns: duplicate key deprecated in ./patterns/Chart.yaml (lines 4 and 6); the last value is used"))
    }

    @Test func invalidYAMLInHelmsOutputNamesTheTemplate() async throws {
        // helm checks each template's YAML itself, so only a broken helm (or plugin) gets
        // here: a stand-in prints a stream whose second manifest is not YAML.
        let (fixture, _) = try fixture()
        let fake = fixture.scratch.appending("broken-helm")
        try "#!/bin/sh\n[ \"$1\" = version ] && { echo v3.19.0; exit 0; }\nprintf -- '---\\n# Source: patterns/templates/a.yaml\\nkind: ConfigMap\\n---\\n# Source: patterns/templates/b.yaml\\nkind: [broken\\n'\n"
            .write(to: fake, atomically: true, encoding: .utf8)
        chmod(fake.path, 0o755)
        await #expect {
            try await render(fixture, helm: fake.path)
        } throws: { error in
            "\(error)".hasPrefix("patterns: helm produced invalid YAML in patterns/templates/b.yaml: helm output of patterns:7:1: did not find expected ',' or ']'")
        }
    }
}

@Suite struct ManifestStreamTests {
    @Test func duplicateKeysInOwnInputsStayErrors() async throws {
        let component = try HLDFixture(["component.yaml": "name: x\nname: y\n"])
        #expect(await component.renderError([])?.description == "component.yaml:2:1: duplicate key \"name\"; it was first defined at 1:1\nname: y\n^")
        let config = try HLDFixture(["component.yaml": "name: x\n", "config/common.yaml": "config:\n  a: 1\n  a: 2\n"])
        #expect(await config.renderError([])?.description == "config/common.yaml:3:3: duplicate key \"a\"; it was first defined at 2:3\n  a: 2\n  ^")
    }

    @Test func aDuplicateKeyInAStaticManifestIsAWarning() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: x\ntype: static\npath: ./manifests\n",
            "manifests/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one\n  k: two\n",
        ])
        let output = try await fixture.render([])
        #expect(try Node.documents(in: output.text("x.yaml") ?? "").first?["data"]?["k"]?.scalarText == "two")
        #expect(fixture.diagnostics.warnings.count == 1)
        #expect(fixture.diagnostics.warnings.first?.hasPrefix("x: duplicate key data.k in ") == true)
        #expect(fixture.diagnostics.warnings.first?.hasSuffix("manifests/a.yaml (lines 6 and 7); the last value is used, as in the cluster") == true)
    }
}

/// A `# Source:` comment ends where YAML ends it: at any line break, not only at LF.
@Suite struct HelmSourceCommentTests {
    @Test(arguments: ["\u{2028}", "\u{2029}", "\u{85}", "\r"])
    func theTemplateNameEndsAtAnyLineBreak(_ lineBreak: String) throws {
        let stream = Array("# Source: chart/templates/a.yaml\(lineBreak)b: 1\nc: 2\n".utf8)
        let origin = ManifestStream.Origin(component: "web", file: "helm output of web", source: "web", helmTemplates: true)
        let documents = try ManifestStream.documents(stream, origin, diagnostics: CollectedDiagnostics())
        #expect(documents.map(\.source) == ["web/chart/templates/a.yaml"])
        // The text after the break is part of the document, and hld's output keeps it so.
        let written = try OutputLayout.text(of: documents)
        let again = try ManifestStream.documents(written, ManifestStream.Origin(component: "web", file: "output", source: "web"),
                                                 diagnostics: CollectedDiagnostics())
        #expect(again.map(\.node) == documents.map(\.node))
        #expect(documents.first?.node.pairs?.map { $0.key.scalarText } == ["b", "c"])
    }

    /// Found by the helm-output fuzz target: libyaml counts these breaks as lines inside
    /// a value too, so the documents after one were attributed to the wrong template.
    @Test(arguments: ["\u{2028}", "\u{2029}", "\u{85}", "\r"])
    func aLineBreakInsideAValueKeepsTheNextDocumentsTemplate(_ lineBreak: String) throws {
        let stream = Array("---\n# Source: chart/templates/a.yaml\nnote: 'x\(lineBreak)\(lineBreak)y'\n---\n# Source: chart/templates/b.yaml\nkind: B\n".utf8)
        let origin = ManifestStream.Origin(component: "web", file: "helm output of web", source: "web", helmTemplates: true)
        let documents = try ManifestStream.documents(stream, origin, diagnostics: CollectedDiagnostics())
        #expect(documents.map(\.source) == ["web/chart/templates/a.yaml", "web/chart/templates/b.yaml"])
    }
}
