#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Git

/// The cache against real repositories served on 127.0.0.1: local paths, file://, git://
/// (git daemon) and smart HTTP (git http-backend).
@Suite(.timeLimit(.minutes(10)))
struct MirrorCacheTests {
    /// A scratch area: a served root, a cache root and a fixture `app` with a chart folder,
    /// a tag and an annotated tag, published as `app.git`.
    final class World: Sendable {
        let scratch: TemporaryDirectory
        let served: URL
        let fixture: FixtureRepository
        let first: String
        let second: String

        init(defaultBranch: String = "main") throws {
            scratch = try TemporaryDirectory()
            served = scratch.appending("served")
            fixture = try FixtureRepository.create(at: scratch.appending("work"), defaultBranch: defaultBranch)
            try fixture.write("charts/app/Chart.yaml", "name: app\nversion: 1.0.0\n")
            try fixture.write("charts/app/templates/cm.yaml", "kind: ConfigMap\n")
            try fixture.write("component.yaml", "name: app\n")
            try fixture.symlink("outside", to: "/etc")
            try fixture.symlink("charts/link-up", to: "../charts/app")
            try fixture.symlink("escape", to: "../../..")
            first = try fixture.commit("first")
            try fixture.tag("v1.0.0")
            try fixture.write("component.yaml", "name: app\nsubcomponents: []\n")
            second = try fixture.commit("second")
            try fixture.tag("v2.0.0", annotated: true)
            try fixture.publishBare(into: served, name: "app")
        }

        var bare: String { served.appendingPathComponent("app.git").path }

        func cache(offline: Bool = false, credentials: GitCredentials = GitCredentials(environment: [:], sshKeyFiles: []),
                   rewrites: URLRewrites = URLRewrites()) throws(GitSourceError) -> MirrorCache {
            try MirrorCache(options: MirrorCacheOptions(root: scratch.appending("cache"), offline: offline, credentials: credentials, rewrites: rewrites))
        }

        func publish() throws { try fixture.publishBare(into: served, name: "app") }
    }

    @discardableResult
    func expectError(_ kind: GitSourceError.Kind, _ body: () async throws(GitSourceError) -> Void) async -> GitSourceError? {
        do {
            try await body()
            Issue.record("expected a \(kind) error")
            return nil
        } catch {
            #expect(error.kind == kind, "\(error)")
            #expect(!error.description.contains("\n"), "one line: \(error)")
            return error
        }
    }

