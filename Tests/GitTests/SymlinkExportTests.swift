#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Git

/// Which symbolic links of a fetched tree an export creates, decided on the tree's own
/// contents (`TreeLayout`), without a disk.
@Suite struct TreeLayoutTests {
    /// Links that chain and climb, and the entries they lead to, as (path, target); a
    /// target of nil is a plain file.
    static let entries: [(String, String?)] = [
        ("sub/readme.md", nil),
        ("sub/charts/Chart.yaml", nil),
        ("z-dir/file.txt", nil),
        ("docs", "sub"),
        ("sub/up", "../docs/readme.md"),
        ("inner", "docs"),
        ("a-first", "z-dir/file.txt"),
        ("sub/l1", ".."),
        ("sub/l2", "l1/.."),
        ("sub/l3", "l2/.."),
        ("mid", "sub/l1/../.."),
        ("a/b/c/x", "../../y"),
        ("a/y", "../.."),
        ("abs", "/etc"),
        ("sub/through-abs", "../abs/passwd"),
        ("hop", "sub/l2"),
        ("loop1", "loop2"),
        ("loop2", "loop1"),
        ("me", "me"),
        ("into-loop", "loop1/x"),
        ("dangling", "sub/missing.txt"),
        ("dangling-up", "missing/../../etc"),
        ("below-file", "sub/readme.md/.."),
        ("empty", ""),
        ("through-empty", "empty/x"),
    ]

    /// Where each link leads.
    static let expected: [String: TreeLayout.LinkTarget] = [
        "docs": .inside("sub"),
        "sub/up": .inside("sub/readme.md"),
        "inner": .inside("sub"),
        "a-first": .inside("z-dir/file.txt"),
        "sub/l1": .inside(""),
        "sub/l2": .escapes,
        "sub/l3": .escapes,
        "mid": .escapes,
        "a/b/c/x": .escapes,
        "a/y": .escapes,
        "abs": .absolute,
        "sub/through-abs": .absolute,
        "hop": .escapes,
        "loop1": .loop,
        "loop2": .loop,
        "me": .loop,
        "into-loop": .loop,
        "dangling": .dangling("sub/missing.txt"),
        "dangling-up": .escapes,
        "below-file": .dangling("sub"),
        "empty": .invalid,
        "through-empty": .dangling("empty/x"),
    ]

    static func layout(_ entries: [(String, String?)]) -> TreeLayout {
        var layout = TreeLayout()
        for (path, target) in entries {
            layout.add(path: path, target.map { .link($0) } ?? .file(executable: false))
        }
        return layout
    }

    static func targets(of layout: TreeLayout) -> [String: TreeLayout.LinkTarget] {
        Dictionary(uniqueKeysWithValues: layout.linkTargets().map { (layout.path(of: $0.key), $0.value) })
    }

    @Test(arguments: Array(expected.keys).sorted())
    func eachLinkAlone(path: String) {
        #expect(Self.layout(Self.entries).linkTarget(at: path) == Self.expected[path], "\(path)")
    }

    @Test func theWholeTreeAtOnceAgreesWithEachLinkAlone() {
        #expect(Self.targets(of: Self.layout(Self.entries)) == Self.expected)
    }

    @Test func entryOrderDoesNotMatter() {
        #expect(Self.targets(of: Self.layout(Self.entries.reversed())) == Self.expected)
        var shuffled = Self.entries
        var generator = SeededGenerator(seed: 7)
        shuffled.shuffle(using: &generator)
        #expect(Self.targets(of: Self.layout(shuffled)) == Self.expected)
    }

    @Test func onlyLinksThatCannotLeaveAreKept() {
        let kept = Set(Self.expected.filter { $0.value.isKept }.keys)
        #expect(kept == ["docs", "sub/up", "inner", "a-first", "sub/l1", "dangling", "below-file", "through-empty"])
    }

    /// c0 → c1 → … → c40 → sub: c1 needs 40 links (the kernel's limit), c0 needs 41.
    @Test func chainsLongerThanTheKernelFollowsAreLoops() {
        var entries: [(String, String?)] = [("sub/readme.md", nil)]
        for index in 0..<40 { entries.append(("c\(index)", "c\(index + 1)")) }
        entries.append(("c40", "sub"))
        // Resolved from the start of the chain first (giving up 41 links deep), then from
        // its second link: giving up on c0 says nothing about c1.
        let all = Self.targets(of: Self.layout(entries))
        #expect(all["c0"] == .loop)
        #expect(all["c1"] == .inside("sub"))
        #expect(all["c40"] == .inside("sub"))
        #expect(Self.layout(entries).linkTarget(at: "c1") == .inside("sub"))
        #expect(Self.layout(entries).linkTarget(at: "c0") == .loop)
    }

    @Test(arguments: ["", ".", "..", "a/b", "a\u{0}b"])
    func namesAnExportRefuses(name: String) {
        #expect(!TreeLayout.isPlainName(name))
    }

    @Test(arguments: ["a", "...", ".hidden", "a b", "ü"])
    func plainNames(name: String) {
        #expect(TreeLayout.isPlainName(name))
    }
}

