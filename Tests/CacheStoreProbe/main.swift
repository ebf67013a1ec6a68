// A second (third, …) process on one cache, driven by CacheStoreTests:
//
//   cache-store-probe race ROOT ROUNDS LABEL   write and read the same entries ROUNDS times
//   cache-store-probe hold ROOT KEY GO-FILE    hold the lock of record KEY (prints "locked")
//                                              until GO-FILE exists, then write "probe" to it
//   cache-store-probe lease ROOT KIND NAME GO-FILE   hold a run's lease on entry NAME of KIND
//                                              (prints "leased") until GO-FILE exists
//   cache-store-probe stall ROOT KEY           hold the lock of record KEY, leave half a
//                                              temporary (prints "writing"), wait to be killed
//   cache-store-probe read-only-tree ROOT      as user nobody (when started as root, which
//                                              ignores modes), build a read-only tree entry,
//                                              try to add a file, remove the entry
import CacheStore
import Foundation

/// The bytes every racer stores content-addressed.
let shared = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cache-store-probe: \(message)\n".utf8))
    exit(1)
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: cache-store-probe race|hold|lease|stall|read-only-tree ROOT …") }
let store = CacheStore(root: URL(fileURLWithPath: arguments[2]))

do {
    switch arguments[1] {
    case "race" where arguments.count == 5:
        guard let rounds = Int(arguments[3]) else { fail("ROUNDS must be a number") }
        let label = arguments[4]
        for round in 0..<rounds {
            let digest = try store.put(.httpObjects, shared)
            guard store.get(.httpObjects, digest: digest) == shared else { fail("round \(round): the object does not verify") }
            let value = "\(label) \(round)"
            try store.setRecord(.httpURLs, key: "shared", Array(value.utf8))
            guard store.record(.httpURLs, key: "shared") != nil else { fail("round \(round): the record vanished") }
            let blob = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 50_000 + round * 100)
            try store.setVerifiedBlob(.renders, key: "shared", blob)
            guard store.verifiedBlob(.renders, key: "shared") != nil else { fail("round \(round): the blob does not verify") }
        }
    case "hold" where arguments.count == 5:
        let entry = store.entry(.httpURLs, key: arguments[3])
        let lock = try entry.lock(.exclusive)
        say("locked")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: arguments[4]) {
            guard Date() < deadline else { fail("no go file after 60 s") }
            usleep(10_000)
        }
        try entry.write(Array("probe".utf8))
        lock.release()
    case "lease" where arguments.count == 6:
        guard let kind = CacheStore.Kind(rawValue: arguments[3]) else { fail("no kind \(arguments[3])") }
        let leases = CacheLeases()
        guard leases.hold(store.entry(kind, name: arguments[4])) else { fail("no entry \(arguments[4])") }
        say("leased")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: arguments[5]) {
            guard Date() < deadline else { fail("no go file after 60 s") }
            usleep(10_000)
        }
        leases.releaseAll()
    case "stall" where arguments.count == 4:
        let entry = store.entry(.httpURLs, key: arguments[3])
        let lock = try entry.lock(.exclusive)
        let temporary = entry.temporaryPath()
        guard FileManager.default.createFile(atPath: temporary, contents: Data("half a rec".utf8)) else { fail("cannot create \(temporary)") }
        say("writing")
        sleep(120)
        lock.release()
        fail("not killed within 120 s")
    case "read-only-tree":
        if getuid() == 0 {
            guard setgroups(0, nil) == 0, setgid(65534) == 0, setuid(65534) == 0 else { fail("cannot become nobody") }
        }
        let entry = store.entry(.gitTrees, name: "readonly")
        try entry.createDirectory { temporary in
            for directory in [temporary, temporary + "/a", temporary + "/a/b"] {
                if directory != temporary { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false) }
                try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
                chmod(directory + "/file", 0o444)
            }
            for directory in [temporary + "/a/b", temporary + "/a", temporary] { chmod(directory, 0o555) }
        }
        let fd = open(entry.path + "/a/b/new", O_CREAT | O_WRONLY, 0o644)
        say(fd < 0 ? "refused a new file: \(String(cString: strerror(errno)))" : "accepted a new file")
        entry.remove()
        say(entry.exists ? "still there" : "removed")
    default:
        fail("unknown command: \(arguments.dropFirst().joined(separator: " "))")
    }
} catch {
    fail("\(error)")
}
