public import YAML

/// Which Kubernetes object a rendered document is: what two renders are paired by.
public struct ResourceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var apiVersion: String
    public var kind: String
    /// Empty for cluster-scoped resources (and namespaced ones rendered without one).
    public var namespace: String
    public var name: String
    /// 0 for the first resource with this identity in a render; 1 for a second one (two
    /// components rendering the same object), and so on, so that neither hides the other.
    public var occurrence: Int

    public init(apiVersion: String, kind: String, namespace: String, name: String, occurrence: Int = 0) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.occurrence = occurrence
    }

    /// `apps/v1 Deployment pets/cat`, `v1 Namespace pets`; a repeated identity adds `(#2)`.
    public var description: String {
        let qualified = namespace.isEmpty ? name : namespace + "/" + name
        return [apiVersion, kind, qualified].filter { !$0.isEmpty }.joined(separator: " ") + (occurrence > 0 ? " (#\(occurrence + 1))" : "")
    }

    /// `apps/v1/Deployment/pets/cat`: the file name its unified diff is shown under.
    public var path: String {
        [apiVersion, kind, namespace, name].filter { !$0.isEmpty }.joined(separator: "/") + (occurrence > 0 ? "#\(occurrence + 1)" : "")
    }

    public static func < (a: ResourceKey, b: ResourceKey) -> Bool {
        (a.apiVersion, a.kind, a.namespace, a.name, a.occurrence) < (b.apiVersion, b.kind, b.namespace, b.name, b.occurrence)
    }
}

/// Where a resource came from in a render: the output file, the `# Source:` line (the
/// component and, for Helm, the template), and the component.
public struct ResourceOrigin: Sendable, Equatable {
    public var file: String
    public var source: String?
    public var component: String
}

/// One resource of a render, with the noise the comparison ignores already removed.
public struct RenderedResource: Sendable {
    public var key: ResourceKey
    public var node: Node
    public var origin: ResourceOrigin
}

/// A key of a Secret's `data` or `stringData` that differs between two renders. Only the
/// key is kept: its values never leave the comparison.
public struct SecretKeyChange: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case added, removed, changed }
    /// `data` or `stringData`.
    public var field: String
    public var key: String
    public var kind: Kind

    public init(field: String, key: String, kind: Kind) {
        self.field = field
        self.key = key
        self.kind = kind
    }

    /// `data.password changed`; `data changed` when `data` is no mapping (key empty).
    public var description: String { (key.isEmpty ? field : "\(field).\(key)") + " " + kind.rawValue }
}

/// How one resource differs between the old render and the new one.
public struct ResourceChange: Sendable {
    public enum Kind: String, Sendable, Codable { case added, removed, changed }

    public var kind: Kind
    public var key: ResourceKey
    /// Where it was in the old render (nil when added) and is in the new one (nil when removed).
    public var old: ResourceOrigin?
    public var new: ResourceOrigin?
    /// For a changed resource: the unified diff of its canonical YAML, old → new, with
    /// every value of a Secret's `data` and `stringData` replaced by a placeholder. Empty
    /// for added and removed resources, and when `ResourceDiffOptions.unifiedDiffs` is off.
    public var diff: [String]
    /// For a changed Secret: which keys of `data` and `stringData` were added, removed or
    /// changed, in field then key order.
    public var secretKeys: [SecretKeyChange]

    /// The `# Source:` (else the file) of the resource, from the new render when it is there.
    public var source: String {
        let origin = new ?? old
        return origin?.source ?? origin?.file ?? ""
    }
}

/// What a comparison leaves out, and how much it computes.
public struct ResourceDiffOptions: Sendable {
    /// Label keys (`helm.sh/chart`) dropped from every `metadata.labels` in a resource —
    /// its own and nested ones such as a pod template's — before comparing.
    public var ignoredLabels: Set<String>
    /// Compute the unified diff of each changed resource (off when only counts are wanted).
    public var unifiedDiffs: Bool
    /// Lines of context around each change in the unified diffs.
    public var context: Int