extension Data {
    init?(hexString: String) {
        var bytes: [UInt8] = []
        var digits = hexString.makeIterator()
        while let high = digits.next() {
            guard let low = digits.next(), let byte = UInt8(String([high, low]), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes)
    }
}


/// The same links in a repository served by `git daemon`, exported through `MirrorCache`:
/// what lands on disk, and reading `path`s through links.
@Suite(.timeLimit(.minutes(10)))
struct SymlinkExportTests {
    /// Links as (path, target) in the served repository, besides the files of `files`.
    static let files = ["sub/readme.md": "readme\n", "sub/charts/Chart.yaml": "name: c\n", "z-dir/file.txt": "z\n"]
    static let links: [(String, String)] = TreeLayoutTests.entries.compactMap { path, target in
        guard let target, !target.isEmpty else { return nil }
        return (path, target)
    }
    /// Kept links that resolve, and the path (from the export root) each resolves to.
    static let resolving = ["docs": "sub", "sub/up": "sub/readme.md", "inner": "sub", "a-first": "z-dir/file.txt", "sub/l1": ""]
    /// Kept links that dangle inside the tree.
    static let dangling: Set<String> = ["dangling", "below-file", "through-empty"]
    static let leaving: Set<String> = ["sub/l2", "sub/l3", "mid", "a/b/c/x", "a/y", "abs", "sub/through-abs", "hop",
                                       "loop1", "loop2", "me", "into-loop", "dangling-up"]

    final class World: Sendable {
        let scratch: TemporaryDirectory
        let daemon: GitDaemon
        let commit: String

        init() throws {
            scratch = try TemporaryDirectory()
            let fixture = try FixtureRepository.create(at: scratch.appending("work"))
            for (path, contents) in SymlinkExportTests.files { try fixture.write(path, contents) }
            for (path, target) in SymlinkExportTests.links { try fixture.symlink(path, to: target) }
            commit = try fixture.commit("links")
            let served = scratch.appending("served")
            try fixture.publishBare(into: served, name: "links")
            daemon = try GitDaemon(root: served)
        }

        func cache() throws -> MirrorCache {
            try MirrorCache(options: MirrorCacheOptions(root: scratch.appending("cache"), credentials: GitCredentials(environment: [:], sshKeyFiles: [])))
        }

        var url: GitURL { get throws { try GitURL(daemon.url(for: "links.git")) } }

        func stop() {
            daemon.stop()
            scratch.remove()
        }
    }

