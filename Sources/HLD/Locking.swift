import Foundation
import Git
public import YAML

/// One line of what `hld lock` or `hld promote` changed: a component's pin (or the
/// definitions commit, or a promoted value) in one section, before and after.
public struct LockChange: Sendable, Equatable {
    /// The section (`dev`, `prod eastus`).
    public var section: String
    /// The component's logical path, `definitions`, or the config file of a value.
    public var subject: String
    /// What the source is (`git …cat.git (branch dev)`), or a value's key path; empty for
    /// definitions.
    public var source: String
    public var old: String?
    public var new: String?
}

/// `hld lock`: resolve every moving reference per environment and record the pins.
public enum Locking {
    /// Resolves the tree of each set of environments (default: every environment, or
    /// environment × group, of `hld.yaml`) and returns the lock file with those sections
    /// replaced (others kept), and what moved.
    public static func lock(_ options: MaterializeOptions, sets requested: [[String]]) async throws(HLDError) -> (LockFile, [LockChange]) {
        let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
        let project = try ProjectFile.load(in: root)
        let sets = requested.isEmpty ? project.environmentSets : requested
        guard !sets.isEmpty else {
            throw HLDError("hld lock pins the environments hld.yaml declares, and \(project.file.map { "\($0) declares none" } ?? "there is no hld.yaml"); name them (hld lock dev) or add environments: [dev, stage, prod]").kind(.definition)
        }
        let existing = try LockFile.load(in: root) ?? LockFile()
        var lock = existing
        var changes: [LockChange] = []
        // The definitions are HEAD's when they are promoted: what `--locked` will read.
        var head: String?
        if project.promoteDefinitions {
            let (repository, _) = try ProjectSnapshot.enclosingRepository(of: root)
            do {
                head = try repository.head()?.hex
            } catch {
                throw HLDError("\(root): \(error.detail)").kind(.source)
            }
            guard head != nil else { throw HLDError("\(root): the repository has no commit yet; promoteDefinitions pins the commit of the definitions").kind(.definition) }
        }
        var shared: SourceFetcher?
        for environments in sets {
            var each = options
            each.environments = environments
            each.lockFile = nil
            var snapshots: [ProjectSnapshot] = []
            defer { for snapshot in snapshots { snapshot.remove() } }
            if let head {
                let section = LockSection(definitions: head)
                let (definitions, made) = try Materializer.Context.promotedDefinitions(section, project: project, root: root, environments: environments)
                each.definitions = definitions
                snapshots = made
            }
            let context = try Materializer.Context(each, sharing: shared)
            shared = context.fetcher
            defer { context.removeScratch() }
            let tree = try await context.resolvedTree()
            let name = LockFile.sectionName(context.environments)
            let section = Self.section(of: tree, environments: context.environments, project: project, definitions: head)
            changes += Self.changes(from: existing.sections[name], to: section, name: name)
            lock.sections[name] = section
        }
        return (lock, changes)
    }

    /// The section that pins a resolved tree.
    static func section(of tree: ResolvedComponent, environments: [String], project: ProjectFile, definitions: String?) -> LockSection {
        var section = LockSection(definitions: definitions)
        for component in tree.flattened {
            section.components[component.lockKey] = LockedComponent(definition: component.definitionPin, source: component.source, dependencies: component.dependencies)
        }
        section.values = PromotedValues.read(in: tree, project: project, environment: PromotedValues.environment(of: environments, project: project))
        return section
    }

    /// Writes `hld.lock` in `directory` (atomically), sections in promotion order.
    public static func write(_ lock: LockFile, in directory: String, project: ProjectFile) throws(HLDError) {
        let path = directory + "/" + LockFile.fileName
        try AtomicFile.replace(path, Array(lock.text(order: project.environmentSets.map(LockFile.sectionName)).utf8), mode: 0o644,
                               prefix: ".hld.lock.", shownAs: path)
    }

