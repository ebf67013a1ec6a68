import Foundation
import Git

/// Plain HTTP GETs for chart repositories, OCI registries and http manifests.
enum HTTPClient {
    /// GETs `address` — a URL, or (where a mirror points) a `file://` URL or an absolute
    /// path, read from disk with status 200, or 404 when missing. `shown` names it in errors.
    static func get(_ address: String, headers: [String: String] = [:], shown: String) async -> Result<(status: Int, body: Data), HLDError> {
        if address.hasPrefix("/") || address.lowercased().hasPrefix("file://") {
            let path = address.hasPrefix("/") ? address : (URL(string: address)?.path ?? "")
            guard let data = FileManager.default.contents(atPath: path) else { return .success((404, Data())) }
            return .success((200, data))
        }
        guard let url = URL(string: address), url.scheme != nil else {
            return .failure(HLDError("\(shown) (fetched from \(GitURL.redact(address))) is not a URL hld can fetch"))
        }
        return await get(url, headers: headers, shown: shown).map { ($0.status, $0.body) }
    }

    /// The status and body of a GET; a transport failure is an error sentence naming
    /// `shown` (the original URL, when a mirror rewrote it to `url`).
    static func get(_ url: URL, shown: String? = nil, timeout: TimeInterval = 60) async -> Result<(status: Int, body: Data), HLDError> {
        await get(url, headers: [:], shown: shown, timeout: timeout).map { ($0.status, $0.body) }
    }

    /// A completed exchange: status, response headers (names lower-cased) and body.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// A GET with request headers (`Accept`, `Authorization`); redirects are followed. A
    /// transport failure is an error sentence naming `shown` (the original URL, when a
    /// mirror rewrote it to `url`).
    static func get(_ url: URL, headers: [String: String], shown: String? = nil, timeout: TimeInterval = 60) async -> Result<Response, HLDError> {
        let outcome = await CurlTransfer.get(url.absoluteString, headers: headers, idleTimeout: timeout, caFile: TransportSecurity.caFile)
        switch outcome {
        case .success(let response): return .success(response)
        case .failure(let failure):
            let transport = GitURL.redact(url.absoluteString)
            let name = shown.map { $0 == transport ? $0 : "\($0) (through the mirror \(transport))" } ?? transport
            let detail = failure.certificate ? TLSAdvice.untrusted(failure.message) : failure.message
            return .failure(HLDError("cannot reach \(name): \(detail)"))
        }
    }
}

/// Every network access of the HLD layer goes through here: the one `--offline` check,
/// the one limiter (`--jobs`) and the mirrors. (Git fetches get the same offline flag,
/// limiter and mirrors through `SourceFetcher`.)
struct Network: Sendable {
    let offline: Bool
    let limiter: Limiter
    let rewrites: URLRewrites
    /// The tokens git uses serve chart repositories and http manifests too (see
    /// `authorization(for:)`).
    var credentials = GitCredentials(environment: [:], sshKeyFiles: [])
    var statistics = RunStatistics()

    /// HTTP Basic credentials for `original`, looked up as for git: access.yaml's longest
    /// entry that is a prefix of the URL, then `HLD_GIT_TOKEN_<HOST>`; the user is the
    /// URL's (`https://admin@charts.example.com`) or `x-access-token`. A secret written
    /// into the URL itself is libcurl's to send; only the original origin receives any.
    func authorization(for original: String) -> String? {
        guard let url = try? GitURL(original), url.transport.lowercased().hasPrefix("http"), !url.hasEmbeddedSecret,
              let (token, _) = credentials.token(for: url) else { return nil }
        return "Basic " + Data("\(url.user ?? "x-access-token"):\(token)".utf8).base64EncodedString()
    }

    /// What a 401 or 403 from `original` means here (empty for other statuses): which
    /// credentials the server rejected, or where to put some.
    func statusAdvice(_ status: Int, for original: String) -> String {
        guard status == 401 || status == 403, let url = try? GitURL(original) else { return "" }
        if url.hasEmbeddedSecret { return " (the server rejected the credentials in the URL)" }
        if let (_, source) = credentials.token(for: url) { return " (the server rejected the credentials from \(source))" }
        return " (the server wants credentials: set \(GitCredentials.hostVariable(url.host)) or add the URL to access.yaml)"
    }

    /// Throws the `--offline` error for `what`, which the cache does not have.
    func permit(_ what: String) throws(HLDError) {
        if offline { throw HLDError("\(what) is not in the cache and --offline forbids fetching it") }
    }

    /// A GET of `original` from wherever the mirrors say, holding one slot; errors name
    /// the original URL.
    func get(_ original: String, what: String) async throws(HLDError) -> (status: Int, body: Data) {
        try permit(what)
        let shown = GitURL.redact(original)
        let address = rewrites.apply(original)
        defer { statistics.count("fetched") }
        let headers = authorization(for: original).map { ["Authorization": $0] } ?? [:]
        return try await limiter.run { () async throws(HLDError) in try await HTTPClient.get(address, headers: headers, shown: shown).get() }
    }

    /// A GET with headers of an address the caller already rewrote, holding one slot.
    func get(_ url: URL, headers: [String: String], what: String) async throws(HLDError) -> HTTPClient.Response {
        try permit(what)
        defer { statistics.count("fetched") }
        return try await limiter.run { () async throws(HLDError) in try await HTTPClient.get(url, headers: headers).get() }
    }
}
