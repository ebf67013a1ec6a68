import FuzzSupport
import HLD
import YAML

/// Any bytes as `hld.lock` (`LockFile.parse`, what `LockFile.load` calls on the file's
/// bytes). A lock file it accepts survives being written: `text()` parses back to an
/// equal `LockFile`, and writing that gives the same bytes (same pins, same bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let lock = try? LockFile.parse(input(data, size), file: "hld.lock") else { return 0 }
    trace("accepted a lock file with \(lock.sections.count) section(s)")
    // Promoted values are any YAML: the emitter's known issues apply to them.
    let values = lock.sections.values.flatMap { $0.values.values.flatMap(\.values) }
    if KnownIssue.emitterIssue(in: values, flow: false) != nil { return 0 }
    let text = lock.text()
    let again: LockFile
    do {
        again = try LockFile.parse(Array(text.utf8), file: "written hld.lock")
    } catch {
        violated("a lock file hld writes parses", "\(error)\nwritten:\n\(quote(text))")
    }
    require(again == lock, "a lock file reads back equal after being written", "written:\n\(quote(text))\n\(describe(lock, again))")
    let second = again.text()
    require(second == text, "writing a lock file is deterministic", "first:\n\(quote(text))\nsecond:\n\(quote(second))")
    // The promotion order puts named sections first; any order writes the same pins.
    let order = lock.sections.keys.sorted().reversed().map { $0 }
    let reordered = lock.text(order: order)
    guard let third = try? LockFile.parse(Array(reordered.utf8), file: "reordered hld.lock") else {
        violated("a lock file written in promotion order parses", quote(reordered))
    }
    require(third == lock, "a lock file written in promotion order reads back equal", quote(reordered))
    return 0
}

/// The first section that differs, for the message.
func describe(_ a: LockFile, _ b: LockFile) -> String {
    guard a.sections.keys.sorted() == b.sections.keys.sorted() else {
        return "sections \(a.sections.keys.sorted()) became \(b.sections.keys.sorted())"
    }
    for name in a.sections.keys.sorted() where a.sections[name] != b.sections[name] {
        let x = a.sections[name]!, y = b.sections[name]!
        if x.definitions != y.definitions { return "\(name): definitions \(x.definitions ?? "nil") became \(y.definitions ?? "nil")" }
        for path in x.components.keys.sorted() where x.components[path] != y.components[path] {
            return "\(name): component \(path): \(String(describing: x.components[path])) became \(String(describing: y.components[path]))"
        }
        for file in x.values.keys.sorted() where x.values[file] != y.values[file] {
            for (key, value) in x.values[file]! where y.values[file]?[key] != value {
                return "\(name): values \(file) \(key): \(show(value)) became \(y.values[file]?[key].map(show) ?? "missing")"
            }
            return "\(name): values \(file): keys \(x.values[file]!.keys.sorted()) became \(y.values[file]?.keys.sorted() ?? [])"
        }
        return "\(name): components \(x.components.keys.sorted()) became \(y.components.keys.sorted())"
    }
    return "no section differs"
}
