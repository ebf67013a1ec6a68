import CacheStore
import Foundation
import Synchronization
import Testing
import TestSupport

/// Runs `body(0)` … `body(count - 1)` on their own threads at once and returns the errors
/// they threw, as text.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
    let errors = Mutex<[String]>([])
    let finished = DispatchSemaphore(value: 0)
    for index in 0..<count {
        Thread {
            do { try body(index) } catch { errors.withLock { $0.append("\(error)") } }
            finished.signal()
        }.start()
    }
    for _ in 0..<count { finished.wait() }
    return errors.withLock { $0 }
}

/// The names in `directory` that are temporaries (`….tmp-…`).
func temporaries(in directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
}

@Suite struct CacheLayoutTests {
    /// The directories earlier hld versions wrote; changing one orphans existing caches.
    @Test(arguments: [
        (CacheStore.Kind.gitMirrors, "git/mirrors/x.git"),
        (.gitTrees, "git/trees-v2/x"),
        (.chartArchives, "helm/charts/x.tgz"),
        (.chartIndexes, "helm/indexes/x.yaml"),
        (.ociRecords, "helm/oci/x"),
        (.httpURLs, "http/urls/x"),
        (.httpObjects, "http/objects/x"),
        (.renders, "renders/x"),
        (.assembledCharts, "helm/assembled/x"),
        (.tools, "tools/x"),
    ])
    func entryPaths(kind: CacheStore.Kind, relative: String) {
        let store = CacheStore(root: URL(fileURLWithPath: "/cache"))
        #expect(store.entry(kind, name: "x").path == "/cache/" + relative)
        #expect(store.entry(kind, name: "x").lockPath == "/cache/" + relative + ".lock")
    }

    @Test func everyKindIsInTheTable() {
        #expect(CacheStore.Kind.allCases.count == 10)
        #expect(Set(CacheStore.Kind.allCases.map(\.directory)).count == 10, "no two kinds share a directory")
    }

    /// Keyed entries are named as before: the sha256 of the URL, or of the length-prefixed
    /// parts of a render or tool key.
    @Test func keyedNamesMatchTheEarlierScheme() {
        let store = CacheStore(root: URL(fileURLWithPath: "/cache"))
        let url = "https://example.com/a.yaml"
        #expect(store.entry(.httpURLs, key: url).name == CacheStore.sha256(Array(url.utf8)))
        #expect(store.entry(.chartIndexes, key: url).name == CacheStore.sha256(Array(url.utf8)) + ".yaml")
        #expect(CacheStore.key(["ab", "", "c"]) == "2:ab0:1:c")
        #expect(CacheStore.key(["a", "b"]) != CacheStore.key(["ab"]))
        #expect(CacheStore.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func aKeyCannotLeaveItsDirectory() {
        let store = CacheStore(root: URL(fileURLWithPath: "/cache"))
        let entry = store.entry(.ociRecords, key: "../../etc/passwd")
        #expect(entry.directory == "/cache/helm/oci")
        #expect(!entry.name.contains("/") && entry.name.count == 64)
    }

    @Test func digestsMustBeSHA256Hex() {
        let store = CacheStore(root: URL(fileURLWithPath: "/cache"))
        let hex = String(repeating: "ab", count: 32)
        #expect(store.entry(.chartArchives, digest: hex.uppercased())?.name == hex + ".tgz")
        #expect(store.entry(.chartArchives, digest: "../" + hex.dropFirst(3)) == nil)
        #expect(store.entry(.chartArchives, digest: String(hex.dropLast())) == nil)
        #expect(store.entry(.chartArchives, digest: String(repeating: "g", count: 64)) == nil)
    }
}

