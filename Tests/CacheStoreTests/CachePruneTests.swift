import CacheStore
import Foundation
import Testing
import TestSupport

/// Sets the modification time of `path` (not following a link) to `date`.
func setModified(_ path: String, _ date: Date) {
    var times = [timespec](repeating: timespec(tv_sec: Int(date.timeIntervalSince1970), tv_nsec: 0), count: 2)
    #expect(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0, "utimensat \(path)")
}

/// Every regular file under `root` with its size, found by `find` (not by the code under test).
func regularFiles(under root: String) throws -> [String: Int64] {
    let result = try ChildProcess.run("find", [root, "-type", "f", "-printf", "%s %P\\n"], environment: ["PATH": "/usr/bin:/bin"])
    var files: [String: Int64] = [:]
    for line in result.stdout.split(separator: "\n") {
        let parts = line.split(separator: " ", maxSplits: 1)
        files[String(parts[1])] = Int64(parts[0])
    }
    return files
}

@Suite struct CacheInventoryTests {
    /// A cache with entries of five kinds, a tree with a link, a killed writer's temporary,
    /// an orphaned lock file and a foreign file: each entry counted once with its files'
    /// bytes, the rest as other, and the whole equal to what `find` sees.
    @Test func entriesAndBytesMatchTheFilesOnDisk() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let digest = try store.put(.chartArchives, [UInt8](repeating: 7, count: 3000))
        try store.put(.httpObjects, Array("kind: ConfigMap\n".utf8))
        try store.setRecord(.httpURLs, key: "https://example.com/a.yaml", Array("abc".utf8))
        try store.setVerifiedBlob(.renders, key: "r1", [UInt8](repeating: 1, count: 500))
        try store.setVerifiedBlob(.renders, key: "r2", [UInt8](repeating: 2, count: 700))
        let tree = store.entry(.gitTrees, name: String(repeating: "a", count: 40))
        try tree.createDirectory { temporary in
            try FileManager.default.createDirectory(atPath: temporary + "/sub", withIntermediateDirectories: false)
            try Data(count: 1234).write(to: URL(fileURLWithPath: temporary + "/sub/file"))
            try Data(count: 10).write(to: URL(fileURLWithPath: temporary + "/top"))
            try FileManager.default.createSymbolicLink(atPath: temporary + "/link", withDestinationPath: "sub/file")
        }
        let leftover = store.entry(.renders, name: "r3").path + ".tmp-1-2"
        try Data(count: 99).write(to: URL(fileURLWithPath: leftover))
        try store.entry(.tools, name: "gone").makeDirectory()
        try Data().write(to: URL(fileURLWithPath: store.entry(.tools, name: "gone").lockPath))
        try Data(count: 5).write(to: scratch.appending("stray"))

        let inventory = store.inventory()
        #expect(inventory.usage(.chartArchives) == (1, 3000))
        #expect(inventory.usage(.httpObjects) == (1, 16))
        #expect(inventory.usage(.httpURLs) == (1, 3))
        let blobHeader = Int64("hld-verified sha256=".count + 64 + 1)
        #expect(inventory.usage(.renders) == (2, 1200 + 2 * blobHeader))
        #expect(inventory.usage(.gitTrees) == (1, 1244), "the link counts nothing, its target once")
        #expect(inventory.usage(.tools) == (0, 0))
        #expect(inventory.entries.map(\.entry.name).contains(digest + ".tgz"))
        #expect(inventory.otherBytes == 99 + 5)
        #expect(inventory.leftovers == [store.entry(.renders, name: "r3"): 99])
        #expect(inventory.orphans == [store.entry(.tools, name: "gone")])
        #expect(inventory.totalBytes == (try regularFiles(under: scratch.path)).values.reduce(0, +))
    }

    @Test func aMissingCacheHoldsNothing() {
        let inventory = CacheStore(root: URL(fileURLWithPath: "/nonexistent/hld-cache")).inventory()
        #expect(inventory.entries.isEmpty && inventory.totalBytes == 0)
    }

    @Test func usesAreStampedAndAWriteStampsToo() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        try store.setRecord(.tools, key: "helm", Array("v3".utf8))
        let entry = store.entry(.tools, key: "helm")
        let old = Date(timeIntervalSince1970: 1_000_000)
        setModified(entry.path, old)
        setModified(entry.usePath, old)
        #expect(store.inventory().entries.first?.lastUsed == old)
        let before = Date().addingTimeInterval(-1)
        #expect(store.record(.tools, key: "helm") != nil)
        let used = try #require(store.inventory().entries.first?.lastUsed)
        #expect(used > before, "reading the record stamped its use file")
    }
}

