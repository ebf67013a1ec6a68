import CacheStore
import Foundation
import YAML

/// A new HLD as `hld init` writes it: the files of `templates/init/` with the component's
/// name, the environments and the groups filled in.
///
/// The templates are compiled in (`InitTemplates.swift`, generated from `templates/init/`
/// by `scripts/embed-init-templates`): the installed binary runs without the source tree,
/// and a SwiftPM resource bundle would have to be installed beside it. A test fails when
/// the compiled copy and `templates/init/` differ.
///
/// In a template, `{{name}}`, `{{environments}}`, `{{groups}}`, `{{firstEnvironment}}`,
/// `{{environment}}` and `{{group}}` are replaced with YAML scalars (quoted when a YAML
/// reader would take the name for something other than a string); a line holding a
/// placeholder that has no value (`{{groups}}` without groups) is left out. A template whose
/// path holds `{{environment}}` (`{{group}}`) is written once per environment (group).
public struct Scaffold: Sendable, Equatable {
    /// One file to write, its path relative to the HLD's directory.
    public struct File: Sendable, Equatable {
        public var path: String
        public var text: String
    }

    /// One file of `templates/init/`.
    struct Template: Sendable {
        let path: String
        let text: String
    }

    public static let defaultEnvironments = ["dev", "stage", "prod"]
    /// The line `--gitignore` adds.
    public static let ignoredOutput = "generated/"

    public let name: String
    public let environments: [String]
    public let groups: [String]
    /// In the order they are written: the templates' order, one file per environment in
    /// promotion order, one per group in the order given.
    public let files: [File]

    /// The scaffold for a component `name` (see `checkComponentName`) with these
    /// environments and groups (see `checkNames`).
    public init(name: String, environments: [String] = defaultEnvironments, groups: [String] = []) throws(HLDError) {
        try Self.checkComponentName(name)
        try Self.checkNames(environments: environments, groups: groups)
        self.name = name
        self.environments = environments
        self.groups = groups
        files = Self.render(Self.templates, name: name, environments: environments, groups: groups)
    }

    // MARK: Names

    /// A component name is a DNS label — lowercase letters, digits and `-`, at most 63,
    /// starting and ending with a letter or digit — because it names the output file, the
    /// Helm release and, in the scaffold, a Namespace.
    public static func checkComponentName(_ name: String) throws(HLDError) {
        guard isDNSLabel(name) else {
            throw HLDError("\(name.isEmpty ? "an empty name" : name) cannot be a component name: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)")
        }
    }

    /// Environment and group names become file names (`config/<name>.yaml`), directory
    /// names (`generated/prod-eastus`) and command-line arguments: letters, digits, `.`,
    /// `_` and `-`, starting with a letter or digit; none twice, none both an environment
    /// and a group, and not `common` (the layer every environment has already).
    public static func checkNames(environments: [String], groups: [String]) throws(HLDError) {
        guard !environments.isEmpty else { throw HLDError("an HLD needs at least one environment") }
        var seen: [String: String] = [:]
        for (name, axis) in environments.map({ ($0, "environment") }) + groups.map({ ($0, "group") }) {
            guard let first = name.unicodeScalars.first, isAlphanumeric(first),
                  name.unicodeScalars.allSatisfy({ isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }) else {
                throw HLDError("\(name.isEmpty ? "an empty name" : name) cannot be \(axis == "environment" ? "an" : "a") \(axis) name: use letters, digits, '.', '_' and '-', starting with a letter or digit")
            }
            guard name != "common" else {
                throw HLDError("common cannot be \(axis == "environment" ? "an" : "a") \(axis) name: config/common.yaml is the layer every environment has")
            }
            if let earlier = seen[name] {
                throw HLDError(earlier == axis ? "\(name) is listed twice as \(axis == "environment" ? "an" : "a") \(axis)" : "\(name) cannot be both an environment and a group")
            }
            seen[name] = axis
        }
    }

