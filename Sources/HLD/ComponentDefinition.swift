import Foundation
public import YAML

/// What a component renders with (`type`, or the deprecated `generator`).
public enum ComponentType: String, Sendable, CaseIterable {
    /// A container for subcomponents; renders nothing itself.
    case component, helm, `static`, kustomize

    /// Inline types share the declaring component's directory and get config only from it.
    public var isInline: Bool { self != .component }
}

/// Where a component's files come from.
public enum SourceMethod: String, Sendable, CaseIterable {
    case local, git, helm, http
}

/// The lifecycle points hooks run at.
public enum HookPhase: String, Sendable, CaseIterable {
    case beforeInstall = "before-install"
    case afterInstall = "after-install"
    case beforeGenerate = "before-generate"
    case afterGenerate = "after-generate"
}

/// One component file (`component.yaml` / `component.json`), or one entry of a
/// `subcomponents` list, with every field of SPEC §1.1.
public struct ComponentDefinition: Sendable {
    public var name: String
    public var type: ComponentType
    public var method: SourceMethod
    public var source: String?
    public var path: String?
    public var version: String?
    public var branch: String?
    public var hooks: [HookPhase: [String]]
    public var subcomponents: [ComponentDefinition]
    /// Where this definition (the mapping) starts.
    public var location: SourceLocation
    /// Where each field's value is, for errors about it.
    public var fieldLocations: [String: SourceLocation]

    public init(name: String, type: ComponentType = .component, method: SourceMethod = .local, source: String? = nil,
                path: String? = nil, version: String? = nil, branch: String? = nil, hooks: [HookPhase: [String]] = [:],
                subcomponents: [ComponentDefinition] = [], location: SourceLocation, fieldLocations: [String: SourceLocation] = [:]) {
        self.name = name
        self.type = type
        self.method = method
        self.source = source
        self.path = path
        self.version = version
        self.branch = branch
        self.hooks = hooks
        self.subcomponents = subcomponents
        self.location = location
        self.fieldLocations = fieldLocations
    }

    /// The location of `field`, or of the whole definition.
    public func location(of field: String) -> SourceLocation { fieldLocations[field] ?? location }
}

/// Reads component files.
enum ComponentFile {
    /// The component file in `directory`: `component.yaml` (preferred, with a warning when
    /// `component.json` exists too) or `component.json`; nil when there is neither.
    public static func find(in directory: String, diagnostics: any DiagnosticsSink) -> String? {
        let yaml = directory + "/component.yaml"
        let json = directory + "/component.json"
        let fm = FileManager.default
        if fm.fileExists(atPath: yaml) {
            if fm.fileExists(atPath: json) {
                diagnostics.warning("\(directory): both component.yaml and component.json exist; using component.yaml")
            }
            return yaml
        }
        return fm.fileExists(atPath: json) ? json : nil
    }

