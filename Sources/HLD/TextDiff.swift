/// Unified diffs of rendered files, for `--check`: what would change on disk, line by line.
public enum TextDiff {
    /// The unified diff (`--- a/…`, `+++ b/…`, `@@` hunks with `context` lines around each
    /// change) of `old` and `new`; empty when they are equal. Files too large to compare
    /// line by line within `budget` comparisons get a one-line note instead.
    public static func unified(old: String, new: String, path: String, context: Int = 3, budget: Int = 4_000_000) -> [String] {
        guard old != new else { return [] }
        let a = lines(old), b = lines(new)
        var header = ["--- a/\(path)", "+++ b/\(path)"]
        guard a.count * b.count <= budget else {
            header.append("@@ \(path) differs (\(a.count) and \(b.count) lines: too large to show line by line) @@")
            return header
        }
        let edits = script(a, b)
        // Hunks: each change with `context` lines around it, merged when they touch.
        var ranges: [ClosedRange<Int>] = []
        for index in edits.indices where edits[index].kind != .equal {
            let range = max(0, index - context)...min(edits.count - 1, index + context)
            if let last = ranges.last, range.lowerBound <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...range.upperBound
            } else {
                ranges.append(range)
            }
        }
        var out = header
        for range in ranges {
            let hunk = edits[range]
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            let oldStart = hunk.first.map { oldCount == 0 ? $0.oldLine - 1 : $0.oldLine } ?? 0
            let newStart = hunk.first.map { newCount == 0 ? $0.newLine - 1 : $0.newLine } ?? 0
            // As GNU diff writes them: a count of 1 is left out.
            func span(_ start: Int, _ count: Int) -> String { count == 1 ? "\(start)" : "\(start),\(count)" }
            out.append("@@ -\(span(oldStart, oldCount)) +\(span(newStart, newCount)) @@")
            for edit in hunk {
                switch edit.kind {
                case .equal: out.append(" " + edit.text)
                case .delete: out.append("-" + edit.text)
                case .insert: out.append("+" + edit.text)
                }
            }
        }
        return out
    }

    enum Kind: Equatable { case equal, delete, insert }

    struct Edit {
        var kind: Kind
        var text: String
        /// 1-based line numbers in the old and new text where this edit sits.
        var oldLine: Int
        var newLine: Int
    }

    private static func lines(_ text: String) -> [String] {
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// An edit script from the longest common subsequence (dynamic programming).
    private static func script(_ a: [String], _ b: [String]) -> [Edit] {
        let n = a.count, m = b.count
        var table = [[Int32]](repeating: [Int32](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] {
                edits.append(Edit(kind: .equal, text: a[i], oldLine: i + 1, newLine: j + 1))
                i += 1
                j += 1
            } else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] {
                // Deletions before insertions, as diff(1) shows a changed line.
                edits.append(Edit(kind: .delete, text: a[i], oldLine: i + 1, newLine: j + 1))
                i += 1
            } else {
                edits.append(Edit(kind: .insert, text: b[j], oldLine: i + 1, newLine: j + 1))
                j += 1
            }
        }
        return edits
    }
}
