import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// The resolve stage on its own (`Materializer.resolve`) and the resolved tree `hld tree`
/// shows.
@Suite(.timeLimit(.minutes(3))) struct ComponentTreeTests {
    @Test func resolvingRunsNoHookAndRecordsDisabledEntries() async throws {
        let fixture = try HLDFixture([
            "component.yaml": """
                name: root
                hooks:
                  before-install: [touch ../install-ran]
                  before-generate: [touch ../generate-ran]
                subcomponents:
                - name: kept
                  type: static
                  path: ./m
                - name: off
                  type: static
                  path: ./m
                - name: later
                  source: ./later

                """,
            "m/a.yaml": manifest("ConfigMap", "a"),
            "later/component.yaml": "name: later\nsubcomponents:\n- name: deep\n  type: static\n  path: ../m\n",
            "config/prod.yaml": "subcomponents:\n  off:\n    disabled: true\n  later:\n    subcomponents:\n      deep:\n        disabled: true\n",
        ])
        let resolution = try await Materializer.resolve(fixture.options(["prod"]))
        #expect(resolution.environments == ["prod"])
        #expect(resolution.tree.flattened.map(\.componentPath) == ["root", "kept", "later/later"])
        #expect(resolution.tree.disabledSubcomponents.map(\.entry.name) == ["off"])
        #expect(resolution.tree.disabledSubcomponents.map(\.index) == [1])
        #expect(resolution.tree.children[1].disabledSubcomponents.map(\.componentPath) == ["later/deep"])
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch.appending("install-ran").path))
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch.appending("generate-ran").path))
        // Materialize output is as before: the disabled entries render nothing.
        #expect(try await fixture.render(["prod"]).files.map(\.path) == ["kept.yaml"])
        #expect(try await fixture.render([]).files.map(\.path) == ["kept.yaml", "off.yaml", "later/deep.yaml"])
    }
}
