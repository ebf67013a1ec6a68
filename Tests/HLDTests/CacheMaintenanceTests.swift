import CacheStore
import Foundation
import Testing
import TestSupport
@testable import HLD

/// The limits `hld cache prune` reads, and the entries a lock file keeps.
@Suite struct CacheMaintenanceTests {
    @Test(arguments: [
        ("0", 0), ("1048576", 1_048_576), ("1024K", 1_048_576), ("500M", 524_288_000), ("5G", 5_368_709_120),
        ("5g", 5_368_709_120), ("5GB", 5_368_709_120), ("5GiB", 5_368_709_120), ("1.5K", 1536), ("2T", 2_199_023_255_552),
        ("100B", 100), (" 7k ", 7168),
    ] as [(String, Int64)])
    func sizes(text: String, bytes: Int64) {
        #expect(CacheMaintenance.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "G", "5X", "-1", "-1G", "5 G", "1e3", ".5G", "5iB", "5GBB", "99999999999T", "5M5"])
    func notSizes(text: String) {
        #expect(CacheMaintenance.parseSize(text) == nil)
    }

    @Test(arguments: [("0s", 0), ("90m", 5400), ("12h", 43200), ("30d", 2_592_000), ("2w", 1_209_600), ("1.5h", 5400), ("45S", 45)]
          as [(String, TimeInterval)])
    func ages(text: String, seconds: TimeInterval) {
        #expect(CacheMaintenance.parseAge(text) == seconds)
    }

    @Test(arguments: ["", "30", "d", "30y", "-1d", "1d2h", "30 d", "ten days"])
    func notAges(text: String) {
        #expect(CacheMaintenance.parseAge(text) == nil)
    }

    /// Chart, OCI and http pins keep their content by digest, a git pin the tree it names
    /// (its mirror and commit root tree need the mirror, which the CLI tests have); values
    /// a hand edit broke name nothing rather than a path outside the cache.
    @Test func pinsNameTheirEntriesByDigestAndBrokenValuesNameNothing() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let root = scratch.url
        let store = CacheStore(root: root)
        let digest = String(repeating: "c", count: 64), tree = String(repeating: "b", count: 40)
        var lock = LockFile()
        lock.sections["prod"] = LockSection(components: [
            "a": LockedComponent(source: .chart(repository: "https://charts.example.com", name: "web", requested: "", version: "1.0.0", digest: digest)),
            "b": LockedComponent(source: .oci(reference: "oci://r.example.com/web", requested: "", version: "1", manifest: "sha256:" + digest,
                                              digest: "sha256:" + String(repeating: "d", count: 64))),
            "c": LockedComponent(source: .http(url: "https://example.com/x.yaml", digest: String(repeating: "e", count: 64))),
            "d": LockedComponent(source: .git(url: "not a url", requested: "branch main", commit: "../../x", path: "deploy", tree: tree)),
            "e": LockedComponent(source: .http(url: "https://example.com/y.yaml", digest: "../../../etc/passwd")),
            "f": LockedComponent(source: .local(path: "manifests")),
        ])
        let entries = CacheMaintenance.pinnedEntries(lock, cacheRoot: root)
        #expect(entries == [
            store.entry(.chartArchives, name: digest), store.entry(.chartArchives, name: String(repeating: "d", count: 64)),
            store.entry(.httpObjects, name: String(repeating: "e", count: 64)), store.entry(.gitTrees, name: tree),
        ])
    }
}