@Suite struct AtomicWriteTests {
    @Test func aWriteLeavesOnlyTheEntryItsLockAndItsUseFile() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        try store.setRecord(.tools, key: "helm", Array("helm v3".utf8))
        try store.setRecord(.tools, key: "helm", Array("helm v4".utf8))
        let entry = store.entry(.tools, key: "helm")
        let names = try FileManager.default.contentsOfDirectory(atPath: entry.directory).sorted()
        #expect(names == [entry.name, entry.name + ".lock", entry.name + ".use"])
        #expect(store.record(.tools, key: "helm") == Array("helm v4".utf8))
    }

    @Test func permissionsAreTheOnesAskedFor() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let digest = try store.put(.chartArchives, [1, 2, 3], permissions: 0o444)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.entry(.chartArchives, name: digest).path)
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
        try store.entry(.renders, name: "r").replace(with: [4], permissions: 0o600)
        let other = try FileManager.default.attributesOfItem(atPath: store.entry(.renders, name: "r").path)
        #expect((other[.posixPermissions] as? Int) == 0o600)
    }

    /// A reader racing a writer that alternates a small and a large content sees one of
    /// them whole, every time.
    @Test func readersNeverSeeHalfAFile() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let small = [UInt8](repeating: 0x61, count: 256 << 10), large = [UInt8](repeating: 0x62, count: 1 << 20)
        try store.setRecord(.renders, key: "k", small)
        let writing = Mutex(true)
        let reads = Mutex((total: 0, torn: 0))
        let errors = onThreads(2) { index in
            if index == 0 {
                defer { writing.withLock { $0 = false } }
                let deadline = ContinuousClock.now + .seconds(30)
                var round = 0
                while reads.withLock({ $0.total }) < 300 && ContinuousClock.now < deadline {
                    try store.setRecord(.renders, key: "k", round % 2 == 0 ? large : small)
                    round += 1
                }
            } else {
                while writing.withLock({ $0 }) {
                    let seen = store.record(.renders, key: "k")
                    reads.withLock { $0.total += 1; if seen != small && seen != large { $0.torn += 1 } }
                }
            }
        }
        #expect(errors == [])
        let (total, torn) = reads.withLock { $0 }
        #expect(total >= 300, "the reader ran alongside the writer")
        #expect(torn == 0, "\(torn) of \(total) reads saw a partial or missing entry")
        #expect(temporaries(in: store.directory(.renders)) == [])
    }

    @Test func aFailedWriteLeavesNoTemporary() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let entry = store.entry(.httpURLs, key: "in the way")
        try FileManager.default.createDirectory(atPath: entry.path + "/occupied", withIntermediateDirectories: true)
        #expect(throws: CacheStoreError(what: "move into place", path: entry.path, reason: "Is a directory")) {
            try store.setRecord(.httpURLs, key: "in the way", [1])
        }
        #expect(temporaries(in: entry.directory) == [])
    }

    @Test func aCacheRootThatIsAFileIsNamedInTheError() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let root = scratch.appending("cache")
        try Data().write(to: root)
        let store = CacheStore(root: root)
        let error = #expect(throws: CacheStoreError.self) { try store.put(.httpObjects, [1]) }
        #expect(error?.description == "cannot create the cache directory \(root.path)/http/objects: Not a directory")
    }

    /// A writer killed mid-write leaves a temporary and no entry; the next writer of the
    /// entry gets the lock at once (the kernel released it) and removes the leftover.
    @Test(.timeLimit(.minutes(10))) func aKilledWritersTemporaryIsRemovedByTheNextWriter() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url.appendingPathComponent("cache"))
        let probe = try ChildProcess(executable: probePath, arguments: ["stall", store.root.path, "k"],
                                     environment: [:], stderrPath: scratch.appending("stall.stderr").path)
        #expect(try probe.readLine(timeout: .seconds(30)) == "writing")
        let directory = store.directory(.httpURLs)
        #expect(temporaries(in: directory).count == 1)
        #expect(store.record(.httpURLs, key: "k") == nil)
        kill(probe.pid, SIGKILL)
        #expect(probe.waitForExit(timeout: .seconds(10)) == .signaled(SIGKILL))
        try store.setRecord(.httpURLs, key: "k", Array("whole".utf8))
        #expect(temporaries(in: directory) == [])
        #expect(store.record(.httpURLs, key: "k") == Array("whole".utf8))
    }
}

/// The probe executable, built next to the test bundle.
var probePath: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cache-store-probe").path
}

