import Foundation
import Testing
import TestSupport
@testable import HLD

/// The bundled example (hld-examples/), copied to a scratch directory.
@Suite(.timeLimit(.minutes(10))) struct ExampleTests {
    /// A copy of the example with its application repositories set up.
    func example() throws -> TemporaryDirectory { try ExampleCopy.make().0 }


    @Test func materializingIsDeterministicAcrossJobsAndDirectories() async throws {
        let first = try example()
        let second = try example()
        var trees: [[String: Data]] = []
        for (scratch, jobs) in [(first, 1), (second, 8)] {
            let cluster = scratch.appending("hld-examples/cluster").path
            let output = scratch.appending("out").path
            for environment in ["dev", "stage", "prod"] {
                let options = MaterializeOptions(directory: cluster, environments: [environment], jobs: jobs, cacheRoot: scratch.appending("cache"),
                                                 processEnvironment: [:], diagnostics: CollectedDiagnostics())
                try Materializer.write(try await Materializer.render(options), to: output)
            }
            trees.append(try fileContents(under: output))
        }
        #expect(trees[0] == trees[1])
        #expect(trees[0].keys.sorted() == [
            "dev/cat/cat.yaml", "dev/dog/dog.yaml", "dev/infra/metrics.yaml", "dev/infra/namespaces.yaml", "dev/shop.yaml",
            "prod/cat/cat.yaml", "prod/dog/dog.yaml", "prod/infra/metrics.yaml", "prod/infra/monitoring.yaml", "prod/infra/namespaces.yaml", "prod/shop.yaml",
            "stage/cat/cat.yaml", "stage/dog/dog.yaml", "stage/infra/metrics.yaml", "stage/infra/monitoring.yaml", "stage/infra/namespaces.yaml", "stage/shop.yaml",
        ])
        // The shop's image tag is what each environment pins; the metrics chart gets prod's values.
        for (environment, tag) in [("dev", "1.5.0-rc.1"), ("stage", "1.4.2"), ("prod", "1.4.1")] {
            let shop = String(decoding: trees[0]["\(environment)/shop.yaml"] ?? Data(), as: UTF8.self)
            #expect(shop.contains("image: registry.example.com/pets/shop:\(tag)\n"), "\(environment)")
            #expect(shop.contains("namespace: pets"))
        }
        let metrics = String(decoding: trees[0]["prod/infra/metrics.yaml"] ?? Data(), as: UTF8.self)
        #expect(metrics.contains("  replicas: 3\n") && metrics.contains("retention: 30d") && metrics.contains("namespace: monitoring"))
        let prodCat = String(decoding: trees[0]["prod/cat/cat.yaml"] ?? Data(), as: UTF8.self)
        #expect(prodCat.contains("image: registry.example.com/pets/cat:1.1.4"))
        #expect(prodCat.contains("value: \"off\""), "a string that YAML 1.1 reads as a boolean stays quoted")
        let devCat = String(decoding: trees[0]["dev/cat/cat.yaml"] ?? Data(), as: UTF8.self)
        #expect(devCat.contains("image: registry.example.com/pets/cat:1.3.0-rc.2"))
    }
}
