import Foundation
import Testing
import TestSupport
@testable import HLD

@Suite struct TextDiffTests {
    @Test func aGolden() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
        let new = "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
        #expect(TextDiff.unified(old: old, new: new, path: "prod/x.yaml", context: 2) == [
            "--- a/prod/x.yaml", "+++ b/prod/x.yaml",
            "@@ -1,5 +1,5 @@", " a", " b", "-c", "+C", " d", " e",
            "@@ -10,2 +10,3 @@", " j", " k", "+l",
        ])
        #expect(TextDiff.unified(old: old, new: old, path: "x") == [])
        #expect(TextDiff.unified(old: "", new: "x\n", path: "new.yaml") == ["--- a/new.yaml", "+++ b/new.yaml", "@@ -0,0 +1 @@", "+x"])
    }

    /// Applying the hunks to the old text gives the new one, for random edits; and the
    /// hunk headers agree with GNU diff's.
    @Test(arguments: 0..<40)
    func hunksApplyAndMatchDiff(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed))
        let base = (0..<Int(random.next() % 40)).map { "line \($0 % 7) \($0)" }
        var changed = base
        for _ in 0..<Int(random.next() % 6 + 1) {
            let index = changed.isEmpty ? 0 : Int(random.next() % UInt64(changed.count))
            switch random.next() % 3 {
            case 0 where !changed.isEmpty: changed.remove(at: index)
            case 1: changed.insert("new \(random.next() % 100)", at: index)
            default: if !changed.isEmpty { changed[index] = "changed \(random.next() % 100)" }
            }
        }
        let old = base.map { $0 + "\n" }.joined(), new = changed.map { $0 + "\n" }.joined()
        let diff = TextDiff.unified(old: old, new: new, path: "f")
        #expect(apply(diff, to: base) == changed)
        // GNU diff's line counts agree (its choice of which equal line to keep may differ).
        let scratch = try TemporaryDirectory(prefix: "hld-diff")
        try old.write(to: scratch.appending("a"), atomically: true, encoding: .utf8)
        try new.write(to: scratch.appending("b"), atomically: true, encoding: .utf8)
        let gnu = try ChildProcess.run("diff", ["-u", scratch.appending("a").path, scratch.appending("b").path], environment: ["PATH": "/usr/bin:/bin"])
        let count = { (lines: [String], prefix: String) in lines.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(prefix + prefix + prefix) }.count }
        let theirs = gnu.stdout.split(separator: "\n").map(String.init)
        #expect(count(diff, "-") == count(theirs, "-") && count(diff, "+") == count(theirs, "+"), "\(diff)\n\(theirs)")
    }

    func apply(_ diff: [String], to old: [String]) -> [String] {
        var result: [String] = []
        var position = 0
        for line in diff.dropFirst(2) {
            if line.hasPrefix("@@") {
                let start = Int(line.dropFirst(4).prefix { $0.isNumber }) ?? 0
                let target = max(0, start - 1) + (line.contains("-0,0") ? 1 : 0)
                while position < target - (line.contains("-0,0") ? 1 : 0) { result.append(old[position]); position += 1 }
            } else if line.hasPrefix(" ") {
                result.append(old[position]); position += 1
            } else if line.hasPrefix("-") {
                position += 1
            } else if line.hasPrefix("+") {
                result.append(String(line.dropFirst()))
            }
        }
        while position < old.count { result.append(old[position]); position += 1 }
        return result
    }
}
