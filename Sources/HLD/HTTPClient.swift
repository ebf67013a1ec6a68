import Foundation
import Git
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain HTTP GETs for chart repositories and http manifests.
enum HTTPClient {
    /// The status and body of a GET; a transport failure is an error sentence.
    static func get(_ url: URL, timeout: TimeInterval = 60) async -> Result<(status: Int, body: Data), HLDError> {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data))
        } catch {
            return .failure(HLDError("cannot reach \(GitURL.redact(url.absoluteString)): \(error.localizedDescription)"))
        }
    }
}

