import Foundation
import Git
public import YAML

/// `hld.lock`: per environment (or environment and group), every source of the tree pinned
/// — git commits and trees, chart versions and digests, OCI digests, http content hashes,
/// the user's own paths — keyed by component logical path; the values of `hld.yaml`'s
/// `promote:` paths; and, with `promoteDefinitions`, the HLD commit whose component files
/// the environment renders. Written by `hld lock` and `hld promote` in a stable order
/// (same pins, same bytes); read by `materialize --locked`, `promote` and `drift`.
public struct LockFile: Sendable, Equatable {
    public static let fileName = "hld.lock"
    static let formatVersion = 1

    /// By section name: the environments joined by a space (`prod`, `prod eastus`).
    public var sections: [String: LockSection] = [:]

    public init() {}

    /// The section name of an environment list.
    public static func sectionName(_ environments: [String]) -> String { environments.joined(separator: " ") }

    // MARK: Reading

    /// Reads `hld.lock` in `directory`; nil when there is none.
    public static func load(in directory: String) throws(HLDError) -> LockFile? {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw HLDError("\(path): cannot read the lock file").kind(.definition) }
            return nil
        }
        return try parse([UInt8](data), file: path)
    }

    /// Parses a lock file's bytes; every error names `file:line:column`.
    public static func parse(_ bytes: [UInt8], file: String) throws(HLDError) -> LockFile {
        let node: Node
        do {
            let documents = try DocumentReader(bytes: bytes, file: file, format: .yaml).readAll()
            guard documents.count <= 1 else {
                throw HLDError("\(file):\(documents[1].mark): a lock file holds one document").kind(.definition)
            }
            node = documents.first ?? Node.plain("")
        } catch let error as HLDError {
            throw error
        } catch {
            throw HLDError("\(error) (hld.lock is written by hld lock: restore it from git, or run hld lock again)").kind(.definition)
        }
        let reader = LockReader(file: file)
        return try reader.lockFile(node)
    }

    // MARK: Writing

    /// The file's text: a header, then the sections in promotion order (`order` lists the
    /// section names hld.yaml implies; others follow sorted), components by logical path.
    public func text(order: [String] = []) -> String {
        let names = order.filter { sections[$0] != nil } + sections.keys.filter { !order.contains($0) }.sorted()
        var environments: [(String, Node)] = []
        for name in names {
            guard let section = sections[name] else { continue }
            environments.append((name, section.node))
        }
        let root = Node.mapping([("lockVersion", .plain("\(Self.formatVersion)")), ("environments", .mapping(environments))])
        let body = (try? root.yaml()) ?? ""
        return """
            # hld.lock: the exact sources each environment renders, written by `hld lock` and
            # `hld promote`. Commit it; `hld materialize --locked` renders exactly these pins.

            """ + body
    }
}

/// One environment's (or environment × group's) pins.
public struct LockSection: Sendable, Equatable {
    /// The HLD repository commit whose component files the environment renders
    /// (`promoteDefinitions`); nil otherwise.
    public var definitions: String?
    /// By component logical path (`cluster/cat`).
    public var components: [String: LockedComponent] = [:]
    /// `promote:` values by config file (relative to the project) and dotted key path.
    public var values: [String: [String: Node]] = [:]

    public init(definitions: String? = nil, components: [String: LockedComponent] = [:], values: [String: [String: Node]] = [:]) {
        self.definitions = definitions
        self.components = components
        self.values = values
    }

    var node: Node {
        var pairs: [(String, Node)] = []
        if let definitions { pairs.append(("definitions", .string(definitions))) }
        pairs.append(("components", .mapping(components.keys.sorted().map { ($0, components[$0]!.node) })))
        if !values.isEmpty {
            pairs.append(("values", .mapping(values.keys.sorted().map { file in
                let entries = values[file]!
                return (file, .mapping(entries.keys.sorted().map { ($0, entries[$0]!.withoutMarks) }))
            })))
        }
        return .mapping(pairs)
    }
}

/// The pins of one component.
public struct LockedComponent: Sendable, Equatable {
    /// Where its own component file came from (external components fetched from git).
    public var definition: Pin?
    /// What its generator renders from.
    public var source: Pin?
    /// The chart dependencies fetched for it.
    public var dependencies: [Pin] = []

    public init(definition: Pin? = nil, source: Pin? = nil, dependencies: [Pin] = []) {
        self.definition = definition
        self.source = source
        self.dependencies = dependencies
    }

    /// Every pin of the component, as `ResolvedComponent.pins` lists them.
    public var pins: [Pin] { [definition, source].compactMap { $0 } + dependencies }

    var node: Node {
        var pairs: [(String, Node)] = []
        if let definition { pairs.append(("definition", definition.node)) }
        if let source { pairs.append(("source", source.node)) }
        if !dependencies.isEmpty { pairs.append(("dependencies", .sequence(dependencies.map(\.node)))) }
        return .mapping(pairs)
    }
}

