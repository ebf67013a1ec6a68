import CacheStore
public import Foundation
import Git
import YAML

/// Everything one `hld materialize` or `hld install` run needs.
public struct MaterializeOptions: Sendable {
    /// The directory holding the top-level component (and `hld.yaml`).
    public var directory: String
    /// Environments (and groups) in command-line order; empty means `hld.yaml`'s
    /// defaults, else `common` only.
    public var environments: [String]
    public var jobs: Int
    public var offline: Bool
    public var cacheRoot: URL
    /// Run hooks of components fetched from git too.
    public var allowHooks: Bool
    /// The environment credentials and mirrors are read from.
    public var processEnvironment: [String: String]
    public var runner: any ProcessRunner
    public var diagnostics: any DiagnosticsSink
    /// `--helm` / `--kustomize`: explicit tool paths (else HLD_HELM / HLD_KUSTOMIZE, else PATH).
    public var helmPath: String?
    public var kustomizePath: String?
    /// `--strict`: every warning (a duplicate key in a chart's output, an unknown field, a
    /// config entry for no subcomponent, …) is an error.
    public var strict = false
    /// Read the component tree from a snapshot of the project at a commit instead of
    /// `directory` (`hld diff --base`, promoted definitions); `hld.yaml`, `access.yaml`,
    /// relative mirrors and the output stay with `directory`.
    public var definitions: DefinitionSource? = nil
    /// `--locked`: render exactly the pins of this lock file's section for the
    /// environments (with `promoteDefinitions`, the component files of the pinned commit).
    public var lockFile: LockFile? = nil
    /// `hld promote`: resolve with the earlier environment's pins for the sources both use
    /// (and its definitions commit), the target's own pins elsewhere.
    var promoting: (from: LockSection, previous: LockSection?)? = nil

    public init(directory: String, environments: [String], jobs: Int = 4, offline: Bool = false, cacheRoot: URL,
                allowHooks: Bool = false, processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
                runner: any ProcessRunner = SubprocessRunner(), diagnostics: any DiagnosticsSink,
                helmPath: String? = nil, kustomizePath: String? = nil) {
        self.helmPath = helmPath
        self.kustomizePath = kustomizePath
        self.directory = directory
        self.environments = environments
        self.jobs = jobs
        self.offline = offline
        self.cacheRoot = cacheRoot
        self.allowHooks = allowHooks
        self.processEnvironment = processEnvironment
        self.runner = runner
        self.diagnostics = diagnostics
    }
}

/// Component files from a snapshot, config files from the snapshot itself or from another
/// tree that mirrors the repository's layout (the working tree, an environment's branch).
public struct DefinitionSource: Sendable {
    public var snapshot: ProjectSnapshot
    /// The repository root the config files of local components are read under (a
    /// component at `<snapshot root>/a/b` reads `<configRoot>/a/b/config/…`); nil: the
    /// snapshot's own config files.
    public var configRoot: String?

    public init(snapshot: ProjectSnapshot, configRoot: String? = nil) {
        self.snapshot = snapshot
        self.configRoot = configRoot
    }
}

/// The materializer: definitions → resolved tree → rendered documents → output files.
public enum Materializer {
    /// Resolves and renders; writes nothing.
    public static func render(_ options: MaterializeOptions) async throws(HLDError) -> Materialization {
        try await render(Context(options))
    }

    /// `--all`: every environment of `hld.yaml`'s promotion path, or each environment ×
    /// group pair when groups are declared (`prod eastus`), in that order. One fetcher
    /// serves them all, so each source is fetched once however many environments use it.
    public static func renderAll(_ options: MaterializeOptions) async throws(HLDError) -> [Materialization] {
        let project = try ProjectFile.load(in: URL(fileURLWithPath: options.directory).standardizedFileURL.path)
        guard !project.environments.isEmpty else {
            throw HLDError("--all renders the environments hld.yaml declares, and \(project.file.map { "\($0) declares none" } ?? "there is no hld.yaml") (add environments: [dev, stage, prod])").kind(.definition)
        }
        let sets = project.environmentSets
        var results: [Materialization] = []
        var shared: SourceFetcher?
        for environments in sets {
            var each = options
            each.environments = environments
            let context = try Context(each, sharing: shared)
            shared = context.fetcher
            results.append(try await render(context))
        }
        return results
    }

