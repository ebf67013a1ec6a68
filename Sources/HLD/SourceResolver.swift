import CacheStore
import Foundation
import Git
import YAML

/// The resolve stage's last step for one component: fetch and pin what it renders from —
/// a chart (from a repository, a registry or git, with its dependencies), a kustomization
/// or static manifests from git, an http manifest — and say which local paths its
/// generator reads. After this, rendering needs no network and no fetcher.
struct SourceResolver: Sendable {
    let fetcher: SourceFetcher
    var diagnostics: any DiagnosticsSink
    /// The project root, for local pins.
    let root: String

    struct Resolution: Sendable {
        var source: Pin?
        var dependencies: [Pin] = []
        var input: RenderInput
    }

    /// `locked` (`--locked`): every source must be the one `hld.lock` pins, resolved to
    /// exactly its pin.
    func resolve(_ component: ResolvedComponent, locked: PinLookup? = nil) async throws(HLDError) -> Resolution {
        let definition = component.definition
        switch definition.type {
        case .component:
            return Resolution(source: nil, input: .none)
        case .static:
            if definition.method == .http {
                guard let source = definition.source else {
                    throw HLDError(definition.location, component: component.componentPath, "method http needs a source URL")
                }
                let digest = try locked?.pin(.http(url: GitURL.redact(source), digest: ""), .source)?.digest
                let fetched = try await fetcher.httpManifest(source, for: component.componentPath, at: definition.location(of: "source"), pinned: digest)
                let name = URL(string: source)?.lastPathComponent ?? "manifest.yaml"
                return Resolution(source: .http(url: GitURL.redact(source), digest: fetched.digest),
                                  input: .file(fetched.path, name: name, format: SourceFormat(path: name)))
            }
            let directory = try localPath(component, definition.path)
            return Resolution(source: try checked(localPin(component, directory), locked), input: .directory(directory))
        case .helm:
            return try await resolveChart(component, locked: locked)
        case .kustomize:
            if definition.method == .git {
                let fetched = try await fetcher.fetchComponent(definition, config: component.config, base: component.directory,
                                                               treeRoot: component.treeRoot, locate: component.location(ofSetting:), locked: locked)
                try requireKustomization(in: fetched.directory, component)
                return Resolution(source: fetched.pin, input: .kustomization(fetched.directory, contentKey: fetched.treeID.map { "tree:" + $0 }))
            }
            let directory = try localPath(component, definition.path)
            return Resolution(source: try checked(localPin(component, directory), locked), input: .kustomization(directory, contentKey: nil))
        }
    }

    /// A pin that resolves to itself (the user's own files): under `--locked` it must be in
    /// the lock all the same, or the lock does not cover the definition.
    private func checked(_ pin: Pin?, _ locked: PinLookup?, _ role: LockedPins.Role = .source) throws(HLDError) -> Pin? {
        guard let pin, let locked else { return pin }
        return try locked.pin(pin, role) ?? pin
    }

    /// A chart archive from a Helm repository: the version asked for, or under `--locked`
    /// the pinned version, which must still have the pinned digest (from the cache when it
    /// holds that digest: no index needed).
    private func repositoryChart(_ repository: String, chart name: String, version: String?, locked: PinLookup?, _ role: LockedPins.Role,
                                 failure: (ChartRepositoryError) -> HLDError) async throws(HLDError) -> (Pin, ChartRepositories.Archive) {
        let request = Pin.chart(repository: GitURL.redact(repository), name: name, requested: version ?? "", version: "", digest: "")
        var wanted = version
        if let locked, case .chart(_, _, _, let pinnedVersion, let digest)? = try locked.pin(request, role) {
            if fetcher.store.get(.chartArchives, digest: digest) != nil {
                let archive = ChartRepositories.Archive(path: fetcher.store.entry(.chartArchives, name: digest).path, digest: digest, version: pinnedVersion)
                return (.chart(repository: GitURL.redact(repository), name: name, requested: version ?? "", version: pinnedVersion, digest: digest), archive)
            }
            wanted = pinnedVersion
            let archive = try await fetchRepositoryChart(repository, chart: name, version: wanted, failure: failure)
            guard archive.digest == digest else {
                throw locked.mismatch("chart \(name) \(pinnedVersion) from \(GitURL.redact(repository)) now has digest \(archive.digest.prefix(12)), not \(digest.prefix(12))")
            }
            return (.chart(repository: GitURL.redact(repository), name: name, requested: version ?? "", version: archive.version, digest: archive.digest), archive)
        }
        let archive = try await fetchRepositoryChart(repository, chart: name, version: wanted, failure: failure)
        return (.chart(repository: GitURL.redact(repository), name: name, requested: version ?? "", version: archive.version, digest: archive.digest), archive)
    }

    private func fetchRepositoryChart(_ repository: String, chart name: String, version: String?,
                                      failure: (ChartRepositoryError) -> HLDError) async throws(HLDError) -> ChartRepositories.Archive {
        do {
            return try await fetcher.repositories.archive(repository: repository, chart: name, version: version)
        } catch {
            throw failure(error)
        }
    }