extension Pin {
    /// The pin as the lock file writes it.
    var node: Node {
        switch self {
        case .git(let url, let requested, let commit, let path, let tree):
            return .mapping([("method", .plain("git")), ("source", .string(url)), ("requested", .string(requested)),
                             ("commit", .string(commit))] + (path.isEmpty ? [] : [("path", .string(path))]) + [("tree", .string(tree))])
        case .chart(let repository, let name, let requested, let version, let digest):
            return .mapping([("method", .plain("helm")), ("repository", .string(repository)), ("chart", .string(name))]
                            + (requested.isEmpty ? [] : [("requested", .string(requested))])
                            + [("version", .string(version)), ("digest", .string(digest))])
        case .oci(let reference, let requested, let version, let manifest, let digest):
            return .mapping([("method", .plain("oci")), ("reference", .string(reference))]
                            + (requested.isEmpty ? [] : [("requested", .string(requested))])
                            + [("version", .string(version)), ("manifest", .string(manifest)), ("digest", .string(digest))])
        case .http(let url, let digest):
            return .mapping([("method", .plain("http")), ("url", .string(url)), ("digest", .string(digest))])
        case .local(let path):
            return .mapping([("method", .plain("local")), ("path", .string(path))])
        }
    }

    /// What was asked for, without what it resolved to: two pins with the same request
    /// name the same source (the lock covers a definition when every request matches).
    public var request: Pin {
        switch self {
        case .git(let url, let requested, _, let path, _): return .git(url: url, requested: requested, commit: "", path: path, tree: "")
        case .chart(let repository, let name, let requested, _, _): return .chart(repository: repository, name: name, requested: requested, version: "", digest: "")
        case .oci(let reference, let requested, _, _, _): return .oci(reference: reference, requested: requested, version: "", manifest: "", digest: "")
        case .http(let url, _): return .http(url: url, digest: "")
        case .local: return self
        }
    }

    /// A short description of the source (no pinned parts): `git https://…/cat.git (branch dev) deploy`.
    public var sourceDescription: String {
        switch self {
        case .git(let url, let requested, _, let path, _): return "git \(url) (\(requested))" + (path.isEmpty ? "" : " " + path)
        case .chart(let repository, let name, let requested, _, _): return "chart \(name) from \(repository)" + (requested.isEmpty ? " (latest)" : " (\(requested))")
        case .oci(let reference, let requested, _, _, _): return "chart \(reference)" + (requested.isEmpty ? " (latest)" : " (\(requested))")
        case .http(let url, _): return "http \(url)"
        case .local(let path): return "local \(path)"
        }
    }

    /// The pinned part, short: `a1b2c3d4e5f6`, `1.2.3 (sha256:…)`.
    public var resolvedDescription: String {
        switch self {
        case .git(_, _, let commit, _, _): return String(commit.prefix(12))
        case .chart(_, _, _, let version, let digest), .oci(_, _, let version, _, let digest): return "\(version) (\(digest.prefix(12)))"
        case .http(_, let digest): return "sha256:\(digest.prefix(12))"
        case .local(let path): return path
        }
    }
}

extension Node {
    /// The node without source marks, so that equal values compare and print alike.
    var withoutMarks: Node {
        var copy = self
        copy.mark = Mark(line: 0, column: 0)
        switch content {
        case .scalar: break
        case .sequence(let items): copy.content = .sequence(items.map(\.withoutMarks))
        case .mapping(let pairs): copy.content = .mapping(pairs.map { Node.Pair(key: $0.key.withoutMarks, value: $0.value.withoutMarks) })
        }
        return copy
    }
}

/// Reads the lock file's node tree, with `file:line:column` on every error.
private struct LockReader {
    let file: String

    func fail(_ node: Node, _ message: String) -> HLDError {
        HLDError(SourceLocation(file: file, line: node.mark.line, column: node.mark.column),
                 "\(message) (hld.lock is written by hld lock: restore it from git, or run hld lock again)").kind(.definition)
    }

    func mapping(_ node: Node, _ what: String, known: [String]) throws(HLDError) -> [String: Node] {
        guard let pairs = node.pairs else { throw fail(node, "\(what) must be a mapping") }
        var result: [String: Node] = [:]
        for pair in pairs {
            guard let key = pair.key.scalarText else { throw fail(pair.key, "\(what) has a key that is not a name") }
            if !known.isEmpty && !known.contains(key) {
                throw fail(pair.key, "unknown key \(key) in \(what)\(Spelling.hint(for: key, among: known))")
            }
            result[key] = pair.value
        }
        return result
    }

    func text(_ fields: [String: Node], _ key: String, in owner: Node, _ what: String, optional: Bool = false) throws(HLDError) -> String {
        guard let value = fields[key] else {
            if optional { return "" }
            throw fail(owner, "\(what) has no \(key)")
        }
        guard let text = value.textValue, value.sequence == nil, value.pairs == nil else { throw fail(value, "\(what): \(key) must be a string") }
        return text
    }