    public init(ignoredLabels: Set<String> = [], unifiedDiffs: Bool = true, context: Int = 3) {
        self.ignoredLabels = ignoredLabels
        self.unifiedDiffs = unifiedDiffs
        self.context = context
    }
}

/// A resource-level comparison of two renders (`hld diff`): resources are paired by
/// apiVersion, kind, namespace and name, whatever file or component holds them, and are
/// the same when their content is the same up to the order of mapping keys.
///
/// Changes are in the new render's order (changed and added resources), then the removed
/// ones in the old render's order. Secret values never reach a change: a changed Secret
/// carries the keys that changed and a diff with placeholders for the values.
public struct ResourceDiff: Sendable {
    public var changes: [ResourceChange]
    /// Resources in both renders with the same content.
    public var unchanged: Int
    /// How many resources each render has.
    public var oldCount: Int
    public var newCount: Int

    public var isEmpty: Bool { changes.isEmpty }
    public var added: Int { count(.added) }
    public var removed: Int { count(.removed) }
    public var changed: Int { count(.changed) }

    public func count(_ kind: ResourceChange.Kind) -> Int { changes.count { $0.kind == kind } }

    /// Compares the files of two materializations.
    public init(old: Materialization, new: Materialization, options: ResourceDiffOptions = ResourceDiffOptions()) throws(HLDError) {
        try self.init(old: old.files, new: new.files, options: options)
    }

    /// Compares two sets of rendered files (each file a stream of documents as hld writes them).
    public init(old: [RenderedFile], new: [RenderedFile], options: ResourceDiffOptions = ResourceDiffOptions()) throws(HLDError) {
        try self.init(old: Self.resources(in: old, options: options), new: Self.resources(in: new, options: options), options: options)
    }

    /// Compares two lists of resources.
    public init(old: [RenderedResource], new: [RenderedResource], options: ResourceDiffOptions = ResourceDiffOptions()) throws(HLDError) {
        var byKey: [ResourceKey: RenderedResource] = [:]
        for resource in old { byKey[resource.key] = resource }
        var changes: [ResourceChange] = []
        var unchanged = 0
        var paired = Set<ResourceKey>()
        for resource in new {
            guard let before = byKey[resource.key] else {
                changes.append(ResourceChange(kind: .added, key: resource.key, old: nil, new: resource.origin, diff: [], secretKeys: []))
                continue
            }
            paired.insert(resource.key)
            let aligned = Self.aligned(before.node, to: resource.node)
            if aligned == resource.node {
                unchanged += 1
                continue
            }
            var oldNode = aligned, newNode = resource.node
            var secretKeys: [SecretKeyChange] = []
            if resource.key.kind == "Secret" {
                (oldNode, newNode, secretKeys) = Self.redactingSecret(old: aligned, new: resource.node)
            }
            var diff: [String] = []
            if options.unifiedDiffs {
                diff = TextDiff.unified(old: try Self.canonical(oldNode, resource.key), new: try Self.canonical(newNode, resource.key),
                                        path: resource.key.path, context: options.context)
            }
            changes.append(ResourceChange(kind: .changed, key: resource.key, old: before.origin, new: resource.origin, diff: diff, secretKeys: secretKeys))
        }
        for resource in old where !paired.contains(resource.key) {
            changes.append(ResourceChange(kind: .removed, key: resource.key, old: resource.origin, new: nil, diff: [], secretKeys: []))
        }
        self.changes = changes
        self.unchanged = unchanged
        oldCount = old.count
        newCount = new.count
    }

    // MARK: Reading renders

