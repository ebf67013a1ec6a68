import Foundation
import Git
import YAML

/// Turns definitions into a resolved tree: loads component and config files, merges the
/// layers, fetches git sources (concurrently, at most `jobs` at a time), and checks for
/// cycles and paths that leave a fetched tree. Results keep the definition order.
struct TreeResolver: Sendable {
    let root: String
    let environments: [String]
    let sources: SourceFetcher
    /// Fetches and pins what each component renders from.
    var pinning: SourceResolver
    var diagnostics: any DiagnosticsSink
    /// Config files of the user's own components read from another tree with the same
    /// layout: (`from`, `to`) maps a directory under `from` to the same path under `to`.
    var configRoot: (from: String, to: String)? = nil
    /// `--locked`: the pins every source must resolve to.
    var locked: LockedPins? = nil
    /// Where components whose sources are pinned start rendering while the rest of the
    /// tree resolves (the render stage of `materialize`); nil: nothing starts early.
    var renderAhead: RenderAhead? = nil
    /// A component above the ones this resolver reaches has hooks (they run before the
    /// render of everything below, so nothing below starts early).
    private(set) var hooksAbove = false

    /// Hands a pinned component on to start rendering, when nothing must run before it.
    private func pinned(_ component: ResolvedComponent) {
        guard let renderAhead, !hooksAbove, component.definition.hooks.isEmpty else { return }
        renderAhead.start(component)
    }

    func resolve() async throws(HLDError) -> ResolvedComponent {
        guard let file = ComponentFile.find(in: root, diagnostics: diagnostics) else {
            throw HLDError("\(root): no component.yaml or component.json here (run hld in the directory of the top-level component, or pass -C)")
        }
        let definition = try ComponentFile.load(file, displayPath: display(file), diagnostics: diagnostics)
        var layers = try configLayers(in: root, display: display(root), local: true)
        var component = ResolvedComponent(
            definition: definition, folder: [], fileName: definition.name, directory: root, treeRoot: nil, fetchedFrom: nil,
            config: ComponentConfig(try ConfigFiles.merge(layers)), origin: ConfigOrigin(layers: layers, entryName: definition.name), children: [])
        component.logicalPath = [definition.name]
        if definition.method == .git, definition.source != nil {
            // A remote root (Fabrikate #212): the definition comes from git; the local
            // root's config wins over the remote one's.
            let fetched = try await sources.fetchComponent(definition, config: component.config, base: root, treeRoot: nil,
                                                           locate: component.location(ofSetting:),
                                                           locked: lookup(component.lockKey, shown: definition.name, at: definition.location), role: .definition)
            let remoteFile = try componentFile(in: fetched.directory, entry: definition, display: fetched.display)
            let remote = try ComponentFile.load(remoteFile, displayPath: fetched.display + "/" + URL(fileURLWithPath: remoteFile).lastPathComponent, diagnostics: diagnostics)
            layers += try configLayers(in: fetched.directory, display: fetched.display, local: false)
            component = ResolvedComponent(
                definition: remote, folder: [], fileName: remote.name, directory: fetched.directory, treeRoot: fetched.treeRoot,
                fetchedFrom: fetched.display, config: ComponentConfig(try ConfigFiles.merge(layers)),
                origin: ConfigOrigin(layers: layers, entryName: remote.name), children: [])
            component.definitionPin = fetched.pin
            component.logicalPath = [definition.name]
        }
        try await pin(&component)
        pinned(component)
        try await resolveSubcomponents(of: &component, ancestors: [identity(component.directory)])
        return component
    }

    /// `--locked`: the lock narrowed to one component.
    private func lookup(_ key: String, shown: String, at location: SourceLocation) -> PinLookup? {
        locked.map { PinLookup(pins: $0, component: key, shown: shown, location: location) }
    }

    /// Fetches and pins what the component renders from.
    private func pin(_ component: inout ResolvedComponent) async throws(HLDError) {
        let locked = lookup(component.lockKey, shown: component.componentPath, at: component.definition.location)
        let resolution = try await pinning.resolve(component, locked: locked)
        if let locked, component.pins.isEmpty && resolution.source == nil && resolution.dependencies.isEmpty {
            try locked.pins.cover(component: locked.component, shown: locked.shown, at: locked.location)
        }
        component.source = resolution.source
        component.dependencies = resolution.dependencies
        component.input = resolution.input
    }

