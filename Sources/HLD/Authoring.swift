import CacheStore
import Foundation
public import YAML

/// `hld set`, `add` and `remove`: changes to a component's own files, made through the
/// text-preserving editor, so everything they were not asked to change — comments, key
/// order, quoting, blank lines — stays as it was. A file that does not parse is never
/// touched; all changes to a file are made in memory and written once, atomically.
public enum Authoring {
    /// One `key.path=value` of `hld set`.
    public struct Assignment: Sendable, Equatable {
        public var path: [PathSegment]
        public var value: Node

        public init(path: [PathSegment], value: Node) {
            self.path = path
            self.value = value
        }

        /// Parses `key.path=value`: the key at the first `=` outside quotes (the value may
        /// hold `=`), dots split segments except inside quotes (`"app.kubernetes.io/name".x`).
        /// The value is read as a YAML scalar (`4` an int, `true` a bool, `v1.2` a string)
        /// unless `string`; text that different YAML readers would type differently (`yes`,
        /// `1.10.0`, `0755`) is taken as a string, so it is written quoted and every reader agrees.
        public static func parse(_ argument: String, string: Bool) throws(HLDError) -> Assignment {
            var quote: Character?
            var split: String.Index?
            for index in argument.indices {
                let character = argument[index]
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character == "=" {
                    split = index
                    break
                }
            }
            guard let split else { throw HLDError("\(argument): expected key.path=value") }
            let path = try keyPath(String(argument[..<split]))
            let text = String(argument[argument.index(after: split)...])
            return Assignment(path: path, value: string ? .string(text) : scalar(text))
        }

        /// `a.b."c.d"` as segments.
        public static func keyPath(_ text: String) throws(HLDError) -> [PathSegment] {
            var segments: [String] = []
            var current = ""
            var quote: Character?
            var quoted = false
            for character in text {
                if let open = quote {
                    if character == open { quote = nil } else { current.append(character) }
                } else if character == "\"" || character == "'" {
                    quote = character
                    quoted = true
                } else if character == "." {
                    segments.append(current)
                    current = ""
                    quoted = false
                } else {
                    current.append(character)
                }
            }
            if quote != nil { throw HLDError("\(text): a quote is not closed") }
            segments.append(current)
            if let empty = segments.firstIndex(where: \.isEmpty), !(quoted && empty == segments.count - 1) {
                throw HLDError("\(text.isEmpty ? "an empty key" : text): a key path needs a name between each pair of dots")
            }
            return segments.map { .key($0) }
        }

        /// A command-line value as YAML reads it, when every reader reads it alike.
        static func scalar(_ text: String) -> Node {
            guard !text.isEmpty, let node = try? Node.document(in: text), case .scalar(let value, let style) = node.content, node.tag == nil else {
                return .string(text)
            }
            if style != .plain { return .string(value) }
            let disagree = node.scalarType(.yaml11) != node.scalarType(.core12)
                || node.scalarType(.yaml11) == .int && node.int(.yaml11) != node.int(.core12)
            return ScalarResolver.isAmbiguous(value) && disagree ? .string(value) : .plain(value)
        }

        /// The leaves of a values file as assignments (maps flattened; a list or an empty
        /// map is one value), in file order.
        public static func fromFile(_ path: String) throws(HLDError) -> [Assignment] {
            let node: Node
            do {
                node = try Node.document(contentsOf: path)
            } catch {
                throw HLDError(error)
            }
            if node.isNull { return [] }
            guard node.pairs != nil else { throw HLDError("\(path): a values file must be a map of keys to values, not \(node.kindName)") }
            func leaves(_ node: Node, _ prefix: [PathSegment]) -> [Assignment] {
                guard let pairs = node.pairs, !pairs.isEmpty || prefix.isEmpty else { return [Assignment(path: prefix, value: node)] }
                return pairs.flatMap { leaves($0.value, prefix + [.key($0.key.scalarText ?? "")]) }
            }
            return leaves(node, [])
        }
    }

    /// What one command changed in one file.
    public struct FileChange: Sendable {
        /// The file, as shown to the user (relative to the component directory).
        public var file: String
        /// What was done, one line each: `set config.image.tag = v1.2.4`.
        public var actions: [String]
        /// False when the file already said all of it (it is left byte-identical).
        public var changed: Bool
        /// The file did not exist and was created.
        public var created: Bool
    }