    private static func render(_ context: Context) async throws(HLDError) -> Materialization {
        defer { context.removeScratch() }
        // Renders start as their sources arrive; the render stage takes them in tree order.
        let ahead = RenderAhead(generators: context.generators, limiter: context.limiter)
        let outcome: Result<(ResolvedComponent, [RenderedFile]), HLDError>
        do throws(HLDError) {
            outcome = .success(try await context.reporting { () async throws(HLDError) in
                let resolved = try await context.resolve(renderingAhead: ahead)
                let workspace = try HookWorkspace(for: resolved)
                defer { workspace.remove() }
                let rendered = try await context.render(workspace.tree, ahead: ahead)
                return (resolved, try OutputLayout.files(rendered))
            })
        } catch {
            outcome = .failure(error)
        }
        // Before the scratch directory goes: no render may still be running.
        await ahead.finish()
        let (resolved, files) = try outcome.get()
        let statistics = context.fetcher.network.statistics
        statistics.setGitTransfers(await context.fetcher.gitDownloads())
        return Materialization(environmentName: context.environmentName, files: files, tree: resolved, diagnostics: try context.finish(),
                               statistics: statistics, tools: await context.generators.renderers.toolchain.found())
    }

    /// Resolves — which fetches and pins every source into the cache — and runs install
    /// hooks; renders nothing.
    public static func install(_ options: MaterializeOptions) async throws(HLDError) -> Installation {
        let context = try Context(options)
        defer { context.removeScratch() }
        let tree = try await context.reporting { () async throws(HLDError) in
            let tree = try await context.resolve()
            let workspace = try HookWorkspace(for: tree)
            defer { workspace.remove() }
            for component in workspace.tree.flattened {
                let generators = context.generators.scoped(to: component)
                try await generators.runHooks(.beforeInstall, for: component)
                try await generators.runHooks(.afterInstall, for: component)
            }
            return tree
        }
        return Installation(tree: tree, diagnostics: try context.finish())
    }

    /// Only the resolve stage — which fetches and pins every source into the cache — with
    /// no hooks run and nothing rendered or written: what `hld explain` and `hld tree`
    /// read. Hooks of fetched components are not refused here, since none runs.
    public static func resolve(_ options: MaterializeOptions) async throws(HLDError) -> Resolution {
        let context = try Context(options)
        defer { context.removeScratch() }
        let tree = try await context.reporting { () async throws(HLDError) in try await context.resolveTree() }
        return Resolution(root: context.resolver.root, environments: context.environments, tree: tree, diagnostics: try context.finish())
    }

    /// Replaces `<outputRoot>/<environment>` with the rendered files, atomically.
    @discardableResult
    public static func write(_ materialization: Materialization, to outputRoot: String) throws(HLDError) -> WriteSummary {
        try OutputLayout.write(materialization.files, name: materialization.environmentName, root: outputRoot)
    }

