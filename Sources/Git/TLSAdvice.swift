import Foundation

/// The sentence every TLS verification failure ends in, git's and HTTP's alike.
public enum TLSAdvice {
    /// `message` (the TLS library's words) with what hld trusted and how to change it.
    public static func untrusted(_ message: String) -> String {
        let message = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
        return "the server's TLS certificate could not be verified (\(message)); hld trusts the system's CA certificates, "
            + "or only those in the file --ca-file or SSL_CERT_FILE names, and never connects unverified"
    }
}
