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
    /// Where each value of `config` came from.
    public var origin: ConfigOrigin
    public var children: [ResolvedComponent]
    /// The entries of its `subcomponents` list that its config disables (not resolved, and
    /// not in `children`), for `hld tree`.
    public var disabledSubcomponents: [DisabledSubcomponent] = []
    /// Where the component's own definition was fetched from (a git pin), for external
    /// components fetched from git.
    public var definitionPin: Pin? = nil
    /// What its generator renders from, pinned: a chart, a git tree, an http manifest, or
    /// the user's own files.
    public var source: Pin? = nil
    /// The chart dependencies that were fetched for it (not vendored in `charts/`).
    public var dependencies: [Pin] = []
    /// The local paths its generator reads.
    var input: RenderInput = .none
    /// Child indexes from the root: sorting by it is tree order.
    var position: [Int] = []
    /// The root's name, then the entry names of the `subcomponents` lists down to this
    /// component (`cluster/infra/metrics`): how `hld.lock` keys its pins.
    public var logicalPath: [String] = []

    /// `logicalPath` joined with `/`.
    public var lockKey: String { logicalPath.joined(separator: "/") }

    /// Every pin of this component: definition, source, dependencies.
    public var pins: [Pin] { [definitionPin, source].compactMap { $0 } + dependencies }

    /// The component's own config files merged into `config`, highest first.
    public var layerFiles: [String] { origin.layers.map(\.file) }

    /// The name its parent's `subcomponents` list gives it (the root: its own name); the key
    /// of its entry in the parent's config.
    public var entryName: String { origin.entryName }

    /// Where the setting `key` (`source`, `branch`, `version`) of this component was made:
    /// the config file and line when an environment's config set it, else the component
    /// definition.
    public func location(ofSetting key: String) -> SourceLocation {
        origin.location(of: [key]) ?? definition.location
    }

    /// `folder/fileName`: how messages and `# Source:` comments name the component.
    public var componentPath: String { (folder + [fileName]).joined(separator: "/") }

    /// Every component of the tree in definition order (parents before children).
    public var flattened: [ResolvedComponent] {
        [self] + children.flatMap(\.flattened)
    }
}

/// An entry of a component's `subcomponents` list that the merged config disables
/// (`disabled: true`): it and its whole subtree are skipped.
public struct DisabledSubcomponent: Sendable {
    /// The entry as the parent's component file declares it.
    public var entry: ComponentDefinition
    /// Its place in the parent's `subcomponents` list.
    public var index: Int
    /// `folder/name`: how messages name it (an external component's file was never read,
    /// so its own name is unknown).
    public var componentPath: String
    /// The `disabled: true` that won (in the parent's config files, or further up).
    public var disabledAt: SourceLocation?
}