    // MARK: set

    /// Sets config values of the component in `directory` (or of the subcomponent at
    /// `subcomponent`, a chain of names) in `config/<environment>.yaml`, under `config`.
    public static func set(_ assignments: [Assignment], in directory: String, environment: String = "common", subcomponent: [String] = [],
                           createMissing: Bool = true) throws(HLDError) -> FileChange {
        try checkEnvironment(environment, in: directory)
        try checkSubcomponentPath(subcomponent, in: directory)
        let (path, shown, format) = configFile(environment, in: directory)
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !createMissing {
            throw HLDError("\(shown) does not exist, and --no-new-config-keys allows no new keys")
        }
        var editor = try editor(for: path, shown: shown, format: format, allowMissing: true)
        let prefix = subcomponent.flatMap { [PathSegment.key("subcomponents"), .key($0)] } + [.key("config")]
        var actions: [String] = []
        for assignment in assignments {
            let full = prefix + assignment.path
            do {
                try editor.set(full, to: assignment.value, createMissing: createMissing)
            } catch {
                throw editError(error, shown: shown, noNewKeys: !createMissing)
            }
            actions.append("set \(full.dotted) = \(assignment.value.flowText)")
        }
        return try write(editor, to: path, shown: shown, actions: actions, existed: exists)
    }

    // MARK: add / remove

    /// A subcomponent entry for `hld add`.
    public struct Entry: Sendable {
        public var name: String
        public var type: ComponentType?
        public var method: SourceMethod?
        public var source: String?
        public var path: String?
        public var version: String?
        public var branch: String?

        public init(name: String, type: ComponentType? = nil, method: SourceMethod? = nil, source: String? = nil,
                    path: String? = nil, version: String? = nil, branch: String? = nil) {
            self.name = name
            self.type = type
            self.method = method
            self.source = source
            self.path = path
            self.version = version
            self.branch = branch
        }

        /// The method a source implies when none is given: an `oci://` or chart repository
        /// URL for a helm chart is `helm`, an http(s) manifest for a static component is
        /// `http`, any other URL (or `git@host:`) is `git`, a path is `local` (the default,
        /// not written).
        public var impliedMethod: SourceMethod? {
            if let method { return method }
            guard let source else { return nil }
            let lower = source.lowercased()
            if lower.hasPrefix("oci://") { return .helm }
            if lower.hasPrefix("git@") || lower.hasPrefix("ssh://") || lower.hasSuffix(".git") || lower.hasPrefix("git://") { return .git }
            if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
                if type == .helm && path != nil && !["github.com", "gitlab.com", "bitbucket.org", "dev.azure.com"].contains(where: lower.contains) { return .helm }
                if type == .static && (lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json")) { return .http }
                return .git
            }
            if lower.hasPrefix("file://") { return .git }
            return nil
        }

        /// The definition fields in the order they are written.
        var fields: [(String, String)] {
            [("type", type?.rawValue), ("method", impliedMethod?.rawValue), ("source", source), ("path", path),
             ("version", version), ("branch", branch)].compactMap { key, value in value.map { (key, $0) } }
        }
    }

    /// Adds `entry` to the `subcomponents` of the component in `directory`, or, when an
    /// entry of that name exists, replaces its definition fields in place (its hooks and
    /// subcomponents stay).
    public static func add(_ entry: Entry, in directory: String) throws(HLDError) -> FileChange {
        guard !entry.name.isEmpty, !entry.name.contains("/") else { throw HLDError("\(entry.name.isEmpty ? "an empty name" : entry.name) cannot be a subcomponent name") }
        if entry.branch != nil, let method = entry.impliedMethod, method != .git {
            throw HLDError("--branch is for git sources; \(entry.name) has method \(method.rawValue)")
        }
        let (path, shown) = try componentFile(in: directory)
        var editor = try editor(for: path, shown: shown, format: SourceFormat(path: path), allowMissing: false)
        let list = editor.value(at: [.key("subcomponents")])
        let existing = list?.sequence?.firstIndex { $0["name"]?.scalarText == entry.name }
        let action: String
        do {
            if let index = existing {
                let at: [PathSegment] = [.key("subcomponents"), .index(index)]
                let given = entry.fields
                for (key, value) in given {
                    try editor.set(at + [.key(key)], to: .string(value))
                }
                for key in ["generator", "type", "method", "source", "path", "version", "branch"] where !given.contains(where: { $0.0 == key }) {
                    if editor.value(at: at + [.key(key)]) != nil { try editor.remove(at + [.key(key)]) }
                }
                action = "replaced subcomponent \(entry.name)"
            } else {
                let node = Node(.mapping([Node.Pair(key: .string("name"), value: .string(entry.name))]
                    + entry.fields.map { Node.Pair(key: .string($0.0), value: .string($0.1)) }))
                try editor.insert(node, into: [.key("subcomponents")])
                action = "added subcomponent \(entry.name)"
            }
        } catch {
            throw editError(error, shown: shown, noNewKeys: false)
        }
        return try write(editor, to: path, shown: shown, actions: [action + describe(entry)], existed: true)
    }

