import Foundation
@testable import HLD
import TestSupport
import YAML

/// An HLD written to a temporary directory for one test.
final class HLDFixture: Sendable {
    let scratch: TemporaryDirectory
    let diagnostics = CollectedDiagnostics()

    init(_ files: [String: String]) throws {
        scratch = try TemporaryDirectory(prefix: "hld-fixture")
        try write(files)
    }

    var root: String { scratch.appending("hld").path }
    var cache: URL { scratch.appending("cache") }

    func write(_ files: [String: String]) throws {
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    func options(_ environments: [String], jobs: Int = 4, offline: Bool = false, allowHooks: Bool = false,
                 runner: any ProcessRunner = SubprocessRunner()) -> MaterializeOptions {
        MaterializeOptions(directory: root, environments: environments, jobs: jobs, offline: offline, cacheRoot: cache,
                           allowHooks: allowHooks, processEnvironment: [:], runner: runner, diagnostics: diagnostics)
    }

    func render(_ environments: [String], jobs: Int = 4, offline: Bool = false, allowHooks: Bool = false) async throws -> Materialization {
        try await Materializer.render(options(environments, jobs: jobs, offline: offline, allowHooks: allowHooks))
    }

    /// The error a render fails with.
    func renderError(_ environments: [String], offline: Bool = false, allowHooks: Bool = false) async -> HLDError? {
        do {
            _ = try await render(environments, offline: offline, allowHooks: allowHooks)
            return nil
        } catch let error as HLDError {
            return error
        } catch {
            return HLDError("unexpected \(error)")
        }
    }
}

extension Materialization {
    /// Output path → the resources in it, as `kind/name` (documents in order).
    var resources: [String: [String]] {
        var result: [String: [String]] = [:]
        for file in files {
            let documents = (try? Node.documents(in: String(decoding: file.bytes, as: UTF8.self))) ?? []
            result[file.path] = documents.map { "\($0["kind"]?.scalarText ?? "?")/\($0["metadata"]?["name"]?.scalarText ?? "?")" }
        }
        return result
    }

    func text(_ path: String) -> String? {
        files.first { $0.path == path }.map { String(decoding: $0.bytes, as: UTF8.self) }
    }
}

/// A manifest with a kind and a name.
func manifest(_ kind: String, _ name: String, namespace: String? = nil) -> String {
    "apiVersion: v1\nkind: \(kind)\nmetadata:\n  name: \(name)\n" + (namespace.map { "  namespace: \($0)\n" } ?? "")
}
