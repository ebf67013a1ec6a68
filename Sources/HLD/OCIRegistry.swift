import CacheStore
import Foundation
import Git

/// hld's own client for Helm charts in OCI registries (the distribution API: tag lists,
/// manifests, blobs). A reference resolves to a manifest, the manifest names the chart
/// layer, and the layer is stored by its digest in the same archive store as charts from
/// Helm HTTP repositories. Every use of a cached archive checks it against the layer
/// digest. Access is anonymous, with the Bearer token challenge public registries use.
///
/// Mirrors rewrite where a reference is fetched from; cache records, errors and the
/// rendered output keep the reference as written.
actor OCIRegistries {
    typealias Archive = ChartRepositories.Archive

    static let manifestMediaType = "application/vnd.oci.image.manifest.v1+json"
    static let chartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

    private let store: CacheStore
    private let network: Network
    private var offline: Bool { network.offline }
    private var rewrites: URLRewrites { network.rewrites }
    /// One resolution per reference and version per run, however many charts name it.
    private var resolutions: [String: Task<Archive, any Error>] = [:]
    /// Bearer tokens by registry host and repository.
    private var tokens: [String: String] = [:]

    init(store: CacheStore, network: Network) {
        self.store = store
        self.network = network
    }

    /// The archive of the chart at `reference` (`oci://host[:port]/repository/chart`,
    /// optionally `@sha256:<hex>`) at `version`: nil for the latest release, an exact
    /// version, a constraint, or a manifest digest `sha256:<hex>`.
    func archive(reference: String, version: String?) async throws(HLDError) -> Archive {
        let version = version.flatMap { $0.isEmpty ? nil : $0 }
        let key = "\(GitURL.redact(reference))@\(version ?? "")"
        let task: Task<Archive, any Error>
        if let running = resolutions[key] {
            task = running
        } else {
            task = Task { try await self.resolve(reference: reference, version: version) }
            resolutions[key] = task
        }
        do {
            return try await task.value
        } catch {
            throw error as? HLDError ?? HLDError("\(error)")
        }
    }

    // MARK: Resolution

    /// What a cache record remembers of one resolution: enough to find and check the
    /// archive without the registry.
    struct Resolution: Codable, Sendable {
        var reference: String
        var version: String
        var manifest: String
        var layer: String
        var chartVersion: String
    }

    private func resolve(reference: String, version: String?) async throws(HLDError) -> Archive {
        let shown = GitURL.redact(reference)
        let original = try OCIReference(reference)
        let pin = try Self.pinnedDigest(original, version: version, shown: shown)
        let named = shown + (version.map { " \($0)" } ?? "")
        let recordKey = "\(shown)@\(version ?? "")"

        if let data = store.record(.ociRecords, key: recordKey),
           let record = try? JSONDecoder().decode(Resolution.self, from: Data(data)), let layer = Self.hex(of: record.layer) {
            switch cachedArchive(layer) {
            case .valid(let path):
                // A digest names immutable content; a tag may have moved, so it is asked again online.
                if offline || pin != nil { return Archive(path: path, digest: layer, version: record.chartVersion, manifest: record.manifest) }
            case .damaged:
                if offline {
                    throw HLDError("the cached chart archive of \(named) was damaged (it no longer matches \(record.layer)) and has been removed; --offline forbids fetching it again")
                }
            case .missing:
                if offline {
                    throw HLDError("the chart archive of \(named) (\(record.layer)) is not in the cache and --offline forbids fetching it")
                }
            }
        } else {
            try network.permit(named)
        }

        let transport = rewrites.apply(original.withoutDigest)
        guard transport.lowercased().hasPrefix("oci://") else {
            throw HLDError("\(shown): the mirror rule rewrites it to \(GitURL.redact(transport)), which is not an oci:// reference")
        }
        var registry = try OCIReference(transport)
        registry.digest = pin
        let context = transport == original.withoutDigest ? shown : "\(shown) (through the mirror \(GitURL.redact(transport)))"

        let (manifestBytes, chosen) = try await manifest(registry, version: version, context: context)
        let manifestDigest = "sha256:" + sha256Hex(manifestBytes)
        if let pin, manifestDigest != pin {
            throw HLDError("\(context): the registry's manifest does not match the digest \(pin) (got \(manifestDigest)); the registry's copy may be damaged or tampered with")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: manifestBytes)
        } catch {
            throw HLDError("\(context): the registry returned a manifest that is not valid JSON: \(error)")
        }
        guard let layer = manifest.layers?.first(where: { $0.mediaType == Self.chartLayerMediaType }) else {
            let types = (manifest.layers ?? []).map(\.mediaType)
            throw HLDError("\(context) is not a Helm chart: its manifest has no \(Self.chartLayerMediaType) layer (it has: \(types.isEmpty ? "no layers" : types.joined(separator: ", ")))")
        }
        guard let layerHex = Self.hex(of: layer.digest) else {
            throw HLDError("\(context): the chart layer's digest \(layer.digest) is not a sha256 digest; hld verifies sha256 only")
        }
        let chartVersion = manifest.annotations?["org.opencontainers.image.version"] ?? chosen ?? manifestDigest

        let path: String
        if case .valid(let cached) = cachedArchive(layerHex) {
            path = cached
        } else {
            path = try await downloadBlob(layer.digest, hex: layerHex, from: registry, context: context)
        }
        let record = Resolution(reference: shown, version: version ?? "", manifest: manifestDigest, layer: layer.digest, chartVersion: chartVersion)
        do {
            try store.setRecord(.ociRecords, key: recordKey, [UInt8](try JSONEncoder().encode(record)))
        } catch {
            throw HLDError("cannot record the resolution of \(named) in the cache: \(error)")
        }
        return Archive(path: path, digest: layerHex, version: chartVersion, manifest: manifestDigest)
    }

    /// The manifest digest a reference is pinned to (`@sha256:…` or a `sha256:` version).
    private static func pinnedDigest(_ reference: OCIReference, version: String?, shown: String) throws(HLDError) -> String? {
        var versionDigest: String?
        if let version, version.lowercased().hasPrefix("sha256:") {
            guard hex(of: version) != nil else {
                throw HLDError("\(shown): version \(version) is not a manifest digest (sha256: followed by 64 hex digits)")
            }
            versionDigest = version.lowercased()
        }
        if let versionDigest, let referenceDigest = reference.digest, versionDigest != referenceDigest {
            throw HLDError("\(shown) is pinned to \(referenceDigest) but its version asks for \(versionDigest)")
        }
        return reference.digest ?? versionDigest
    }

    /// The manifest of `registry` at its pinned digest or at the tag `version` selects,
    /// and the chart version that tag names.
    private func manifest(_ registry: OCIReference, version: String?, context: String) async throws(HLDError) -> (Data, String?) {
        if let digest = registry.digest {
            let response = try await request("manifests/\(digest)", on: registry, accept: Self.manifestMediaType, context: context)
            guard response.status != 404 else {
                throw HLDError("\(context): the registry has no manifest \(digest)\(Self.registryMessage(response.body).map { " (\($0))" } ?? "")")
            }
            try Self.requireSuccess(response, what: "the manifest \(digest)", context: context)
            return (response.body, nil)
        }
        if let version, Self.isExactVersion(version) {
            let response = try await request("manifests/\(Self.tag(for: version))", on: registry, accept: Self.manifestMediaType, context: context)
            if response.status != 404 {
                try Self.requireSuccess(response, what: "the manifest of \(version)", context: context)
                return (response.body, version)
            }
            // No tag spelled exactly so (`1.2.0` for a chart pushed as `v1.2.0`): resolve it as a constraint.
        }
        let tags = try await tagList(registry, context: context)
        var versions: [SemanticVersion: String] = [:]
        for tag in tags {
            if let parsed = SemanticVersion(tag.replacingOccurrences(of: "_", with: "+")), versions[parsed] == nil { versions[parsed] = tag }
        }
        let known = versions.keys.sorted(by: >)
        func listing() -> String {
            known.isEmpty ? "no version tags" : known.prefix(10).map(\.original).joined(separator: ", ") + (known.count > 10 ? ", …" : "")
        }
        let chosen: SemanticVersion
        if let version {
            guard let constraint = VersionConstraint(version) else {
                throw HLDError("\(context): \(version) is not a chart version, version constraint or sha256: manifest digest")
            }
            guard let best = constraint.best(of: known) else {
                throw HLDError("\(context) has no version matching \(version) (it has: \(listing()))")
            }
            chosen = best
        } else {
            guard let latest = known.first(where: { !$0.isPrerelease }) else {
                throw HLDError("\(context) has no released version (it has: \(listing())); name a version")
            }
            chosen = latest
        }
        let tag = versions[chosen] ?? Self.tag(for: chosen.original)
        let response = try await request("manifests/\(tag)", on: registry, accept: Self.manifestMediaType, context: context)
        try Self.requireSuccess(response, what: "the manifest of \(chosen.original)", context: context)
        return (response.body, chosen.original)
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    private func tagList(_ registry: OCIReference, context: String) async throws(HLDError) -> [String] {
        struct TagList: Decodable { var tags: [String]? }
        var tags: [String] = []
        var path = "tags/list"
        for _ in 0..<100 {
            let response = try await request(path, on: registry, accept: "application/json", context: context)
            guard response.status != 404 else {
                throw HLDError("\(context) is not in the registry\(Self.registryMessage(response.body).map { " (\($0))" } ?? "")")
            }
            try Self.requireSuccess(response, what: "the tag list", context: context)
            guard let page = try? JSONDecoder().decode(TagList.self, from: response.body) else {
                throw HLDError("\(context): the registry's tag list is not valid JSON")
            }
            tags += page.tags ?? []
            guard let next = response.header("link").flatMap(Self.nextPage), let range = next.range(of: "/tags/list") else { return tags }
            path = String(next[range.lowerBound...].dropFirst())
        }
        return tags
    }

    /// Downloads a blob, checks it against `digest` and stores it as `<hex>.tgz`.
    private func downloadBlob(_ digest: String, hex: String, from registry: OCIReference, context: String) async throws(HLDError) -> String {
        let response = try await request("blobs/\(digest)", on: registry, accept: nil, context: context)
        try Self.requireSuccess(response, what: "the chart archive \(digest)", context: context)
        let actual = sha256Hex(response.body)
        guard actual == hex else {
            throw HLDError("\(context): the chart archive the registry sent does not match its digest \(digest) (got sha256:\(actual)); the registry's copy may be damaged or tampered with")
        }
        do {
            try store.put(.chartArchives, [UInt8](response.body))
        } catch {
            throw HLDError("cannot store the chart archive of \(context) in the cache: \(error)")
        }
        return store.entry(.chartArchives, name: hex).path
    }

    private enum CachedArchive { case valid(String), damaged, missing }

    /// The archive `<hex>.tgz` if its bytes still hash to `hex`; a damaged one is removed.
    private func cachedArchive(_ hex: String) -> CachedArchive {
        let entry = store.entry(.chartArchives, name: hex)
        store.use(entry)
        guard entry.exists else { return .missing }
        return store.get(.chartArchives, digest: hex) != nil ? .valid(entry.path) : .damaged
    }

    // MARK: HTTP

    /// GET `/v2/<name>/<path>`; a 401 with a Bearer challenge is answered with an anonymous
    /// token and the request made once more.
    private func request(_ path: String, on registry: OCIReference, accept: String?, context: String) async throws(HLDError) -> HTTPClient.Response {
        let base = "\(Self.scheme(forHost: registry.host))://\(registry.host)"
        guard let url = URL(string: "\(base)/v2/\(registry.name)/\(path)") else {
            throw HLDError("\(context): \(registry.host)/\(registry.name) is not a valid registry address")
        }
        let tokenKey = "\(registry.host)/\(registry.name)"
        var headers: [String: String] = [:]
        if let accept { headers["Accept"] = accept }
        if let token = tokens[tokenKey] { headers["Authorization"] = "Bearer \(token)" }
        var response = try await send(url, headers: headers, context: context)
        // A token of an earlier request may have expired: a 401 always gets a fresh one, once.
        if response.status == 401,
           let challenge = response.header("www-authenticate").flatMap(BearerChallenge.init) {
            let token = try await anonymousToken(challenge, repository: registry.name, context: context)
            tokens[tokenKey] = token
            headers["Authorization"] = "Bearer \(token)"
            response = try await send(url, headers: headers, context: context)
        }
        if response.status == 401 || response.status == 403 {
            throw HLDError("\(context): the registry refused anonymous access (HTTP \(response.status)\(Self.registryMessage(response.body).map { ": \($0)" } ?? "")); hld pulls OCI charts anonymously — use a public registry or a mirror")
        }
        return response
    }

    private func send(_ url: URL, headers: [String: String], context: String) async throws(HLDError) -> HTTPClient.Response {
        do {
            return try await network.get(url, headers: headers, what: context)
        } catch {
            throw HLDError("\(context): registry unreachable: \(error.description)")
        }
    }

    /// The token a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge offers
    /// without credentials.
    private func anonymousToken(_ challenge: BearerChallenge, repository: String, context: String) async throws(HLDError) -> String {
        guard var components = URLComponents(string: challenge.realm), components.scheme == "https" || components.scheme == "http" else {
            throw HLDError("\(context): the registry's token service \(challenge.realm) is not an http(s) URL")
        }
        var query = components.queryItems ?? []
        if let service = challenge.service { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: challenge.scope ?? "repository:\(repository):pull"))
        components.queryItems = query
        guard let url = components.url else { throw HLDError("\(context): cannot build a token request from \(challenge.realm)") }
        let response = try await send(url, headers: [:], context: context)
        struct TokenResponse: Decodable { var token: String?; var access_token: String? }
        guard (200..<300).contains(response.status),
              let body = try? JSONDecoder().decode(TokenResponse.self, from: response.body),
              let token = body.token ?? body.access_token, !token.isEmpty else {
            throw HLDError("\(context): the registry's token service \(GitURL.redact(challenge.realm)) gave no anonymous token (HTTP \(response.status)); hld pulls OCI charts anonymously — use a public registry or a mirror")
        }
        return token
    }

    private static func requireSuccess(_ response: HTTPClient.Response, what: String, context: String) throws(HLDError) {
        guard !(200..<300).contains(response.status) else { return }
        throw HLDError("\(context): the registry answered HTTP \(response.status) for \(what)\(registryMessage(response.body).map { " (\($0))" } ?? "")")
    }

    /// `CODE: message` from a registry's `{"errors": [{"code", "message"}]}` body.
    static func registryMessage(_ body: Data) -> String? {
        struct Errors: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        guard let first = (try? JSONDecoder().decode(Errors.self, from: body))?.errors?.first else { return nil }
        return [first.code, first.message].compactMap { $0 }.joined(separator: ": ")
    }

    /// The target of a `Link: <url>; rel="next"` header.
    static func nextPage(_ link: String) -> String? {
        for part in link.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    // MARK: Names

    /// The scheme hld speaks to a registry with: HTTPS, except on the loopback interface
    /// (127.0.0.1, localhost, ::1), where it is plain HTTP, as `helm --plain-http` does. A
    /// registry started for tests or a local mirror rarely has a certificate, and loopback
    /// traffic never leaves the machine; anywhere else a registry without TLS would let
    /// anyone on the path substitute charts.
    static func scheme(forHost host: String) -> String {
        let name: Substring
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<close]
        } else {
            name = host.split(separator: ":", maxSplits: 1).first ?? ""
        }
        return ["127.0.0.1", "localhost", "::1"].contains(name.lowercased()) ? "http" : "https"
    }

    /// Helm writes a version's `+` as `_` in tags (a tag cannot hold `+`).
    static func tag(for version: String) -> String { version.replacingOccurrences(of: "+", with: "_") }

    /// `1.2.3`, `v1.2.3-rc.1+build`: a full version, not a constraint or a partial one.
    static func isExactVersion(_ text: String) -> Bool {
        guard SemanticVersion(text) != nil else { return false }
        var core = Substring(text)
        if core.first == "v" || core.first == "V" { core = core.dropFirst() }
        core = core.prefix { $0 != "-" && $0 != "+" }
        return core.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    /// The lower-case hex of a `sha256:<64 hex digits>` digest.
    static func hex(of digest: String) -> String? {
        let lowered = digest.lowercased()
        guard lowered.hasPrefix("sha256:") else { return nil }
        let hex = lowered.dropFirst("sha256:".count)
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        return String(hex)
    }

    private struct Manifest: Decodable {
        struct Descriptor: Decodable {
            var mediaType: String
            var digest: String
        }
        var layers: [Descriptor]?
        var annotations: [String: String]?
    }
}

