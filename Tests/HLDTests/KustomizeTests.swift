import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// A Kustomize base/overlays layout like the seed design, built by hld and by the real
/// kustomize (kubectl kustomize or kustomize).
@Suite(.timeLimit(.minutes(10))) struct KustomizeTests {
    static let files: [String: String] = [
        "component.yaml": """
            name: shop
            subcomponents:
            - {name: app, type: kustomize, path: ./deploy/overlays/staging}
            - {name: app-prod, type: kustomize, path: ./deploy/overlays/production}
            """,
        "deploy/base/kustomization.yaml": "resources:\n- deployment.yaml\n- service.yaml\n",
        "deploy/base/deployment.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app, labels: {app: app}}
            spec:
              replicas: 1
              selector: {matchLabels: {app: app}}
              template:
                metadata: {labels: {app: app}}
                spec:
                  containers:
                  - name: app
                    image: app:PLACEHOLDER
                    env: [{name: MODE, value: base}]
            """,
        "deploy/base/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec:\n  selector: {app: app}\n  ports: [{port: 80}]\n",
        "deploy/overlays/staging/kustomization.yaml": """
            resources: [../../base]
            patches:
            - target: {kind: Deployment, name: app}
              patch: |-
                - {op: replace, path: /spec/replicas, value: 2}
                - {op: replace, path: /spec/template/spec/containers/0/env/0/value, value: staging}
            """,
        "deploy/overlays/production/kustomization.yaml": """
            resources: [../../base]
            patches:
            - target: {kind: Deployment, name: app}
              patch: |-
                - {op: replace, path: /spec/replicas, value: 5}
                - {op: replace, path: /spec/template/spec/containers/0/env/0/value, value: production}
            """,
        "config/common.yaml": "{}\n",
    ]

    /// kustomize, or kubectl, as hld would find it on PATH.
    static func kustomize() throws -> (String, [String]) {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let tool = path.map({ "\($0)/kustomize" }).first(where: FileManager.default.isExecutableFile) { return (tool, ["build"]) }
        if let tool = path.map({ "\($0)/kubectl" }).first(where: FileManager.default.isExecutableFile) { return (tool, ["kustomize"]) }
        throw LoopbackServerError("neither kustomize nor kubectl on PATH: run scripts/bootstrap")
    }

    func direct(_ directory: String) throws -> [Node] {
        let (tool, prefix) = try Self.kustomize()
        let result = try ChildProcess.run(tool, prefix + [directory], environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        #expect(result.succeeded, "\(result.stderr)")
        return try Node.documents(in: result.stdout).filter { !$0.isNull }
    }

    @Test func overlaysRenderAsKustomizeDoesAndImagesChangeOnlyTheTag() async throws {
        let fixture = try HLDFixture(Self.files)
        let output = try await fixture.render([])
        #expect(try Node.documents(in: output.text("app.yaml") ?? "") == (try direct(fixture.root + "/deploy/overlays/staging")))
        #expect(try Node.documents(in: output.text("app-prod.yaml") ?? "") == (try direct(fixture.root + "/deploy/overlays/production")))

        try fixture.write(["config/prod.yaml": "subcomponents:\n  app-prod:\n    config:\n      images:\n        app: {newTag: \"1.10\"}\n"])
        let promoted = try await fixture.render(["prod"])
        let before = try Node.documents(in: output.text("app-prod.yaml") ?? "")
        let after = try Node.documents(in: promoted.text("app-prod.yaml") ?? "")
        #expect(after.count == before.count)
        #expect(after[1]["spec"]?["template"]?["spec"]?["containers"]?.sequence?.first?["image"]?.scalarText == "app:1.10")
        // Everything else is as before: put the old image back and compare.
        let restored = try Node.documents(in: (promoted.text("app-prod.yaml") ?? "").replacingOccurrences(of: "image: app:1.10", with: "image: app:PLACEHOLDER"))
        #expect(restored == before)
        #expect(promoted.text("app-prod.yaml")?.contains("image: app:1.10") == true, "a tag that YAML would read as a number is not retyped")
        #expect(promoted.text("app.yaml") == output.text("app.yaml"), "staging is untouched")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/deploy/overlays/production/kustomization.yaml.orig"))
        #expect(try String(contentsOfFile: fixture.root + "/deploy/overlays/production/kustomization.yaml", encoding: .utf8) == Self.files["deploy/overlays/production/kustomization.yaml"])
    }

    @Test func namespaceAndNewNameThroughTheOverlay() async throws {
        let fixture = try HLDFixture(Self.files)
        try fixture.write(["config/common.yaml": "subcomponents:\n  app:\n    namespace: shop\n    config:\n      images:\n        app: {newName: registry.example.com/app, digest: \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}\n"])
        let documents = try Node.documents(in: try await fixture.render([]).text("app.yaml") ?? "")
        #expect(documents.allSatisfy { $0["metadata"]?["namespace"]?.scalarText == "shop" })
        #expect(documents[1]["spec"]?["template"]?["spec"]?["containers"]?.sequence?.first?["image"]?.scalarText
                == "registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    }

    @Test func aMissingKustomizationIsNamed() async throws {
        let fixture = try HLDFixture(["component.yaml": "name: shop\nsubcomponents:\n- {name: app, type: kustomize, path: ./nothing}\n", "nothing/readme.md": "x"])
        #expect(await fixture.renderError([])?.description == "component.yaml:3:38: app: no kustomization.yaml in ./nothing")
    }
}
