#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Git

/// Shallow, ref-selective fetches (libgit2 1.7 and newer) against git daemon and smart HTTP
/// on loopback: every case resolves to the commit and tree a whole mirror gives. Over git://
/// libgit2 before 1.9 fetches only the refs needed but with their history
/// (``LibGit2/canFetchShallowOverStatefulTransports``); the answers are the same.
/// One test at a time, each world made on a thread of its own: the fixture takes some
/// hundred git commands, which must not hold the threads the rest of the suite runs on.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: LibGit2.canFetchShallow, "libgit2 before 1.7 cannot fetch shallow"))
struct ShallowFetchTests {
    /// A repository with history on `main` (30 commits), a `feature` branch, a lightweight
    /// and an annotated tag, served as `apps.git` by git daemon and smart HTTP.
    final class World: Sendable {
        let scratch: TemporaryDirectory
        let served: URL
        let fixture: FixtureRepository
        /// main's commits, oldest first.
        let history: [String]
        let daemon: GitDaemon
        let http: SmartHTTPServer

        init() throws {
            scratch = try TemporaryDirectory()
            served = scratch.appending("served")
            fixture = try FixtureRepository.create(at: scratch.appending("work"))
            var history: [String] = []
            for index in 0..<30 {
                try fixture.write("charts/app/values.yaml", "replicas: \(index)\n")
                try fixture.write("history/\(index).yaml", "index: \(index)\n")
                history.append(try fixture.commit("commit \(index)"))
                if index == 10 { try fixture.tag("v1.0.0") }
                if index == 20 { try fixture.tag("v2.0.0", annotated: true) }
            }
            try fixture.branch("feature")
            try fixture.checkout("feature")
            try fixture.write("feature.yaml", "feature: true\n")
            try fixture.commit("feature")
            try fixture.checkout("main")
            self.history = history
            try fixture.publishBare(into: served, name: "apps")
            daemon = try GitDaemon(root: served)
            http = try SmartHTTPServer(root: served)
        }

        var bare: String { served.appendingPathComponent("apps.git").path }
        var urls: [String] { [daemon.url(for: "apps.git"), http.url(for: "apps.git")] }

        func cache(_ name: String, mode: GitFetchMode, offline: Bool = false) throws -> MirrorCache {
            try MirrorCache(options: MirrorCacheOptions(root: scratch.appending(name), offline: offline,
                                                        credentials: GitCredentials(environment: [:], sshKeyFiles: []), fetchMode: mode))
        }

        /// Lets the server hand out any commit it has by id (what GitHub and GitLab allow).
        func allowFetchByID(_ allowed: Bool) throws {
            try GitCLI.check(["--git-dir", bare, "config", "uploadpack.allowReachableSHA1InWant", allowed ? "true" : "false"], home: scratch.url)
        }

        func publish() throws { try fixture.publishBare(into: served, name: "apps") }

        func stop() {
            daemon.stop()
            http.stop()
            scratch.remove()
        }
    }

    /// `git` run on a mirror of the cache.
    func inMirror(_ cache: MirrorCache, _ url: String, _ arguments: [String], world: World) throws -> String {
        try GitCLI.check(["--git-dir", cache.mirrorPath(for: try GitURL(url))] + arguments, home: world.scratch.url)
    }

    func isShallow(_ cache: MirrorCache, _ url: String) throws -> Bool {
        FileManager.default.fileExists(atPath: cache.mirrorPath(for: try GitURL(url)) + "/shallow")
    }

    /// Whether fetches from `url` are shallow with this libgit2.
    func shallowOver(_ url: String) throws -> Bool { LibGit2.canFetchShallow(from: try GitURL(url)) }

