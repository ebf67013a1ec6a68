import Foundation
import YAML

/// A source resolved to exactly what was used: the value a lock file records, a promotion
/// moves and a diff compares. URLs are the original ones (never a mirror), redacted.
public enum Pin: Sendable, Hashable, Codable {
    /// A git repository: the ref asked for, the commit it resolved to and the tree at `path`.
    case git(url: String, requested: String, commit: String, path: String, tree: String)
    /// A chart from a Helm HTTP repository: the version or constraint asked for (empty:
    /// the latest release), the version chosen and the archive's sha256.
    case chart(repository: String, name: String, requested: String, version: String, digest: String)
    /// A chart from an OCI registry: the manifest and chart-layer digests.
    case oci(reference: String, requested: String, version: String, manifest: String, digest: String)
    /// An http(s) manifest and the sha256 of its content.
    case http(url: String, digest: String)
    /// The user's own files (a path relative to the project). They belong to the HLD
    /// repository's own commit; they are hashed when rendered (after hooks, which may
    /// write them), not here.
    case local(path: String)
}

/// What a generator reads: local paths only, every one of them fetched and pinned by the
/// resolve stage (or the user's own files).
enum RenderInput: Sendable {
    /// Nothing: a container.
    case none
    /// A static component's manifest directory.
    case directory(String)
    /// One fetched manifest (`method: http`), as `name` in `# Source:`.
    case file(String, name: String, format: SourceFormat)
    /// A chart directory or archive. `contentKey` identifies its content (a digest or a
    /// git tree id); nil for the user's own files, which are hashed when rendered, after
    /// hooks ran. `dependencies` were fetched to be added to its `charts/`.
    case chart(String, contentKey: String?, dependencies: [ChartDependency])
    /// A kustomization directory, with its content key as for charts.
    case kustomization(String, contentKey: String?)

    /// The same input with paths under `root` moved under `copy` (the private copy a
    /// fetched tree gets when its hooks run).
    func moving(_ root: String, to copy: String) -> RenderInput {
        func move(_ path: String) -> String { path == root || path.hasPrefix(root + "/") ? copy + path.dropFirst(root.count) : path }
        switch self {
        case .none: return .none
        case .directory(let path): return .directory(move(path))
        case .file(let path, let name, let format): return .file(move(path), name: name, format: format)
        case .chart(let path, let key, let dependencies): return .chart(move(path), contentKey: key, dependencies: dependencies)
        case .kustomization(let path, let key): return .kustomization(move(path), contentKey: key)
        }
    }
}

/// A chart dependency fetched at resolve time, to be put in the chart's `charts/`.
struct ChartDependency: Sendable, Hashable {
    var name: String
    /// A `.tgz` archive in the cache, or a local chart directory (`file://`).
    var path: String
    /// What identifies its content (a digest; nil for a local directory, hashed when used).
    var contentKey: String?
}
