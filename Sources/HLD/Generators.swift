import Foundation
import Git
public import YAML

/// One manifest document with where it came from (`# Source:`).
public struct RenderedDocument: Sendable {
    public var source: String
    public var node: Node
}

/// Runs each component's generator and hooks, reading only what the resolve stage pinned.
struct Generators: Sendable {
    let runner: any ProcessRunner
    let diagnostics: any DiagnosticsSink
    let renderers: Renderers

    /// The same generators reporting for the component at `position` in the tree.
    func scoped(to component: ResolvedComponent) -> Generators {
        let scoped = diagnostics.scoped(to: component.position, component: component.componentPath)
        var renderers = self.renderers
        renderers.diagnostics = scoped
        return Generators(runner: runner, diagnostics: scoped, renderers: renderers)
    }

    /// The documents `component` renders (none for a container), with its namespace
    /// injected where `injectNamespace` asks for it.
    func render(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        let documents = try await generate(component)
        guard component.config.injectNamespace, let namespace = component.config.namespace else { return documents }
        return documents.map { RenderedDocument(source: $0.source, node: NamespaceInjection.apply(namespace, to: $0.node)) }
    }

    private func generate(_ component: ResolvedComponent) async throws(HLDError) -> [RenderedDocument] {
        switch component.definition.type {
        case .component:
            return []
        case .static:
            return try renderStatic(component)
        case .helm:
            return try await renderers.renderHelm(component)
        case .kustomize:
            return try await renderers.renderKustomize(component)
        }
    }

    /// SPEC §3 static: every `.yaml`/`.yml`/`.json` file in `path`, sorted by name, split
    /// into documents; or the one http(s) manifest fetched for `method: http`.
    private func renderStatic(_ component: ResolvedComponent) throws(HLDError) -> [RenderedDocument] {
        let definition = component.definition
        switch component.input {
        case .file(let path, let name, let format):
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw HLDError(component: component.componentPath, "cannot read the fetched manifest \(GitURL.redact(definition.source ?? name))")
            }
            return try ManifestStream.documents([UInt8](bytes), .init(component: component.componentPath, file: GitURL.redact(definition.source ?? name),
                                                                      source: component.componentPath + "/" + name, format: format),
                                                diagnostics: diagnostics)
        case .directory(let directory):
            return try renderDirectory(directory, component)
        default:
            throw HLDError(component: component.componentPath, "no manifests were resolved (an internal error)")
        }
    }

    private func renderDirectory(_ directory: String, _ component: ResolvedComponent) throws(HLDError) -> [RenderedDocument] {
        let definition = component.definition
        let relative = (definition.path ?? "").split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw HLDError(definition.location(of: "path"), component: component.componentPath, "the static manifest directory \(relative.isEmpty ? "." : relative) does not exist")
        }
        var rendered: [RenderedDocument] = []
        for name in entries {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let ext = URL(fileURLWithPath: name).pathExtension.lowercased()
            if isDirectory.boolValue {
                diagnostics.warning("\(component.componentPath): \(relative.isEmpty ? "" : relative + "/")\(name) is a directory; static components read only the files in path")
                continue
            }
            guard ["yaml", "yml", "json"].contains(ext), name != "component.yaml", name != "component.json" else {
                if !name.hasPrefix(".") {
                    diagnostics.warning("\(component.componentPath): skipped \(relative.isEmpty ? "" : relative + "/")\(name) (not a .yaml, .yml or .json manifest)")
                }
                continue
            }
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw HLDError(component: component.componentPath, "cannot read \(path)")
            }
            let shown = component.treeRoot == nil ? path : "\(component.fetchedFrom ?? "")/\(relative)/\(name)"
            rendered += try ManifestStream.documents([UInt8](bytes), .init(component: component.componentPath, file: shown,
                                                                           source: component.componentPath + "/" + name, format: ext == "json" ? .json : .yaml),
                                                     diagnostics: diagnostics)
        }
        return rendered
    }

    /// Runs `component`'s hooks for `phase` as `/bin/sh -c` in its directory, stopping at the
    /// first failure.
    func runHooks(_ phase: HookPhase, for component: ResolvedComponent) async throws(HLDError) {
        for command in component.definition.hooks[phase] ?? [] {
            diagnostics.progress("\(component.componentPath): \(phase.rawValue): \(command)")
            let invocation = ProcessInvocation(executable: "/bin/sh", arguments: ["-c", command], workingDirectory: component.directory)
            do {
                _ = try await runner.checked(invocation)
            } catch {
                throw HLDError(component.definition.location(of: "hooks"), component: component.componentPath, "\(phase.rawValue) hook failed: \(error)").kind(.render).caused(by: error)
            }
        }
    }

    /// Refuses to go on when a fetched component has hooks and they were not allowed.
    static func checkHooks(in tree: ResolvedComponent, allowed: Bool) throws(HLDError) {
        guard !allowed else { return }
        for component in tree.flattened where component.treeRoot != nil && !component.definition.hooks.isEmpty {
            throw HLDError(component.definition.location(of: "hooks"),
                           "\(component.componentPath) comes from \(component.fetchedFrom ?? "a fetched source") and has hooks; hld runs hooks of fetched components only with --allow-hooks")
        }
    }
}