    /// The component name for a directory: its name in lowercase, every run of other
    /// characters than letters and digits turned into one `-` (`My_Cluster` → `my-cluster`);
    /// nil when nothing is left.
    public static func componentName(forDirectory path: String) -> String? {
        var name = ""
        for scalar in URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent.lowercased().unicodeScalars {
            if scalar.isASCII && isAlphanumeric(scalar) {
                name.unicodeScalars.append(scalar)
            } else if !name.isEmpty && !name.hasSuffix("-") {
                name += "-"
            }
        }
        while name.hasSuffix("-") { name.removeLast() }
        name = String(name.prefix(63))
        while name.hasSuffix("-") { name.removeLast() }
        return name.isEmpty ? nil : name
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func isDNSLabel(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...63).contains(scalars.count) else { return false }
        func lowerAlphanumeric(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) }
        return lowerAlphanumeric(scalars[0]) && lowerAlphanumeric(scalars[scalars.count - 1])
            && scalars.allSatisfy { lowerAlphanumeric($0) || $0 == "-" }
    }

    // MARK: Rendering

    static func render(_ templates: [Template], name: String, environments: [String], groups: [String]) -> [File] {
        let shared: [String: String?] = [
            "name": scalar(name),
            "environments": flowList(environments),
            "groups": groups.isEmpty ? nil : flowList(groups),
            "firstEnvironment": environments.first.map(scalar),
        ]
        var files: [File] = []
        for template in templates {
            let (key, names) = template.path.contains("{{environment}}") ? ("environment", environments)
                : template.path.contains("{{group}}") ? ("group", groups)
                : ("", [""])
            for each in names {
                var values = shared
                var path = template.path
                if !key.isEmpty {
                    values[key] = scalar(each)
                    path = path.replacingOccurrences(of: "{{\(key)}}", with: each)
                }
                files.append(File(path: path, text: fill(template.text, values)))
            }
        }
        return files
    }

    /// `text` with the placeholders replaced, without the lines whose placeholder has no value.
    private static func fill(_ text: String, _ values: [String: String?]) -> String {
        var lines: [Substring] = []
        nextLine: for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var filled = String(line)
            for (key, value) in values where filled.contains("{{\(key)}}") {
                guard let value else { continue nextLine }
                filled = filled.replacingOccurrences(of: "{{\(key)}}", with: value)
            }
            lines.append(Substring(filled))
        }
        return lines.joined(separator: "\n")
    }

    /// The names allowed (`checkNames`) need no escaping; those a YAML reader would take for
    /// a boolean, number or null (`on`, `1.10`, `null`) are quoted.
    private static func scalar(_ name: String) -> String {
        ScalarResolver.isAmbiguous(name) ? "\"\(name)\"" : name
    }

    private static func flowList(_ names: [String]) -> String {
        "[" + names.map(scalar).joined(separator: ", ") + "]"
    }

    // MARK: Writing

    /// What `write` did.
    public struct Written: Sendable, Equatable {
        public enum IgnoreChange: Sendable, Equatable {
            /// There was no `.gitignore`; it was created with the entry.
            case created
            /// The entry was added to the end of an existing `.gitignore`.
            case appended
            /// `.gitignore` already had the entry.
            case unchanged
        }

        /// The files created, relative to the directory, in the order they were written.
        public var created: [String] = []
        /// Set when `.gitignore` was asked for.
        public var gitignore: IgnoreChange?
    }

    /// Writes the files into `directory` (created with its parents when missing) and, with
    /// `gitignore`, makes `.gitignore` ignore the output directory.
    ///
    /// Nothing is written unless everything can be: when the directory already holds an
    /// HLD (`component.yaml` or `component.json`) or any file the scaffold would write or
    /// that would be read in its place (`config/dev.json` for `config/dev.yaml`), the error
    /// names them all. Each file appears whole (written aside, then linked into place,
    /// which never replaces a file that appeared meanwhile); when a write fails, or the
    /// process is interrupted, the files and directories made so far are removed again.
    public func write(into directory: String, gitignore: Bool = false) throws(HLDError) -> Written {
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        // The directory, or the nearest of its parents that exists, must be a directory.
        var existing = root
        var info = stat()
        while stat(existing, &info) != 0 && existing != "/" { existing = (existing as NSString).deletingLastPathComponent }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw HLDError("\(existing) is not a directory").kind(.output) }
        try refuseExisting(in: root)
        let ignoreFile = gitignore ? try IgnoreFile.read(root + "/.gitignore") : nil

        var made = Made()
        do throws(HLDError) {
            try made.directories(root)
            for file in files {
                let path = root + "/" + file.path
                let parent = (path as NSString).deletingLastPathComponent
                try made.directories(parent)
                try made.file(path, Array(file.text.utf8), shownAs: file.path)
            }
            var result = Written(created: files.map(\.path))
            if let ignoreFile {
                result.gitignore = try ignoreFile.addEntry(Self.ignoredOutput, made: &made)
                if result.gitignore == .created { result.created.append(".gitignore") }
            }
            made.keep()
            return result
        } catch {
            made.undo()
            throw error
        }
    }

    /// Throws, naming them, when files the scaffold would write (or that would be read in
    /// their place) exist, or a directory it needs is something else.
    private func refuseExisting(in root: String) throws(HLDError) {
        var candidates = ["component.yaml", "component.json"]
        for file in files {
            candidates.append(file.path)
            if file.path.hasPrefix("config/") && file.path.hasSuffix(".yaml") {
                candidates.append(String(file.path.dropLast(".yaml".count)) + ".json")
            }
        }
        var existing: [String] = []
        var seen = Set<String>()
        for candidate in candidates where seen.insert(candidate).inserted {
            var info = stat()
            if lstat(root + "/" + candidate, &info) == 0 {
                existing.append(candidate)
            } else if errno == ENOTDIR {
                let parent = (candidate as NSString).deletingLastPathComponent
                if seen.insert(parent + "/").inserted { existing.append(parent) }
            }
        }
        guard !existing.isEmpty else { return }
        let list = Self.sentence(existing)
        let verb = existing.count == 1 ? "exists" : "exist"
        if existing.contains("component.yaml") || existing.contains("component.json") {
            throw HLDError("\(root) already holds an HLD (\(list) \(verb)); nothing was written").kind(.output)
        }
        throw HLDError("\(list) already \(verb) in \(root) and hld init never overwrites a file, so nothing was written (move \(existing.count == 1 ? "it" : "them") aside, or choose other environment or group names)").kind(.output)
    }

    private static func sentence(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }
}

