import CacheStore
import Foundation
import Git
import YAML

/// Helm and Kustomize rendering from the local paths the resolve stage pinned: compute
/// the render key, answer from the render cache or run the tool through the process seam.
/// Nothing here fetches.
struct Renderers: Sendable {
    let toolchain: Toolchain
    let cache: RenderCache
    let runner: any ProcessRunner
    var diagnostics: any DiagnosticsSink
    /// A private directory for this run: Helm homes and values files.
    let scratch: String
    /// Where charts assembled with their dependencies are kept.
    let store: CacheStore
    let statistics: RunStatistics

    static let kustomizationFiles = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    // MARK: helm

    /// A chart ready for `helm template`: a directory or an archive, and what identifies
    /// its content.
    struct Chart: Sendable {
        var reference: String
        var contentKey: String
    }

    func renderHelm(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        let chart = try prepareChart(component)
        let tool = try await toolchain.helm(for: component.componentPath)
        let values: String
        do {
            values = try component.config.values.yaml()
        } catch {
            throw HLDError(component: component.componentPath, "cannot write the values: \(error)").caused(by: error)
        }
        let release = component.definition.name
        let namespace = component.config.namespace ?? "default"
        let flags = ["--include-crds"]
        let key = RenderCache.key(["helm", tool.version, chart.contentKey, release, namespace, values] + flags)
        let output: [UInt8]
        if let cached = cache.lookup(key) {
            diagnostics.progress("\(component.componentPath): from the render cache")
            statistics.count("cached")
            output = cached
        } else {
            statistics.count("rendered")
            let valuesFile = scratch + "/values-\(key.prefix(16)).yaml"
            do {
                try Self.writePrivate(Array(values.utf8), to: valuesFile)
            } catch {
                throw HLDError(component: component.componentPath, "cannot write the values file: \(error)").caused(by: error)
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
                throw HLDError(component.definition.location, component: component.componentPath, "helm failed: \(error)").kind(.render).caused(by: error)
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
    static func helmDocuments(_ output: [UInt8], component: ResolvedComponent, diagnostics: any DiagnosticsSink) throws(HLDError) -> [RenderedDocument] {
        try ManifestStream.documents(output, .init(component: component.componentPath, file: "helm output of \(component.componentPath)",
                                                   source: component.componentPath, helmTemplates: true), diagnostics: diagnostics)
    }

    /// The pinned chart, checked, with its fetched dependencies added.
    private func prepareChart(_ component: ResolvedComponent) throws(HLDError) -> Chart {
        guard case .chart(let path, let key, let dependencies) = component.input else {
            throw HLDError(component: component.componentPath, "no chart was resolved (an internal error)")
        }
        // An archive, or a directory holding Chart.yaml.
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists, !isDirectory.boolValue || FileManager.default.fileExists(atPath: path + "/Chart.yaml") else {
            throw HLDError(component.definition.location(of: "path"), component: component.componentPath, "no Chart.yaml in \(component.definition.path ?? ".")")
        }
        let contentKey = key ?? "dir:" + DirectoryHash.of([path])
        guard !dependencies.isEmpty else { return Chart(reference: path, contentKey: contentKey) }
        return try assemble(path, contentKey: contentKey, dependencies: dependencies, component: component)
    }

    /// A copy of the chart directory with its fetched dependencies in `charts/`, made once
    /// per content in the cache's assembled charts (the source tree is never changed).
    private func assemble(_ directory: String, contentKey: String, dependencies: [ChartDependency], component: ResolvedComponent) throws(HLDError) -> Chart {
        let keys = dependencies.map { "\($0.name)=\($0.contentKey ?? "dir:" + DirectoryHash.of([$0.path]))" }
        let entry = store.entry(.assembledCharts, key: CacheStore.key([contentKey] + keys))
        let fm = FileManager.default
        do {
            try entry.createDirectory(holding: store.leases) { temporary in
                for item in try fm.contentsOfDirectory(atPath: directory) {
                    try fm.copyItem(atPath: directory + "/" + item, toPath: temporary + "/" + item)
                }
                try CacheStore.makeWritable(temporary)
                if !fm.fileExists(atPath: temporary + "/charts") {
                    try fm.createDirectory(atPath: temporary + "/charts", withIntermediateDirectories: false)
                }
                for dependency in dependencies {
                    let name = URL(fileURLWithPath: dependency.path).lastPathComponent
                    try fm.copyItem(atPath: dependency.path, toPath: temporary + "/charts/" + (dependency.path.hasSuffix(".tgz") ? "\(dependency.name)-\(name)" : name))
                }
            }
        } catch {
            throw HLDError(component: component.componentPath, "cannot assemble the chart's dependencies: \(error)").caused(by: error)
        }
        store.use(entry)
        return Chart(reference: entry.path, contentKey: "assembled:" + entry.name)
    }

    /// A file only this user may read (values may hold secrets), in the run's scratch directory.
    static func writePrivate(_ bytes: [UInt8], to path: String) throws(HLDError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw HLDError("cannot write \(path)")
        }
    }

    // MARK: kustomize

    func renderKustomize(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        let definition = component.definition
        guard case .kustomization(let target, let pinnedKey) = component.input else {
            throw HLDError(component: component.componentPath, "no kustomization was resolved (an internal error)")
        }
        guard Self.kustomizationFiles.contains(where: { FileManager.default.fileExists(atPath: target + "/" + $0) }) else {
            throw HLDError(definition.location(of: "path"), component: component.componentPath, "no kustomization.yaml in \(definition.path ?? ".")")
        }
        let contentKey = pinnedKey ?? "dir:" + DirectoryHash.of(Self.kustomizationInputs(target))
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
            diagnostics.progress("\(component.componentPath): from the render cache")
            statistics.count("cached")
            output = cached
        } else {
            statistics.count("rendered")
            var directory = target
            var cleanup: String?
            if !overlay.isEmpty {
                directory = overlayDirectory
                cleanup = directory
                do {
                    // Not recursive: once an interrupt has removed the scratch directory, nothing brings it back.
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
                    try Self.writePrivate(Array(overlay.utf8), to: directory + "/kustomization.yaml")
                } catch {
                    throw HLDError(component: component.componentPath, "cannot write the overlay: \(error)").caused(by: error)
                }
            }
            defer { if let cleanup { try? FileManager.default.removeItem(atPath: cleanup) } }
            diagnostics.progress("\(component.componentPath): kustomize build (\(tool.version))")
            let invocation = ProcessInvocation(executable: tool.path, arguments: tool.prefix + ["--load-restrictor", "LoadRestrictionsNone", directory])
            do {
                output = try await runner.checked(invocation).standardOutput
            } catch {
                throw HLDError(definition.location, component: component.componentPath, "kustomize failed: \(error)").kind(.render).caused(by: error)
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
            throw HLDError(component: component.componentPath, "config.images must map image names to newName/newTag/digest")
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
            for name in kustomizationFiles {
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
