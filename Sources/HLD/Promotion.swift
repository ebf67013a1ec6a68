import Foundation
import Git
import YAML

/// `hld promote <from> <to>`: `<from>`'s pins (and, with `promoteDefinitions`, its
/// definitions commit) copied onto `<to>` in `hld.lock` for every source both share, and
/// the values of `hld.yaml`'s `promote:` paths copied from `<from>`'s config files into
/// `<to>`'s, edited in place (comments and formatting kept). Nothing else moves: the rest of
/// the config is the environment's own.
public enum Promotion {
    public struct Request: Sendable {
        public var from: String
        public var to: String
        /// Logical paths (`cluster/cat`, or `cat` below the root) to promote; empty: all.
        public var components: [String] = []
        /// Allow skipping a stage of the promotion path (or going backwards).
        public var force = false
        /// Say what would move; write nothing.
        public var dryRun = false

        public init(from: String, to: String, components: [String] = [], force: Bool = false, dryRun: Bool = false) {
            self.from = from
            self.to = to
            self.components = components
            self.force = force
            self.dryRun = dryRun
        }
    }

    public struct Outcome: Sendable {
        /// What moved, pins then values.
        public var changes: [LockChange] = []
        /// Config files written (or, with `--dry-run`, that would be), relative to the project.
        public var files: [String] = []
        /// Things the user should know: sources `<to>` names differently, values not moved.
        public var notes: [String] = []
    }

    public static func promote(_ request: Request, options: MaterializeOptions) async throws(HLDError) -> Outcome {
        let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
        let project = try ProjectFile.load(in: root)
        try checkPath(request, project: project)
        guard var lock = try LockFile.load(in: root) else {
            throw HLDError("\(root)/\(LockFile.fileName) does not exist: run hld lock to pin the environments first").kind(.definition)
        }
        var outcome = Outcome()
        var edits: [String: (editor: TextEditor, shown: String, existed: Bool, actions: [String])] = [:]
        var fetcher: SourceFetcher?
        for group in project.groups.isEmpty ? [[]] : project.groups.map({ [$0] }) {
            let fromName = LockFile.sectionName([request.from] + group), toName = LockFile.sectionName([request.to] + group)
            guard let from = lock.sections[fromName] else {
                throw HLDError("hld.lock has no pins for \(fromName); run hld lock \(request.from) first").kind(.definition)
            }
            let before = lock.sections[toName]
            let selected = try selection(request.components, in: from, to: before ?? LockSection())
            // What moves: the selected components' pins, and the definitions unless only some
            // components are promoted.
            var moving = from
            moving.components = from.components.filter { selected($0.key) }
            if !request.components.isEmpty { moving.definitions = nil }

            // `<to>` resolved again with `<from>`'s pins for the sources both use: its own
            // config (and refs) decide what it has, so a component new in the promoted
            // definitions, or one only `<to>` enables, is pinned too.
            var target = options
            target.environments = [request.to] + group
            target.lockFile = nil
            target.promoting = (moving, before)
            let targetContext = try Materializer.Context(target, sharing: fetcher)
            fetcher = targetContext.fetcher
            defer { targetContext.removeScratch() }
            let targetTree = try await targetContext.resolvedTree()
            let definitions = project.promoteDefinitions ? (moving.definitions ?? before?.definitions) : nil
            var to = Locking.section(of: targetTree, environments: target.environments, project: project, definitions: definitions)
            for (key, component) in to.components {
                for pin in component.pins where !pin.isLocal && !(from.components[key]?.pins.contains { $0.sameSource(as: pin) } ?? false) {
                    outcome.notes.append("\(toName) \(key): \(pin.sourceDescription) is not a source of \(fromName), so it keeps its own pin")
                }
            }

            // The promoted values, from `<from>`'s config files as they are now.
            if !project.promote.isEmpty {
                if project.configBranches != nil {
                    outcome.notes.append("promote: values are not moved: with configBranches each environment's config is edited and reviewed on its own branch")
                } else {
                    var each = options
                    each.environments = [request.from] + group
                    each.lockFile = lock
                    let context = try Materializer.Context(each, sharing: fetcher)
                    defer { context.removeScratch() }
                    let tree = try await context.resolvedTree()
                    try values(from: tree, request: request, project: project, to: &to, selected: request.components.isEmpty ? nil : selected, edits: &edits)
                }
            }
            outcome.changes += Locking.changes(from: before, to: to, name: toName)
            lock.sections[toName] = to
        }
        outcome.files = edits.values.map(\.shown).sorted()
        guard !request.dryRun else { return outcome }
        // Every file parsed and edited in memory first: a broken one stops all of them.
        for (path, edit) in edits.sorted(by: { $0.key < $1.key }) {
            _ = try Authoring.write(edit.editor, to: path, shown: edit.shown, actions: edit.actions, existed: edit.existed)
        }
        if !outcome.changes.isEmpty { try Locking.write(lock, in: root, project: project) }
        return outcome
    }