    /// Every symbolic link under `root`, found with `lstat` (never following one).
    static func symbolicLinks(under root: String, prefix: String = "") throws -> [String] {
        var found: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + prefix).sorted() {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFLNK: found.append(relative)
            case S_IFDIR: found += try symbolicLinks(under: root, prefix: relative)
            default: break
            }
        }
        return found
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    @Test func exportedLinksNeverLeaveTheTree() async throws {
        let world = try World()
        defer { world.stop() }
        let source = try await world.cache().source(try world.url, .defaultBranch)
        let root = source.directory.path
        let realRoot = try #require(ExportedTree.resolved(root))

        // Every link on disk resolves inside the export, or dangles inside by design.
        let onDisk = try Self.symbolicLinks(under: root)
        #expect(Set(onDisk) == Set(Self.resolving.keys).union(Self.dangling))
        for link in onDisk {
            if let resolved = ExportedTree.resolved(root + "/" + link) {
                #expect(resolved == realRoot || resolved.hasPrefix(realRoot + "/"), "\(link) resolves to \(resolved)")
            } else {
                #expect(Self.dangling.contains(link), "\(link) does not resolve")
            }
        }
        for link in Self.leaving {
            #expect(!Self.exists(root + "/" + link), "\(link) leaves the tree and must not exist")
        }
        let targets = Dictionary(uniqueKeysWithValues: Self.links)
        for (link, place) in Self.resolving {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + link) == targets[link])
            #expect(ExportedTree.resolved(root + "/" + link) == (place.isEmpty ? realRoot : realRoot + "/" + place), "\(link)")
        }
        for link in Self.dangling {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + link) == targets[link])
        }
        #expect(try String(contentsOfFile: root + "/docs/readme.md", encoding: .utf8) == "readme\n")
        #expect(try String(contentsOfFile: root + "/sub/up", encoding: .utf8) == "readme\n")
        #expect(try String(contentsOfFile: root + "/inner/charts/Chart.yaml", encoding: .utf8) == "name: c\n")
    }

    /// Links are judged against the exported tree, not the repository around it: in an
    /// export of `sub`, `l1 -> ..` and `up -> ../docs/readme.md` leave it.
    @Test func aSubtreeIsItsOwnRoot() async throws {
        let world = try World()
        defer { world.stop() }
        let source = try await world.cache().source(try world.url, .defaultBranch, path: "sub")
        let root = source.directory.path
        #expect(try Self.symbolicLinks(under: root).isEmpty)
        #expect(try String(contentsOfFile: root + "/readme.md", encoding: .utf8) == "readme\n")
        #expect(FileManager.default.fileExists(atPath: root + "/charts/Chart.yaml"))
    }

    @Test func pathsThroughALinkNameIt() async throws {
        let world = try World()
        defer { world.stop() }
        let cache = try world.cache()
        let url = try world.url
        let commit = try await cache.resolve(url, .defaultBranch)
        #expect(commit.hex == world.commit)
        let shown = "\(url.redacted) (default branch): "
        let cases = [("docs/charts", "docs"), ("inner/charts", "inner"), ("sub/l1/sub", "sub/l1")]
        for (path, link) in cases {
            do {
                _ = try await cache.tree(url, commit: commit, path: path, ref: .defaultBranch)
                Issue.record("\(path) goes through a link and must not resolve")
            } catch {
                #expect(error.kind == .notADirectory)
                #expect(error.description == shown + "path \(path) goes through \(link), a symbolic link; links in fetched trees are not followed, so write the path without it")
            }
        }
        do {
            _ = try await cache.readFile(url, commit: commit, path: "docs/readme.md", ref: .defaultBranch)
            Issue.record("a file read through a link must fail")
        } catch {
            #expect(error.description == shown + "path docs/readme.md goes through docs, a symbolic link; links in fetched trees are not followed, so write the path without it")
        }
        do {
            _ = try await cache.tree(url, commit: commit, path: "docs", ref: .defaultBranch)
            Issue.record("a link is not a directory")
        } catch {
            #expect(error.description == shown + "path docs is a symbolic link; links in fetched trees are not followed")
        }
        // The same directory without the link.
        #expect(try await cache.tree(url, commit: commit, path: "sub/charts", ref: .defaultBranch).hex.count == 40)
    }

    /// A tree whose entry name holds `/` (git's own tools refuse to make one, but the object
    /// format allows it) would have the export write outside its directory.
    @Test func entryNamesThatWouldLeaveAreRefused() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let fixture = try FixtureRepository.create(at: scratch.appending("work"))
        try fixture.write("f", "hi\n")
        try fixture.commit("plain")
        let blob = try #require(Data(hexString: try fixture.git(["rev-parse", "HEAD:f"])))
        var raw = Data("100644 ../../escape\u{0}".utf8) + blob
        raw += Data("100644 f\u{0}".utf8) + blob
        let file = scratch.appending("tree.bin")
        try raw.write(to: file)
        let tree = try fixture.git(["hash-object", "-t", "tree", "--literally", "-w", file.path])
        let commit = try fixture.git(["commit-tree", tree, "-m", "crafted"])
        try fixture.git(["update-ref", "refs/heads/main", commit])
        let served = scratch.appending("served")
        try fixture.publishBare(into: served, name: "crafted")
        let daemon = try GitDaemon(root: served)
        defer { daemon.stop() }
        let url = try GitURL(daemon.url(for: "crafted.git"))
        let cacheRoot = scratch.appending("cache")
        let cache = try MirrorCache(options: MirrorCacheOptions(root: cacheRoot, credentials: GitCredentials(environment: [:], sshKeyFiles: [])))
        do {
            _ = try await cache.source(url, .defaultBranch)
            Issue.record("the export must refuse the tree")
        } catch {
            #expect(error.description == "\(url.redacted): cannot export tree \(tree): its root holds an entry named \"../../escape\", which git refuses to check out")
        }
        #expect(!Self.exists(cacheRoot.appendingPathComponent("git/escape").path), "written outside the export")
        let trees = try FileManager.default.contentsOfDirectory(atPath: cacheRoot.appendingPathComponent("git/trees-v2").path)
        #expect(trees.filter { !$0.hasSuffix(".lock") }.isEmpty, "nothing half-exported: \(trees)")
    }

    @Test func containmentIsJudgedOnResolvedPaths() async throws {
        let world = try World()
        defer { world.stop() }
        let root = try await world.cache().source(try world.url, .defaultBranch).directory.path
        #expect(ExportedTree.contains(root, root: root))
        #expect(ExportedTree.contains(root + "/sub/charts", root: root))
        #expect(ExportedTree.contains(root + "/docs", root: root), "a link to a directory inside")
        #expect(ExportedTree.contains(root + "/sub/l1", root: root), "a link to the root itself")
        // Spelled inside, but l1 is the root, so its .. is the directory above the export.
        #expect(!ExportedTree.contains(root + "/sub/l1/..", root: root))
        #expect(ExportedTree.contains(root + "/sub/l1/../" + URL(fileURLWithPath: root).lastPathComponent + "/docs", root: root), "back inside")
        #expect(!ExportedTree.contains(root + "/..", root: root))
        // A sibling whose name starts with the root's is not inside it.
        let sibling = root + "-sibling"
        #expect(mkdir(sibling, 0o755) == 0)
        #expect(!ExportedTree.contains(sibling, root: root))
        #expect(!ExportedTree.contains(root + "/missing", root: root), "a path that does not exist")
        #expect(!ExportedTree.contains(root + "/dangling", root: root), "a dangling link")
    }
}
#endif
