import Foundation
import Testing
import Git

@Suite struct LibGit2Tests {
    @Test func reportsTheRuntimeVersionAndFeatures() {
        let parts = LibGit2.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts.first == 1, "hld is written against libgit2 1.x")
        #expect(LibGit2.features.contains("threads"))
    }

    @Test func configurationCanBeIsolatedFromTheUser() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hld-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try LibGit2.isolateConfiguration(in: dir.path)
        #expect(try LibGit2.globalConfigSearchPath() == dir.path)
    }
}
