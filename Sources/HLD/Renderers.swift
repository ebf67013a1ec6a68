import Foundation
import Git
import YAML

/// Helm and Kustomize rendering: find the chart or kustomization, compute the render key,
/// answer from the render cache or run the tool through the process seam.
struct Renderers: Sendable {
    let fetcher: SourceFetcher
    let toolchain: Toolchain
    let repositories: ChartRepositories
    let registries: OCIRegistries
    let cache: RenderCache
    let runner: any ProcessRunner
    let diagnostics: DiagnosticsSink
    /// A private directory for this run: Helm homes and values files.
    let scratch: String

    // MARK: helm

    /// A chart ready for `helm template`: a directory or an archive, and what identifies
    /// its content.
    struct Chart: Sendable {
        var reference: String
        var contentKey: String
    }

    func renderHelm(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        let chart = try await locateChart(component)
        let tool = try await toolchain.helm(for: component.componentPath)
        let values: String
        do {
            values = try component.config.values.yaml()
        } catch {
            throw HLDError("\(component.componentPath): cannot write the values: \(error)")
        }
        let release = component.definition.name
        let namespace = component.config.namespace ?? "default"
        let flags = ["--include-crds"]
        let key = RenderCache.key(["helm", tool.version, chart.contentKey, release, namespace, values] + flags)
        let output: [UInt8]
        if let cached = cache.lookup(key) {
            output = cached
        } else {
            let valuesFile = scratch + "/values-\(key.prefix(16)).yaml"
            do {
                try AtomicFile.write(Array(values.utf8), to: valuesFile, mode: 0o600)
            } catch {
                throw HLDError("\(component.componentPath): cannot write the values file: \(error)")
            }
            defer { unlink(valuesFile) }
            diagnostics.progress("\(component.componentPath): helm template (\(tool.version))")
            let invocation = ProcessInvocation(
                executable: tool.path,
                arguments: ["template", release, chart.reference, "--namespace", namespace, "--values", valuesFile] + flags,
                environment: helmEnvironment)
            let result: ProcessOutput
            do {
                result = try await runner.checked(invocation)
            } catch {
                throw HLDError(component.definition.location, "\(component.componentPath): helm failed: \(error)")
            }
            for line in result.standardError.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                diagnostics.warning("\(component.componentPath): helm: \(line)")
            }
            output = result.standardOutput
            cache.store(key, output)
        }
        return try Self.helmDocuments(output, component: component, diagnostics: diagnostics)
    }

    /// Helm's private homes: the user's repositories and plugins are never read or changed.
    var helmEnvironment: [String: String] {
        ["HELM_CACHE_HOME": scratch + "/helm/cache", "HELM_CONFIG_HOME": scratch + "/helm/config", "HELM_DATA_HOME": scratch + "/helm/data"]
    }

    /// helm's whole output read as one YAML stream, each document attributed to the
    /// template its `# Source:` comment names.
    static func helmDocuments(_ output: [UInt8], component: ResolvedComponent, diagnostics: DiagnosticsSink) throws(HLDError) -> [RenderedDocument] {
        try ManifestStream.documents(output, .init(component: component.componentPath, file: "helm output of \(component.componentPath)",
                                                   source: component.componentPath, helmTemplates: true), diagnostics: diagnostics)
    }

    /// Where the chart is: a Helm repository (`method: helm`, http(s) or oci), a git
    /// repository (`method: git`) or a local directory; with dependencies assembled.
    private func locateChart(_ component: ResolvedComponent) async throws(HLDError) -> Chart {
        let definition = component.definition
        let version = component.config.version ?? definition.version
        switch definition.method {
        case .helm:
            guard let source = component.config.source ?? definition.source, let name = definition.path else {
                throw HLDError(definition.location, "\(component.componentPath): method helm needs source (the repository URL) and path (the chart name)")
            }
            if source.lowercased().hasPrefix("oci://") {
                return try await pullOCI(source, chart: name, version: version, component: component)
            }
            do {
                let archive = try await repositories.archive(repository: source, chart: name, version: version)
                return Chart(reference: archive.path, contentKey: "digest:" + archive.digest)
            } catch {
                throw HLDError(component.location(ofSetting: error.setting.rawValue), "\(component.componentPath): \(error.description)")
            }
        case .git:
            let fetched = try await fetcher.fetchComponent(definition, config: component.config, base: component.directory, treeRoot: component.treeRoot,
                                                           locate: component.location(ofSetting:))
            return try await withDependencies(directory: fetched.directory, contentKey: "tree:" + (fetched.treeID ?? DirectoryHash.of([fetched.directory])), component: component)
        case .local, .http:
            let directory = URL(fileURLWithPath: component.directory + "/" + (definition.path ?? "")).standardizedFileURL.path
            if let root = component.treeRoot, directory != root, !directory.hasPrefix(root + "/") {
                throw HLDError(definition.location(of: "path"), "\(component.componentPath): path \(definition.path ?? "") leaves the tree fetched from \(component.fetchedFrom ?? "git")")
            }
            guard FileManager.default.fileExists(atPath: directory + "/Chart.yaml") else {
                throw HLDError(definition.location(of: "path"), "\(component.componentPath): no Chart.yaml in \(definition.path ?? ".")")
            }
            return try await withDependencies(directory: directory, contentKey: "dir:" + DirectoryHash.of([directory]), component: component)
        }
    }

    /// `oci://` charts are pulled from the registry by hld's own client and keyed by the
    /// chart layer's digest.
    private func pullOCI(_ source: String, chart name: String, version: String?, component: ResolvedComponent) async throws(HLDError) -> Chart {
        let base = source.hasSuffix("/") ? String(source.dropLast()) : source
        let reference = base.hasSuffix("/" + name) ? base : base + "/" + name
        do {
            let archive = try await registries.archive(reference: reference, version: version)
            return Chart(reference: archive.path, contentKey: "digest:" + archive.digest)
        } catch {
            throw HLDError(component.definition.location, "\(component.componentPath): \(error.description)")
        }
    }

    /// A chart directory whose dependencies (Chart.yaml `dependencies` or
    /// requirements.yaml) are not all in its `charts/`: a copy with them added, assembled
    /// once per chart content under `helm/assembled/` (the source tree is never changed).
    private func withDependencies(directory: String, contentKey: String, component: ResolvedComponent) async throws(HLDError) -> Chart {
        var dependencies: [Node] = []
        for file in ["Chart.yaml", "requirements.yaml"] {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
            do {
                let node = try ManifestStream.foreignFile([UInt8](bytes), file: "\(component.definition.path ?? ".")/\(file)",
                                                          component: component.componentPath, diagnostics: diagnostics)
                dependencies += node["dependencies"]?.sequence ?? []
            } catch {
                throw HLDError("\(component.componentPath): \(error.description)")
            }
        }
        let vendored = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/charts")) ?? []
        var archives: [(name: String, path: String, key: String)] = []
        for dependency in dependencies {
            guard let name = dependency["name"]?.textValue else { continue }
            let repository = dependency["repository"]?.textValue ?? ""
            if vendored.contains(where: { $0 == name || ($0.hasPrefix(name + "-") && $0.hasSuffix(".tgz")) }) { continue }
            let version = dependency["version"]?.textValue
            if repository.hasPrefix("http://") || repository.hasPrefix("https://") {
                do {
                    let archive = try await repositories.archive(repository: repository, chart: name, version: version)
                    archives.append((name, archive.path, archive.digest))
                } catch {
                    throw HLDError(component.definition.location, "\(component.componentPath): dependency \(name): \(error.description)")
                }
            } else if repository.hasPrefix("file://") {
                let path = URL(fileURLWithPath: directory + "/" + String(repository.dropFirst("file://".count))).standardizedFileURL.path
                archives.append((name, path, "dir:" + DirectoryHash.of([path])))
            } else if repository.hasPrefix("oci://") {
                let chart = try await pullOCI(repository, chart: name, version: version, component: component)
                archives.append((name, chart.reference, chart.contentKey))
            } else {
                throw HLDError(component.definition.location, "\(component.componentPath): dependency \(name) has repository \"\(repository)\"; hld needs an http(s), oci:// or file:// URL (repository aliases belong to a user's Helm setup)")
            }
        }
        guard !archives.isEmpty else { return Chart(reference: directory, contentKey: contentKey) }
        let key = RenderCache.key([contentKey] + archives.map { "\($0.name)=\($0.key)" })
        let target = fetcher.cacheRoot.appendingPathComponent("helm/assembled/\(key)").path
        let fm = FileManager.default
        if !fm.fileExists(atPath: target) {
            let temporary = target + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do {
                try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.copyItem(atPath: directory, toPath: temporary)
                try AtomicFile.makeWritable(temporary)
                try fm.createDirectory(atPath: temporary + "/charts", withIntermediateDirectories: true)
                for archive in archives {
                    let name = URL(fileURLWithPath: archive.path).lastPathComponent
                    try fm.copyItem(atPath: archive.path, toPath: temporary + "/charts/" + (archive.path.hasSuffix(".tgz") ? "\(archive.name)-\(name)" : name))
                }
                if rename(temporary, target) != 0 && !fm.fileExists(atPath: target) {
                    throw HLDError("rename failed: \(String(cString: strerror(errno)))")
                }
                try? fm.removeItem(atPath: temporary)
            } catch {
                try? fm.removeItem(atPath: temporary)
                throw HLDError("\(component.componentPath): cannot assemble the chart's dependencies: \(error)")
            }
        }
        return Chart(reference: target, contentKey: "assembled:" + key)
    }

    // MARK: kustomize

    func renderKustomize(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        let definition = component.definition
        let target: String
        var contentKey: String
        switch definition.method {
        case .git:
            let fetched = try await fetcher.fetchComponent(definition, config: component.config, base: component.directory, treeRoot: component.treeRoot,
                                                           locate: component.location(ofSetting:))
            target = fetched.directory
            contentKey = "tree:" + (fetched.treeID ?? "")
        default:
            target = URL(fileURLWithPath: component.directory + "/" + (definition.path ?? "")).standardizedFileURL.path
            if let root = component.treeRoot, target != root, !target.hasPrefix(root + "/") {
                throw HLDError(definition.location(of: "path"), "\(component.componentPath): path \(definition.path ?? "") leaves the tree fetched from \(component.fetchedFrom ?? "git")")
            }
            contentKey = "dir:" + DirectoryHash.of(Self.kustomizationInputs(target))
        }
        guard ["kustomization.yaml", "kustomization.yml", "Kustomization"].contains(where: { FileManager.default.fileExists(atPath: target + "/" + $0) }) else {
            throw HLDError(definition.location(of: "path"), "\(component.componentPath): no kustomization.yaml in \(definition.path ?? ".")")
        }
        let images = try Self.images(component)
        let namespace = component.config.namespace
        let tool = try await toolchain.kustomize(for: component.componentPath)
        var overlay = ""
        let overlayDirectory = scratch + "/overlay-\(UUID().uuidString)"
        if namespace != nil || !images.isEmpty {
            // kustomize refuses absolute directory resources: point at the target relatively.
            var lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:",
                         "- \(Self.quoted(Self.relativePath(from: overlayDirectory, to: target)))"]
            if let namespace { lines.append("namespace: \(Self.quoted(namespace))") }
            if !images.isEmpty {
                lines.append("images:")
                for image in images {
                    lines.append("- name: \(Self.quoted(image.name))")
                    for (key, value) in [("newName", image.newName), ("newTag", image.newTag), ("digest", image.digest)] {
                        if let value { lines.append("  \(key): \(Self.quoted(value))") }
                    }
                }
            }
            overlay = lines.joined(separator: "\n") + "\n"
        }
        let key = RenderCache.key(["kustomize", tool.version, contentKey, namespace ?? "", images.map { "\($0.name)=\($0.newName ?? "")|\($0.newTag ?? "")|\($0.digest ?? "")" }.joined(separator: ",")])
        let output: [UInt8]
        if let cached = cache.lookup(key) {
            output = cached
        } else {
            var directory = target
            var cleanup: String?
            if !overlay.isEmpty {
                directory = overlayDirectory
                cleanup = directory
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try AtomicFile.write(Array(overlay.utf8), to: directory + "/kustomization.yaml")
                } catch {
                    throw HLDError("\(component.componentPath): cannot write the overlay: \(error)")
                }
            }
            defer { if let cleanup { try? FileManager.default.removeItem(atPath: cleanup) } }
            diagnostics.progress("\(component.componentPath): kustomize build (\(tool.version))")
            let invocation = ProcessInvocation(executable: tool.path, arguments: tool.prefix + ["--load-restrictor", "LoadRestrictionsNone", directory])
            do {
                output = try await runner.checked(invocation).standardOutput
            } catch {
                throw HLDError(definition.location, "\(component.componentPath): kustomize failed: \(error)")
            }
            cache.store(key, output)
        }
        return try ManifestStream.documents(output, .init(component: component.componentPath, file: "kustomize output of \(component.componentPath)",
                                                          source: component.componentPath), diagnostics: diagnostics)
    }

    struct ImageOverride: Sendable {
        var name: String
        var newName: String?
        var newTag: String?
        var digest: String?
    }

    /// `config.images`: image name → `newName`/`newTag`/`digest` (or a plain tag).
    static func images(_ component: ResolvedComponent) throws(HLDError) -> [ImageOverride] {
        guard let images = component.config.values["images"], !images.isNull else { return [] }
        guard let pairs = images.pairs else {
            throw HLDError("\(component.componentPath): config.images must map image names to newName/newTag/digest")
        }
        return pairs.compactMap { pair in
            guard let name = pair.key.scalarText else { return nil }
            if let tag = pair.value.textValue { return ImageOverride(name: name, newTag: tag) }
            return ImageOverride(name: name, newName: pair.value["newName"]?.textValue, newTag: pair.value["newTag"]?.textValue,
                                 digest: pair.value["digest"]?.textValue)
        }
    }

    /// `to` relative to the directory `from` (both absolute).
    static func relativePath(from: String, to: String) -> String {
        let a = from.split(separator: "/"), b = to.split(separator: "/")
        var common = 0
        while common < min(a.count, b.count), a[common] == b[common] { common += 1 }
        let path = Array(repeating: "..", count: a.count - common) + b[common...].map(String.init)
        return path.isEmpty ? "." : path.joined(separator: "/")
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The directories a kustomization reads: itself and, recursively, local resources,
    /// bases and components it names.
    static func kustomizationInputs(_ directory: String) -> [String] {
        var seen = Set<String>()
        var queue = [directory]
        while let current = queue.popLast() {
            guard seen.insert(current).inserted else { continue }
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
                // kustomize itself reports what is wrong with the file; this only collects paths.
                guard let bytes = FileManager.default.contents(atPath: current + "/" + name),
                      let node = try? DocumentReader(bytes: [UInt8](bytes), duplicateKeys: .lastWins).next() else { continue }
                for key in ["resources", "bases", "components"] {
                    for item in node[key]?.sequence ?? [] {
                        guard let path = item.textValue, !path.contains("://") else { continue }
                        let full = URL(fileURLWithPath: current + "/" + path).standardizedFileURL.path
                        var isDirectory: ObjCBool = false
                        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue { queue.append(full) }
                    }
                }
            }
        }
        return Array(seen)
    }
}
