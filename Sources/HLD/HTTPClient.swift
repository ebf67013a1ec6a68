import Foundation
import Git
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain HTTP GETs for chart repositories and http manifests.
enum HTTPClient {
    /// GETs `address` — a URL, or (where a mirror points) a `file://` URL or an absolute
    /// path, read from disk with status 200, or 404 when missing. `shown` names it in errors.
    static func get(_ address: String, shown: String) async -> Result<(status: Int, body: Data), HLDError> {
        if address.hasPrefix("/") || address.lowercased().hasPrefix("file://") {
            let path = address.hasPrefix("/") ? address : (URL(string: address)?.path ?? "")
            guard let data = FileManager.default.contents(atPath: path) else { return .success((404, Data())) }
            return .success((200, data))
        }
        guard let url = URL(string: address), url.scheme != nil else {
            return .failure(HLDError("\(shown) (fetched from \(GitURL.redact(address))) is not a URL hld can fetch"))
        }
        return await get(url, shown: shown)
    }

    /// The status and body of a GET; a transport failure is an error sentence naming
    /// `shown` (the original URL, when a mirror rewrote it to `url`).
    static func get(_ url: URL, shown: String? = nil, timeout: TimeInterval = 60) async -> Result<(status: Int, body: Data), HLDError> {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data))
        } catch {
            let transport = GitURL.redact(url.absoluteString)
            let name = shown.map { $0 == transport ? $0 : "\($0) (through the mirror \(transport))" } ?? transport
            return .failure(HLDError("cannot reach \(name): \(error.localizedDescription)"))
        }
    }
}