@Suite(.timeLimit(.minutes(10))) struct LockTests {
    /// What both threads and the probe processes write: the same content-addressed object,
    /// record and verified blob, over and over.
    static func race(_ store: CacheStore, rounds: Int, label: String) throws {
        let object = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        for round in 0..<rounds {
            let digest = try store.put(.httpObjects, object)
            guard store.get(.httpObjects, digest: digest) == object else { throw CacheStoreError(what: "verify", path: digest, reason: "mismatch") }
            try store.setRecord(.httpURLs, key: "shared", Array("\(label) \(round)".utf8))
            try store.setVerifiedBlob(.renders, key: "shared", [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 50_000 + round * 100))
            guard store.verifiedBlob(.renders, key: "shared") != nil else { throw CacheStoreError(what: "verify", path: "blob", reason: "mismatch") }
        }
    }

    static func expectIntactAfterRace(_ store: CacheStore, labels: [String], rounds: Int) throws {
        let object = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(store.get(.httpObjects, digest: CacheStore.sha256(object)) == object)
        let record = store.record(.httpURLs, key: "shared").map { String(decoding: $0, as: UTF8.self) }
        #expect(labels.map { "\($0) \(rounds - 1)" }.contains(record ?? ""), "the record is one writer's last: \(record ?? "nil")")
        let blob = store.verifiedBlob(.renders, key: "shared")
        #expect(blob == [UInt8](repeating: UInt8(truncatingIfNeeded: rounds - 1), count: 50_000 + (rounds - 1) * 100))
        for kind in [CacheStore.Kind.httpObjects, .httpURLs, .renders] {
            #expect(temporaries(in: store.directory(kind)) == [], "\(kind)")
        }
    }

    @Test func twoThreadsWritingTheSameEntriesBothSucceed() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let errors = onThreads(2) { index in try Self.race(store, rounds: 150, label: "thread\(index)") }
        #expect(errors == [])
        try Self.expectIntactAfterRace(store, labels: ["thread0", "thread1"], rounds: 150)
    }

    @Test func twoProcessesWritingTheSameEntriesBothSucceed() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url.appendingPathComponent("cache"))
        let probes = try ["a", "b"].map { label in
            try ChildProcess(executable: probePath, arguments: ["race", store.root.path, "150", label],
                             environment: [:], stderrPath: scratch.appending("\(label).stderr").path)
        }
        for probe in probes {
            #expect(probe.waitForExit(timeout: .seconds(90)) == .exited(0), "\(probe.stderrLog())")
            #expect(FileManager.default.contents(atPath: probe.stderrPath) == Data(), "\(probe.stderrLog())")
        }
        try Self.expectIntactAfterRace(store, labels: ["a", "b"], rounds: 150)
    }

    /// Another process holds an entry's lock: the store's write waits for it, then runs.
    @Test func aWriteWaitsForALockHeldByAnotherProcess() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url.appendingPathComponent("cache"))
        let go = scratch.appending("go").path
        let probe = try ChildProcess(executable: probePath, arguments: ["hold", store.root.path, "k", go],
                                     environment: [:], stderrPath: scratch.appending("hold.stderr").path)
        #expect(try probe.readLine(timeout: .seconds(30)) == "locked")
        let written = Mutex(false)
        let writer = Thread {
            try? store.setRecord(.httpURLs, key: "k", Array("test".utf8))
            written.withLock { $0 = true }
        }
        writer.start()
        usleep(500_000)
        #expect(!written.withLock { $0 }, "the write did not wait for the other process's lock")
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        #expect(probe.waitForExit(timeout: .seconds(30)) == .exited(0), "\(probe.stderrLog())")
        let deadline = ContinuousClock.now + .seconds(30)
        while !written.withLock({ $0 }) && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(written.withLock { $0 })
        #expect(store.record(.httpURLs, key: "k") == Array("test".utf8), "our write came after the probe's")
    }

    @Test func sharedLocksCoexistAndExcludeAnExclusiveOne() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let entry = CacheStore(root: scratch.url).entry(.gitTrees, name: "t")
        let first = try entry.lock(.shared)
        let state = Mutex((shared: false, exclusive: false))
        Thread {
            guard let second = try? entry.lock(.shared) else { return }
            state.withLock { $0.shared = true }
            second.release()
            guard let exclusive = try? entry.lock(.exclusive) else { return }
            state.withLock { $0.exclusive = true }
            exclusive.release()
        }.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while !state.withLock({ $0.shared }) && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(state.withLock { $0.shared }, "a second shared lock was granted while one is held")
        usleep(300_000)
        #expect(!state.withLock { $0.exclusive }, "no exclusive lock while a shared one is held")
        first.release()
        while !state.withLock({ $0.exclusive }) && ContinuousClock.now < deadline + .seconds(10) { usleep(10_000) }
        #expect(state.withLock { $0.exclusive }, "the exclusive lock follows the release")
    }
}

