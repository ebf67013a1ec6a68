import Foundation
/// A semantic version (`1.2.3`, `v1.2.3-rc.1+build`), ordered by SemVer 2.0 precedence.
struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    public var prerelease: [String]
    public var original: String

    /// Parses a full or partial version (`1`, `1.2` fill with zeros); nil when it is none.
    public init?(_ text: String) {
        original = text
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.first == "v" || body.first == "V" { body = body.dropFirst() }
        if let plus = body.firstIndex(of: "+") { body = body[..<plus] }
        var pre: [String] = []
        if let dash = body.firstIndex(of: "-") {
            pre = body[body.index(after: dash)...].split(separator: ".").map(String.init)
            guard !pre.isEmpty, pre.allSatisfy({ !$0.isEmpty }) else { return nil }
            body = body[..<dash]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let major = Int(parts[0]) else { return nil }
        let numbers = parts.map { Int($0) }
        guard !numbers.contains(nil) else { return nil }
        self.major = major
        minor = parts.count > 1 ? numbers[1] ?? 0 : 0
        patch = parts.count > 2 ? numbers[2] ?? 0 : 0
        prerelease = pre
    }

    init(_ major: Int, _ minor: Int, _ patch: Int, prerelease: [String] = []) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        original = "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    public var isPrerelease: Bool { !prerelease.isEmpty }
    public var description: String { original }

    public static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) == (rhs.major, rhs.minor, rhs.patch) && lhs.prerelease == rhs.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major); hasher.combine(minor); hasher.combine(patch); hasher.combine(prerelease)
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // A pre-release sorts before its release; identifiers compare numerically when both are numbers.
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false):
            for (a, b) in zip(lhs.prerelease, rhs.prerelease) where a != b {
                switch (Int(a), Int(b)) {
                case let (x?, y?): return x < y
                case (_?, nil): return true
                case (nil, _?): return false
                default: return a < b
                }
            }
            return lhs.prerelease.count < rhs.prerelease.count
        }
    }
}

/// A version constraint as Helm writes them (Masterminds semver): exact versions,
/// comparisons (`>=1.2 <2`), `~1.2`, `^1.2.3`, wildcards (`1.2.x`, `*`), hyphen ranges
/// (`1.2 - 1.4`), `,`/space for "and", `||` for "or". Pre-releases match only when the
/// constraint itself names one.
struct VersionConstraint: Sendable, CustomStringConvertible {
    private struct Comparison: Sendable {
        enum Operator: Sendable { case eq, ne, gt, ge, lt, le }
        var op: Operator
        var version: SemanticVersion

        func matches(_ candidate: SemanticVersion) -> Bool {
            switch op {
            case .eq: return candidate == version
            case .ne: return candidate != version
            case .gt: return candidate > version
            case .ge: return candidate >= version
            case .lt: return candidate < version
            case .le: return candidate <= version
            }
        }
    }

    private let alternatives: [[Comparison]]
    private let allowsPrerelease: Bool
    public let description: String

    /// Parses `text`; nil when it is not a constraint.
    public init?(_ text: String) {
        description = text
        var alternatives: [[Comparison]] = []
        for alternative in text.components(separatedBy: "||") {
            var comparisons: [Comparison] = []
            var tokens = alternative.replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
            // Join operators written apart from their version (">= 1.2").
            var joined: [String] = []
            while !tokens.isEmpty {
                let token = tokens.removeFirst()
                if ["=", "!=", ">", ">=", "<", "<=", "~", "^", "~>"].contains(token), !tokens.isEmpty {
                    joined.append(token + tokens.removeFirst())
                } else {
                    joined.append(token)
                }
            }
            var index = 0
            while index < joined.count {
                if index + 2 < joined.count, joined[index + 1] == "-" {
                    guard let low = Self.bounds(joined[index]), let high = Self.bounds(joined[index + 2]) else { return nil }
                    comparisons.append(Comparison(op: .ge, version: low.lower))
                    comparisons.append(high.upperExclusive.map { Comparison(op: .lt, version: $0) } ?? Comparison(op: .le, version: high.lower))
                    index += 3
                    continue
                }
                guard let parsed = Self.comparisons(joined[index]) else { return nil }
                comparisons += parsed
                index += 1
            }
            guard !comparisons.isEmpty else { return nil }
            alternatives.append(comparisons)
        }
        guard !alternatives.isEmpty else { return nil }
        self.alternatives = alternatives
        allowsPrerelease = alternatives.joined().contains { $0.version.isPrerelease }
    }