    /// `from` → `to` must be the next stage of the promotion path, unless forced.
    static func checkPath(_ request: Request, project: ProjectFile) throws(HLDError) {
        let path = project.environments
        guard !path.isEmpty else {
            throw HLDError("hld promote follows the promotion path hld.yaml declares, and \(project.file.map { "\($0) declares none" } ?? "there is no hld.yaml") (add environments: [dev, stage, prod])").kind(.definition)
        }
        for name in [request.from, request.to] where !path.contains(name) {
            throw HLDError("unknown environment \(name): \(project.file ?? "hld.yaml") declares \(path.joined(separator: ", "))\(Spelling.hint(for: name, among: path))").kind(.definition)
        }
        guard request.from != request.to else { throw HLDError("promote \(request.from) to itself moves nothing").kind(.definition) }
        let from = path.firstIndex(of: request.from)!, to = path.firstIndex(of: request.to)!
        guard !request.force else { return }
        let route = path.joined(separator: " → ")
        if to < from {
            throw HLDError("\(request.to) comes before \(request.from) on the promotion path (\(route)); pass --force to promote backwards").kind(.definition)
        }
        if to > from + 1 {
            let skipped = path[(from + 1)..<to].joined(separator: ", ")
            throw HLDError("promoting \(request.from) to \(request.to) skips \(skipped) (the promotion path is \(route)); promote \(request.from) \(path[from + 1]) first, or pass --force").kind(.definition)
        }
    }

    /// Which logical paths `--component` selects (a path names itself and what is below it;
    /// the root's name may be left out).
    static func selection(_ names: [String], in from: LockSection, to: LockSection) throws(HLDError) -> @Sendable (String) -> Bool {
        guard !names.isEmpty else { return { _ in true } }
        let keys = Set(from.components.keys).union(to.components.keys)
        var prefixes: [String] = []
        for name in names {
            let trimmed = name.split(separator: "/").joined(separator: "/")
            if let exact = keys.first(where: { $0 == trimmed }) ?? keys.sorted().first(where: { $0.split(separator: "/").dropFirst().joined(separator: "/") == trimmed }) {
                prefixes.append(exact)
            } else {
                let all = keys.sorted()
                throw HLDError("--component \(name) names no component of the lock (it has \(all.joined(separator: ", ")))\(Spelling.hint(for: trimmed, among: all))").kind(.definition)
            }
        }
        let chosen = prefixes
        return { key in chosen.contains { key == $0 || key.hasPrefix($0 + "/") } }
    }

