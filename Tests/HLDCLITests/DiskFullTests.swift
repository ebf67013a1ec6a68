import Foundation
import Testing
import TestSupport

/// A full disk under the output and under the cache (small tmpfs mounts): a clear error
/// naming the path, nothing half-written, the previous output intact, and the next run
/// with room succeeds.
@Suite(.timeLimit(.minutes(10)), .serialized) struct DiskFullTests {
    /// A tmpfs of `size` mounted at a new directory, unmounted when released.
    final class SmallDisk: Sendable {
        let path: String

        init(at path: String, size: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let mounted = try ChildProcess.run("mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path], environment: DiskFullTests.environment)
            guard mounted.succeeded else { throw LoopbackServerError("mount tmpfs at \(path): \(mounted.stderr)") }
            self.path = path
        }

        deinit { _ = try? ChildProcess.run("umount", ["-l", path], environment: DiskFullTests.environment) }
    }

    static let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin" + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? ""), "HOME": NSTemporaryDirectory()]

    /// Mounting needs root (and a kernel that lets this namespace mount).
    static let canMount: Bool = {
        guard getuid() == 0, let scratch = try? TemporaryDirectory(prefix: "hld-mount-probe") else { return false }
        return (try? SmallDisk(at: scratch.appending("disk").path, size: "64k")) != nil
    }()

    /// Files whose names mark them as hld's temporaries.
    static func leftovers(under root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).filter { $0.contains(".tmp-") }
    }

    /// A project of one static component; `bytes` of data in its ConfigMap.
    static func project(at root: String, bytes: Int) throws {
        try FileManager.default.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try "name: cluster\ntype: static\npath: ./m\n".write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
        let data = String(repeating: "x", count: bytes)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: \(data)\n".write(toFile: root + "/m/big.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n".write(toFile: root + "/m/small.yaml", atomically: true, encoding: .utf8)
    }

    func hld(_ arguments: [String], in root: String) throws -> ChildProcess.CommandResult {
        try ChildProcess.run(hldBinary.path, ["-C", root] + arguments, environment: Self.environment)
    }

    @Test(.enabled(if: canMount, "mounting a tmpfs needs root")) func aFullOutputDiskKeepsThePreviousOutput() async throws {
        try await onOwnThread {
            let scratch = try TemporaryDirectory(prefix: "hld-disk-full")
            let root = scratch.appending("hld").path
            let disk = try SmallDisk(at: scratch.appending("out").path, size: "128k")
            let output = disk.path + "/generated"
            let cache = scratch.appending("cache").path
            try Self.project(at: root, bytes: 10_000)
            let first = try hld(["materialize", "--cache-dir", cache, "--output-dir", output], in: root)
            #expect(first.succeeded, "\(first.stderr)")
            let before = try fileContents(under: output)
            #expect(before.count == 1)

            // The new render does not fit beside the old one.
            try Self.project(at: root, bytes: 200_000)
            let full = try hld(["materialize", "--cache-dir", cache, "--output-dir", output], in: root)
            #expect(full.termination == .exited(1))
            let error = full.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(error.hasPrefix("error: ") && error.contains(output) && error.contains("No space left on device"), "\(full.stderr)")
            #expect(full.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1, "one error, not a cascade: \(full.stderr)")
            #expect(try fileContents(under: output) == before, "the previous output is intact")
            #expect(Self.leftovers(under: disk.path).isEmpty, "\(Self.leftovers(under: disk.path))")

            // With room again, the same run succeeds.
            try Self.project(at: root, bytes: 100_000)
            let roomy = try hld(["materialize", "--cache-dir", cache, "--output-dir", output], in: root)
            #expect(roomy.succeeded, "\(roomy.stderr)")
            #expect(try fileContents(under: output).values.contains { $0.count > 100_000 })
        }
    }

    @Test(.enabled(if: canMount, "mounting a tmpfs needs root")) func aFullCacheDiskFailsCleanly() async throws {
        try await onOwnThread {
            let scratch = try TemporaryDirectory(prefix: "hld-cache-full")
            let root = scratch.appending("hld").path
            let disk = try SmallDisk(at: scratch.appending("cache").path, size: "256k")
            // A git repository bigger than the cache disk: the mirror cannot be written.
            let work = try FixtureRepository.create(at: scratch.appending("work"))
            for index in 0..<40 {
                // Random bytes (hex) so that git cannot compress them away.
                let blob = (0..<4_000).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
                try work.write("deploy/manifests/f\(index).yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\(index)\ndata:\n  blob: \(blob)\n")
            }
            try work.write("deploy/component.yaml", "name: app\ntype: static\npath: ./manifests\n")
            try work.commit("big")
            try work.publishBare(into: scratch.appending("served"), name: "app")
            let daemon = try GitDaemon(root: scratch.appending("served"))
            defer { daemon.stop() }
            try FileManager.default.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
            try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n".write(toFile: root + "/m/small.yaml", atomically: true, encoding: .utf8)
            try "name: cluster\nsubcomponents:\n- {name: local, type: static, path: ./m}\n".write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
            let first = try hld(["materialize", "--cache-dir", disk.path], in: root)
            #expect(first.succeeded, "\(first.stderr)")
            let before = try fileContents(under: root + "/generated")

            try "name: cluster\nsubcomponents:\n- {name: local, type: static, path: ./m}\n- {name: app, method: git, source: \"\(daemon.url(for: "app.git"))\", path: deploy}\n"
                .write(toFile: root + "/component.yaml", atomically: true, encoding: .utf8)
            let full = try hld(["materialize", "--cache-dir", disk.path], in: root)
            #expect(full.termination == .exited(1))
            #expect(full.stderr.contains("error: ") && full.stderr.contains(disk.path) && full.stderr.contains(": the disk is full ("), "\(full.stderr)")
            #expect(full.stderr.contains("No space left on device") && !full.stderr.contains("authentication"), "\(full.stderr)")
            #expect(try fileContents(under: root + "/generated") == before, "the previous output is intact")
            #expect(Self.leftovers(under: disk.path).isEmpty, "\(Self.leftovers(under: disk.path))")

            // A cache with room: the run succeeds and renders the repository.
            let roomy = try hld(["materialize", "--cache-dir", scratch.appending("roomy").path], in: root)
            #expect(roomy.succeeded, "\(roomy.stderr)")
            #expect(try fileContents(under: root + "/generated").values.contains { $0.count > 2_000_000 })
        }
    }
}