@Suite struct VerifiedEntryTests {
    enum Damage: String, CaseIterable { case flippedByte, truncated, empty, appended }

    static func damage(_ path: String, _ damage: Damage) throws {
        chmod(path, 0o644)
        var bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        switch damage {
        case .flippedByte: bytes[bytes.count / 2] ^= 0x01
        case .truncated: bytes.removeLast(bytes.count / 3)
        case .empty: bytes = []
        case .appended: bytes += [0x0A]
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: Damage.allCases) func aDamagedContentEntryIsDiscarded(_ kind: Damage) throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let bytes = [UInt8]("apiVersion: v1\nkind: ConfigMap\n".utf8)
        let digest = try store.put(.chartArchives, bytes, permissions: 0o444)
        #expect(digest == CacheStore.sha256(bytes))
        #expect(store.get(.chartArchives, digest: digest.uppercased()) == bytes)
        let path = try #require(store.entry(.chartArchives, digest: digest)).path
        try Self.damage(path, kind)
        #expect(store.get(.chartArchives, digest: digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: path), "the damaged entry is removed")
        try store.put(.chartArchives, bytes)
        #expect(store.get(.chartArchives, digest: digest) == bytes, "stored again after the refetch")
    }

    @Test func putKeepsAnIntactEntryAndRepairsADamagedOne() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let digest = try store.put(.httpObjects, [1, 2, 3])
        let path = store.entry(.httpObjects, name: digest).path
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        try store.put(.httpObjects, [1, 2, 3])
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode, "not rewritten")
        try Data([9, 9, 9]).write(to: URL(fileURLWithPath: path))
        try store.put(.httpObjects, [1, 2, 3])
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
    }

    @Test func missingEntriesAreNil() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        #expect(store.get(.httpObjects, digest: String(repeating: "0", count: 64)) == nil)
        #expect(store.get(.httpObjects, digest: "not a digest") == nil)
        #expect(store.record(.httpURLs, key: "u") == nil)
        #expect(store.verifiedBlob(.renders, key: "r") == nil)
    }

    @Test func recordsRoundTrip() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        try store.setRecord(.ociRecords, key: "oci://r/c@1.0", Array(#"{"layer":"sha256:ab"}"#.utf8))
        try store.setRecord(.ociRecords, key: "oci://r/c@2.0", Array("two".utf8))
        #expect(store.record(.ociRecords, key: "oci://r/c@1.0") == Array(#"{"layer":"sha256:ab"}"#.utf8))
        #expect(store.record(.ociRecords, key: "oci://r/c@2.0") == Array("two".utf8))
        try store.setRecord(.ociRecords, key: "oci://r/c@1.0", [])
        #expect(store.record(.ociRecords, key: "oci://r/c@1.0") == [])
        #expect(store.record(.httpURLs, key: "oci://r/c@2.0") == nil, "kinds do not share entries")
    }

    @Test func verifiedBlobsRoundTripAndRejectDamage() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let store = CacheStore(root: scratch.url)
        let rendered = [UInt8]("---\nkind: Service\n".utf8)
        let key = CacheStore.key(["helm", "v3.19.0", "digest:ab", "values"])
        try store.setVerifiedBlob(.renders, key: key, rendered)
        #expect(store.verifiedBlob(.renders, key: key) == rendered)
        try store.setVerifiedBlob(.renders, key: key, [])
        #expect(store.verifiedBlob(.renders, key: key) == [], "an empty render is a render")
        try store.setVerifiedBlob(.renders, key: key, rendered)
        let path = store.entry(.renders, key: key).path
        for damage in Damage.allCases {
            try store.setVerifiedBlob(.renders, key: key, rendered)
            try Self.damage(path, damage)
            #expect(store.verifiedBlob(.renders, key: key) == nil, "\(damage)")
            #expect(!FileManager.default.fileExists(atPath: path), "\(damage): removed")
        }
        try Data(rendered).write(to: URL(fileURLWithPath: path))
        #expect(store.verifiedBlob(.renders, key: key) == nil, "an entry without a checksum does not verify")
    }
}

