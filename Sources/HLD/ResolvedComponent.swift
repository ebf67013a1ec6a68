import Foundation
import Git
import YAML

/// A component whose sources are on disk and whose config is merged: one node of the
/// resolved tree, with its children in definition order.
public struct ResolvedComponent: Sendable {
    /// What renders: the component's own file for external components, the entry for
    /// inline ones.
    public var definition: ComponentDefinition
    /// The output folder, relative to the environment directory.
    public var folder: [String]
    /// The output file name, without `.yaml`.
    public var fileName: String
    /// The directory the component's files are in.
    public var directory: String
    /// The root of the fetched tree `directory` is in (nil for the user's own files).
    public var treeRoot: String?
    /// The redacted URL (and ref) the files were fetched from.
    public var fetchedFrom: String?
    public var config: ComponentConfig
    /// The config files merged into `config`, highest first.
    public var layerFiles: [String]
    public var children: [ResolvedComponent]

    /// `folder/fileName`: how messages and `# Source:` comments name the component.
    public var componentPath: String { (folder + [fileName]).joined(separator: "/") }

    /// Every component of the tree in definition order (parents before children).
    public var flattened: [ResolvedComponent] {
        [self] + children.flatMap(\.flattened)
    }
}