    @Test func everyTransportResolvesAndExportsTheSameTree() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let daemon = try GitDaemon(root: world.served)
        defer { daemon.stop() }
        let http = try SmartHTTPServer(root: world.served)
        defer { http.stop() }
        let cache = try world.cache()
        var sources: [ResolvedSource] = []
        for url in [world.bare, "file://" + world.bare, daemon.url(for: "app.git"), http.url(for: "app.git")] {
            sources.append(try await cache.source(try GitURL(url), .defaultBranch, path: "charts/app"))
        }
        #expect(Set(sources.map(\.commit.hex)) == [world.second])
        #expect(Set(sources.map(\.tree)).count == 1)
        let directory = sources[0].directory
        #expect(Set(sources.map(\.directory)) == [directory], "one export shared by every user of the tree")
        #expect(directory.lastPathComponent == sources[0].tree.hex)
        #expect(try String(contentsOf: directory.appendingPathComponent("Chart.yaml"), encoding: .utf8) == "name: app\nversion: 1.0.0\n")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("templates/cm.yaml").path))
        // Read-only after export.
        #expect(!FileManager.default.isWritableFile(atPath: directory.appendingPathComponent("Chart.yaml").path) || getuid() == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o555)
        #expect(http.requestCount > 0)
        // A single file straight from the object database; no export needed.
        let bytes = try await cache.readFile(try GitURL(daemon.url(for: "app.git")), commit: sources[0].commit, path: "component.yaml")
        #expect(bytes.map { String(decoding: $0, as: UTF8.self) } == "name: app\nsubcomponents: []\n")
        #expect(try await cache.readFile(try GitURL(world.bare), commit: sources[0].commit, path: "missing.yaml") == nil)
    }

    @Test func httpBasicAuthWithAToken() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let token = "tok-\(UUID().uuidString)"
        let http = try SmartHTTPServer(root: world.served, token: token)
        defer { http.stop() }
        let url = try GitURL(http.url(for: "app.git"))
        let variable = GitCredentials.hostVariable("127.0.0.1")

        let good = try world.cache(credentials: GitCredentials(environment: [variable: token], sshKeyFiles: []))
        #expect(try await good.resolve(url, .defaultBranch).hex == world.second)

        let wrong = try world.cache(credentials: GitCredentials(environment: [variable: "wrong-\(token)"], sshKeyFiles: []))
        let rejected = await expectError(.authentication) { () throws(GitSourceError) in _ = try await wrong.resolve(url, .branch("main")) }
        #expect(rejected?.description == "\(url.redacted) (branch main): authentication failed: the server rejected the credentials from $\(variable)")
        #expect(rejected.map { !$0.description.contains(token) } ?? false)

        let none = try world.cache()
        let missing = await expectError(.authentication) { () throws(GitSourceError) in _ = try await none.resolve(url, .defaultBranch) }
        #expect(missing?.detail == "authentication required and no token is configured (set \(variable) or add the URL to access.yaml)")

        // A token written into the URL is used, and never printed.
        let inline = try GitURL(http.url(for: "app.git").replacingOccurrences(of: "http://", with: "http://ci:\(token)@"))
        #expect(try await world.cache().resolve(inline, .defaultBranch).hex == world.second)
        let wrongInline = try GitURL(http.url(for: "app.git").replacingOccurrences(of: "http://", with: "http://ci:nope-\(token)@"))
        let inlineError = await expectError(.authentication) { () throws(GitSourceError) in _ = try await world.cache().resolve(wrongInline, .defaultBranch) }
        #expect(inlineError.map { !$0.description.contains(token) && $0.description.contains("http://ci:***@127.0.0.1") } ?? false)

        // Nothing in the cache (mirror config, markers, paths) holds the token.
        let root = world.scratch.appending("cache").path
        for relative in try FileManager.default.subpathsOfDirectory(atPath: root) {
            #expect(!relative.contains(token))
            if let data = FileManager.default.contents(atPath: root + "/" + relative) {
                #expect(!String(decoding: data, as: UTF8.self).contains(token), "\(relative) holds the token")
            }
        }
    }

    @Test(arguments: ["main", "trunk"])
    func defaultBranchComesFromTheRemote(branch: String) async throws {
        let world = try World(defaultBranch: branch)
        defer { world.scratch.remove() }
        try world.fixture.branch("other")
        try world.fixture.checkout("other")
        try world.fixture.write("other.txt", "x\n")
        let other = try world.fixture.commit("on other")
        try world.fixture.checkout(branch)
        try world.publish()
        let daemon = try GitDaemon(root: world.served)
        defer { daemon.stop() }
        let cache = try world.cache()
        let url = try GitURL(daemon.url(for: "app.git"))
        #expect(try await cache.resolve(url, .defaultBranch).hex == world.second)
        #expect(try await cache.resolve(url, .branch("other")).hex == other)
        let error = await expectError(.refNotFound) { () throws(GitSourceError) in _ = try await cache.resolve(url, .branch("master")) }
        #expect(error?.description == "\(url.redacted) (branch master): branch master does not exist (there are: \([branch, "other"].sorted().joined(separator: ", ")))")
    }

    @Test func tagsAnnotatedTagsAndCommitIds() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let cache = try world.cache()
        let url = try GitURL(world.bare)
        #expect(try await cache.resolve(url, .tag("v1.0.0")).hex == world.first)
        #expect(try await cache.resolve(url, .tag("v2.0.0")).hex == world.second, "an annotated tag peels to its commit")
        #expect(try await cache.resolve(url, .version("v1.0.0")).hex == world.first)
        #expect(try await cache.resolve(url, .version(String(world.first.prefix(8)))).hex == world.first)
        #expect(try await cache.resolve(url, .commit(world.first)).hex == world.first)
        #expect(try await cache.resolve(url, .commit(world.second.uppercased())).hex == world.second)
        await expectError(.refNotFound) { () throws(GitSourceError) in _ = try await cache.resolve(url, .tag("v9")) }
        let missing = await expectError(.refNotFound) { () throws(GitSourceError) in _ = try await cache.resolve(url, .version("deadbeef")) }
        #expect(missing?.description == "\(url.redacted) (version deadbeef): no tag or commit deadbeef")
        await expectError(.refNotFound) { () throws(GitSourceError) in _ = try await cache.resolve(url, .commit(String(repeating: "ab", count: 20))) }
    }

    @Test func aBranchThatMovesIsPickedUpByTheNextRunOnly() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let daemon = try GitDaemon(root: world.served)
        defer { daemon.stop() }
        let url = try GitURL(daemon.url(for: "app.git"))
        let run1 = try world.cache()
        #expect(try await run1.resolve(url, .branch("main")).hex == world.second)
        try world.fixture.write("component.yaml", "name: app\nversion: 3\n")
        let third = try world.fixture.commit("third")
        try world.publish()
        #expect(try await run1.resolve(url, .branch("main")).hex == world.second, "one fetch per URL per run")
        #expect(await run1.contacted == [url.key])
        let run2 = try world.cache()
        #expect(try await run2.resolve(url, .branch("main")).hex == third)
        #expect(await run2.downloaded == [url.key])
        let run3 = try world.cache()
        #expect(try await run3.resolve(url, .branch("main")).hex == third)
        #expect(await run3.contacted == [url.key])
        #expect(await run3.downloaded == [], "nothing changed: no objects transferred")
    }

    @Test func concurrentRequestsShareOneFetch() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let http = try SmartHTTPServer(root: world.served)
        defer { http.stop() }
        let cache = try world.cache()
        let url = try GitURL(http.url(for: "app.git"))
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<12 {
                group.addTask { try await cache.resolve(url, index % 2 == 0 ? .defaultBranch : .tag("v1.0.0")).hex }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(results) == [world.first, world.second])
        // Each ref once (fetching only the refs needed: at most a fetch per ref; whole
        // mirrors: one per URL).
        let contacted = await cache.contacted
        #expect(Set(contacted) == [url.key] && contacted.count <= (cache.options.fetchMode == .shallow ? 2 : 1), "\(contacted)")
        let requests = http.requestCount
        // A full commit id the mirror has needs no network at all.
        let later = try world.cache()
        #expect(try await later.resolve(url, .commit(world.first)).hex == world.first)
        #expect(await later.contacted == [])
        #expect(http.requestCount == requests)
    }

    @Test func offlineUsesTheMirrorsAndNamesWhatIsMissing() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let daemon = try GitDaemon(root: world.served)
        let url = try GitURL(daemon.url(for: "app.git"))
        let online = try world.cache()
        _ = try await online.resolve(url, .defaultBranch)
        _ = try await online.resolve(url, .tag("v1.0.0"))
        daemon.stop()
        let offline = try world.cache(offline: true)
        #expect(try await offline.resolve(url, .tag("v1.0.0")).hex == world.first)
        #expect(try await offline.resolve(url, .defaultBranch).hex == world.second)
        #expect(await offline.contacted == [])
        if offline.options.fetchMode == .shallow {
            // The remote has it, but no run fetched it: that is what offline says.
            let unfetched = await expectError(.notInCache) { () throws(GitSourceError) in _ = try await offline.resolve(url, .tag("v2.0.0")) }
            #expect(unfetched?.description == "\(url.redacted) (tag v2.0.0): tag v2.0.0 is not in the cache (no run fetched it) and --offline forbids fetching it")
        }
        let other = try GitURL("git://127.0.0.1:\(freeLoopbackPort())/never-fetched.git")
        let error = await expectError(.notInCache) { () throws(GitSourceError) in _ = try await offline.resolve(other, .branch("main")) }
        #expect(error?.description == "\(other.redacted) (branch main): not in the cache and --offline forbids fetching it")
    }

    @Test func mirrorsRewriteTheTransportButNotTheCacheKey() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let daemon = try GitDaemon(root: world.served)
        defer { daemon.stop() }
        let logical = try GitURL("https://git.example.invalid/team/app.git")
        let cache = try world.cache(rewrites: URLRewrites(["https://git.example.invalid/team/": daemon.url(for: "")]))
        #expect(try await cache.resolve(logical, .defaultBranch).hex == world.second)
        #expect(await cache.contacted == [logical.key])
        #expect(cache.mirrorPath(for: logical).contains("team-app-"))
        #expect(FileManager.default.fileExists(atPath: cache.mirrorPath(for: logical)))
        // A rule that points at this machine (file:// or a path, as air-gapped CI has it):
        // the repository is read in place, with no mirror and no copy.
        try FileManager.default.removeItem(atPath: cache.mirrorPath(for: logical))
        for target in ["file://" + world.served.path + "/", world.served.path + "/"] {
            let local = try world.cache(rewrites: URLRewrites(["https://git.example.invalid/team/": target]))
            let other = try GitURL("https://git.example.invalid/team/app")
            #expect(try await local.locate(other, .tag("v1.0.0"), path: "charts/app").commit.hex == world.first)
            #expect(await local.contacted == [])
            #expect(!FileManager.default.fileExists(atPath: local.mirrorPath(for: other)), "no mirror of a repository on this machine")
        }
    }

    @Test func unreachableAndMissingRepositories() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let daemon = try GitDaemon(root: world.served)
        defer { daemon.stop() }
        let http = try SmartHTTPServer(root: world.served)
        defer { http.stop() }
        let cache = try world.cache()
        let port = freeLoopbackPort()
        for url in ["git://127.0.0.1:\(port)/app.git", "http://127.0.0.1:\(port)/app.git"] {
            let error = await expectError(.unreachable) { () throws(GitSourceError) in _ = try await cache.resolve(try GitURL(url), .branch("main")) }
            #expect(error?.description.hasPrefix("\(url) (branch main): cannot reach the server") == true)
        }
        for url in [daemon.url(for: "nope.git"), http.url(for: "nope.git"), world.served.appendingPathComponent("nope.git").path] {
            let error = await expectError(.repositoryNotFound) { () throws(GitSourceError) in _ = try await cache.resolve(try GitURL(url), .defaultBranch) }
            #expect(error?.description.hasPrefix("\(url) (default branch): repository not found") == true, "\(String(describing: error))")
        }
    }

    @Test func pathsInsideTheTree() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let cache = try world.cache()
        let url = try GitURL(world.bare)
        let commit = try await cache.resolve(url, .defaultBranch)
        let ref = GitRef.defaultBranch
        let rootTree = try await cache.tree(url, commit: commit, path: "", ref: ref)
        #expect(try await cache.tree(url, commit: commit, path: "./charts/../", ref: ref) == rootTree)
        let notFound = await expectError(.pathNotFound) { () throws(GitSourceError) in _ = try await cache.tree(url, commit: commit, path: "charts/db", ref: ref) }
        #expect(notFound?.description == "\(world.bare) (default branch): path charts/db does not exist (no db in charts)")
        let escape = await expectError(.pathEscapes) { () throws(GitSourceError) in _ = try await cache.tree(url, commit: commit, path: "charts/../../etc", ref: ref) }
        #expect(escape?.description == "\(world.bare) (default branch): path charts/../../etc leaves the repository through ..")
        let file = await expectError(.notADirectory) { () throws(GitSourceError) in _ = try await cache.tree(url, commit: commit, path: "component.yaml", ref: ref) }
        #expect(file?.detail == "path component.yaml is a file, not a directory")
        let link = await expectError(.notADirectory) { () throws(GitSourceError) in _ = try await cache.tree(url, commit: commit, path: "outside", ref: ref) }
        #expect(link?.detail == "path outside is a symbolic link; links in fetched trees are not followed")
        let through = await expectError(.notADirectory) { () throws(GitSourceError) in _ = try await cache.tree(url, commit: commit, path: "outside/passwd", ref: ref) }
        #expect(through?.detail == "path outside/passwd goes through outside, a symbolic link; links in fetched trees are not followed, so write the path without it")

        // Export: the link inside the tree is kept, the ones leaving it are not created.
        let directory = try await cache.export(url, tree: rootTree)
        let fm = FileManager.default
        #expect(try fm.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("charts/link-up").path) == "../charts/app")
        #expect((try? fm.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("outside").path)) == nil)
        #expect((try? fm.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("escape").path)) == nil)
        #expect(!fm.fileExists(atPath: directory.appendingPathComponent("outside/passwd").path))
    }

    @Test func damagedMirrorsAreRebuiltOnlineAndNamedOffline() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let http = try SmartHTTPServer(root: world.served)
        defer { http.stop() }
        let url = try GitURL(http.url(for: "app.git"))
        let cache = try world.cache()
        _ = try await cache.resolve(url, .defaultBranch)
        let mirror = cache.mirrorPath(for: url)
        for pack in try FileManager.default.contentsOfDirectory(atPath: mirror + "/objects/pack") {
            try FileManager.default.removeItem(atPath: mirror + "/objects/pack/" + pack)
        }
        let offlineError = await expectError(.corruptMirror) { () throws(GitSourceError) in _ = try await world.cache(offline: true).resolve(url, .branch("main")) }
        #expect(offlineError?.description.hasPrefix("\(url.redacted) (branch main): the cached mirror is damaged") == true, "\(String(describing: offlineError))")
        let rebuilt = try world.cache()
        #expect(try await rebuilt.resolve(url, .branch("main")).hex == world.second)
        #expect(await rebuilt.downloaded == [url.key])

        // A garbage HEAD, as a crash could leave it.
        try "garbage".write(toFile: mirror + "/HEAD", atomically: false, encoding: .utf8)
        #expect(try await world.cache().resolve(url, .tag("v1.0.0")).hex == world.first)
        // Stale ref locks left by a killed fetch do not block the next one.
        try "".write(toFile: mirror + "/refs/heads/main.lock", atomically: false, encoding: .utf8)
        try world.fixture.write("x.txt", "x\n")
        let next = try world.fixture.commit("next")
        try world.publish()
        #expect(try await world.cache().resolve(url, .branch("main")).hex == next)
    }
}
#endif