@Suite struct DirectoryEntryTests {
    struct BuildFailed: Error, Equatable {}

    @Test func aDirectoryAppearsWholeByRename() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let entry = CacheStore(root: scratch.url).entry(.gitTrees, name: "0123abcd")
        let seen = Mutex<(temporary: String, targetExisted: Bool)>(("", true))
        let path = try entry.createDirectory { temporary in
            seen.withLock { $0 = (temporary, entry.exists) }
            try FileManager.default.createDirectory(atPath: temporary + "/sub", withIntermediateDirectories: true)
            try Data("a: 1\n".utf8).write(to: URL(fileURLWithPath: temporary + "/sub/a.yaml"))
            chmod(temporary + "/sub/a.yaml", 0o444)
            chmod(temporary + "/sub", 0o555)
            chmod(temporary, 0o555)
        }
        let (temporary, targetExisted) = seen.withLock { $0 }
        #expect(!targetExisted, "the entry is absent while it is built")
        #expect((temporary as NSString).deletingLastPathComponent == entry.directory)
        #expect((temporary as NSString).lastPathComponent.hasPrefix("0123abcd.tmp-\(getpid())-"))
        #expect(path == entry.path)
        #expect(FileManager.default.contents(atPath: path + "/sub/a.yaml") == Data("a: 1\n".utf8))
        #expect(temporaries(in: entry.directory) == [])
        let again = try entry.createDirectory { _ in throw BuildFailed() }
        #expect(again == path, "an existing entry is not built again")
        entry.remove()
        #expect(!entry.exists)
    }

    @Test func aFailedBuildLeavesNothing() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let entry = CacheStore(root: scratch.url).entry(.assembledCharts, key: "chart")
        #expect(throws: BuildFailed()) {
            try entry.createDirectory { temporary in
                try FileManager.default.createDirectory(atPath: temporary + "/charts", withIntermediateDirectories: true)
                chmod(temporary, 0o555)
                throw BuildFailed()
            }
        }
        #expect(!entry.exists)
        #expect(temporaries(in: entry.directory) == [])
        #expect(throws: CacheStoreError(what: "build", path: entry.path, reason: "the builder removed its directory")) {
            try entry.createDirectory { temporary in try FileManager.default.removeItem(atPath: temporary) }
        }
        #expect(temporaries(in: entry.directory) == [])
    }

    /// As an unprivileged user (root ignores modes), a read-only tree refuses new files yet
    /// the store removes it.
    @Test(.timeLimit(.minutes(10))) func aReadOnlyTreeIsRemovable() throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let root = scratch.appending("cache")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        chmod(scratch.path, 0o777)
        chmod(root.path, 0o777)
        let probe = try ChildProcess(executable: probePath, arguments: ["read-only-tree", root.path],
                                     environment: [:], stderrPath: scratch.appending("tree.stderr").path)
        #expect(try probe.readLine(timeout: .seconds(30)) == "refused a new file: Permission denied")
        #expect(try probe.readLine(timeout: .seconds(30)) == "removed")
        #expect(probe.waitForExit(timeout: .seconds(10)) == .exited(0), "\(probe.stderrLog())")
        #expect(!CacheStore(root: root).entry(.gitTrees, name: "readonly").exists)
    }
}