    /// Loads and validates the component file at `path`.
    public static func load(_ path: String, displayPath: String? = nil, diagnostics: any DiagnosticsSink) throws(HLDError) -> ComponentDefinition {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw HLDError("\(displayPath ?? path): cannot read the component file")
        }
        return try parse(bytes: [UInt8](bytes), file: displayPath ?? path, format: SourceFormat(path: path), diagnostics: diagnostics)
    }

    /// Parses and validates a component file's text.
    public static func parse(bytes: [UInt8], file: String, format: SourceFormat, diagnostics: any DiagnosticsSink) throws(HLDError) -> ComponentDefinition {
        let node: Node
        do {
            let documents = try DocumentReader(bytes: bytes, file: file, format: format).readAll()
            guard documents.count <= 1 else {
                throw HLDError(SourceLocation(file: file, line: documents[1].mark.line, column: documents[1].mark.column),
                               "a component file holds one document, this is a second one")
            }
            node = documents.first ?? Node(.mapping([]), mark: Mark(line: 1, column: 1))
        } catch let error as YAMLError {
            throw HLDError(error)
        } catch let error as HLDError {
            throw error
        } catch {
            throw HLDError("\(file): \(error)")
        }
        return try definition(from: node, file: file, caseInsensitive: format == .json, diagnostics: diagnostics, isRoot: true)
    }

    private static let knownKeys = ["name", "type", "generator", "method", "source", "path", "version",
                                    "branch", "hooks", "subcomponents", "repositories"]

    static func definition(from node: Node, file: String, caseInsensitive: Bool, diagnostics: any DiagnosticsSink, isRoot: Bool) throws(HLDError) -> ComponentDefinition {
        func at(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.mark.line, column: node.mark.column) }
        guard let pairs = node.pairs else {
            throw HLDError(at(node), "a component must be a mapping (name, type, subcomponents, …), not \(node.kindName)")
        }
        var fields: [String: Node] = [:]
        var locations: [String: SourceLocation] = [:]
        for pair in pairs {
            guard let rawKey = pair.key.scalarText else { continue }
            // Fabrikate decoded JSON with Go's case-insensitive field matching ("Name" works).
            let key = caseInsensitive ? (knownKeys.first { $0.lowercased() == rawKey.lowercased() } ?? rawKey) : rawKey
            guard knownKeys.contains(key) else {
                // A misspelt field would be ignored and could empty the output: an error.
                if let suggestion = Spelling.suggestion(for: rawKey, among: knownKeys) {
                    throw HLDError(at(pair.key), "unknown field \(rawKey) (did you mean \(suggestion)?)")
                }
                diagnostics.warning("\(at(pair.key)): unknown field \(rawKey) is ignored", at: at(pair.key))
                continue
            }
            fields[key] = pair.value
            locations[key] = at(pair.value)
        }
        func text(_ key: String) throws(HLDError) -> String? {
            guard let value = fields[key], !value.isNull else { return nil }
            guard let text = value.textValue else {
                throw HLDError(at(value), "\(key) must be a string, not \(value.kindName)")
            }
            return text.isEmpty ? nil : text
        }

        guard let name = try text("name") else {
            throw HLDError(fields["name"].map(at) ?? at(node), "the component has no name")
        }
        if name.contains("/") || name == "." || name == ".." {
            throw HLDError(at(fields["name"] ?? node), "name \"\(name)\" cannot be used as a file name (no /, . or ..)")
        }

        var type = ComponentType.component
        if let raw = try text("type") {
            guard let parsed = ComponentType(rawValue: raw) else {
                throw HLDError(locations["type"] ?? at(node), "unknown type \"\(raw)\" (expected one of: \(ComponentType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            type = parsed
        }
        if let raw = try text("generator") {
            guard let parsed = ComponentType(rawValue: raw) else {
                throw HLDError(locations["generator"] ?? at(node), "unknown generator \"\(raw)\" (expected one of: \(ComponentType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            diagnostics.warning("\(locations["generator"] ?? at(node)): generator is deprecated; use type: \(raw)", at: locations["generator"] ?? at(node))
            type = parsed
        }
        var method = SourceMethod.local
        if let raw = try text("method") {
            guard let parsed = SourceMethod(rawValue: raw.lowercased()) else {
                throw HLDError(locations["method"] ?? at(node), "unknown method \"\(raw)\" (expected one of: \(SourceMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            method = parsed
        }
        if fields["repositories"] != nil {
            diagnostics.warning("\(locations["repositories"] ?? at(node)): repositories is deprecated and ignored", at: locations["repositories"] ?? at(node))
        }

        var hooks: [HookPhase: [String]] = [:]
        if let hookNode = fields["hooks"], !hookNode.isNull {
            guard let hookPairs = hookNode.pairs else { throw HLDError(at(hookNode), "hooks must map a phase to a list of commands") }
            for pair in hookPairs {
                guard let phaseName = pair.key.scalarText, let phase = HookPhase(rawValue: phaseName) else {
                    let phases = HookPhase.allCases.map(\.rawValue)
                    if let name = pair.key.scalarText, let suggestion = Spelling.suggestion(for: name, among: phases) {
                        throw HLDError(at(pair.key), "unknown hook \(name) (did you mean \(suggestion)?)")
                    }
                    diagnostics.warning("\(at(pair.key)): unknown hook \(pair.key.scalarText ?? "?") is ignored (known: \(HookPhase.allCases.map(\.rawValue).joined(separator: ", ")))", at: at(pair.key))
                    continue
                }
                if pair.value.isNull { continue }
                guard let commands = pair.value.sequence else { throw HLDError(at(pair.value), "hooks.\(phaseName) must be a list of commands") }
                var list: [String] = []
                for command in commands {
                    guard let text = command.textValue else { throw HLDError(at(command), "a hook command must be a string") }
                    if !text.isEmpty { list.append(text) }
                }
                hooks[phase] = list
            }
        }

        var subcomponents: [ComponentDefinition] = []
        if let list = fields["subcomponents"], !list.isNull {
            guard let items = list.sequence else { throw HLDError(at(list), "subcomponents must be a list") }
            var seen: [String: SourceLocation] = [:]
            for item in items {
                let child = try definition(from: item, file: file, caseInsensitive: caseInsensitive, diagnostics: diagnostics, isRoot: false)
                if let first = seen[child.name] {
                    throw HLDError(child.location, "a second subcomponent named \(child.name) (the first is at \(first))")
                }
                seen[child.name] = child.location
                if !child.type.isInline && child.source == nil && child.path == nil {
                    throw HLDError(child.location, "subcomponent \(child.name) has neither source nor path, so it would include its parent")
                }
                subcomponents.append(child)
            }
        }

        return ComponentDefinition(
            name: name, type: type, method: method, source: try text("source"), path: try text("path"),
            version: try text("version"), branch: try text("branch"), hooks: hooks, subcomponents: subcomponents,
            location: at(node), fieldLocations: locations)
    }
}
