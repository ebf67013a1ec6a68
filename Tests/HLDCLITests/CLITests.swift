import Foundation
import Testing
import TestSupport

/// The `hld` binary as a user runs it.
@Suite struct CLITests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `hld` built next to this test bundle (or `$HLD_BINARY`).
    static var binary: URL { hldBinary }

    func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        // stderr goes to a file so that only one pipe needs draining while the child runs.
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("hld-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = try Data(contentsOf: errFile)
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func temporaryFile(_ name: String, _ contents: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hld-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(name)
        try contents.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func versionNamesHldAndBothLibraries() throws {
        let result = try run(["version"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("hld 0."))
        #expect(lines[1].hasPrefix("libyaml 0.2."))
        #expect(lines[2].hasPrefix("libgit2 1."))
        #expect(lines[3].hasPrefix("git fetches: shallow, only the refs needed") || lines[3].hasPrefix("git fetches: full mirrors ("), "\(lines)")
    }

    @Test func fmtRewritesManifestsCanonically() throws {
        let file = try temporaryFile("in.yaml", """
            kind: ConfigMap
            metadata: {name: demo}
            data: {enabled: "yes", script: "echo hi\\necho bye\\n", list: [a, b]}
            ---
            {"kind": "Namespace", "metadata": {"name": "web"}}
            """)
        let result = try run(["fmt", file.path])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == """
            ---
            kind: ConfigMap
            metadata:
              name: demo
            data:
              enabled: "yes"
              script: |
                echo hi
                echo bye
              list:
              - a
              - b
            ---
            kind: Namespace
            metadata:
              name: web

            """)
    }

    @Test func fmtReportsTheLocationAndWritesNothing() throws {
        let good = try temporaryFile("good.yaml", "a: 1\n")
        let bad = try temporaryFile("bad.yaml", "a: 1\nb: x\n  c: 3\n")
        let result = try run(["fmt", good.path, bad.path])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == """
            error: \(bad.path):3:4: mapping values are not allowed in this context
              c: 3
               ^

            """)
    }

    @Test func usageErrorsExitWith64() throws {
        let result = try run(["no-such-command"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Unexpected argument 'no-such-command'"))
    }
}