    /// What differs between two versions of a section, component by component.
    static func changes(from old: LockSection?, to new: LockSection, name: String) -> [LockChange] {
        var changes: [LockChange] = []
        if old?.definitions != new.definitions, new.definitions != nil || old?.definitions != nil {
            changes.append(LockChange(section: name, subject: "definitions", source: "", old: old?.definitions.map { String($0.prefix(12)) },
                                      new: new.definitions.map { String($0.prefix(12)) }))
        }
        let keys = Set(new.components.keys).union(old?.components.keys ?? [:].keys)
        for key in keys.sorted() {
            let before = old?.components[key]?.pins ?? []
            let after = new.components[key]?.pins ?? []
            for pin in after where !before.contains(pin) {
                let previous = before.first { $0.request == pin.request }
                changes.append(LockChange(section: name, subject: key, source: pin.sourceDescription, old: previous?.resolvedDescription, new: pin.resolvedDescription))
            }
            for pin in before where !after.contains(where: { $0.request == pin.request }) {
                changes.append(LockChange(section: name, subject: key, source: pin.sourceDescription, old: pin.resolvedDescription, new: nil))
            }
        }
        let files = Set(new.values.keys).union(old?.values.keys ?? [:].keys)
        for file in files.sorted() {
            let before = old?.values[file] ?? [:], after = new.values[file] ?? [:]
            for path in Set(before.keys).union(after.keys).sorted() where before[path] != after[path] {
                changes.append(LockChange(section: name, subject: file, source: path, old: before[path]?.flowText, new: after[path]?.flowText))
            }
        }
        return changes
    }
}

/// The values of `hld.yaml`'s `promote:` paths in an environment's config files.
public enum PromotedValues {
    /// The environment whose config files hold the promoted values of a set: the name
    /// that is an environment of `hld.yaml` (not a group); without environments declared,
    /// the first name.
    public static func environment(of set: [String], project: ProjectFile) -> String? {
        set.first { project.environments.contains($0) } ?? (project.environments.isEmpty ? set.first : nil)
    }

    /// The config files of `environment` of every component in the tree that is the user's
    /// own (not fetched): as messages show them, relative to the project
    /// (`config/dev.yaml`, `infra/config/dev.yaml`), and where they are.
    static func files(in tree: ResolvedComponent, environment: String) -> [ConfigLayer] {
        var result: [ConfigLayer] = []
        var seen = Set<String>()
        for component in tree.flattened where component.treeRoot == nil {
            for layer in component.origin.layers where isConfig(layer.file, of: environment) {
                guard let path = layer.path, seen.insert(path).inserted else { continue }
                result.append(layer)
            }
        }
        return result
    }

    static func isConfig(_ file: String, of environment: String) -> Bool {
        file.hasSuffix("/config/\(environment).yaml") || file.hasSuffix("/config/\(environment).json")
            || file == "config/\(environment).yaml" || file == "config/\(environment).json"
    }

    /// Every promoted value of the environment's files, by file and dotted key path.
    static func read(in tree: ResolvedComponent, project: ProjectFile, environment: String?) -> [String: [String: Node]] {
        guard let environment, !project.promote.isEmpty else { return [:] }
        var values: [String: [String: Node]] = [:]
        for layer in files(in: tree, environment: environment) {
            let found = matches(in: layer.node, patterns: project.promote)
            if !found.isEmpty {
                values[layer.file] = Dictionary(found.map { (dotted($0.path), $0.value.withoutMarks) }, uniquingKeysWith: { first, _ in first })
            }
        }
        return values
    }

    /// Every concrete key path in `node` that one of `patterns` matches (`*`: any one key),
    /// with its value, in document order.
    public static func matches(in node: Node, patterns: [[PathSegment]]) -> [(path: [PathSegment], value: Node)] {
        var result: [(path: [PathSegment], value: Node)] = []
        var seen = Set<String>()
        func walk(_ node: Node, _ pattern: ArraySlice<PathSegment>, _ path: [PathSegment]) {
            guard let segment = pattern.first else {
                if !node.isNull, seen.insert(dotted(path)).inserted { result.append((path, node)) }
                return
            }
            guard case .key(let key) = segment, let pairs = node.pairs else { return }
            for pair in pairs {
                guard let name = pair.key.scalarText, key == "*" || key == name else { continue }
                walk(pair.value, pattern.dropFirst(), path + [.key(name)])
            }
        }
        for pattern in patterns { walk(node, pattern[...], []) }
        return result
    }

    /// A key path as `hld set` reads it: keys joined by dots, a key holding a dot or a
    /// quote quoted.
    public static func dotted(_ path: [PathSegment]) -> String {
        path.map { segment -> String in
            guard case .key(let key) = segment else { return segment.description }
            if key.contains(".") || key.contains("\"") || key.contains("'") || key.isEmpty {
                return key.contains("\"") ? "'\(key)'" : "\"\(key)\""
            }
            return key
        }.joined(separator: ".")
    }
}
