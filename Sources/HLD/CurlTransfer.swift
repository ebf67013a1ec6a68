internal import CCurl
import Foundation
import Git
import Synchronization

/// One HTTP(S) GET through libcurl, on a thread of its own (libcurl's easy interface
/// blocks; the limiter bounds how many run at once).
///
/// libcurl directly rather than `URLSession`: on Linux, FoundationNetworking (itself
/// libcurl) offers no way to trust a CA file other than the system bundle, and hld must
/// (`--ca-file`, `SSL_CERT_FILE`). Certificates are always verified — peer and host name;
/// nothing here can turn that off.
final class CurlTransfer: @unchecked Sendable {
    // @unchecked: the buffers are touched only by libcurl's callbacks, on the one thread
    // that runs the transfer, and read after it finished; `cancelled` is atomic.
    private var body = Data()
    private var headers: [String: String] = [:]
    private let cancelled = Atomic<Bool>(false)

    struct Failure: Error {
        var message: String
        /// The server's certificate did not verify (untrusted, expired, wrong host).
        var certificate: Bool
    }

    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// GETs `url` following redirects (http and https only, at most 10). `Authorization`
    /// goes to the original origin only: libcurl drops custom credentials when a redirect
    /// changes the host, port or scheme. `idleTimeout`: the transfer fails when no byte
    /// arrives for that long (a large download is not cut off by a total limit).
    static func get(_ url: String, headers: [String: String], idleTimeout: TimeInterval, caFile: String?) async -> Result<HTTPClient.Response, Failure> {
        let transfer = CurlTransfer()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread {
                    continuation.resume(returning: transfer.perform(url, headers: headers, idleTimeout: idleTimeout, caFile: caFile))
                }.start()
            }
        } onCancel: {
            transfer.cancelled.store(true, ordering: .relaxed)
        }
    }

    private func perform(_ url: String, headers requestHeaders: [String: String], idleTimeout: TimeInterval, caFile: String?) -> Result<HTTPClient.Response, Failure> {
        guard Self.initialized, let handle = curl_easy_init() else { return .failure(Failure(message: "libcurl could not be initialized", certificate: false)) }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        for (name, value) in requestHeaders.sorted(by: { $0.key < $1.key }) { list = curl_slist_append(list, "\(name): \(value)") }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let seconds = max(1, Int(idleTimeout.rounded(.up)))

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            var settings: [CURLcode] = [
                hld_curl_set_string(handle, CURLOPT_URL, url),
                hld_curl_set_long(handle, CURLOPT_HTTPGET, 1),
                hld_curl_set_long(handle, CURLOPT_NOSIGNAL, 1),
                hld_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 1),
                hld_curl_set_long(handle, CURLOPT_MAXREDIRS, 10),
                hld_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
                hld_curl_set_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
                hld_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 1),
                hld_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 2),
                hld_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, seconds),
                hld_curl_set_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1),
                hld_curl_set_long(handle, CURLOPT_LOW_SPEED_TIME, seconds),
                hld_curl_set_string(handle, CURLOPT_ACCEPT_ENCODING, ""),
                hld_curl_set_string(handle, CURLOPT_USERAGENT, "hld/\(BuildInfo.hldVersion)"),
                hld_curl_set_list(handle, CURLOPT_HTTPHEADER, list),
                hld_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress),
                hld_curl_set_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                    if transfer.cancelled.load(ordering: .relaxed) { return 0 }
                    if let data { transfer.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count) }
                    return size * count
                },
                hld_curl_set_pointer(handle, CURLOPT_WRITEDATA, context),
                hld_curl_set_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                    if let data { transfer.header(String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)) }
                    return size * count
                },
                hld_curl_set_pointer(handle, CURLOPT_HEADERDATA, context),
            ]
            if let caFile { settings.append(hld_curl_set_string(handle, CURLOPT_CAINFO, caFile)) }
            if let failed = settings.first(where: { $0 != CURLE_OK }) { return failed }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = cancelled.load(ordering: .relaxed) ? "cancelled" : detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            let certificate = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE
            return .failure(Failure(message: message, certificate: certificate))
        }
        var status = 0
        _ = hld_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPClient.Response(status: status, headers: headers, body: body))
    }

    /// One header line: a status line starts a new response (a redirect's headers are
    /// not the final response's); names are lower-cased.
    private func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
    }
}

/// Which CA certificates HTTPS connections trust, set once per process before the first
/// one: the system's bundle, or only those in one PEM file.
public enum TransportSecurity {
    private static let configured = Mutex<String?>(nil)

    static var caFile: String? { configured.withLock { $0 } }

    /// `--ca-file`, else `SSL_CERT_FILE` from `environment`: that file's certificates
    /// become the only ones git and HTTP trust. A file that cannot be read is an error
    /// naming it and where it came from.
    public static func configure(caFile option: String?, environment: [String: String]) throws(HLDError) {
        let (path, origin): (String?, String) = option.map { ($0, "--ca-file") }
            ?? (environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }, "SSL_CERT_FILE")
        guard let path else { return }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let text = try? String(contentsOfFile: absolute, encoding: .utf8) else {
            throw HLDError("\(origin) \(path): cannot read the file")
        }
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            throw HLDError("\(origin) \(path): holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        LibGit2.trustCertificates(inFile: absolute)
        configured.withLock { $0 = absolute }
    }
}