    public func matches(_ version: SemanticVersion) -> Bool {
        if version.isPrerelease && !allowsPrerelease { return false }
        return alternatives.contains { $0.allSatisfy { $0.matches(version) } }
    }

    /// The highest of `versions` that matches.
    public func best(of versions: [SemanticVersion]) -> SemanticVersion? {
        versions.filter(matches).max()
    }

    /// A wildcard or partial version's range: lower bound and exclusive upper bound.
    private static func bounds(_ text: String) -> (lower: SemanticVersion, upperExclusive: SemanticVersion?)? {
        var body = Substring(text)
        if body.first == "v" { body = body.dropFirst() }
        if body == "*" || body == "x" || body == "X" { return (SemanticVersion(0, 0, 0), nil) }
        let pieces = body.split(separator: "-", maxSplits: 1)
        let parts = pieces[0].split(separator: ".").map(String.init)
        let wild = parts.firstIndex { $0 == "x" || $0 == "X" || $0 == "*" } ?? parts.count
        let numbers = parts.prefix(wild).compactMap { Int($0) }
        guard numbers.count == wild, wild >= 1 || parts.isEmpty else { return nil }
        if wild == 3 || (parts.count == 3 && wild == parts.count) {
            guard let exact = SemanticVersion(String(body)) else { return nil }
            return (exact, nil)
        }
        let lower = SemanticVersion(numbers.count > 0 ? numbers[0] : 0, numbers.count > 1 ? numbers[1] : 0, 0)
        switch numbers.count {
        case 0: return (SemanticVersion(0, 0, 0), nil)
        case 1: return (lower, SemanticVersion(numbers[0] + 1, 0, 0))
        default: return (lower, SemanticVersion(numbers[0], numbers[1] + 1, 0))
        }
    }

    private static func comparisons(_ token: String) -> [Comparison]? {
        let operators: [(String, Comparison.Operator?)] = [(">=", .ge), ("<=", .le), ("!=", .ne), ("~>", nil), (">", .gt), ("<", .lt), ("=", .eq), ("~", nil), ("^", nil)]
        for (symbol, op) in operators where token.hasPrefix(symbol) {
            let rest = String(token.dropFirst(symbol.count))
            guard let range = bounds(rest) else { return nil }
            switch symbol {
            case "~", "~>":
                // ~1.2.3 → >=1.2.3 <1.3.0; ~1.2 → <1.3.0; ~1 → <2.0.0
                let parts = rest.split(separator: ".").count
                let low = range.lower
                let high = parts >= 2 ? SemanticVersion(low.major, low.minor + 1, 0) : SemanticVersion(low.major + 1, 0, 0)
                return [Comparison(op: .ge, version: low), Comparison(op: .lt, version: high)]
            case "^":
                // ^1.2.3 → <2.0.0; ^0.2.3 → <0.3.0; ^0.0.3 → <0.0.4
                let low = range.lower
                let high: SemanticVersion
                if low.major > 0 || rest.split(separator: ".").count == 1 { high = SemanticVersion(low.major + 1, 0, 0) }
                else if low.minor > 0 || rest.split(separator: ".").count == 2 { high = SemanticVersion(0, low.minor + 1, 0) }
                else { high = SemanticVersion(0, 0, low.patch + 1) }
                return [Comparison(op: .ge, version: low), Comparison(op: .lt, version: high)]
            default:
                guard let op else { return nil }
                if let upper = range.upperExclusive, op == .eq {
                    return [Comparison(op: .ge, version: range.lower), Comparison(op: .lt, version: upper)]
                }
                if let upper = range.upperExclusive, op == .le || op == .gt {
                    // <=1.2 means below 1.3; >1.2 means at least 1.3
                    return [Comparison(op: op == .le ? .lt : .ge, version: upper)]
                }
                return [Comparison(op: op, version: range.lower)]
            }
        }
        guard let range = bounds(token) else { return nil }
        if let upper = range.upperExclusive {
            return [Comparison(op: .ge, version: range.lower), Comparison(op: .lt, version: upper)]
        }
        if token == "*" || token == "x" || token == "X" { return [Comparison(op: .ge, version: range.lower)] }
        return [Comparison(op: .eq, version: range.lower)]
    }
}