/// `oci://host[:port]/repository/path[@sha256:<hex>]`, split up.
struct OCIReference: Sendable, Equatable {
    /// Host and port, without user info.
    var host: String
    /// The repository path in the registry (`charts/web`).
    var name: String
    /// A pinned manifest digest, `sha256:<hex>`.
    var digest: String?

    init(_ text: String) throws(HLDError) {
        let shown = GitURL.redact(text)
        guard text.lowercased().hasPrefix("oci://") else { throw HLDError("\(shown) is not an oci:// reference") }
        var rest = Substring(text.dropFirst("oci://".count))
        guard let slash = rest.firstIndex(of: "/") else {
            throw HLDError("\(shown) names no repository (expected oci://host/repository/chart)")
        }
        if let at = rest.lastIndex(of: "@"), at > slash {
            let digest = String(rest[rest.index(after: at)...])
            guard OCIRegistries.hex(of: digest) != nil else {
                throw HLDError("\(shown): \(digest) is not a manifest digest (sha256: followed by 64 hex digits)")
            }
            self.digest = digest.lowercased()
            rest = rest[..<at]
        }
        var host = rest[..<slash]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        let name = rest[rest.index(after: slash)...].split(separator: "/").joined(separator: "/")
        guard !host.isEmpty, !name.isEmpty else {
            throw HLDError("\(shown) names no repository (expected oci://host/repository/chart)")
        }
        self.host = String(host)
        self.name = name
    }

    /// `oci://host/name`, the form mirror rules match.
    var withoutDigest: String { "oci://\(host)/\(name)" }
}

/// `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (RFC 6750 as registries
/// send it; quoted values may hold commas, as in `scope="repository:a:pull,push"`).
struct BearerChallenge: Sendable, Equatable {
    var realm: String
    var service: String?
    var scope: String?

    init?(_ header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bearer ") else { return nil }
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed.dropFirst("bearer ".count))
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        value.append(escaped)
                        rest = rest.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[name] = value
        }
        guard let realm = parameters["realm"], !realm.isEmpty else { return nil }
        self.realm = realm
        service = parameters["service"]
        scope = parameters["scope"]
    }
}