    /// The promoted values of `<from>`'s config files set in `<to>`'s (the same directory,
    /// `config/<to>.yaml`) and recorded in `<to>`'s section.
    private static func values(from tree: ResolvedComponent, request: Request, project: ProjectFile, to: inout LockSection,
                               selected: (@Sendable (String) -> Bool)?,
                               edits: inout [String: (editor: TextEditor, shown: String, existed: Bool, actions: [String])]) throws(HLDError) {
        for component in tree.flattened where component.treeRoot == nil {
            for layer in component.origin.layers where PromotedValues.isConfig(layer.file, of: request.from) {
                guard let path = layer.path else { continue }
                let found = PromotedValues.matches(in: layer.node, patterns: project.promote).filter { match in
                    selected.map { $0(affected(match.path, from: component.logicalPath).joined(separator: "/")) } ?? true
                }
                guard !found.isEmpty else { continue }
                let directory = String(path.dropLast("/config/".count + URL(fileURLWithPath: path).lastPathComponent.count))
                let target = Authoring.configFile(request.to, in: directory)
                let prefix = layer.file.dropLast("config/".count + URL(fileURLWithPath: layer.file).lastPathComponent.count)
                let shown = String(prefix) + target.shown
                var edit: (editor: TextEditor, shown: String, existed: Bool, actions: [String])
                if let started = edits[target.path] {
                    edit = started
                } else {
                    edit = (try Authoring.editor(for: target.path, shown: shown, format: target.format, allowMissing: true), shown,
                            FileManager.default.fileExists(atPath: target.path), [])
                }
                for (keyPath, value) in found {
                    let dotted = PromotedValues.dotted(keyPath)
                    to.values[shown, default: [:]][dotted] = value.withoutMarks
                    if let current = edit.editor.value(at: keyPath), current.withoutMarks == value.withoutMarks { continue }
                    do throws(EditError) {
                        try assign(value.withoutMarks, at: keyPath, in: &edit.editor)
                    } catch {
                        throw Authoring.editError(error, shown: shown, noNewKeys: false)
                    }
                    edit.actions.append("set \(dotted) = \(value.flowText)")
                }
                edits[target.path] = edit
            }
        }
    }

    /// Makes the value at `path` equal `value`, changing as little text as it can: where
    /// both are mappings, key by key (so that `{newTag: "1.4.2"}` keeps its flow style and
    /// only the tag's text changes); anything else is replaced whole.
    static func assign(_ value: Node, at path: [PathSegment], in editor: inout TextEditor) throws(EditError) {
        guard let current = editor.value(at: path), let pairs = value.pairs, let existing = current.pairs, current.tag == value.tag else {
            try editor.set(path, to: value, createMissing: true)
            return
        }
        let wanted = pairs.compactMap(\.key.scalarText)
        for pair in existing {
            if let key = pair.key.scalarText, !wanted.contains(key) { try editor.remove(path + [.key(key)]) }
        }
        for pair in pairs {
            guard let key = pair.key.scalarText else { continue }
            if let old = editor.value(at: path + [.key(key)]), old.withoutMarks == pair.value { continue }
            try assign(pair.value, at: path + [.key(key)], in: &editor)
        }
    }

    /// The component a config value at `path` in the files of the component at `owner`
    /// configures: `subcomponents.a.subcomponents.b.config…` → `owner/a/b`.
    static func affected(_ path: [PathSegment], from owner: [String]) -> [String] {
        var result = owner
        var rest = path[...]
        while rest.count >= 2, case .key("subcomponents") = rest.first, case .key(let name) = rest.dropFirst().first {
            result.append(name)
            rest = rest.dropFirst(2)
        }
        return result
    }
}

extension Pin {
    /// The same source, whatever ref or constraint each asks for: the same repository and
    /// path, the same chart of the same repository, the same reference, the same URL.
    func sameSource(as other: Pin) -> Bool {
        switch (self, other) {
        case (.git(let a, _, _, let p, _), .git(let b, _, _, let q, _)): return a == b && p == q
        case (.chart(let a, let m, _, _, _), .chart(let b, let n, _, _, _)): return a == b && m == n
        case (.oci(let a, _, _, _, _), .oci(let b, _, _, _, _)): return a == b
        case (.http(let a, _), .http(let b, _)): return a == b
        case (.local(let a), .local(let b)): return a == b
        default: return false
        }
    }

    /// This pin's request, resolved as `other` is (its commit and tree, version and digest).
    func taking(_ other: Pin) -> Pin {
        switch (self, other) {
        case (.git(let url, let requested, _, let path, _), .git(_, _, let commit, _, let tree)):
            return .git(url: url, requested: requested, commit: commit, path: path, tree: tree)
        case (.chart(let repository, let name, let requested, _, _), .chart(_, _, _, let version, let digest)):
            return .chart(repository: repository, name: name, requested: requested, version: version, digest: digest)
        case (.oci(let reference, let requested, _, _, _), .oci(_, _, let version, let manifest, let digest)):
            return .oci(reference: reference, requested: requested, version: version, manifest: manifest, digest: digest)
        case (.http(let url, _), .http(_, let digest)):
            return .http(url: url, digest: digest)
        default:
            return self
        }
    }

    var isLocal: Bool {
        if case .local = self { return true }
        return false
    }
}