    /// The resources of rendered files, in file and document order, with the ignored
    /// labels dropped. Empty documents are skipped; the items of a `v1 List` are resources
    /// of their own (so a Secret in one is compared, and hidden, as any other).
    public static func resources(in files: [RenderedFile], options: ResourceDiffOptions = ResourceDiffOptions()) throws(HLDError) -> [RenderedResource] {
        var resources: [RenderedResource] = []
        var seen: [ResourceKey: Int] = [:]
        for file in files {
            let reader = DocumentReader(bytes: file.bytes, file: file.path, duplicateKeys: .lastWins)
            let lines = String(decoding: file.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            while true {
                let document: Document?
                do {
                    document = try reader.nextDocument()
                } catch {
                    throw HLDError("cannot compare the rendered file \(file.path): \(error)").kind(.render)
                }
                guard let document else { break }
                if document.node.isNull { continue }
                // hld writes `---` then `# Source: …` before every document.
                let sourceLine = document.start.line < lines.count ? lines[document.start.line] : ""
                let source = sourceLine.hasPrefix("# Source: ") ? String(sourceLine.dropFirst("# Source: ".count)) : nil
                let isList = document.node["apiVersion"]?.textValue == "v1" && document.node["kind"]?.textValue == "List"
                for node in isList ? document.node["items"]?.sequence ?? [] : [document.node] where !node.isNull {
                    let identity = identity(of: node)
                    var key = identity
                    key.occurrence = seen[identity, default: 0]
                    seen[identity, default: 0] += 1
                    resources.append(RenderedResource(key: key, node: options.ignoredLabels.isEmpty ? node : droppingLabels(options.ignoredLabels, from: node),
                                                      origin: ResourceOrigin(file: file.path, source: source, component: file.component)))
                }
            }
        }
        return resources
    }

    /// apiVersion, kind, `metadata.namespace` and `metadata.name` (empty when missing).
    static func identity(of node: Node) -> ResourceKey {
        let metadata = node["metadata"]
        return ResourceKey(apiVersion: node["apiVersion"]?.textValue ?? "", kind: node["kind"]?.textValue ?? "",
                           namespace: metadata?["namespace"]?.textValue ?? "", name: metadata?["name"]?.textValue ?? "")
    }

    /// `node` without the label keys in `ignored` in any `metadata.labels` mapping at any
    /// depth (the resource's own, a pod template's, a volume claim template's). A `labels`
    /// mapping left empty by this is dropped.
    static func droppingLabels(_ ignored: Set<String>, from node: Node) -> Node {
        var copy = node
        switch node.content {
        case .scalar:
            return node
        case .sequence(let items):
            copy.content = .sequence(items.map { droppingLabels(ignored, from: $0) })
        case .mapping(let pairs):
            copy.content = .mapping(pairs.map { pair in
                var pair = pair
                if pair.key.scalarText == "metadata", case .mapping(let fields) = pair.value.content {
                    pair.value.content = .mapping(fields.compactMap { field in
                        guard field.key.scalarText == "labels", case .mapping(let labels) = field.value.content, !labels.isEmpty else { return field }
                        let kept = labels.filter { label in !(label.key.scalarText.map(ignored.contains) ?? false) }
                        guard !kept.isEmpty else { return nil }
                        var field = field
                        field.value.content = .mapping(kept)
                        return field
                    })
                }
                pair.value = droppingLabels(ignored, from: pair.value)
                return pair
            })
        }
        return copy
    }

    // MARK: Comparing

    /// `old` with its mapping keys in `new`'s order wherever both have them (keys only
    /// `old` has follow, in their own order), recursively; sequences item by item. Two
    /// resources that differ only in key order are equal after this, and the diff of two
    /// that differ shows only what changed.
    static func aligned(_ old: Node, to new: Node) -> Node {
        switch (old.content, new.content) {
        case (.mapping(let oldPairs), .mapping(let newPairs)):
            var positions: [String: [Int]] = [:]
            for (index, pair) in oldPairs.enumerated() { positions[pair.key.scalarText ?? "", default: []].append(index) }
            var used = Set<Int>()
            var pairs: [Node.Pair] = []
            for newPair in newPairs {
                guard let index = positions[newPair.key.scalarText ?? ""]?.first(where: { !used.contains($0) && oldPairs[$0].key == newPair.key }) else { continue }
                used.insert(index)
                pairs.append(Node.Pair(key: oldPairs[index].key, value: aligned(oldPairs[index].value, to: newPair.value)))
            }
            for (index, pair) in oldPairs.enumerated() where !used.contains(index) { pairs.append(pair) }
            var copy = old
            copy.content = .mapping(pairs)
            return copy
        case (.sequence(let oldItems), .sequence(let newItems)):
            var copy = old
            copy.content = .sequence(oldItems.enumerated().map { index, item in index < newItems.count ? aligned(item, to: newItems[index]) : item })
            return copy
        default:
            return old
        }
    }

    /// The placeholder shown instead of a Secret value.
    static let hidden = "(hidden)"
    /// The placeholder for a value that changed, on the new side.
    static let hiddenChanged = "(hidden, changed)"

    /// Both sides of a changed Secret with every value of `data` and `stringData` replaced
    /// by a placeholder, which differs between the sides exactly where the value changed;
    /// and the keys that were added, removed or changed.
    static func redactingSecret(old: Node, new: Node) -> (Node, Node, [SecretKeyChange]) {
        var old = old, new = new
        var changes: [SecretKeyChange] = []
        for field in ["data", "stringData"] {
            let before = old[field].flatMap { $0.isNull ? nil : $0 }, after = new[field].flatMap { $0.isNull ? nil : $0 }
            guard before?.pairs != nil || before == nil, after?.pairs != nil || after == nil else {
                // Not a mapping on one side: hidden whole, as one value.
                if before != after {
                    changes.append(SecretKeyChange(field: field, key: "", kind: before == nil ? .added : after == nil ? .removed : .changed))
                }
                old = replacingValues(of: field, in: old) { _, _ in hidden }
                new = replacingValues(of: field, in: new) { _, _ in before == after ? hidden : hiddenChanged }
                continue
            }
            let oldValues = values(before), newValues = values(after)
            for key in Set(oldValues.keys).union(newValues.keys).sorted() {
                switch (oldValues[key], newValues[key]) {
                case (nil, .some): changes.append(SecretKeyChange(field: field, key: key, kind: .added))
                case (.some, nil): changes.append(SecretKeyChange(field: field, key: key, kind: .removed))
                case (.some(let a), .some(let b)) where a != b: changes.append(SecretKeyChange(field: field, key: key, kind: .changed))
                default: break
                }
            }
            old = replacingValues(of: field, in: old) { _, _ in hidden }
            new = replacingValues(of: field, in: new) { key, value in
                guard let key, let previous = oldValues[key] else { return hidden }
                return previous == value ? hidden : hiddenChanged
            }
        }
        return (old, new, changes)
    }

    /// A mapping's values by key text.
    private static func values(_ mapping: Node?) -> [String: Node] {
        Dictionary((mapping?.pairs ?? []).map { ($0.key.scalarText ?? "", $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// `node` with each value of the mapping under `field` replaced by the placeholder
    /// `placeholder(key, value)` gives; the whole value (key nil) when it is no mapping.
    private static func replacingValues(of field: String, in node: Node, _ placeholder: (String?, Node) -> String) -> Node {
        guard case .mapping(let pairs) = node.content else { return node }
        var copy = node
        copy.content = .mapping(pairs.map { pair in
            guard pair.key.scalarText == field, !pair.value.isNull else { return pair }
            var pair = pair
            if case .mapping(let entries) = pair.value.content {
                pair.value.content = .mapping(entries.map { Node.Pair(key: $0.key, value: .string(placeholder($0.key.scalarText ?? "", $0.value))) })
            } else {
                pair.value = .string(placeholder(nil, pair.value))
            }
            return pair
        })
        return copy
    }

    /// A resource as hld writes it (the YAML module's emitter).
    static func canonical(_ node: Node, _ key: ResourceKey) throws(HLDError) -> String {
        do {
            return try node.yaml()
        } catch {
            throw HLDError("cannot write \(key) as YAML: \(error)").kind(.render)
        }
    }
}
