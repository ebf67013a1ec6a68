internal import CGit2
public import Foundation

/// Where tokens and keys for git remotes come from. Tokens are looked up, in order: a
/// secret written into the URL itself, Fabrikate's `access.yaml` (URL → name of an
/// environment variable holding the token), then `HLD_GIT_TOKEN_<HOST>` (host upper-cased,
/// other characters as `_`: `HLD_GIT_TOKEN_GITHUB_COM`). SSH uses ssh-agent, then key files.
public struct GitCredentials: Sendable {
    /// access.yaml entries: repository URL → environment variable name.
    public var accessTokens: [String: String]
    /// The environment tokens are read from.
    public var environment: [String: String]
    /// Private key files to try for SSH after the agent (public key at `<file>.pub`).
    public var sshKeyFiles: [String]

    public init(accessTokens: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment, sshKeyFiles: [String]? = nil) {
        self.accessTokens = accessTokens
        self.environment = environment
        let home = environment["HOME"] ?? NSHomeDirectory()
        self.sshKeyFiles = sshKeyFiles ?? ["id_ed25519", "id_ecdsa", "id_rsa"].map { "\(home)/.ssh/\($0)" }
    }

    /// The environment variable that holds the token for `host`.
    public static func hostVariable(_ host: String) -> String {
        "HLD_GIT_TOKEN_" + String(host.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The token for `url` and a description of where it came from (never the token).
    public func token(for url: GitURL) -> (token: String, source: String)? {
        if let secret = url.embeddedSecret { return (secret, "the URL") }
        // access.yaml: the longest entry whose normalized URL is a prefix of this one.
        let matches = accessTokens.compactMap { entry -> (Int, String)? in
            guard let key = try? GitURL(entry.key).key, url.key == key || url.key.hasPrefix(key + "/") else { return nil }
            return (key.count, entry.value)
        }
        if let variable = matches.max(by: { $0.0 < $1.0 })?.1 {
            if let token = environment[variable], !token.isEmpty { return (token, "$\(variable) (access.yaml)") }
        }
        let variable = Self.hostVariable(url.host)
        if !url.host.isEmpty, let token = environment[variable], !token.isEmpty { return (token, "$\(variable)") }
        return nil
    }
}

/// State shared with libgit2's credential callback for one connection. Used only on the
/// thread running that connection, and only while the connection runs.
final class CredentialSession {
    enum Outcome { case none, missing, rejected(source: String) }

    let url: GitURL
    let token: (token: String, source: String)?
    let sshKeyFiles: [String]
    var attempts = 0
    var outcome = Outcome.none
    /// The transfer progress of the download under way (the callbacks share this payload).
    var onTransfer: (@Sendable (TransferProgress) -> Void)?

    init(url: GitURL, credentials: GitCredentials) {
        self.url = url
        self.token = credentials.token(for: url)
        self.sshKeyFiles = credentials.sshKeyFiles.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// A sentence about an authentication failure, or nil when credentials were not the
    /// problem.
    var failureDetail: String? {
        switch outcome {
        case .none: return nil
        case .missing:
            return "authentication required and no token is configured (set \(GitCredentials.hostVariable(url.host)) or add the URL to access.yaml)"
        case .rejected(let source):
            return "authentication failed: the server rejected the credentials from \(source)"
        }
    }
}

/// libgit2's credential callback (`git_credential_acquire_cb`): answers from the session,
/// and gives up (instead of looping) once an answer has been rejected.
func acquireCredential(
    _ out: UnsafeMutablePointer<OpaquePointer?>?, _ url: UnsafePointer<CChar>?, _ userFromURL: UnsafePointer<CChar>?,
    _ allowed: UInt32, _ payload: UnsafeMutableRawPointer?
) -> Int32 {
    guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
    let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
    session.attempts += 1
    let user = userFromURL.map { String(cString: $0) } ?? session.url.user

    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
        guard let token = session.token else {
            session.outcome = .missing
            git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication required")
            return GIT_EAUTH.rawValue
        }
        if session.attempts > 1 {
            session.outcome = .rejected(source: token.source)
            git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication failed")
            return GIT_EAUTH.rawValue
        }
        return git_credential_userpass_plaintext_new(out, user ?? "x-access-token", token.token)
    }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
        return git_credential_username_new(out, user ?? "git")
    }
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
        // First the agent, then each key file; then stop.
        let attempt = session.attempts - 1
        if attempt == 0 {
            return git_credential_ssh_key_from_agent(out, user ?? "git")
        }
        if attempt - 1 < session.sshKeyFiles.count {
            let key = session.sshKeyFiles[attempt - 1]
            let publicKey = FileManager.default.fileExists(atPath: key + ".pub") ? key + ".pub" : nil
            return git_credential_ssh_key_new(out, user ?? "git", publicKey, key, nil)
        }
        session.outcome = .rejected(source: "ssh-agent and \(session.sshKeyFiles.count) key file(s)")
        git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), "authentication failed")
        return GIT_EAUTH.rawValue
    }
    return GIT_PASSTHROUGH.rawValue
}
