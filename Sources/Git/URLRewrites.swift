/// Prefix rewrites for git URLs (`hld.yaml` `mirrors:`, or `HLD_GIT_MIRRORS`), so that
/// air-gapped CI fetches `https://github.com/org/repo` from `file:///srv/git/org/repo`.
/// The cache and pins keep the original URL; only the transport changes.
public struct URLRewrites: Sendable, Equatable {
    /// (prefix, replacement), longest prefix first.
    public let rules: [Rule]

    public struct Rule: Sendable, Equatable {
        public var prefix: String
        public var replacement: String
    }

    public init(_ mapping: [String: String] = [:]) {
        rules = mapping.map { Rule(prefix: $0.key, replacement: $0.value) }
            .sorted { $0.prefix.count != $1.prefix.count ? $0.prefix.count > $1.prefix.count : $0.prefix < $1.prefix }
    }

    /// Reads `HLD_GIT_MIRRORS`: whitespace-separated `prefix=replacement` pairs.
    public static func fromEnvironment(_ environment: [String: String]) throws(GitSourceError) -> URLRewrites {
        guard let value = environment["HLD_GIT_MIRRORS"], !value.isEmpty else { return URLRewrites() }
        var mapping: [String: String] = [:]
        for pair in value.split(whereSeparator: \.isWhitespace) {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex, pair.index(after: equals) != pair.endIndex else {
                throw GitSourceError(url: String(pair), ref: nil, kind: .invalidURL,
                                     detail: "HLD_GIT_MIRRORS entries are prefix=replacement pairs separated by spaces")
            }
            mapping[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
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
        guard let rule = rules.first(where: { url.hasPrefix($0.prefix) }) else { return url }
        return rule.replacement + url.dropFirst(rule.prefix.count)
    }
}