    private static func describe(_ entry: Entry) -> String {
        let fields = entry.fields.map { "\($0.0) \($0.1)" }
        return fields.isEmpty ? "" : " (" + fields.joined(separator: ", ") + ")"
    }

    /// Removes the subcomponent `name` from the component in `directory`. Returns the
    /// change and the config files (with line) that still configure the name: they are
    /// the user's to clean up.
    public static func remove(_ name: String, in directory: String) throws(HLDError) -> (change: FileChange, stillConfigured: [SourceLocation]) {
        let (path, shown) = try componentFile(in: directory)
        var editor = try editor(for: path, shown: shown, format: SourceFormat(path: path), allowMissing: false)
        let names = editor.value(at: [.key("subcomponents")])?.sequence?.compactMap { $0["name"]?.scalarText } ?? []
        guard let index = names.firstIndex(of: name) else {
            throw HLDError("\(shown) has no subcomponent \(name)\(Spelling.hint(for: name, among: names))")
        }
        do {
            try editor.remove([.key("subcomponents"), .index(index)])
        } catch {
            throw editError(error, shown: shown, noNewKeys: false)
        }
        let change = try write(editor, to: path, shown: shown, actions: ["removed subcomponent \(name)"], existed: true)
        var configured: [SourceLocation] = []
        let configDirectory = directory + "/config"
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: configDirectory)) ?? []).sorted()
        where file.hasSuffix(".yaml") || file.hasSuffix(".json") {
            guard let node = try? Node.document(contentsOf: configDirectory + "/" + file),
                  let entry = node["subcomponents"]?.pairs?.first(where: { $0.key.scalarText == name }) else { continue }
            configured.append(SourceLocation(file: "config/" + file, line: entry.key.mark.line, column: entry.key.mark.column))
        }
        return (change, configured)
    }

    // MARK: files

    private static func componentFile(in directory: String) throws(HLDError) -> (path: String, shown: String) {
        guard let path = ComponentFile.find(in: directory, diagnostics: CollectedDiagnostics()) else {
            throw HLDError("\(directory): no component.yaml or component.json here (hld init makes one)")
        }
        return (path, URL(fileURLWithPath: path).lastPathComponent)
    }

    /// `config/<name>.yaml`, else `.json`; a new file is JSON only when the component's
    /// config files are all JSON.
    static func configFile(_ name: String, in directory: String) -> (path: String, shown: String, format: SourceFormat) {
        let fm = FileManager.default
        for ext in ["yaml", "json"] where fm.fileExists(atPath: "\(directory)/config/\(name).\(ext)") {
            return ("\(directory)/config/\(name).\(ext)", "config/\(name).\(ext)", ext == "json" ? .json : .yaml)
        }
        let others = (try? fm.contentsOfDirectory(atPath: directory + "/config")) ?? []
        let json = !others.isEmpty && others.allSatisfy { $0.hasSuffix(".json") }
        let ext = json ? "json" : "yaml"
        return ("\(directory)/config/\(name).\(ext)", "config/\(name).\(ext)", json ? .json : .yaml)
    }

    static func editor(for path: String, shown: String, format: SourceFormat, allowMissing: Bool) throws(HLDError) -> TextEditor {
        let bytes: [UInt8]
        if let data = FileManager.default.contents(atPath: path) {
            bytes = [UInt8](data)
        } else if allowMissing && !FileManager.default.fileExists(atPath: path) {
            bytes = []
        } else {
            throw HLDError("\(shown): cannot read the file")
        }
        do {
            return try TextEditor(bytes: bytes, file: shown, format: format)
        } catch {
            var failure = HLDError(error)
            failure.message += " (nothing was changed)"
            throw failure
        }
    }

    static func editError(_ error: EditError, shown: String, noNewKeys: Bool) -> HLDError {
        let location = error.mark.map { SourceLocation(file: shown, line: $0.line, column: $0.column) }
        var message = error.message
        if error.kind == .missing && noNewKeys { message += ", and --no-new-config-keys allows no new keys" }
        return HLDError(kind: .definition, location: location ?? SourceLocation(file: shown, line: 0, column: 0), component: nil,
                        message + " (nothing was changed)")
    }

    /// Writes the edited text (when it changed) atomically, keeping the file's mode.
    static func write(_ editor: TextEditor, to path: String, shown: String, actions: [String], existed: Bool) throws(HLDError) -> FileChange {
        let fm = FileManager.default
        if existed, fm.contents(atPath: path).map({ [UInt8]($0) }) == editor.bytes {
            return FileChange(file: shown, actions: actions, changed: false, created: false)
        }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HLDError("\(shown): cannot create \(directory): \(error.localizedDescription)").kind(.output)
        }
        // What a killed edit left beside the file.
        InFlight.removeStale(in: directory, prefix: temporaryPrefix)
        var info = stat()
        let mode = existed && stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
        try AtomicFile.replace(path, editor.bytes, mode: mode, prefix: temporaryPrefix, shownAs: shown)
        return FileChange(file: shown, actions: actions, changed: true, created: !existed)
    }

    /// Prefix of the temporaries edits write beside the files they replace.
    private static let temporaryPrefix = ".hld-edit-"

    // MARK: checks

    /// With environments declared in hld.yaml, a name outside them is a typo.
    private static func checkEnvironment(_ environment: String, in directory: String) throws(HLDError) {
        guard !environment.isEmpty, !environment.contains("/") else { throw HLDError("\(environment.isEmpty ? "an empty name" : environment) cannot be an environment name") }
        let project = try ProjectFile.load(in: projectRoot(from: directory))
        let known = project.knownNames
        if environment != "common" && !known.isEmpty && !known.contains(environment) {
            let suggestion = Spelling.suggestion(for: environment, among: known).map { " (did you mean \($0)?)" } ?? ""
            throw HLDError("unknown environment \(environment)\(suggestion): \(project.file ?? "hld.yaml") declares \(known.joined(separator: ", ")) (nothing was changed)")
        }
    }

    /// The nearest directory at or above `directory` with an hld.yaml (else `directory`).
    private static func projectRoot(from directory: String) -> String {
        var current = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: current.path + "/hld.yaml") { return current.path }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return directory }
            current = parent
        }
    }

    /// Each name of `--subcomponent a.b` must name a subcomponent, as far as the
    /// definitions are on disk (a git-sourced component's own subcomponents are not).
    private static func checkSubcomponentPath(_ names: [String], in directory: String) throws(HLDError) {
        guard !names.isEmpty else { return }
        let (file, _) = try componentFile(in: directory)
        var definition = try ComponentFile.load(file, displayPath: URL(fileURLWithPath: file).lastPathComponent, diagnostics: CollectedDiagnostics())
        var definitionDirectory = directory
        for (depth, name) in names.enumerated() {
            let known = definition.subcomponents.map(\.name)
            guard let entry = definition.subcomponents.first(where: { $0.name == name }) else {
                let at = names[..<depth].joined(separator: ".")
                throw HLDError("\(at.isEmpty ? definition.name : at) has no subcomponent \(name)\(Spelling.hint(for: name, among: known)) (nothing was changed)")
            }
            guard depth + 1 < names.count else { return }
            if entry.type.isInline {
                definition = entry
            } else if entry.method == .local {
                // As the tree resolver finds a local component: source (default `.`), then path.
                let source = entry.source ?? "."
                var target = source.hasPrefix("/") ? source : definitionDirectory + "/" + source
                if let path = entry.path { target += "/" + path }
                definitionDirectory = URL(fileURLWithPath: target).standardizedFileURL.path
                guard let next = ComponentFile.find(in: definitionDirectory, diagnostics: CollectedDiagnostics()) else { return }
                definition = try ComponentFile.load(next, diagnostics: CollectedDiagnostics())
            } else {
                return
            }
        }
    }
}