    /// Resolves the component's children, in definition order, and records the entries
    /// its config disables. Siblings resolve concurrently; when several fail, every
    /// failure is reported, in tree order.
    private func resolveSubcomponents(of parent: inout ResolvedComponent, ancestors: [String]) async throws(HLDError) {
        let entries = parent.definition.subcomponents
        guard !entries.isEmpty else { return }
        let component = parent
        let results = await withTaskGroup(of: (Int, Result<ResolvedComponent?, HLDError>).self) { group in
            for (index, entry) in entries.enumerated() {
                // The child's messages belong to it: tree order, whatever finishes first.
                var resolver = self
                resolver.hooksAbove = hooksAbove || !component.definition.hooks.isEmpty
                resolver.diagnostics = diagnostics.scoped(to: component.position + [index], component: (component.folder + [entry.name]).joined(separator: "/"))
                resolver.pinning.diagnostics = resolver.diagnostics
                group.addTask {
                    do throws(HLDError) {
                        return (index, .success(try await resolver.child(entry, of: component, position: component.position + [index], ancestors: ancestors)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<ResolvedComponent?, HLDError>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        // A child is nil exactly when its config disables it.
        let children = try Self.collect(results)
        parent.children = children.compactMap { $0 }
        let disabled = zip(entries.indices, children).filter { $0.1 == nil }.map(\.0)
        guard !disabled.isEmpty else { return }
        // The same merge succeeded when the config was built, so this one does too.
        let explained = try? component.origin.explained()
        parent.disabledSubcomponents = disabled.map { index in
            let name = entries[index].name
            let setting = try? explained?.value(at: [.key("subcomponents"), .key(name), .key("disabled")], in: component.componentPath)
            return DisabledSubcomponent(entry: entries[index], index: index, componentPath: (component.folder + [name]).joined(separator: "/"),
                                        disabledAt: setting?.origin?.location)
        }
    }

    /// The values, or every failure as one error in the given (tree) order.
    static func collect<T>(_ results: [Result<T, HLDError>]) throws(HLDError) -> [T] {
        var values: [T] = []
        var failures: [HLDError] = []
        for result in results {
            switch result {
            case .success(let value): values.append(value)
            case .failure(let error): failures.append(error)
            }
        }
        if !failures.isEmpty { throw HLDError.several(failures) }
        return values
    }

    private func child(_ entry: ComponentDefinition, of parent: ResolvedComponent, position: [Int], ancestors: [String]) async throws(HLDError) -> ResolvedComponent? {
        let passed = parent.config.passedDown(to: entry.name)
        let passedFile = "the config \(parent.componentPath) passes down to \(entry.name)"
        if ComponentConfig(passed).disabled {
            diagnostics.progress("\((parent.folder + [entry.name]).joined(separator: "/")): disabled")
            return nil
        }
        // What the parent passes down, traced to the parent's files.
        let passedOrigin = ConfigOrigin(layers: [], entryName: entry.name, passedDown: passed, parent: parent.origin)
        if entry.type.isInline {
            var inline = ResolvedComponent(
                definition: entry, folder: parent.folder, fileName: entry.name, directory: parent.directory,
                treeRoot: parent.treeRoot, fetchedFrom: parent.fetchedFrom,
                config: ComponentConfig(try ConfigFiles.merge([ConfigLayer(node: passed, file: passedFile)])),
                origin: passedOrigin, children: [])
            inline.position = position
            inline.logicalPath = parent.logicalPath + [entry.name]
            try await pin(&inline)
            pinned(inline)
            try await resolveSubcomponents(of: &inline, ancestors: ancestors)
            return inline
        }

        let logicalPath = parent.logicalPath + [entry.name]
        let located: FetchedDirectory
        switch entry.method {
        case .git:
            located = try await sources.fetchComponent(entry, config: ComponentConfig(passed), base: parent.directory, treeRoot: parent.treeRoot,
                                                       locate: { passedOrigin.location(of: [$0]) ?? entry.location },
                                                       locked: lookup(logicalPath.joined(separator: "/"), shown: (parent.folder + [entry.name]).joined(separator: "/"), at: entry.location),
                                                       role: .definition)
        case .local:
            located = try localDirectory(entry, config: ComponentConfig(passed), parent: parent)
        case .helm, .http:
            throw HLDError(entry.location(of: "method"), "method \(entry.method.rawValue) is for helm and static components; subcomponent \(entry.name) has type component")
        }
        let id = identity(located.directory)
        if ancestors.contains(id) {
            throw HLDError(entry.location, "subcomponent \(entry.name) includes a component that includes it (\(located.display)): a cycle")
        }
        let file = try componentFile(in: located.directory, entry: entry, display: located.display)
        let definition = try ComponentFile.load(file, displayPath: located.display + "/" + URL(fileURLWithPath: file).lastPathComponent, diagnostics: diagnostics)
        let own = try configLayers(in: located.directory, display: located.display, local: located.treeRoot == nil)
        var component = ResolvedComponent(
            definition: definition, folder: parent.folder + [entry.name], fileName: definition.name, directory: located.directory,
            treeRoot: located.treeRoot, fetchedFrom: located.fetchedFrom,
            config: ComponentConfig(try ConfigFiles.merge([ConfigLayer(node: passed, file: passedFile)] + own)),
            origin: ConfigOrigin(layers: own, entryName: entry.name, passedDown: passed, parent: parent.origin), children: [])
        component.definitionPin = located.pin
        component.position = position
        component.logicalPath = logicalPath
        try await pin(&component)
        pinned(component)
        try await resolveSubcomponents(of: &component, ancestors: ancestors + [id])
        return component
    }

    /// A local subcomponent's directory: `source` (relative to the declaring component's
    /// directory) joined with `path`. Inside a fetched tree it may not leave that tree.
    private func localDirectory(_ entry: ComponentDefinition, config: ComponentConfig, parent: ResolvedComponent) throws(HLDError) -> FetchedDirectory {
        let source = config.source ?? entry.source ?? "."
        var directory = source.hasPrefix("/") ? source : parent.directory + "/" + source
        if let path = entry.path { directory += "/" + path }
        directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        if let treeRoot = parent.treeRoot, !ExportedTreeContainment.contains(directory, root: treeRoot) {
            let field = entry.fieldLocations["path"] != nil && entry.source == nil ? "path" : "source"
            throw HLDError(entry.location(of: field), "subcomponent \(entry.name) points outside the tree fetched from \(parent.fetchedFrom ?? "git") (\(source)\(entry.path.map { " + " + $0 } ?? ""))")
        }
        let shown = parent.treeRoot == nil ? display(directory) : (parent.fetchedFrom ?? "") + "/" + String(directory.dropFirst((parent.treeRoot ?? "").count + 1))
        return FetchedDirectory(directory: directory, treeRoot: parent.treeRoot, fetchedFrom: parent.fetchedFrom, display: shown)
    }

    private func componentFile(in directory: String, entry: ComponentDefinition, display: String) throws(HLDError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HLDError(entry.location, "subcomponent \(entry.name): directory \(display) does not exist")
        }
        guard let file = ComponentFile.find(in: directory, diagnostics: diagnostics) else {
            throw HLDError(entry.location, "subcomponent \(entry.name): no component.yaml or component.json in \(display)")
        }
        return file
    }

    /// The environment layers then `common`, as found in `directory` (for the user's own
    /// components, in the tree `configRoot` names when there is one).
    private func configLayers(in directory: String, display: String, local: Bool) throws(HLDError) -> [ConfigLayer] {
        var layers: [ConfigLayer] = []
        var directory = directory
        if local, let (from, to) = configRoot, directory == from || directory.hasPrefix(from + "/") {
            directory = to + directory.dropFirst(from.count)
        }
        for name in environments + ["common"] {
            if let layer = try ConfigFiles.load(name, in: directory, display: display, diagnostics: diagnostics) { layers.append(layer) }
        }
        return layers
    }

    /// The directory itself (device and inode), however it is reached. Not
    /// `resolvingSymlinksInPath`: past about 1 000 characters it returns the same answer
    /// for different directories, and a deep tree looked like a cycle.
    private func identity(_ directory: String) -> String {
        var status = stat()
        guard stat(directory, &status) == 0 else { return URL(fileURLWithPath: directory).standardizedFileURL.path }
        return "\(status.st_dev):\(status.st_ino)"
    }

    /// A path as shown in messages: relative to the project root when inside it.
    func display(_ path: String) -> String {
        if path == root { return "." }
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count + 1)) }
        return path
    }
}

/// Where a component's files are, and where they came from.
struct FetchedDirectory: Sendable {
    var directory: String
    var treeRoot: String?
    var fetchedFrom: String?
    var display: String
    /// The git tree id of `directory`, when it was fetched from git.
    var treeID: String? = nil
    /// What was fetched, pinned (nil for the user's own files).
    var pin: Pin? = nil
}