    @Test func everyRefKindResolvesAsAWholeMirrorDoes() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        try world.allowFetchByID(true)
        let refs: [GitRef] = [.defaultBranch, .branch("main"), .branch("feature"), .tag("v1.0.0"), .tag("v2.0.0"),
                              .version("v2.0.0"), .commit(world.history[5]), .version(world.history[25])]
        for url in world.urls {
            let parsed = try GitURL(url)
            let whole = try world.cache("whole-\(parsed.cacheName)", mode: .full(reason: "test"))
            var expected: [String] = []
            for ref in refs {
                let (commit, tree) = try await whole.locate(parsed, ref, path: "charts/app")
                expected.append("\(ref): \(commit.hex) \(tree.hex)")
            }
            for ref in refs {
                // Each ref on a cold cache of its own: only that ref, depth 1.
                let shallow = try world.cache("cold-\(parsed.cacheName)-\(ref.description.replacingOccurrences(of: " ", with: "-"))", mode: .shallow)
                let (commit, tree) = try await shallow.locate(parsed, ref, path: "charts/app")
                #expect("\(ref): \(commit.hex) \(tree.hex)" == expected[refs.firstIndex(of: ref)!], "\(url)")
                if try shallowOver(url) {
                    #expect(try isShallow(shallow, url), "\(ref) over \(url): the mirror should be shallow")
                    let count = try inMirror(shallow, url, ["rev-list", "--all", "--count"], world: world)
                    #expect(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) == 1, "\(ref) over \(url): one commit, not \(count)")
                }
            }
            // All of them in one cache: the same answers, and the first commit never arrives.
            let shared = try world.cache("shared-\(parsed.cacheName)", mode: .shallow)
            for (index, ref) in refs.enumerated() {
                let (commit, tree) = try await shared.locate(parsed, ref, path: "charts/app")
                #expect("\(ref): \(commit.hex) \(tree.hex)" == expected[index])
            }
            if try shallowOver(url) {
                #expect(throws: (any Error).self) { try inMirror(shared, url, ["cat-file", "-e", world.history[0]], world: world) }
            }
            // Only the refs asked for are in the mirror.
            let refNames = try inMirror(shared, url, ["for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags"], world: world)
            #expect(refNames.split(separator: "\n").sorted() == ["refs/heads/feature", "refs/heads/main", "refs/tags/v1.0.0", "refs/tags/v2.0.0"])
        }
    }

    @Test func aCommitNoRefReachesTipWithoutFetchByIDTakesTheWholeHistory() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        try world.allowFetchByID(false)
        for url in world.urls {
            let parsed = try GitURL(url)
            let whole = try world.cache("whole-\(parsed.cacheName)", mode: .full(reason: "test"))
            let shallow = try world.cache("shallow-\(parsed.cacheName)", mode: .shallow)
            _ = try await shallow.resolve(parsed, .branch("feature"))
            #expect(try isShallow(shallow, url) == shallowOver(url))
            for ref: GitRef in [.commit(world.history[3]), .version(world.history[12]), .commit(String(world.history[7].prefix(10)))] {
                let expected = try await whole.locate(parsed, ref, path: "")
                let got = try await shallow.locate(parsed, ref, path: "")
                #expect(got.commit == expected.commit && got.tree == expected.tree, "\(ref) over \(url)")
            }
            // The refused by-id fetch fell back to every ref's whole history.
            #expect(try !isShallow(shallow, url))
        }
    }

    @Test func laterRunsFetchIncrementallyAndDeepenForOlderCommits() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        try world.allowFetchByID(true)
        for url in world.urls {
            let parsed = try GitURL(url)
            let name = "cache-\(parsed.cacheName)"
            _ = try await world.cache(name, mode: .shallow).resolve(parsed, .branch("main"))
            #expect(try isShallow(world.cache(name, mode: .shallow), url) == shallowOver(url))

            // A new commit: the next run fetches it alone and still answers right.
            try world.fixture.write("charts/app/values.yaml", "replicas: 100\n")
            let next = try world.fixture.commit("next")
            try world.publish()
            let second = try world.cache(name, mode: .shallow)
            let (commit, tree) = try await second.locate(parsed, .branch("main"), path: "charts/app")
            let expected = try await world.cache("whole-\(parsed.cacheName)", mode: .full(reason: "test")).locate(parsed, .branch("main"), path: "charts/app")
            #expect(commit.hex == next && commit == expected.commit && tree == expected.tree)
            #expect(await second.downloaded == [parsed.key])

            // A commit older than the shallow boundary, by id.
            let old = try await second.locate(parsed, .commit(world.history[2]), path: "charts/app")
            let oldExpected = try await world.cache("whole-\(parsed.cacheName)", mode: .full(reason: "test")).locate(parsed, .commit(world.history[2]), path: "charts/app")
            #expect(old.commit == oldExpected.commit && old.tree == oldExpected.tree)

            // Offline afterwards: the same answers, from the mirror alone.
            let offline = try world.cache(name, mode: .shallow, offline: true)
            #expect(try await offline.locate(parsed, .branch("main"), path: "charts/app") == (commit, tree))
            #expect(try await offline.resolve(parsed, .commit(world.history[2])).hex == world.history[2])
            #expect(await offline.contacted.isEmpty)

            // Nothing fetched when nothing moved.
            let third = try world.cache(name, mode: .shallow)
            _ = try await third.resolve(parsed, .branch("main"))
            #expect(await third.downloaded.isEmpty)
        }
    }

    @Test func aBranchForcePushedToUnrelatedHistory() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        let url = try GitURL(world.http.url(for: "apps.git"))
        _ = try await world.cache("cache", mode: .shallow).resolve(url, .branch("feature"))
        // feature now starts over: an orphan commit with other content.
        _ = try world.fixture.git(["checkout", "--quiet", "--orphan", "rewrite"])
        _ = try world.fixture.git(["rm", "-r", "-f", "--quiet", "."])
        try world.fixture.write("unrelated.yaml", "fresh: start\n")
        let orphan = try world.fixture.commit("unrelated history")
        _ = try world.fixture.git(["branch", "-f", "feature", orphan])
        _ = try world.fixture.git(["checkout", "--quiet", "-f", "main"])
        _ = try world.fixture.git(["branch", "-D", "rewrite"])
        try world.publish()
        let cache = try world.cache("cache", mode: .shallow)
        let (commit, tree) = try await cache.locate(url, .branch("feature"), path: "")
        let expected = try await world.cache("whole", mode: .full(reason: "test")).locate(url, .branch("feature"), path: "")
        #expect(commit.hex == orphan && commit == expected.commit && tree == expected.tree)
        let directory = try await cache.export(url, tree: tree)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("unrelated.yaml").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("feature.yaml").path))
    }

    @Test func missingRefsAreNamedWithWhatTheRemoteHas() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        let url = try GitURL(world.daemon.url(for: "apps.git"))
        let cache = try world.cache("cache", mode: .shallow)
        do {
            _ = try await cache.resolve(url, .branch("mian"))
            Issue.record("a missing branch resolved")
        } catch {
            #expect(error.kind == .refNotFound)
            #expect(error.detail == "branch mian does not exist (there are: feature, main)", "\(error)")
        }
        do {
            _ = try await cache.resolve(url, .tag("v9"))
            Issue.record("a missing tag resolved")
        } catch {
            #expect(error.detail == "tag v9 does not exist (there are: v1.0.0, v2.0.0)", "\(error)")
        }
        // A branch deleted on the remote is not resolved from the mirror's old copy.
        _ = try await cache.resolve(url, .branch("feature"))
        _ = try world.fixture.git(["branch", "-D", "feature"])
        try world.publish()
        do {
            _ = try await world.cache("cache", mode: .shallow).resolve(url, .branch("feature"))
            Issue.record("a deleted branch resolved")
        } catch {
            #expect((error as? GitSourceError)?.kind == .refNotFound, "\(error)")
        }
    }

    /// Ancestry needs history: a shallow mirror is deepened before it is asked.
    @Test func relationOnAShallowMirrorIsTheWholeMirrorsAnswer() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        let url = try GitURL(world.daemon.url(for: "apps.git"))
        let cache = try world.cache("cache", mode: .shallow)
        let tip = try await cache.resolve(url, .branch("main"))
        let older = try #require(ObjectID(hex: world.history[4]))
        _ = try await cache.resolve(url, .commit(world.history[4]))
        #expect(await cache.relation(url, tip, older) == .ahead)
        #expect(await cache.relation(url, older, tip) == .behind)
        let feature = try await cache.resolve(url, .branch("feature"))
        #expect(await cache.relation(url, feature, tip) == .ahead)
    }

    /// Whole mirrors (libgit2 before 1.7, or HLD_GIT_SHALLOW=0) give the same answers, and
    /// a mirror a shallow run made is made whole by a run that fetches whole mirrors.
    @Test func wholeMirrorsStillWorkAndTakeOverShallowOnes() async throws {
        let world = try await onOwnThread { try World() }
        defer { world.stop() }
        #expect(LibGit2.fetchMode(environment: ["HLD_GIT_SHALLOW": "0"]) == .full(reason: "HLD_GIT_SHALLOW=0"))
        #expect(LibGit2.fetchMode(environment: [:]) == .shallow)
        let url = try GitURL(world.http.url(for: "apps.git"))
        _ = try await world.cache("cache", mode: .shallow).resolve(url, .branch("main"))
        #expect(try isShallow(world.cache("cache", mode: .shallow), url.original))
        let whole = try world.cache("cache", mode: .full(reason: "test"))
        let (commit, _) = try await whole.locate(url, .tag("v1.0.0"), path: "charts/app")
        #expect(commit.hex == world.history[10])
        #expect(try !isShallow(whole, url.original))
        let count = try inMirror(whole, url.original, ["rev-list", "--all", "--count"], world: world)
        #expect(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) == 31)
        try GitCLI.check(["--git-dir", whole.mirrorPath(for: url), "fsck", "--no-progress"], home: world.scratch.url)
    }
}
#endif
