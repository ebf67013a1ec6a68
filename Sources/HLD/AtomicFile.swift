import CacheStore
import Foundation

/// Files that appear whole or not at all: the bytes go to a temporary beside the file,
/// made and registered with `InFlight` in one step (an interrupt removes it), and are
/// moved into place with one rename.
enum AtomicFile {
    /// `path` replaced by (or created as) a file holding `bytes` with `mode`.
    static func replace(_ path: String, _ bytes: [UInt8], mode: mode_t, prefix: String, shownAs shown: String) throws(HLDError) {
        let temporary = try temporary(beside: path, bytes, mode: mode, prefix: prefix, shownAs: shown)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            InFlight.untrack(temporary)
            throw HLDError("cannot write \(shown): \(reason)").kind(.output)
        }
        InFlight.untrack(temporary)
    }

    /// A new file beside `path` holding `bytes`, named `<prefix><pid>-…` (so that
    /// `InFlight.removeStale` finds it after a killed run) and registered with `InFlight`.
    static func temporary(beside path: String, _ bytes: [UInt8], mode: mode_t?, prefix: String, shownAs shown: String) throws(HLDError) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(directory)/\(prefix)\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        // Made and registered in one step: an interrupt's sweep removes it, or it is never made.
        guard let fd = InFlight.creating(temporary, { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666) }) else {
            throw HLDError("stopped").kind(.output)
        }
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            InFlight.untrack(temporary)
            throw HLDError("cannot write \(shown): \(reason)").kind(.output)
        }
        var failure: Int32 = 0
        if let mode, fchmod(fd, mode) != 0 { failure = errno }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while failure == 0 && offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno != EINTR { failure = errno }
                } else {
                    offset += n
                }
            }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            InFlight.untrack(temporary)
            throw HLDError("cannot write \(shown): \(String(cString: strerror(failure)))").kind(.output)
        }
        return temporary
    }

}
