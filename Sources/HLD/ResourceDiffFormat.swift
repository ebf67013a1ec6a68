import Foundation

/// How `hld diff` shows a comparison: plain text for a terminal, Markdown for a
/// pull-request comment (capped in size), JSON for scripts. `old` and `new` name the two
/// renders (`dev`, `HEAD~1 (1a2b3c4d5e6f)`, `working tree`).
extension ResourceDiff {
    /// The default cap on Markdown output, in UTF-8 bytes (never fewer than characters):
    /// under GitHub's 65 536-character limit on a comment, with room for a bot's own lines.
    public static let defaultMarkdownLimit = 60_000

    /// One line per added, removed and changed resource, then the unified diff of each
    /// changed one; or one line saying both are the same.
    public func text(old: String, new: String) -> String {
        guard !isEmpty else { return "\(old) and \(new) render the same \(newCount) resource(s)\n" }
        var lines = ["\(old) → \(new): \(summary)"]
        for change in changes {
            var line = "\(change.kind.rawValue): \(change.key) (\(change.source))"
            if !change.secretKeys.isEmpty { line += ": " + change.secretKeys.map(\.description).joined(separator: ", ") }
            lines.append(line)
        }
        for change in changes where change.kind == .changed { lines += change.diff }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `1 added, 0 removed, 2 changed, 14 unchanged`.
    var summary: String { "\(added) added, \(removed) removed, \(changed) changed, \(unchanged) unchanged" }

    /// A heading, the counts, a table of every added, removed and changed resource, then
    /// one collapsed `<details>` section per changed resource with its diff. When that
    /// would be longer than `limit` UTF-8 bytes, the sections (and if need be the table)
    /// are cut to fit and a note says what was left out; the result is never longer than
    /// `limit` (which should be at least 1 000).
    public func markdown(old: String, new: String, limit: Int = ResourceDiff.defaultMarkdownLimit) -> String {
        var head = "### hld diff: \(Markdown.code(old)) → \(Markdown.code(new))\n\n"
        guard !isEmpty else { return head + "No resource differs: both render the same \(newCount) resource(s).\n" }
        head += "\(summary).\n\n| Change | API version | Kind | Namespace | Name |\n|---|---|---|---|---|\n"
        let rows = changes.map { change in
            "| \(change.kind.rawValue) | " + [change.key.apiVersion, change.key.kind, change.key.namespace, change.key.name + (change.key.occurrence > 0 ? " (#\(change.key.occurrence + 1))" : "")]
                .map(Markdown.cell).joined(separator: " | ") + " |\n"
        }
        let changed = changes.filter { $0.kind == .changed }
        let sections = changed.map { Markdown.section($0, lines: $0.diff.count) }
        let size = head.utf8.count + rows.map(\.utf8.count).reduce(0, +) + 1 + sections.map(\.utf8.count).reduce(0, +)
        // Each section ends with a blank line; the output ends with one newline.
        guard size > limit else { return String((head + rows.joined() + "\n" + sections.joined()).dropLast()) }

        // Room for the note, whose length does not depend on any resource's name.
        let budget = limit - 400
        var out = head
        var used = head.utf8.count
        var rowsShown = 0
        for row in rows {
            guard used + row.utf8.count + 1 <= budget else { break }
            out += row
            used += row.utf8.count
            rowsShown += 1
        }
        out += "\n"
        used += 1
        var sectionsShown = 0
        var shortened = false
        if rowsShown == rows.count {
            for (change, section) in zip(changed, sections) {
                if used + section.utf8.count <= budget {
                    out += section
                    used += section.utf8.count
                    sectionsShown += 1
                    continue
                }
                if let cut = Markdown.shortenedSection(change, fitting: budget - used) {
                    out += cut
                    used += cut.utf8.count
                    shortened = true
                }
                break
            }
        }
        var parts = ["\(sectionsShown) of \(changed.count) changed resource(s) shown in full"]
        if shortened { parts.append("the next one shortened") }
        if rowsShown < rows.count { parts.append("\(rowsShown) of \(rows.count) rows of the table") }
        out += "**Cut to stay under \(limit) characters:** \(parts.joined(separator: ", ")). Run `hld diff` (text output) to see everything.\n"
        return out
    }

    /// The comparison as one JSON document: both sides, the counts, and every change with
    /// its identity, origins, Secret key changes and unified diff (values of Secrets are
    /// never in it).
    public func json(old: String, new: String) -> [UInt8] {
        let report = JSONReport(
            old: .init(label: old, resources: oldCount), new: .init(label: new, resources: newCount), same: isEmpty,
            summary: .init(added: added, removed: removed, changed: changed, unchanged: unchanged),
            changes: changes.map(JSONReport.Change.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers and arrays of them cannot fail.
        return Array((try? encoder.encode(report)) ?? Data()) + [0x0A]
    }
}

/// `hld diff --format json`.
private struct JSONReport: Encodable {
    struct Side: Encodable {
        var label: String
        var resources: Int
    }

    struct Summary: Encodable {
        var added, removed, changed, unchanged: Int
    }

    struct Origin: Encodable {
        var file: String
        var source: String?
        var component: String

        init?(_ origin: ResourceOrigin?) {
            guard let origin else { return nil }
            file = origin.file
            source = origin.source
            component = origin.component
        }
    }

    struct SecretKey: Encodable {
        var field: String
        var key: String
        var change: SecretKeyChange.Kind
    }

    struct Change: Encodable {
        var change: ResourceChange.Kind
        var apiVersion, kind, namespace, name: String
        /// Only for a repeated identity: 2 for the second resource with it.
        var occurrence: Int?
        var old, new: Origin?
        var secretKeys: [SecretKey]?
        var diff: [String]?

        init(_ change: ResourceChange) {
            self.change = change.kind
            apiVersion = change.key.apiVersion
            kind = change.key.kind
            namespace = change.key.namespace
            name = change.key.name
            occurrence = change.key.occurrence > 0 ? change.key.occurrence + 1 : nil
            old = Origin(change.old)
            new = Origin(change.new)
            secretKeys = change.secretKeys.isEmpty ? nil : change.secretKeys.map { SecretKey(field: $0.field, key: $0.key, change: $0.kind) }
            diff = change.kind == .changed ? change.diff : nil
        }
    }

    var old, new: Side
    var same: Bool
    var summary: Summary
    var changes: [Change]
}

/// Pieces of the Markdown output.
private enum Markdown {
    /// `text` as inline code, with a fence longer than any backtick run inside it.
    static func code(_ text: String) -> String {
        let ticks = String(repeating: "`", count: longestBacktickRun(text) + 1)
        return ticks.count > 1 ? "\(ticks) \(text) \(ticks)" : "`\(text)`"
    }

    /// A table cell: `|` escaped, line breaks flattened; `-` when empty.
    static func cell(_ text: String) -> String {
        text.isEmpty ? "-" : text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0, run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    /// A collapsed section with the first `lines` lines of a changed resource's diff (and
    /// a line saying how many were cut, when that is not all of them).
    static func section(_ change: ResourceChange, lines: Int) -> String {
        var text = "<details>\n<summary>changed: <code>\(html(change.key.description))</code> (\(html(change.source)))</summary>\n\n"
        if !change.secretKeys.isEmpty {
            text += "Secret keys: " + change.secretKeys.map { "`\($0.key.isEmpty ? $0.field : $0.field + "." + $0.key)` \($0.kind.rawValue)" }.joined(separator: ", ")
                + " (values are never shown).\n\n"
        }
        let shown = change.diff.prefix(lines)
        let fence = String(repeating: "`", count: max(3, shown.map(longestBacktickRun).max().map { $0 + 1 } ?? 3))
        text += fence + "diff\n" + shown.map { $0 + "\n" }.joined()
        if lines < change.diff.count { text += "… \(change.diff.count - lines) more line(s) cut\n" }
        return text + fence + "\n\n</details>\n\n"
    }

    /// The longest shortened section that fits in `room` bytes and still shows a few lines
    /// of the diff, or nil.
    static func shortenedSection(_ change: ResourceChange, fitting room: Int) -> String? {
        var low = 0, high = change.diff.count - 1, best: String?
        while low <= high {
            let middle = (low + high) / 2
            let candidate = section(change, lines: middle)
            if candidate.utf8.count <= room {
                best = middle >= 5 ? candidate : nil
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return best
    }
}