    func lockFile(_ node: Node) throws(HLDError) -> LockFile {
        if node.isNull { throw fail(node, "the lock file is empty") }
        let top = try mapping(node, "hld.lock", known: ["lockVersion", "environments"])
        guard let version = top["lockVersion"] else { throw fail(node, "hld.lock has no lockVersion") }
        guard version.textValue == "\(LockFile.formatVersion)" else {
            throw fail(version, "lockVersion \(version.textValue ?? "?") is not one this hld reads (it reads \(LockFile.formatVersion))")
        }
        var lock = LockFile()
        guard let environments = top["environments"], !environments.isNull else { return lock }
        guard let pairs = environments.pairs else { throw fail(environments, "environments must map environment names to their pins") }
        for pair in pairs {
            guard let name = pair.key.scalarText, !name.isEmpty else { throw fail(pair.key, "an environment section needs a name") }
            lock.sections[name] = try section(pair.value, name)
        }
        return lock
    }

    func section(_ node: Node, _ name: String) throws(HLDError) -> LockSection {
        let fields = try mapping(node, "environment \(name)", known: ["definitions", "components", "values"])
        var section = LockSection()
        if fields["definitions"] != nil {
            let commit = try text(fields, "definitions", in: node, "environment \(name)")
            guard commit.count == 40, commit.allSatisfy(\.isHexDigit) else { throw fail(fields["definitions"]!, "definitions must be a full commit id") }
            section.definitions = commit
        }
        if let components = fields["components"], !components.isNull {
            guard let pairs = components.pairs else { throw fail(components, "components must map logical paths to pins") }
            for pair in pairs {
                guard let path = pair.key.scalarText, !path.isEmpty else { throw fail(pair.key, "a component needs its logical path") }
                let entry = try mapping(pair.value, "component \(path)", known: ["definition", "source", "dependencies"])
                var component = LockedComponent()
                if let definition = entry["definition"] { component.definition = try pin(definition, "\(path) definition") }
                if let source = entry["source"] { component.source = try pin(source, "\(path) source") }
                if let dependencies = entry["dependencies"] {
                    guard let items = dependencies.sequence else { throw fail(dependencies, "\(path) dependencies must be a list") }
                    for item in items { component.dependencies.append(try pin(item, "\(path) dependency")) }
                }
                section.components[path] = component
            }
        }
        if let values = fields["values"], !values.isNull {
            guard let files = values.pairs else { throw fail(values, "values must map config files to key paths and values") }
            for file in files {
                guard let name = file.key.scalarText, let entries = file.value.pairs else { throw fail(file.value, "values of a config file must map key paths to values") }
                var byPath: [String: Node] = [:]
                for entry in entries {
                    guard let path = entry.key.scalarText else { throw fail(entry.key, "a promoted value needs its key path") }
                    byPath[path] = entry.value.withoutMarks
                }
                section.values[name] = byPath
            }
        }
        return section
    }

    func pin(_ node: Node, _ what: String) throws(HLDError) -> Pin {
        let method = try mapping(node, what, known: [])["method"]
        guard let method, let name = method.textValue else { throw fail(node, "\(what) has no method") }
        func fields(_ known: [String]) throws(HLDError) -> [String: Node] { try mapping(node, what, known: ["method"] + known) }
        func hex(_ value: String, _ key: String, _ fields: [String: Node]) throws(HLDError) -> String {
            guard (value.count == 40 || value.count == 64), value.allSatisfy(\.isHexDigit) else {
                throw fail(fields[key] ?? node, "\(what): \(key) must be a full hex digest, not \(value)")
            }
            return value.lowercased()
        }
        switch name {
        case "git":
            let f = try fields(["source", "requested", "commit", "path", "tree"])
            return .git(url: try text(f, "source", in: node, what), requested: try text(f, "requested", in: node, what),
                        commit: try hex(try text(f, "commit", in: node, what), "commit", f),
                        path: try text(f, "path", in: node, what, optional: true), tree: try hex(try text(f, "tree", in: node, what), "tree", f))
        case "helm":
            let f = try fields(["repository", "chart", "requested", "version", "digest"])
            return .chart(repository: try text(f, "repository", in: node, what), name: try text(f, "chart", in: node, what),
                          requested: try text(f, "requested", in: node, what, optional: true), version: try text(f, "version", in: node, what),
                          digest: try hex(try text(f, "digest", in: node, what), "digest", f))
        case "oci":
            let f = try fields(["reference", "requested", "version", "manifest", "digest"])
            return .oci(reference: try text(f, "reference", in: node, what), requested: try text(f, "requested", in: node, what, optional: true),
                        version: try text(f, "version", in: node, what), manifest: try text(f, "manifest", in: node, what, optional: true),
                        digest: try hex(try text(f, "digest", in: node, what), "digest", f))
        case "http":
            let f = try fields(["url", "digest"])
            return .http(url: try text(f, "url", in: node, what), digest: try hex(try text(f, "digest", in: node, what), "digest", f))
        case "local":
            let f = try fields(["path"])
            return .local(path: try text(f, "path", in: node, what))
        default:
            throw fail(method, "\(what): unknown method \(name)\(Spelling.hint(for: name, among: ["git", "helm", "oci", "http", "local"]))")
        }
    }
}
