import Crypto
import Foundation

/// SHA-256 in lower-case hex.
func sha256Hex(_ data: some DataProtocol) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
