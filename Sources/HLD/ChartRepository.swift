import CacheStore
import Foundation
import Git
import YAML

/// A chart that could not be found or fetched, and which setting of the component to
/// point at: the repository (`source`), the chart name (`path`) or the `version`.
struct ChartRepositoryError: Error, Sendable, CustomStringConvertible {
    enum Setting: String, Sendable { case source, path, version }

    var setting: Setting
    var description: String

    init(_ setting: Setting, _ description: String) {
        self.setting = setting
        self.description = description
    }
}

/// hld's own client for Helm HTTP chart repositories: `index.yaml` fetched once per run per
/// URL (and reused offline), versions resolved (exact, constraint or latest), archives
/// downloaded, checked against the index digest and stored by digest. The user's Helm
/// repositories are never read or changed.
actor ChartRepositories {
    struct ChartVersion: Sendable {
        var name: String
        var version: SemanticVersion
        var urls: [String]
        var digest: String?
    }

    /// A chart archive in the cache.
    struct Archive: Sendable {
        var path: String
        var digest: String
        var version: String
        /// For OCI charts: the manifest digest the chart layer came from.
        var manifest: String? = nil
    }

    private let store: CacheStore
    /// Mirrors, the offline check and the limiter. Cache keys and messages keep the
    /// original URL.
    private let network: Network
    private var indexes: [String: Task<[String: [ChartVersion]], any Error>] = [:]
    /// One download per archive per run: tasks of this process share it, and the entry's
    /// file lock serializes processes (a task never blocks on a lock another task holds).
    private var downloads: [String: Task<Archive, any Error>] = [:]

    init(store: CacheStore, network: Network) {
        self.store = store
        self.network = network
    }

    /// The archive of chart `name` at `version` (exact, constraint, or nil for the latest
    /// release) from the repository at `repository`.
    func archive(repository: String, chart name: String, version: String?) async throws(ChartRepositoryError) -> Archive {
        let shown = GitURL.redact(repository)
        let index = try await self.index(repository)
        guard let entries = index[name], !entries.isEmpty else {
            throw ChartRepositoryError(.path, "chart \(name) is not in the repository \(shown)")
        }
        let chosen: ChartVersion
        if let version, !version.isEmpty {
            guard let constraint = VersionConstraint(version) else {
                throw ChartRepositoryError(.version, "\(version) is not a chart version or version constraint")
            }
            guard let best = constraint.best(of: entries.map(\.version)), let entry = entries.first(where: { $0.version == best }) else {
                let known = entries.map(\.version).sorted(by: >).prefix(8).map(\.original).joined(separator: ", ")
                throw ChartRepositoryError(.version, "chart \(name) has no version matching \(version) in \(shown) (it has: \(known))")
            }
            chosen = entry
        } else {
            guard let latest = entries.filter({ !$0.version.isPrerelease }).max(by: { $0.version < $1.version }) else {
                throw ChartRepositoryError(.version, "chart \(name) has only pre-release versions in \(shown); name one")
            }
            chosen = latest
        }
        let key = chosen.digest?.lowercased() ?? "\(repository)|\(chosen.name)|\(chosen.version.original)"
        let task: Task<Archive, any Error>
        if let running = downloads[key] {
            task = running
        } else {
            task = Task { try await self.download(chosen, repository: repository) }
            downloads[key] = task
        }
        do {
            return try await task.value
        } catch {
            throw error as? ChartRepositoryError ?? ChartRepositoryError(.source, "\(error)")
        }
    }

    private func index(_ repository: String) async throws(ChartRepositoryError) -> [String: [ChartVersion]] {
        let key = repository.hasSuffix("/") ? String(repository.dropLast()) : repository
        let task: Task<[String: [ChartVersion]], any Error>
        if let running = indexes[key] {
            task = running
        } else {
            let store = self.store, network = self.network
            task = Task { try await Self.loadIndex(key, store: store, network: network) }
            indexes[key] = task
        }
        do {
            return try await task.value
        } catch {
            throw error as? ChartRepositoryError ?? ChartRepositoryError(.source, "\(error)")
        }
    }

    private static func loadIndex(_ repository: String, store: CacheStore, network: Network) async throws -> [String: [ChartVersion]] {
        let shown = GitURL.redact(repository)
        let retired = RetiredRepositories.hint(for: repository, rewrites: network.rewrites)
        var bytes: [UInt8]
        // Online, the index is read afresh once per run; offline, the cached copy is used.
        if network.offline, let cached = store.record(.chartIndexes, key: repository) {
            bytes = cached
        } else {
            let status: Int, body: Data
            do {
                (status, body) = try await network.get(repository + "/index.yaml", what: "the index of \(shown)")
            } catch {
                throw ChartRepositoryError(.source, (network.offline ? error.description : "chart repository \(shown): \(error.description)") + retired)
            }
            guard (200..<300).contains(status) else {
                throw ChartRepositoryError(.source, "chart repository \(shown): index.yaml returned HTTP status \(status)\(network.statusAdvice(status, for: repository + "/index.yaml"))\(retired)")
            }
            bytes = [UInt8](body)
            try store.setRecord(.chartIndexes, key: repository, bytes)
        }
        let node: Node
        do {
            // Read as helm reads it: a key given twice keeps its last value.
            node = try DocumentReader(bytes: bytes, file: "\(shown)/index.yaml", duplicateKeys: .lastWins).next() ?? .null
        } catch {
            throw ChartRepositoryError(.source, "chart repository \(shown): \(error.headline)")
        }
        var charts: [String: [ChartVersion]] = [:]
        for pair in node["entries"]?.pairs ?? [] {
            guard let name = pair.key.scalarText else { continue }
            charts[name] = (pair.value.sequence ?? []).compactMap { entry in
                guard let text = entry["version"]?.textValue, let version = SemanticVersion(text) else { return nil }
                return ChartVersion(name: name, version: version, urls: entry["urls"]?.sequence?.compactMap(\.textValue) ?? [],
                                    digest: entry["digest"]?.textValue)
            }
        }
        return charts
    }

    /// Downloads (or finds in the cache) one chart archive, checking its digest.
    private func download(_ chart: ChartVersion, repository: String) async throws(ChartRepositoryError) -> Archive {
        let shown = GitURL.redact(repository)
        // Under the entry's lock, so that processes sharing the cache download it once;
        // a damaged entry is discarded and downloaded again.
        let entry = chart.digest.flatMap { store.entry(.chartArchives, digest: $0) }
        if let entry { store.use(entry) }
        let lock: CacheEntryLock?
        do {
            lock = try entry?.lock(.exclusive)
        } catch {
            throw ChartRepositoryError(.source, "chart \(chart.name) \(chart.version): \(error)")
        }
        defer { lock?.release() }
        if let entry, let digest = chart.digest?.lowercased() {
            // Checked here rather than with `store.get`, which would take the lock again.
            if let bytes = entry.read(), CacheStore.sha256(bytes) == digest {
                store.use(entry)
                return Archive(path: entry.path, digest: digest, version: chart.version.original)
            }
            entry.remove()
        }
        // Relative archive URLs are relative to the repository's own (original) URL; the
        // mirrors then rewrite relative and absolute ones alike, so an index that names
        // the original host still downloads from the mirror.
        guard let first = chart.urls.first, let base = URL(string: repository + "/"), let url = URL(string: first, relativeTo: base)?.absoluteURL else {
            throw ChartRepositoryError(.source, "chart \(chart.name) \(chart.version) in \(shown) has no download URL")
        }
        let original = GitURL.redact(url.absoluteString)
        let status: Int, body: Data
        do {
            (status, body) = try await network.get(url.absoluteString, what: "chart \(chart.name) \(chart.version) from \(shown)")
        } catch {
            throw ChartRepositoryError(.source, network.offline ? error.description : "chart \(chart.name) \(chart.version): \(error.description)")
        }
        guard (200..<300).contains(status) else {
            throw ChartRepositoryError(.source, "chart \(chart.name) \(chart.version): \(original) returned HTTP status \(status)\(network.statusAdvice(status, for: url.absoluteString))")
        }
        let digest = sha256Hex(body)
        if let expected = chart.digest, expected.lowercased() != digest {
            throw ChartRepositoryError(.source, "chart \(chart.name) \(chart.version) from \(shown) does not match the digest in the repository index (expected \(expected), got \(digest)); the archive may have been tampered with")
        }
        let stored = store.entry(.chartArchives, name: digest)
        do {
            // The lock is already held when the index named a digest.
            if lock != nil {
                try stored.write([UInt8](body))
                store.use(stored)
            } else {
                try store.put(.chartArchives, [UInt8](body))
            }
        } catch {
            throw ChartRepositoryError(.source, "cannot store chart \(chart.name) in the cache: \(error)")
        }
        return Archive(path: stored.path, digest: digest, version: chart.version.original)
    }
}

/// The Helm repositories Fabrikate-era HLDs name that were retired in November 2020, and
/// where their charts live on.
enum RetiredRepositories {
    static let successors = [
        "kubernetes-charts.storage.googleapis.com": "https://charts.helm.sh/stable",
        "kubernetes-charts-incubator.storage.googleapis.com": "https://charts.helm.sh/incubator",
    ]

    /// For a retired repository that no mirror rewrites: a sentence saying so and the
    /// `hld.yaml` lines that fix it; else "".
    static func hint(for repository: String, rewrites: URLRewrites) -> String {
        guard let url = URL(string: repository), let host = url.host?.lowercased(), let successor = successors[host],
              rewrites.matchingRule(repository + "/index.yaml") == nil else { return "" }
        let original = "\(url.scheme?.lowercased() ?? "https")://\(host)/"
        return """
            ; \(original) was retired in 2020 and its charts are served from \(successor)/ now. \
            Point it there (or at your own mirror) in hld.yaml:
              mirrors:
                \(original): \(successor)/
            """
    }
}