/// Prefix of the temporaries `Scaffold.write` makes beside the files it writes (followed by
/// the process id, as `InFlight.removeStale` expects).
private let temporaryPrefix = ".hld-init-"

/// What one `Scaffold.write` has made so far, so that a failure or an interrupt removes it.
private struct Made {
    private var files: [String] = []
    private var directories: [String] = []
    private var swept = Set<String>()

    /// `directory` and its missing parents, one `mkdir` at a time.
    mutating func directories(_ directory: String) throws(HLDError) {
        var missing: [String] = []
        var path = directory
        var info = stat()
        while !path.isEmpty && path != "/" && lstat(path, &info) != 0 {
            missing.append(path)
            path = (path as NSString).deletingLastPathComponent
        }
        for path in missing.reversed() {
            guard mkdir(path, 0o777) == 0 else {
                throw HLDError("cannot create \(path): \(String(cString: strerror(errno)))").kind(.output)
            }
            // Registered once made: an interrupt in between leaves an empty directory
            // rather than risk removing one another process made.
            InFlight.track(path)
            directories.append(path)
        }
        if swept.insert(directory).inserted {
            InFlight.removeStale(in: directory, prefix: temporaryPrefix)
        }
    }

    /// Writes `bytes` to a temporary beside `path` and links it into place: `path` appears
    /// whole or not at all, and a file that appeared there meanwhile is never replaced.
    mutating func file(_ path: String, _ bytes: [UInt8], shownAs shown: String) throws(HLDError) {
        let temporary = try AtomicFile.temporary(beside: path, bytes, mode: nil, prefix: temporaryPrefix, shownAs: shown)
        defer {
            unlink(temporary)
            InFlight.untrack(temporary)
        }
        guard link(temporary, path) == 0 else {
            let reason = errno == EEXIST ? "it appeared while hld init was writing; nothing else was kept" : String(cString: strerror(errno))
            throw HLDError("cannot create \(shown): \(reason)").kind(.output)
        }
        InFlight.track(path)
        files.append(path)
    }