    /// The unified diff of every file that differs (on disk → rendered), in tree order.
    public static func diff(_ materialization: Materialization, in outputRoot: String) -> [String] {
        let target = outputRoot + "/" + materialization.environmentName
        var lines: [String] = []
        var produced = Set<String>()
        func read(_ path: String) -> String {
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        for file in materialization.files {
            produced.insert(file.path)
            lines += TextDiff.unified(old: read(target + "/" + file.path), new: String(decoding: file.bytes, as: UTF8.self),
                                      path: materialization.environmentName + "/" + file.path)
        }
        for path in OutputLayout.regularFiles(under: target) where !produced.contains(path) {
            lines += TextDiff.unified(old: read(target + "/" + path), new: "", path: materialization.environmentName + "/" + path)
        }
        return lines
    }

    /// How the files under `<outputRoot>/<environment>` differ from the rendering.
    public static func differences(_ materialization: Materialization, in outputRoot: String) -> [FileDifference] {
        OutputLayout.differences(materialization.files, name: materialization.environmentName, root: outputRoot)
    }

    /// One run's wiring.
    struct Context {
        let options: MaterializeOptions
        /// Where this run reports: warnings are held and handed on in tree order at the
        /// end (or, under `--strict`, fail the run).
        let diagnostics: OrderedDiagnostics
        let project: ProjectFile
        let environments: [String]
        let limiter: Limiter
        let fetcher: SourceFetcher
        let resolver: TreeResolver
        let generators: Generators
        /// This run's private directory (Helm homes, values files, overlays), 0700.
        let scratch: String
        /// Snapshots of the HLD repository this run reads (promoted definitions, config
        /// branches), removed with the scratch directory.
        let snapshots: [ProjectSnapshot]

        /// `sharing` another run's fetcher (`--all`): one mirror cache, one limiter.
        init(_ options: MaterializeOptions, sharing shared: SourceFetcher? = nil) throws(HLDError) {
            self.options = options
            let diagnostics = OrderedDiagnostics(options.diagnostics, strict: options.strict)
            self.diagnostics = diagnostics
            let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
            project = try ProjectFile.load(in: root)
            environments = options.environments.isEmpty ? project.defaults : options.environments
            let known = project.knownNames
            for name in environments {
                guard !name.isEmpty, !name.contains("/"), name != "common" || environments.count == 1 else {
                    throw HLDError("\(name.isEmpty ? "an empty name" : name) cannot be used as an environment name")
                }
                // `common` alone is always valid: it is the layer every component has.
                if !known.isEmpty && !known.contains(name) && name != "common" {
                    let file = project.file.map { "\($0)" } ?? "hld.yaml"
                    throw HLDError("unknown environment \(name): \(file) declares \(known.joined(separator: ", "))")
                }
            }
            if Set(environments).count != environments.count {
                throw HLDError("an environment is named twice: \(environments.joined(separator: " "))")
            }
            let rewrites: URLRewrites
            let access: [String: String]
            do {
                rewrites = URLRewrites(project.mirrors).merging(try URLRewrites.fromEnvironment(options.processEnvironment))
                access = try AccessFile.load(root + "/access.yaml")
            } catch let error as HLDError {
                throw error
            } catch {
                throw HLDError("\(error)")
            }
            // One limiter for the whole run: the resolve stage's fetches, then the renders.
            if let shared {
                limiter = shared.network.limiter
                fetcher = shared
            } else {
                limiter = Limiter(width: options.jobs)
                let credentials = GitCredentials(accessTokens: access, environment: options.processEnvironment)
                fetcher = SourceFetcher(
                    cacheRoot: options.cacheRoot,
                    network: Network(offline: options.offline, limiter: limiter, rewrites: rewrites, credentials: credentials),
                    credentials: credentials, diagnostics: diagnostics,
                    gitFetchMode: LibGit2.fetchMode(environment: options.processEnvironment))
            }
            var locked: LockedPins?
            var definitions = options.definitions
            var snapshots: [ProjectSnapshot] = []
            if let lockFile = options.lockFile {
                let name = LockFile.sectionName(environments)
                guard let section = lockFile.sections[name] else {
                    let known = lockFile.sections.keys.sorted().joined(separator: ", ")
                    throw HLDError("hld.lock has no pins for \(name.isEmpty ? "common" : name)\(known.isEmpty ? "" : " (it has \(known))"); run hld lock \(name) first").kind(.definition)
                }
                locked = LockedPins(section: section, name: name)
                if project.promoteDefinitions && definitions == nil {
                    (definitions, snapshots) = try Self.promotedDefinitions(section, project: project, root: root, environments: environments)
                }
            }
            if let (from, previous) = options.promoting {
                let name = LockFile.sectionName(environments)
                locked = LockedPins(section: previous ?? LockSection(), name: name, mode: .promoting(from: from))
                if project.promoteDefinitions && definitions == nil, from.definitions != nil {
                    (definitions, snapshots) = try Self.promotedDefinitions(from, project: project, root: root, environments: environments)
                }
            }
            self.snapshots = snapshots
            let definitionsRoot = definitions?.snapshot.directory ?? root
            var resolver = TreeResolver(root: definitionsRoot, environments: environments.filter { $0 != "common" }, sources: fetcher,
                                        pinning: SourceResolver(fetcher: fetcher, diagnostics: diagnostics, root: definitionsRoot), diagnostics: diagnostics)
            if let definitions, let configRoot = definitions.configRoot {
                resolver.configRoot = (definitions.snapshot.repositoryRoot, configRoot)
            }
            resolver.locked = locked
            self.resolver = resolver
            // Scratch directories of killed runs (their merged values may hold secrets).
            InFlight.removeStale(in: String(NSTemporaryDirectory().dropLast()), prefix: "hld-run-")
            InFlight.removeStale(in: String(NSTemporaryDirectory().dropLast()), prefix: "hld-hooks-")
            let scratch = NSTemporaryDirectory() + "hld-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            self.scratch = scratch
            guard InFlight.creating(scratch, { mkdir(scratch, 0o700) }) == 0 else {
                throw HLDError("cannot create a private directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
            }
            let renderers = Renderers(
                toolchain: Toolchain(helm: options.helmPath, kustomize: options.kustomizePath, environment: options.processEnvironment,
                                     runner: options.runner, cacheRoot: options.cacheRoot),
                cache: RenderCache(store: fetcher.store),
                runner: options.runner, diagnostics: diagnostics, scratch: scratch,
                store: fetcher.store, statistics: fetcher.network.statistics)
            generators = Generators(runner: options.runner, diagnostics: diagnostics, renderers: renderers)
        }

        func removeScratch() {
            try? FileManager.default.removeItem(atPath: scratch)
            InFlight.untrack(scratch)
            for snapshot in snapshots { snapshot.remove() }
        }

        /// `promoteDefinitions`: the component files of the commit the section pins, and the
        /// config of the working tree or of the environment's config branch.
        static func promotedDefinitions(_ section: LockSection, project: ProjectFile, root: String,
                                        environments: [String]) throws(HLDError) -> (DefinitionSource, [ProjectSnapshot]) {
            let name = LockFile.sectionName(environments)
            guard let commit = section.definitions else {
                throw HLDError("hld.lock pins no definitions commit for \(name), and hld.yaml has promoteDefinitions: true; run hld lock \(name)").kind(.definition)
            }
            let snapshot = try ProjectSnapshot.make(project: root, commit: commit)
            guard let environment = environments.first, let branch = project.configBranch(for: environment) else {
                let (repository, _) = try ProjectSnapshot.enclosingRepository(of: root)
                return (DefinitionSource(snapshot: snapshot, configRoot: repository.workTree), [snapshot])
            }
            do {
                let config = try ProjectSnapshot.make(project: root, revision: "refs/heads/" + branch)
                return (DefinitionSource(snapshot: snapshot, configRoot: config.repositoryRoot), [snapshot, config])
            } catch {
                snapshot.remove()
                throw HLDError("the config of \(environment) is read from branch \(branch) (configBranches in hld.yaml): \(error.message)").kind(error.kind)
            }
        }

        /// The resolve stage and the checks on its result, for a run that runs hooks;
        /// `renderingAhead`: components start rendering there as their sources are pinned.
        func resolve(renderingAhead: RenderAhead? = nil) async throws(HLDError) -> ResolvedComponent {
            let resolved = try await resolveTree(renderingAhead: renderingAhead)
            try Generators.checkHooks(in: resolved, allowed: options.allowHooks)
            return resolved
        }

        /// The resolve stage and the warnings about its result.
        func resolveTree(renderingAhead: RenderAhead? = nil) async throws(HLDError) -> ResolvedComponent {
            var resolver = self.resolver
            resolver.renderAhead = renderingAhead
            let resolved = try await resolver.resolve()
            try resolver.locked?.checkNoStaleEntries()
            warnAboutUnusedEnvironments(in: resolved)
            ConfigFiles.checkSubcomponentNames(in: resolved, diagnostics: diagnostics)
            return resolved
        }

        /// The resolve stage with its warnings handed on: the tree `lock`, `promote` and
        /// `drift` read.
        func resolvedTree() async throws(HLDError) -> ResolvedComponent {
            let tree = try await reporting { () async throws(HLDError) in try await resolveTree() }
            _ = try finish()
            return tree
        }

        /// Runs `work`; when it fails, the warnings gathered so far are handed on first
        /// (they often explain the failure).
        func reporting<T>(_ work: () async throws(HLDError) -> T) async throws(HLDError) -> T {
            do {
                return try await work()
            } catch {
                _ = try? diagnostics.finish(failing: false)
                throw error
            }
        }

        /// Hands on the warnings in tree order, or under `--strict` fails with them.
        func finish() throws(HLDError) -> [Diagnostic] {
            try diagnostics.finish(failing: true)
        }

        /// `dev`, `prod-east-prod`, or `common`.
        var environmentName: String { environments.isEmpty ? "common" : environments.joined(separator: "-") }

        /// Without `hld.yaml`, a name no component has a config file for is probably a typo.
        func warnAboutUnusedEnvironments(in tree: ResolvedComponent) {
            guard project.knownNames.isEmpty else { return }
            let files = tree.flattened.flatMap(\.layerFiles)
            for name in environments where name != "common" {
                if !files.contains(where: { $0.hasSuffix("config/\(name).yaml") || $0.hasSuffix("config/\(name).json") }) {
                    diagnostics.warning("no component has a config file for environment \(name) (config/\(name).yaml); is the name right?")
                }
            }
        }

        /// Renders the tree: a parent (hooks, generator) before its children, siblings
        /// concurrently; the result is in definition order whatever finishes first.
        func render(_ tree: ResolvedComponent, ahead: RenderAhead? = nil) async throws(HLDError) -> [(ResolvedComponent, [RenderedDocument])] {
            let generators = self.generators
            let limiter = self.limiter
            @Sendable func renderSubtree(_ component: ResolvedComponent) async throws(HLDError) -> [(ResolvedComponent, [RenderedDocument])] {
                let generators = generators.scoped(to: component)
                let documents: [RenderedDocument]
                if let early = await ahead?.take(component) {
                    documents = try early.get()
                } else {
                    documents = try await limiter.run { () async throws(HLDError) in
                        try await generators.runHooks(.beforeGenerate, for: component)
                        let documents = try await generators.render(component)
                        try await generators.runHooks(.afterGenerate, for: component)
                        return documents
                    }
                }
                // Siblings render concurrently; every failure is reported, in tree order.
                let children = await withTaskGroup(of: (Int, Result<[(ResolvedComponent, [RenderedDocument])], HLDError>).self) { group in
                    for (index, child) in component.children.enumerated() {
                        group.addTask {
                            do throws(HLDError) {
                                return (index, .success(try await renderSubtree(child)))
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    var collected: [(Int, Result<[(ResolvedComponent, [RenderedDocument])], HLDError>)] = []
                    for await item in group { collected.append(item) }
                    return collected.sorted { $0.0 < $1.0 }.map(\.1)
                }
                return [(component, documents)] + (try TreeResolver.collect(children)).flatMap { $0 }
            }
            return try await renderSubtree(tree)
        }
    }
}

/// Fetched trees in the cache are shared and must stay as fetched, but hooks write (a hook
/// downloads a chart, generates manifests). Every fetched tree that holds a component with
/// hooks is copied to a private, writable directory for this run, and the components in it
/// are pointed there.
struct HookWorkspace {
    let tree: ResolvedComponent
    private let directory: String?

    init(for tree: ResolvedComponent) throws(HLDError) {
        let roots = Set(tree.flattened.filter { $0.treeRoot != nil && !$0.definition.hooks.isEmpty }.compactMap(\.treeRoot))
        guard !roots.isEmpty else {
            self.tree = tree
            directory = nil
            return
        }
        let base = NSTemporaryDirectory() + "hld-hooks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var copies: [String: String] = [:]
        let fm = FileManager.default
        do {
            guard let made = InFlight.creating(base, { mkdir(base, 0o700) }), made == 0 else {
                throw HLDError("cannot create \(base): \(InFlight.isStopping ? "the process is being stopped" : String(cString: strerror(errno)))")
            }
            for (index, root) in roots.sorted().enumerated() {
                let copy = "\(base)/\(index)"
                try fm.copyItem(atPath: root, toPath: copy)
                try CacheStore.makeWritable(copy)
                copies[root] = copy
            }
        } catch {
            CacheStore.removeTree(base)
            InFlight.untrack(base)
            throw HLDError("cannot prepare a writable copy of a fetched tree for its hooks: \(error)")
        }
        func remap(_ component: ResolvedComponent) -> ResolvedComponent {
            var copy = component
            if let root = component.treeRoot, let target = copies[root] {
                copy.directory = target + component.directory.dropFirst(root.count)
                copy.treeRoot = target
                copy.input = component.input.moving(root, to: target)
            }
            copy.children = component.children.map(remap)
            return copy
        }
        self.tree = remap(tree)
        directory = base
    }

    func remove() {
        if let directory {
            CacheStore.removeTree(directory)
            InFlight.untrack(directory)
        }
    }
}
