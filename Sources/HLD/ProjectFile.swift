import Foundation
import Git
public import YAML

/// The optional `hld.yaml` at the root: environments (the promotion path), groups,
/// default environments and URL mirrors.
public struct ProjectFile: Sendable, Equatable {
    public var environments: [String] = []
    public var groups: [String] = []
    /// What `hld materialize` renders when no environment is named.
    public var defaults: [String] = []
    /// URL prefix → replacement; relative replacements are resolved against the project
    /// directory.
    public var mirrors: [String: String] = [:]
    /// Config key paths promoted like pins (`subcomponents.*.config.image.tag`); `*`
    /// matches any one key.
    public var promote: [[PathSegment]] = []
    /// Each environment's lock section also pins the HLD commit whose component files it
    /// renders.
    public var promoteDefinitions = false
    /// The branch an environment's config is read from under `--locked` (`{env}` stands for
    /// the environment); nil: the working tree.
    public var configBranches: String?
    /// Where the file was, if there was one.
    public var file: String?

    public init() {}

    /// Every name that may be used as an environment on the command line.
    public var knownNames: [String] { environments + groups }

    /// Reads `hld.yaml` in `directory`; an empty project when there is none.
    public static func load(in directory: String) throws(HLDError) -> ProjectFile {
        let path = directory + "/hld.yaml"
        var project = ProjectFile()
        guard FileManager.default.fileExists(atPath: path) else { return project }
        project.file = path
        let node: Node
        do {
            node = try Node.document(contentsOf: path)
        } catch {
            throw HLDError(error)
        }
        if node.isNull { return project }
        func at(_ node: Node) -> SourceLocation { SourceLocation(file: path, line: node.mark.line, column: node.mark.column) }
        guard let pairs = node.pairs else { throw HLDError(at(node), "hld.yaml must be a mapping") }
        func names(_ value: Node, _ key: String) throws(HLDError) -> [String] {
            if value.isNull { return [] }
            guard let items = value.sequence else { throw HLDError(at(value), "\(key) must be a list of names") }
            var result: [String] = []
            for item in items {
                guard let name = item.textValue, !name.isEmpty, !name.contains("/") else {
                    throw HLDError(at(item), "\(key) entries must be plain names")
                }
                if result.contains(name) { throw HLDError(at(item), "\(name) is listed twice in \(key)") }
                result.append(name)
            }
            return result
        }
        for pair in pairs {
            switch pair.key.scalarText {
            case "environments": project.environments = try names(pair.value, "environments")
            case "groups": project.groups = try names(pair.value, "groups")
            case "defaults": project.defaults = try names(pair.value, "defaults")
            case "mirrors":
                if pair.value.isNull { continue }
                guard let entries = pair.value.pairs else { throw HLDError(at(pair.value), "mirrors must map URL prefixes to replacements") }
                for entry in entries {
                    guard let from = entry.key.scalarText, var to = entry.value.textValue else {
                        throw HLDError(at(entry.value), "a mirror maps a URL prefix to a replacement URL or path")
                    }
                    if !to.contains("://") && !to.hasPrefix("/") {
                        to = URL(fileURLWithPath: directory).appendingPathComponent(to).standardizedFileURL.path + (to.hasSuffix("/") ? "/" : "")
                    }
                    project.mirrors[from] = to
                }
            case "promote":
                if pair.value.isNull { continue }
                guard let items = pair.value.sequence else { throw HLDError(at(pair.value), "promote must be a list of config key paths (subcomponents.*.config.image.tag)") }
                for item in items {
                    guard let text = item.textValue, item.sequence == nil, item.pairs == nil else {
                        throw HLDError(at(item), "promote entries are config key paths such as subcomponents.*.config.image.tag")
                    }
                    let path: [PathSegment]
                    do {
                        path = try Authoring.Assignment.keyPath(text)
                    } catch {
                        throw HLDError(at(item), "promote entry \(text): \(error.message)")
                    }
                    project.promote.append(path)
                }
            case "promoteDefinitions":
                guard let value = pair.value.textValue, ["true", "false"].contains(value) else {
                    throw HLDError(at(pair.value), "promoteDefinitions must be true or false")
                }
                project.promoteDefinitions = value == "true"
            case "configBranches":
                guard let value = pair.value.textValue, !value.isEmpty, pair.value.sequence == nil, pair.value.pairs == nil else {
                    throw HLDError(at(pair.value), "configBranches is a branch name pattern such as \"{env}\" or \"config/{env}\"")
                }
                project.configBranches = value
            default:
                let known = ["environments", "groups", "defaults", "mirrors", "promote", "promoteDefinitions", "configBranches"]
                throw HLDError(at(pair.key), "unknown key \(pair.key.scalarText ?? "?") in hld.yaml\(Spelling.hint(for: pair.key.scalarText ?? "", among: known))")
            }
        }
        for name in project.defaults where !project.knownNames.isEmpty && !project.knownNames.contains(name) {
            throw HLDError("\(path): default environment \(name) is not declared in environments or groups")
        }
        if project.configBranches != nil && !project.promoteDefinitions {
            throw HLDError("\(path): configBranches reads each environment's config from its branch when the definitions are promoted; it needs promoteDefinitions: true")
        }
        return project
    }

    /// The config branch of an environment, when `configBranches` is set.
    public func configBranch(for environment: String) -> String? {
        configBranches?.replacingOccurrences(of: "{env}", with: environment)
    }

    /// Every set of environments `--all`, `hld lock` and `drift` go through, in promotion
    /// order: each environment, or each environment × group pair when groups are declared.
    public var environmentSets: [[String]] {
        groups.isEmpty ? environments.map { [$0] } : environments.flatMap { environment in groups.map { [environment, $0] } }
    }
}
