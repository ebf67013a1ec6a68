/// "Did you mean": the known name a misspelt one was probably meant to be.
enum Spelling {
    /// The known name closest to `name` within edit distance 2 (the first of equally close
    /// ones), or nil. An unknown field that close to a known one is taken for a typo.
    static func suggestion(for name: String, among known: [String]) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in known where candidate != name {
            let d = distance(name, candidate)
            if d <= 2, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps
    /// of neighbours (`tpye` → `type`) each count one.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }

    /// ` (did you mean X?)`, or ` (known: a, b, c)` when nothing is close.
    static func hint(for name: String, among known: [String]) -> String {
        if let suggestion = suggestion(for: name, among: known) { return " (did you mean \(suggestion)?)" }
        return known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"
    }
}
