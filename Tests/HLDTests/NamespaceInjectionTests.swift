import Testing
import YAML
@testable import HLD

@Suite struct NamespaceInjectionTests {
    @Test(arguments: [
        ("kind: Deployment\nmetadata:\n  name: web\n  labels: {a: b}\n", "kind: Deployment\nmetadata:\n  name: web\n  namespace: team\n  labels:\n    a: b\n"),
        ("kind: Service\nmetadata:\n  name: web\n  namespace: own\n", "kind: Service\nmetadata:\n  name: web\n  namespace: own\n"),
        ("kind: ConfigMap\nmetadata:\n  name: c\n  namespace:\n", "kind: ConfigMap\nmetadata:\n  name: c\n  namespace: team\n"),
        ("kind: Namespace\nmetadata:\n  name: team\n", "kind: Namespace\nmetadata:\n  name: team\n"),
        ("kind: ClusterRole\nmetadata:\n  name: r\n", "kind: ClusterRole\nmetadata:\n  name: r\n"),
        ("kind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\n", "kind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\n"),
        ("kind: Widget\nmetadata:\n  name: w\n", "kind: Widget\nmetadata:\n  name: w\n  namespace: team\n"),
        ("kind: Deployment\nspec: {}\n", "kind: Deployment\nspec: {}\n"),
        ("- not a resource\n", "- not a resource\n"),
    ])
    func stampsOnlyNamespacedResources(input: String, expected: String) throws {
        #expect(try NamespaceInjection.apply("team", to: Node.document(in: input)).yaml() == expected)
    }

    @Test func appliedToStaticComponentsWhenAsked() async throws {
        let fixture = try HLDFixture([
            "component.yaml": "name: root\nsubcomponents:\n- name: app\n  type: static\n  path: ./m\n",
            "m/all.yaml": manifest("Deployment", "web") + "---\n" + manifest("Namespace", "team") + "---\n" + manifest("Service", "kept", namespace: "other"),
            "config/common.yaml": "subcomponents:\n  app:\n    namespace: team\n    injectNamespace: true\n",
            "config/plain.yaml": "subcomponents:\n  app:\n    namespace: team\n",
        ])
        let injected = try await fixture.render([])
        let documents = try Node.documents(in: injected.text("app.yaml") ?? "")
        #expect(documents.map { $0["metadata"]?["namespace"]?.scalarText } == ["team", nil, "other"])
        // namespace without injectNamespace in the same layer: nothing is stamped.
        let plain = try Node.documents(in: try await fixture.render(["plain"]).text("app.yaml") ?? "")
        #expect(plain.map { $0["metadata"]?["namespace"]?.scalarText } == [nil, nil, "other"])
    }
}
