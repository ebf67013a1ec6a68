import Foundation
import YAML

/// Fabrikate's `access.yaml`: repository URL → name of the environment variable that holds
/// its token.
public enum AccessFile {
    /// The mapping in the file at `path`; empty when there is no such file.
    public static func load(_ path: String) throws(HLDError) -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let node: Node
        do {
            node = try Node.document(contentsOf: path)
        } catch {
            throw HLDError(error)
        }
        if node.isNull { return [:] }
        guard let pairs = node.pairs else {
            throw HLDError("\(path):\(node.mark): access.yaml must map repository URLs to environment variable names")
        }
        var mapping: [String: String] = [:]
        for pair in pairs {
            guard let url = pair.key.scalarText, let variable = pair.value.textValue else {
                throw HLDError("\(path):\(pair.value.mark): expected `<repository URL>: <ENVIRONMENT_VARIABLE>`")
            }
            mapping[url] = variable
        }
        return mapping
    }
}

