import Foundation
import Testing
import TestSupport
import YAML
@testable import HLD

/// Diagnostics do not depend on scheduling: warnings come in tree order and every
/// failing component is reported, the same with one job or eight.
@Suite(.timeLimit(.minutes(10))) struct DiagnosticsOrderTests {
    /// Eight static siblings, each with a warning of its own; two of them broken when
    /// `broken` (a missing directory, an invalid manifest).
    func fixture(broken: Bool) throws -> HLDFixture {
        var files = ["component.yaml": "name: cluster\nsubcomponents:\n" + (0..<8).map { "- {name: c\($0), source: ./c\($0)}\n" }.joined()]
        for index in 0..<8 {
            files["c\(index)/component.yaml"] = "name: c\(index)\ntype: static\npath: ./m\nnote\(index): ignored\n"
            files["c\(index)/m/a.yaml"] = manifest("ConfigMap", "c\(index)") + "data:\n  k: one\n  k: two\n"
        }
        if broken {
            files["c2/component.yaml"] = "name: c2\ntype: static\npath: ./missing\n"
            files["c6/m/a.yaml"] = "kind: [unclosed\n"
        }
        return try HLDFixture(files)
    }

    func outcome(_ fixture: HLDFixture, jobs: Int) async -> (error: String?, warnings: [String]) {
        let diagnostics = CollectedDiagnostics()
        var options = fixture.options([], jobs: jobs)
        options.diagnostics = diagnostics
        do {
            _ = try await Materializer.render(options)
            return (nil, diagnostics.warnings)
        } catch {
            return ("\(error)", diagnostics.warnings)
        }
    }

    @Test func twoBrokenSiblingsAreBothReportedInTreeOrderWhateverTheJobs() async throws {
        let fixture = try fixture(broken: true)
        var seen = Set<String>()
        for jobs in [1, 8] {
            for _ in 0..<10 {
                let (error, _) = await outcome(fixture, jobs: jobs)
                seen.insert(error ?? "no error")
            }
        }
        #expect(seen.count == 1, "\(seen)")
        let error = try #require(seen.first)
        let lines = error.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first == "c2/component.yaml:3:7: c2/c2: the static manifest directory missing does not exist")
        #expect(lines.last?.hasPrefix("c6/c6: invalid YAML: ") == true)
    }

    @Test func warningsComeInTreeOrderWhateverTheJobs() async throws {
        let fixture = try fixture(broken: false)
        var seen = Set<[String]>()
        for jobs in [1, 8] {
            for _ in 0..<10 { seen.insert(await outcome(fixture, jobs: jobs).warnings) }
        }
        #expect(seen.count == 1)
        let warnings = try #require(seen.first)
        #expect(warnings.count == 16)
        // Each component's own warnings together, components in definition order.
        for index in 0..<8 {
            #expect(warnings[2 * index] == "c\(index)/component.yaml:4:1: unknown field note\(index) is ignored")
            #expect(warnings[2 * index + 1].hasPrefix("c\(index)/c\(index): duplicate key data.k in "))
        }
    }

    @Test func aFailureStillShowsTheWarningsBeforeIt() async throws {
        let fixture = try fixture(broken: true)
        let (error, warnings) = await outcome(fixture, jobs: 4)
        #expect(error != nil)
        #expect(warnings.contains("c0/component.yaml:4:1: unknown field note0 is ignored"))
    }
}
