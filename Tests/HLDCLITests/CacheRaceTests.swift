import Foundation
import Testing
import TestSupport

/// Two `hld` processes on one cache at the same time (SPEC §2: entries are locked, so
/// concurrent processes share the cache safely).
@Suite(.timeLimit(.minutes(10))) struct CacheRaceTests {
    static var environment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    func sha256(_ path: String) throws -> String {
        let result = try ChildProcess.run("sha256sum", [path], environment: Self.environment)
        return String(result.stdout.prefix(64))
    }

    @Test func twoProcessesRacingOnAChartArchiveAndARenderShareOneDownload() throws {
        let scratch = try TemporaryDirectory(prefix: "hld-race")
        // The helm of the run ($HLD_HELM in the Helm 4 pass), for packaging and for hld.
        let helm = try findHelm()
        let helmEnvironment = Self.environment.merging(["HELM_CACHE_HOME": scratch.appending("h").path, "HELM_CONFIG_HOME": scratch.appending("h").path,
                                                        "HELM_DATA_HOME": scratch.appending("h").path]) { $1 }
        // A chart big enough that a download takes a moment.
        let chart = scratch.appending("web")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "apiVersion: v2\nname: web\nversion: 1.0.0\n".write(to: chart.appendingPathComponent("Chart.yaml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n".write(to: chart.appendingPathComponent("templates/cm.yaml"), atomically: true, encoding: .utf8)
        var noise = ""
        for index in 0..<20_000 { noise += "# \(index) \(UUID().uuidString)\n" }
        try noise.write(to: chart.appendingPathComponent("templates/NOTES.txt"), atomically: true, encoding: .utf8)
        let repo = scratch.appending("repo")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        #expect(try ChildProcess.run(helm, ["package", chart.path, "--destination", repo.path], environment: helmEnvironment).succeeded)
        #expect(try ChildProcess.run(helm, ["repo", "index", repo.path], environment: helmEnvironment).succeeded)
        let server = try StaticFileServer(root: repo)
        defer { server.stop() }

        var projects: [URL] = []
        for name in ["a", "b"] {
            let project = scratch.appending(name)
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            try "name: cluster\nsubcomponents:\n- {name: web, type: helm, method: helm, source: \"http://127.0.0.1:\(server.port)\", path: web, version: 1.0.0}\n"
                .write(to: project.appendingPathComponent("component.yaml"), atomically: true, encoding: .utf8)
            projects.append(project)
        }
        let cache = scratch.appending("cache").path
        let children = try projects.map { project in
            try ChildProcess(executable: hldBinary.path, arguments: ["materialize", "-C", project.path, "--cache-dir", cache],
                             environment: Self.environment.merging(["HLD_HELM": helm]) { $1 },
                             stderrPath: project.appendingPathComponent("stderr.log").path)
        }
        for (child, project) in zip(children, projects) {
            #expect(child.waitForExit(timeout: .seconds(120)) == .exited(0), "\(child.stderrLog())")
            #expect(FileManager.default.fileExists(atPath: project.appendingPathComponent("generated/common/web.yaml").path))
        }
        let first = try String(contentsOf: projects[0].appendingPathComponent("generated/common/web.yaml"), encoding: .utf8)
        #expect(try String(contentsOf: projects[1].appendingPathComponent("generated/common/web.yaml"), encoding: .utf8) == first)
        #expect(server.requests().filter { $0.hasSuffix(".tgz") } == ["/web-1.0.0.tgz"], "one download: \(server.requests())")

        // Every entry verifies: the archive by its name, each render by its checksum header.
        let archives = try FileManager.default.contentsOfDirectory(atPath: cache + "/helm/charts").filter { $0.hasSuffix(".tgz") }
        #expect(archives.count == 1)
        for archive in archives { #expect(try sha256(cache + "/helm/charts/" + archive) + ".tgz" == archive) }
        let renders = try FileManager.default.contentsOfDirectory(atPath: cache + "/renders").filter { !$0.hasSuffix(".lock") && !$0.hasSuffix(".use") && !$0.contains(".tmp-") }
        #expect(!renders.isEmpty)
        for render in renders {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: cache + "/renders/" + render))
            let newline = try #require(bytes.firstIndex(of: 0x0A))
            let body = scratch.appending("body")
            try bytes[(newline + 1)...].write(to: body)
            #expect(String(decoding: bytes[..<newline], as: UTF8.self) == "hld-verified sha256=" + (try sha256(body.path)))
        }
    }
}