@Suite(.timeLimit(.minutes(10))) struct CachePruneTests {
    /// Four records last used a day apart, oldest first: a, b, c, d.
    func agedStore(_ scratch: TemporaryDirectory, now: Date) throws -> (CacheStore, [CacheEntry]) {
        let store = CacheStore(root: scratch.url)
        var entries: [CacheEntry] = []
        for (index, name) in ["a", "b", "c", "d"].enumerated() {
            let entry = store.entry(.renders, name: name)
            try entry.replace(with: [UInt8](repeating: 0x61, count: 1000))
            let used = now.addingTimeInterval(-Double(4 - index) * 86400)
            setModified(entry.path, used)
            setModified(entry.usePath, used)
            entries.append(entry)
        }
        return (store, entries)
    }

    @Test func theLeastRecentlyUsedGoFirstUntilTheRestFit() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let now = Date()
        let (store, entries) = try agedStore(scratch, now: now)
        let report = store.prune(PruneLimits(maxBytes: 2500), keeping: [], dryRun: false, now: now)
        #expect(report.removed.map(\.entry) == Array(entries[0...1]))
        #expect(report.freedBytes == 2000 && report.remainingBytes == 2000)
        #expect(!entries[0].exists && !entries[1].exists && entries[2].exists && entries[3].exists)
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory(.renders)).sorted()
        #expect(names == ["c", "c.lock", "c.use", "d", "d.lock", "d.use"], "a removed entry takes its lock and use files along")
    }

    @Test func olderThanRemovesWhatWasNotUsedSinceAndKeepsTheKept() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let now = Date()
        let (store, entries) = try agedStore(scratch, now: now)
        let report = store.prune(PruneLimits(olderThan: 2.5 * 86400), keeping: [entries[0]], dryRun: false, now: now)
        #expect(report.kept.map(\.entry) == [entries[0]])
        #expect(report.removed.map(\.entry) == [entries[1]])
        #expect(entries[0].exists && !entries[1].exists && entries[2].exists)
        // Both limits: the age first, then the size.
        let both = store.prune(PruneLimits(olderThan: 10 * 86400, maxBytes: 2000), keeping: [entries[0]], dryRun: false, now: now)
        #expect(both.removed.map(\.entry) == [entries[2]], "the kept entry still counts towards the size")
        #expect(both.remainingBytes == 2000)
    }

    @Test func aDryRunRemovesAndCreatesNothing() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let now = Date()
        let (store, _) = try agedStore(scratch, now: now)
        try Data(count: 10).write(to: URL(fileURLWithPath: store.entry(.renders, name: "e").path + ".tmp-1-1"))
        let before = try regularFiles(under: scratch.path)
        let report = store.prune(PruneLimits(maxBytes: 0), keeping: [], dryRun: true, now: now)
        #expect(report.removed.count == 4 && report.freedBytes == 4010)
        #expect(try regularFiles(under: scratch.path) == before)
        #expect(store.inventory().entries.count == 4)
    }

    /// A writer's lock held by another process, and a run's lease held by another process
    /// and by this one: each entry is skipped, the rest removed; released, they go too.
    @Test func entriesAnotherHolderHasAreSkipped() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        try store.setRecord(.httpURLs, key: "written", Array("x".utf8))
        let written = store.entry(.httpURLs, key: "written")
        let leased = store.entry(.gitTrees, name: String(repeating: "b", count: 40))
        try leased.createDirectory { try Data(count: 10).write(to: URL(fileURLWithPath: $0 + "/f")) }
        let ours = store.entry(.chartArchives, name: "c")
        try ours.replace(with: [1, 2, 3])
        let free = store.entry(.renders, name: "free")
        try free.replace(with: [4])

        let go = scratch.appending("go").path
        let writer = try ChildProcess(executable: probePath, arguments: ["hold", store.root.path, "written", go],
                                      environment: [:], stderrPath: scratch.appending("writer.log").path)
        #expect(try writer.readLine(timeout: .seconds(30)) == "locked")
        let reader = try ChildProcess(executable: probePath, arguments: ["lease", store.root.path, "gitTrees", leased.name, go],
                                      environment: [:], stderrPath: scratch.appending("reader.log").path)
        #expect(try reader.readLine(timeout: .seconds(30)) == "leased")
        let leases = CacheLeases()
        #expect(leases.hold(ours))

        let dry = store.prune(PruneLimits(maxBytes: 0), keeping: [], dryRun: true)
        #expect(Set(dry.skipped.map(\.entry)) == [written, leased, ours])
        let report = store.prune(PruneLimits(maxBytes: 0), keeping: [], dryRun: false)
        #expect(Set(report.skipped.map(\.entry)) == [written, leased, ours])
        #expect(report.removed.map(\.entry) == [free])
        #expect(written.exists && leased.exists && ours.exists && !free.exists)

        FileManager.default.createFile(atPath: go, contents: nil)
        #expect(writer.waitForExit(timeout: .seconds(30)) == .exited(0), "\(writer.stderrLog())")
        #expect(reader.waitForExit(timeout: .seconds(30)) == .exited(0), "\(reader.stderrLog())")
        leases.releaseAll()
        let after = store.prune(PruneLimits(maxBytes: 0), keeping: [], dryRun: false)
        #expect(after.skipped.isEmpty)
        #expect(Set(after.removed.map(\.entry)) == [written, leased, ours])
        #expect(store.inventory().entries.isEmpty)
    }

    /// What killed writers left — a temporary beside an entry, a temporary and a lock file
    /// of an entry never installed — goes with any prune, when nobody holds the lock.
    @Test func leftoversAndOrphanedLockFilesAreSwept() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let kept = store.entry(.renders, name: "kept")
        try kept.replace(with: [1])
        try Data(count: 40).write(to: URL(fileURLWithPath: kept.path + ".tmp-1-1"))
        let never = store.entry(.renders, name: "never")
        try Data(count: 60).write(to: URL(fileURLWithPath: never.path + ".tmp-1-2"))
        try Data().write(to: URL(fileURLWithPath: never.lockPath))
        let report = store.prune(PruneLimits(olderThan: 86400), keeping: [], dryRun: false)
        #expect(report.removed.isEmpty && report.leftoverBytes == 100)
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory(.renders)).sorted()
        #expect(names == ["kept", "kept.lock", "kept.use"])
    }

    /// A writer that waited on a lock file prune removed (prune holds it while removing)
    /// must hold the file now at the path, not the removed one: else a third party could
    /// lock the new file at the same time.
    @Test func aLockerThatWaitedOnARemovedLockFileLocksTheNewOne() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let entry = CacheStore(root: scratch.url).entry(.renders, name: "x")
        let first = try entry.lock(.exclusive)
        let locked = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let waiter = Thread {
            guard let second = try? entry.lock(.exclusive) else { return }
            locked.signal()
            done.wait()
            second.release()
        }
        waiter.start()
        usleep(200_000)
        #expect(unlink(entry.lockPath) == 0)
        first.release()
        #expect(locked.wait(timeout: .now() + 10) == .success)
        #expect(try entry.tryLock() == nil, "the waiter holds the lock file at the path")
        done.signal()
    }
}
