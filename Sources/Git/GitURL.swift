import Crypto
import Foundation

/// A git remote as a user wrote it, with the forms hld needs: a cache key that ignores
/// spelling differences and credentials, a transport URL without credentials, and a
/// redacted form for anything printed.
public struct GitURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL as written (may hold userinfo; never print it).
    public let original: String
    /// Scheme and host lower-cased, userinfo removed, trailing `/` and `.git` removed:
    /// `https://GitHub.com/org/Repo.git/` and `https://tok@github.com/org/Repo` share it.
    public let key: String
    /// What libgit2 connects to: the URL without userinfo (credentials go through the
    /// credential callback, never through the URL).
    public let transport: String
    /// The user name in the URL, if any (kept for SSH and as the HTTP basic-auth user).
    public let user: String?
    /// A password or token written into the URL (Fabrikate users did this); used as a
    /// credential, never stored or printed.
    let embeddedSecret: String?
    /// Whether the URL carries a password or token of its own.
    public var hasEmbeddedSecret: Bool { embeddedSecret != nil }
    /// The host, lower-cased (empty for local paths).
    public let host: String

    /// Parses `https://`, `http://`, `git://`, `ssh://`, `file://` URLs, scp-like
    /// `user@host:path` and absolute local paths.
    public init(_ original: String) throws(GitSourceError) {
        self.original = original
        let trimmed = original.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw GitSourceError(url: "", ref: nil, kind: .invalidURL, detail: "the URL is empty") }

        if trimmed.hasPrefix("/") {
            let path = Self.trimRepositorySuffix(URL(fileURLWithPath: trimmed).standardizedFileURL.path)
            key = "file://" + path
            transport = trimmed
            user = nil
            embeddedSecret = nil
            host = ""
            return
        }
        if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            guard ["https", "http", "git", "ssh", "file"].contains(scheme) else {
                throw GitSourceError(url: Self.redact(trimmed), ref: nil, kind: .invalidURL, detail: "unsupported scheme \(scheme)://")
            }
            var rest = trimmed[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            var authority = rest[..<authorityEnd]
            let path = rest[authorityEnd...]
            var user: String?
            var secret: String?
            if let at = authority.lastIndex(of: "@") {
                let info = authority[..<at]
                if let colon = info.firstIndex(of: ":") {
                    user = String(info[..<colon]).removingPercentEncoding
                    secret = String(info[info.index(after: colon)...]).removingPercentEncoding
                } else {
                    user = String(info).removingPercentEncoding
                }
                authority = authority[authority.index(after: at)...]
            }
            rest = authority + path
            let hostPart = authority.lowercased()
            self.user = user.flatMap { $0.isEmpty ? nil : $0 }
            embeddedSecret = secret.flatMap { $0.isEmpty ? nil : $0 }
            host = String(hostPart.split(separator: ":").first ?? "")
            let cleanPath = scheme == "file" ? URL(fileURLWithPath: String(path)).standardizedFileURL.path : String(path)
            key = scheme + "://" + hostPart + Self.trimRepositorySuffix(cleanPath)
            // git:// and ssh:// keep the user in the transport (ssh needs it); http(s) never does.
            var transportUser = ""
            if scheme == "ssh", let user = self.user { transportUser = user + "@" }
            transport = scheme + "://" + transportUser + authority + path
            return
        }
        // scp-like: [user@]host:path
        if let colon = trimmed.firstIndex(of: ":"), !trimmed[..<colon].contains("/") {
            let authority = trimmed[..<colon]
            let path = trimmed[trimmed.index(after: colon)...]
            var hostPart = Substring(authority)
            var user: String?
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at])
                hostPart = authority[authority.index(after: at)...]
            }
            self.user = user
            embeddedSecret = nil
            host = hostPart.lowercased()
            key = "ssh://" + host + "/" + Self.trimRepositorySuffix(String(path)).drop { $0 == "/" }
            transport = trimmed
            return
        }
        throw GitSourceError(url: Self.redact(trimmed), ref: nil, kind: .invalidURL, detail: "not a git URL or absolute path")
    }

    /// The directory of a local (`/path` or `file://`) repository.
    public var localPath: String? {
        if transport.hasPrefix("/") { return transport }
        guard transport.lowercased().hasPrefix("file://") else { return nil }
        return String(transport.dropFirst("file://".count))
    }

    /// git:// and ssh:// (also scp-like `host:path`): one connection for a whole fetch,
    /// unlike http(s), where each request stands alone.
    var isStateful: Bool {
        let lower = transport.lowercased()
        if lower.hasPrefix("git://") || lower.hasPrefix("ssh://") { return true }
        return !lower.contains("://") && localPath == nil
    }

    /// The URL with any userinfo secret removed: safe to print.
    public var redacted: String { Self.redact(original) }

    public var description: String { redacted }

    /// The mirror directory name for this URL: a readable tail plus a hash of the key.
    var cacheName: String {
        let digest = SHA256.hash(data: Data(key.utf8)).prefix(10).map { String(format: "%02x", $0) }.joined()
        let tail = key.split(separator: "/").suffix(2).joined(separator: "-")
            .map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" ? $0 : "_" }
        return String(String(tail).prefix(60)) + "-" + digest
    }

    private static func trimRepositorySuffix(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    /// Removes the password/token part of every `scheme://user:secret@` in `text` (and a
    /// bare `scheme://token@` on http(s), where a lone user name is usually a token).
    public static func redact(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].reversed().prefix { $0.isLetter }.reversed()
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "'" || $0 == "\"" || $0 == "\n" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let info = authority[..<at]
                let isHTTP = String(scheme).lowercased().hasPrefix("http")
                if let colon = info.firstIndex(of: ":") {
                    result += info[..<colon] + ":***@"
                } else if isHTTP {
                    result += "***@"
                } else {
                    result += info + "@"
                }
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }
}
