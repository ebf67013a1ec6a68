import Foundation
import Git
import YAML

/// `hld tree`: the resolved component tree — every component with what its entry asks for
/// and what that resolved to — and, in their places, the entries the config disables.
public struct ComponentTree: Sendable, Encodable {
    /// What an entry asks for: its fields, with the environment's `source`, `version` and
    /// `branch` from the config applied.
    public struct Declared: Sendable, Encodable, Equatable {
        public var method: String
        public var source: String?
        public var path: String?
        public var version: String?
        public var branch: String?
    }

    /// The name the parent's `subcomponents` list gives it (the root: its own name).
    public var name: String
    /// The name in its own component file, when an external component's differs.
    public var componentName: String?
    /// Its path in the tree, as messages and `# Source:` lines name it.
    public var path: String
    public var type: String
    public var declared: Declared
    /// Where its files are: a directory of the project, or `<url>@<commit>/<path>` in a
    /// fetched tree. Nil for a disabled entry.
    public var files: String?
    /// `files` is in a tree fetched from git.
    public var fetched: Bool
    /// Where its component file was fetched from (external components from git).
    public var definitionPin: Pin?
    /// What its generator renders from: a chart, a git tree, an http manifest, a
    /// directory of the project.
    public var sourcePin: Pin?
    /// The chart dependencies fetched for it (not vendored in `charts/`).
    public var dependencies: [Pin]
    public var disabled: Bool
    /// The `disabled: true` that won.
    public var disabledAt: SourceLocation?
    public var children: [ComponentTree]

    /// Every pin: definition, source, dependencies.
    public var pins: [Pin] { [definitionPin, sourcePin].compactMap { $0 } + dependencies }

    /// Every node, parents before children.
    public var flattened: [ComponentTree] { [self] + children.flatMap(\.flattened) }
}

extension Resolution {
    /// The tree as `hld tree` shows it.
    public var componentTree: ComponentTree {
        ComponentTree.node(tree, entry: tree.definition, overrides: tree.config, root: root, fetchedTrees: [:])
    }
}

extension ComponentTree {
    /// `entry` is the component's entry in its parent's list (the root: its own file);
    /// `fetchedTrees` maps the root of each fetched tree above it to `<url>@<commit>`.
    fileprivate static func node(_ component: ResolvedComponent, entry: ComponentDefinition, overrides: ComponentConfig,
                                 root: String, fetchedTrees: [String: String]) -> ComponentTree {
        var fetchedTrees = fetchedTrees
        if case .git(let url, _, let commit, _, _)? = component.definitionPin, let treeRoot = component.treeRoot {
            fetchedTrees[treeRoot] = "\(url)@\(commit.prefix(12))"
        }
        var entries: [(Int, ComponentTree)] = component.children.map { child in
            let index = child.position.last ?? 0
            let entry = component.definition.subcomponents.indices.contains(index) ? component.definition.subcomponents[index] : child.definition
            return (index, node(child, entry: entry, overrides: ComponentConfig(child.origin.passedDown ?? .init(.mapping([]))),
                                root: root, fetchedTrees: fetchedTrees))
        }
        entries += component.disabledSubcomponents.map { disabled in
            (disabled.index, ComponentTree(
                name: disabled.entry.name, componentName: nil, path: disabled.componentPath, type: disabled.entry.type.rawValue,
                declared: Declared(disabled.entry, overrides: ComponentConfig(component.config.passedDown(to: disabled.entry.name))),
                files: nil, fetched: false, definitionPin: nil, sourcePin: nil, dependencies: [],
                disabled: true, disabledAt: disabled.disabledAt, children: []))
        }
        return ComponentTree(
            name: component.entryName, componentName: component.definition.name == component.entryName ? nil : component.definition.name,
            path: component.componentPath, type: component.definition.type.rawValue, declared: Declared(entry, overrides: overrides),
            files: files(of: component, root: root, fetchedTrees: fetchedTrees), fetched: component.treeRoot != nil,
            definitionPin: component.definitionPin, sourcePin: component.source, dependencies: component.dependencies,
            disabled: false, disabledAt: nil,
            children: entries.sorted { $0.0 < $1.0 }.map(\.1))
    }

    /// The component's directory as messages show it.
    private static func files(of component: ResolvedComponent, root: String, fetchedTrees: [String: String]) -> String {
        let directory = component.directory
        guard let treeRoot = component.treeRoot else {
            if directory == root { return "." }
            return directory.hasPrefix(root + "/") ? String(directory.dropFirst(root.count + 1)) : directory
        }
        let inside = directory == treeRoot ? "" : "/" + directory.dropFirst(treeRoot.count + 1)
        return (fetchedTrees[treeRoot] ?? component.fetchedFrom ?? treeRoot) + inside
    }
}

extension ComponentTree.Declared {
    init(_ entry: ComponentDefinition, overrides: ComponentConfig) {
        method = entry.method.rawValue
        // A token in a URL is never shown.
        source = (overrides.source ?? entry.source).map(GitURL.redact)
        path = entry.path
        version = overrides.version ?? entry.version
        branch = overrides.branch ?? entry.branch
    }
}