    /// A chart from a Helm repository (`method: helm`, http(s) or oci), a git repository
    /// (`method: git`) or a directory, with the dependencies it does not vendor.
    private func resolveChart(_ component: ResolvedComponent, locked: PinLookup?) async throws(HLDError) -> Resolution {
        let definition = component.definition
        let version = component.config.version ?? definition.version
        switch definition.method {
        case .helm:
            guard let source = component.config.source ?? definition.source, let name = definition.path else {
                throw HLDError(definition.location, component: component.componentPath, "method helm needs source (the repository URL) and path (the chart name)")
            }
            if source.lowercased().hasPrefix("oci://") {
                let (pin, archive) = try await ociChart(source, chart: name, version: version, component: component, locked: locked, .source)
                return Resolution(source: pin, input: .chart(archive, contentKey: "digest:" + pin.digest, dependencies: []))
            }
            let (pin, archive) = try await repositoryChart(source, chart: name, version: version, locked: locked, .source) { error in
                HLDError(component.location(ofSetting: error.setting.rawValue), component: component.componentPath, "\(error.description)").kind(.source)
            }
            return Resolution(source: pin, input: .chart(archive.path, contentKey: "digest:" + archive.digest, dependencies: []))
        case .git:
            let fetched = try await fetcher.fetchComponent(definition, config: component.config, base: component.directory,
                                                           treeRoot: component.treeRoot, locate: component.location(ofSetting:), locked: locked)
            guard FileManager.default.fileExists(atPath: fetched.directory + "/Chart.yaml") else {
                throw HLDError(definition.location(of: "path"), component: component.componentPath, "no Chart.yaml in \(fetched.display)")
            }
            let (pins, dependencies) = try await chartDependencies(of: fetched.directory, component: component, locked: locked)
            return Resolution(source: fetched.pin, dependencies: pins,
                              input: .chart(fetched.directory, contentKey: fetched.treeID.map { "tree:" + $0 }, dependencies: dependencies))
        case .local, .http:
            let directory = try localPath(component, definition.path)
            // The user's own chart may be written by a hook before it renders: its
            // dependencies are found now if it exists, and it is checked when rendered.
            let (pins, dependencies) = try await chartDependencies(of: directory, component: component, locked: locked)
            return Resolution(source: try checked(localPin(component, directory), locked), dependencies: pins,
                              input: .chart(directory, contentKey: component.treeRoot == nil ? nil : "dir:" + DirectoryHash.of([directory]),
                                            dependencies: dependencies))
        }
    }

    /// `oci://…/chart` at `version` from the registry, pinned by digest.
    /// Under `--locked`, fetched by the pinned manifest digest (from the cache when it
    /// holds the pinned layer), and the layer must have the pinned digest.
    private func ociChart(_ source: String, chart name: String, version: String?, component: ResolvedComponent,
                          locked: PinLookup?, _ role: LockedPins.Role) async throws(HLDError) -> (Pin, String) {
        let base = source.hasSuffix("/") ? String(source.dropLast()) : source
        let reference = base.hasSuffix("/" + name) ? base : base + "/" + name
        let shown = GitURL.redact(reference)
        var wanted = version
        var pinned: (version: String, manifest: String, digest: String)?
        if let locked, case .oci(_, _, let pinnedVersion, let manifest, let digest)? = try locked.pin(.oci(reference: shown, requested: version ?? "", version: "", manifest: "", digest: ""), role) {
            if fetcher.store.get(.chartArchives, digest: digest) != nil {
                return (.oci(reference: shown, requested: version ?? "", version: pinnedVersion, manifest: manifest, digest: digest),
                        fetcher.store.entry(.chartArchives, name: digest).path)
            }
            wanted = manifest.isEmpty ? pinnedVersion : manifest
            pinned = (pinnedVersion, manifest, digest)
        }
        let archive: OCIRegistries.Archive
        do {
            archive = try await fetcher.registries.archive(reference: reference, version: wanted)
        } catch {
            throw HLDError(component.location(ofSetting: "version"), component: component.componentPath, "\(error.description)").kind(.source).caused(by: error)
        }
        if let pinned, let locked, archive.digest != pinned.digest {
            throw locked.mismatch("chart \(shown) \(pinned.version) now has layer digest \(archive.digest.prefix(12)), not \(pinned.digest.prefix(12))")
        }
        return (.oci(reference: shown, requested: version ?? "", version: pinned?.version ?? archive.version, manifest: archive.manifest ?? "", digest: archive.digest),
                archive.path)
    }

