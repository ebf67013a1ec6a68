/// URL mirrors for air-gapped CI (`hld.yaml` `mirrors:`, `HLD_MIRRORS`): prefix rewrites
/// applied to every URL hld fetches — git remotes, Helm repository indexes and chart
/// archives, `oci://` references, http manifests — so that `https://github.com/org/repo`
/// is fetched from `file:///srv/git/org/repo`. Only the transport changes: cache keys,
/// pins, output and messages keep the original URL.
///
/// A trailing slash on either side does not matter: `https://charts.example.com` and
/// `https://charts.example.com/` are the same rule, and a prefix ending in a letter or
/// digit matches only at a path boundary (`https://github.com/org` does not rewrite
/// `https://github.com/organisation/x`). The longest matching prefix wins.
public struct URLRewrites: Sendable, Equatable {
    /// Longest prefix first.
    public let rules: [Rule]

    public struct Rule: Sendable, Equatable {
        /// Without trailing slashes.
        public var prefix: String
        public var replacement: String

        /// Whether the prefix must be followed by `/` or the end of the URL.
        var needsBoundary: Bool { prefix.last.map { $0.isLetter || $0.isNumber } ?? false }

        /// `url` rewritten, or nil when the rule does not match it.
        func apply(_ url: String) -> String? {
            guard url.hasPrefix(prefix) else { return nil }
            let rest = url.dropFirst(prefix.count)
            if needsBoundary && !rest.isEmpty && !rest.hasPrefix("/") { return nil }
            let base = replacement.hasSuffix("/") ? String(replacement.dropLast()) : replacement
            if rest.isEmpty || rest.hasPrefix("/") { return base + rest }
            // A prefix such as `git@github.com:` continues without a slash.
            return (replacement.hasSuffix("/") ? base + "/" : base) + rest
        }
    }

    public init(_ mapping: [String: String] = [:]) {
        var normalized: [String: String] = [:]
        for key in mapping.keys.sorted() {
            normalized[Self.trimmingSlashes(key)] = mapping[key]
        }
        rules = normalized.map { Rule(prefix: $0.key, replacement: $0.value) }
            .sorted { $0.prefix.count != $1.prefix.count ? $0.prefix.count > $1.prefix.count : $0.prefix < $1.prefix }
    }

    private static func trimmingSlashes(_ prefix: String) -> String {
        var text = Substring(prefix)
        while text.hasSuffix("/") && !text.hasSuffix("://") { text = text.dropLast() }
        return String(text)
    }

    /// Reads `HLD_MIRRORS` (and its older name `HLD_GIT_MIRRORS`; `HLD_MIRRORS` wins for
    /// the same prefix): whitespace-separated `prefix=replacement` pairs.
    public static func fromEnvironment(_ environment: [String: String]) throws(GitSourceError) -> URLRewrites {
        var mapping: [String: String] = [:]
        for variable in ["HLD_GIT_MIRRORS", "HLD_MIRRORS"] {
            guard let value = environment[variable], !value.isEmpty else { continue }
            for pair in value.split(whereSeparator: \.isWhitespace) {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex, pair.index(after: equals) != pair.endIndex else {
                    throw GitSourceError(url: String(pair), ref: nil, kind: .invalidURL,
                                         detail: "\(variable) entries are prefix=replacement pairs separated by spaces")
                }
                mapping[trimmingSlashes(String(pair[..<equals]))] = String(pair[pair.index(after: equals)...])
            }
        }
        return URLRewrites(mapping)
    }

    /// This set with `other`'s rules added; `other` wins for the same prefix.
    public func merging(_ other: URLRewrites) -> URLRewrites {
        var mapping = Dictionary(rules.map { ($0.prefix, $0.replacement) }, uniquingKeysWith: { a, _ in a })
        for rule in other.rules { mapping[rule.prefix] = rule.replacement }
        return URLRewrites(mapping)
    }

    /// `url` with the longest matching prefix replaced.
    public func apply(_ url: String) -> String {
        matchingRule(url).flatMap { $0.apply(url) } ?? url
    }

    /// The rule that rewrites `url`, or nil when none does.
    public func matchingRule(_ url: String) -> Rule? {
        rules.first { $0.apply(url) != nil }
    }
}