    /// `path` replaced by a file holding `bytes` (with `mode`), in one rename.
    func replace(_ path: String, _ bytes: [UInt8], mode: mode_t, shownAs shown: String) throws(HLDError) {
        try AtomicFile.replace(path, bytes, mode: mode, prefix: temporaryPrefix, shownAs: shown)
    }

    /// Everything made stays: no interrupt removes it any more.
    func keep() {
        for path in files + directories { InFlight.untrack(path) }
    }

    /// Removes what was made, newest first; a directory only when it is empty.
    func undo() {
        for path in files.reversed() {
            unlink(path)
            InFlight.untrack(path)
        }
        for path in directories.reversed() {
            rmdir(path)
            InFlight.untrack(path)
        }
    }
}

/// A `.gitignore` as found before anything is written.
private struct IgnoreFile {
    /// Where the bytes go: `.gitignore`, or what it links to.
    let path: String
    let shown: String
    /// Nil when there is none.
    let contents: [UInt8]?
    let mode: mode_t

    static func read(_ path: String) throws(HLDError) -> IgnoreFile {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw HLDError("cannot read \(path): \(String(cString: strerror(errno)))").kind(.output) }
            return IgnoreFile(path: path, shown: ".gitignore", contents: nil, mode: 0o644)
        }
        // A link is followed: the file it points to gets the entry, the link stays.
        var target = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw HLDError("\(path) is a symbolic link to nothing: \(String(cString: strerror(errno)))").kind(.output)
            }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &info) == 0 else { throw HLDError("cannot read \(target): \(String(cString: strerror(errno)))").kind(.output) }
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw HLDError("\(path) is not a regular file").kind(.output) }
        guard let data = FileManager.default.contents(atPath: target) else {
            throw HLDError("cannot read \(target)").kind(.output)
        }
        return IgnoreFile(path: target, shown: ".gitignore", contents: Array(data), mode: info.st_mode & 0o7777)
    }

    /// Whether a line already ignores `entry` (`generated/`, also written `generated` or
    /// anchored `/generated/`).
    func ignores(_ entry: String) -> Bool {
        guard let contents else { return false }
        let bare = entry.hasSuffix("/") ? String(entry.dropLast()) : entry
        let forms: Set<String> = [bare, bare + "/", "/" + bare, "/" + bare + "/"]
        return String(decoding: contents, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .contains { forms.contains($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func addEntry(_ entry: String, made: inout Made) throws(HLDError) -> Scaffold.Written.IgnoreChange {
        guard let contents else {
            try made.file(path, Array("\(entry)\n".utf8), shownAs: shown)
            return .created
        }
        if ignores(entry) { return .unchanged }
        let separator: [UInt8] = contents.isEmpty || contents.last == UInt8(ascii: "\n") ? [] : [UInt8(ascii: "\n")]
        try made.replace(path, contents + separator + Array("\(entry)\n".utf8), mode: mode, shownAs: shown)
        return .appended
    }
}