    /// The dependencies a chart directory declares (Chart.yaml `dependencies` or
    /// requirements.yaml) and does not vendor in `charts/`, fetched and pinned.
    private func chartDependencies(of directory: String, component: ResolvedComponent, locked: PinLookup?) async throws(HLDError) -> ([Pin], [ChartDependency]) {
        var declared: [Node] = []
        for file in ["Chart.yaml", "requirements.yaml"] {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
            do {
                let node = try ManifestStream.foreignFile([UInt8](bytes), file: "\(component.definition.path ?? ".")/\(file)",
                                                          component: component.componentPath, diagnostics: diagnostics)
                declared += node["dependencies"]?.sequence ?? []
            } catch {
                throw HLDError(component: component.componentPath, "\(error.description)").kind(.source).caused(by: error)
            }
        }
        let vendored = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/charts")) ?? []
        var pins: [Pin] = []
        var dependencies: [ChartDependency] = []
        for dependency in declared {
            guard let name = dependency["name"]?.textValue else { continue }
            if vendored.contains(where: { $0 == name || ($0.hasPrefix(name + "-") && $0.hasSuffix(".tgz")) }) { continue }
            let repository = dependency["repository"]?.textValue ?? ""
            let version = dependency["version"]?.textValue
            if repository.hasPrefix("http://") || repository.hasPrefix("https://") {
                let (pin, archive) = try await repositoryChart(repository, chart: name, version: version, locked: locked, .dependency) { error in
                    HLDError(component.definition.location, component: component.componentPath, "dependency \(name): \(error.description)").kind(.source)
                }
                pins.append(pin)
                dependencies.append(ChartDependency(name: name, path: archive.path, contentKey: "digest:" + archive.digest))
            } else if repository.hasPrefix("file://") {
                let path = URL(fileURLWithPath: directory + "/" + String(repository.dropFirst("file://".count))).standardizedFileURL.path
                try contain(path, in: component, what: "dependency \(name)")
                // Inside a fetched tree the tree's git pin covers it.
                if let pin = localPin(component, path) { pins.append(try checked(pin, locked, .dependency) ?? pin) }
                dependencies.append(ChartDependency(name: name, path: path, contentKey: nil))
            } else if repository.hasPrefix("oci://") {
                let (pin, archive) = try await ociChart(repository, chart: name, version: version, component: component, locked: locked, .dependency)
                pins.append(pin)
                dependencies.append(ChartDependency(name: name, path: archive, contentKey: "digest:" + pin.digest))
            } else {
                throw HLDError(component.definition.location, component: component.componentPath, "dependency \(name) has repository \"\(repository)\"; hld needs an http(s), oci:// or file:// URL (repository aliases belong to a user's Helm setup)")
            }
        }
        return (pins, dependencies)
    }

    /// `path` in the component's directory; inside a fetched tree it may not leave it.
    private func localPath(_ component: ResolvedComponent, _ path: String?) throws(HLDError) -> String {
        let relative = (path ?? "").split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let directory = URL(fileURLWithPath: component.directory + "/" + relative).standardizedFileURL.path
        try contain(directory, in: component, what: "path \(relative)")
        return directory
    }

    /// Refuses a path that leaves the fetched tree the component is in (lexically, or
    /// through a symbolic link).
    private func contain(_ path: String, in component: ResolvedComponent, what: String) throws(HLDError) {
        guard let root = component.treeRoot else { return }
        if !ExportedTreeContainment.contains(path, root: root) {
            throw HLDError(component.definition.location(of: "path"), component: component.componentPath, "\(what) leaves the tree fetched from \(component.fetchedFrom ?? "git")")
        }
    }

    /// The pin of the user's own files (nil inside a fetched tree, whose git pin covers them).
    private func localPin(_ component: ResolvedComponent, _ directory: String) -> Pin? {
        guard component.treeRoot == nil else { return nil }
        let shown = directory == root ? "." : directory.hasPrefix(root + "/") ? String(directory.dropFirst(root.count + 1)) : directory
        return .local(path: shown)
    }

    private func requireKustomization(in directory: String, _ component: ResolvedComponent) throws(HLDError) {
        guard Renderers.kustomizationFiles.contains(where: { FileManager.default.fileExists(atPath: directory + "/" + $0) }) else {
            throw HLDError(component.definition.location(of: "path"), component: component.componentPath, "no kustomization.yaml in \(component.definition.path ?? ".")")
        }
    }
}

extension Pin {
    /// The content digest the pin names (archive, layer, content hash, git tree).
    var digest: String {
        switch self {
        case .git(_, _, _, _, let tree): return tree
        case .chart(_, _, _, _, let digest), .oci(_, _, _, _, let digest), .http(_, let digest): return digest
        case .local: return ""
        }
    }
}

/// Containment on resolved paths: a path inside a fetched tree that reaches outside it
/// through a symbolic link is outside.
enum ExportedTreeContainment {
    /// `path` (standardized) is inside `root` lexically and, when it exists, once
    /// symbolic links are resolved. A missing path cannot be read through a link: the
    /// lexical check decides, and the missing directory gets its own error later.
    static func contains(_ path: String, root: String) -> Bool {
        guard path == root || path.hasPrefix(root + "/") else { return false }
        guard FileManager.default.fileExists(atPath: path) else { return true }
        return ExportedTree.contains(path, root: root)
    }
}
