/// The lines a change replaced: everything before the first and after the last differing
/// line is common.
package func changedLines(_ before: String, _ after: String) -> Changed {
    let old = before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let new = after.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var prefix = 0
    while prefix < min(old.count, new.count), old[prefix] == new[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < min(old.count, new.count) - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
    return Changed(removed: Array(old[prefix..<(old.count - suffix)]), added: Array(new[prefix..<(new.count - suffix)]))
}

package struct Changed: Equatable, CustomStringConvertible {
    package var removed: [String]
    package var added: [String]
    package init(removed: [String], added: [String]) {
        self.removed = removed
        self.added = added
    }
    package var description: String { (removed.map { "-" + $0 } + added.map { "+" + $0 }).joined(separator: "\n") }
}

