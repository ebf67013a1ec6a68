import Foundation
import Git
import YAML

/// `hld drift`: what promotion would move between neighbouring environments and has not —
/// pins (from `hld.lock`, or resolved now when there is none), promoted values (from the
/// config files as they are), the definitions commit — and, for information, how many
/// rendered resources differ. Differences that come from environment config alone are not
/// drift.
public enum Drift {
    /// One thing that differs.
    public struct Item: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable { case pin, value, definitions }
        public var kind: Kind
        /// The component's logical path, the config file (of the first environment), or
        /// `definitions`.
        public var subject: String
        /// The source (no ref), or the value's key path.
        public var source: String
        /// What each side has (nil: nothing).
        public var from: String?
        public var to: String?
        /// For commits: whether the first environment's is ahead of (descends from) the
        /// second's, behind it, or unrelated; for versions, the same by version order.
        public var relation: String?
    }

    /// One pair of environments.
    public struct Report: Sendable, Codable {
        public var from: String
        public var to: String
        public var items: [Item] = []
        /// Rendered resources that differ between the two; nil when a render failed.
        public var differingResources: Int?
        /// Why the renders could not be compared.
        public var renderError: String?
        public var drifted: Bool { !items.isEmpty }
    }

    /// Each pair's report. `pairs` name environments (default: each neighbouring pair of
    /// `hld.yaml`'s path); with groups declared, each pair is compared per group.
    public static func compare(_ options: MaterializeOptions, pairs requested: [(String, String)] = []) async throws(HLDError) -> [Report] {
        let root = URL(fileURLWithPath: options.directory).standardizedFileURL.path
        let project = try ProjectFile.load(in: root)
        let path = project.environments
        let pairs = requested.isEmpty ? zip(path, path.dropFirst()).map { ($0, $1) } : requested
        guard !pairs.isEmpty else {
            throw HLDError("hld drift compares neighbouring environments of hld.yaml's promotion path, and \(project.file.map { "\($0) declares \(path.isEmpty ? "none" : "only \(path[0])")" } ?? "there is no hld.yaml"); name two (hld drift dev stage)").kind(.definition)
        }
        for (from, to) in pairs {
            for name in [from, to] where !project.knownNames.isEmpty && !path.contains(name) {
                throw HLDError("unknown environment \(name): \(project.file ?? "hld.yaml") declares \(path.joined(separator: ", "))\(Spelling.hint(for: name, among: path))").kind(.definition)
            }
        }
        let lock = try LockFile.load(in: root)
        var reports: [Report] = []
        var fetcher: SourceFetcher?
        let groups: [[String]] = project.groups.isEmpty ? [[]] : project.groups.map { [$0] }
        for (from, to) in pairs {
            for group in groups {
                let sets = [[from] + group, [to] + group]
                var sections: [LockSection] = []
                var trees: [ResolvedComponent] = []
                for set in sets {
                    var each = options
                    each.environments = set
                    let name = LockFile.sectionName(set)
                    // With a lock, each environment's pins are its section's, rendered as locked.
                    if let lock, lock.sections[name] != nil { each.lockFile = lock } else { each.lockFile = nil }
                    let context = try Materializer.Context(each, sharing: fetcher)
                    fetcher = context.fetcher
                    defer { context.removeScratch() }
                    let tree = try await context.resolvedTree()
                    trees.append(tree)
                    var section = lock?.sections[name] ?? Locking.section(of: tree, environments: set, project: project, definitions: nil)
                    section.values = PromotedValues.read(in: tree, project: project, environment: PromotedValues.environment(of: set, project: project))
                    sections.append(section)
                }
                var report = Report(from: LockFile.sectionName(sets[0]), to: LockFile.sectionName(sets[1]))
                report.items = await items(sections[0], sections[1], from: from, to: to, fetcher: fetcher, root: root)
                // The rendered difference, for information.
                do {
                    var materializations: [Materialization] = []
                    for set in sets {
                        var each = options
                        each.environments = set
                        each.lockFile = lock?.sections[LockFile.sectionName(set)] != nil ? lock : nil
                        each.diagnostics = CollectedDiagnostics()
                        materializations.append(try await Materializer.render(each))
                    }
                    report.differingResources = try ResourceDiff(old: materializations[0], new: materializations[1],
                                                                 options: ResourceDiffOptions(unifiedDiffs: false)).changes.count
                } catch {
                    report.renderError = error.description
                }
                reports.append(report)
            }
        }
        return reports
    }

    /// Pins, promoted values and definitions that differ between the two sections.
    static func items(_ first: LockSection, _ second: LockSection, from: String, to: String, fetcher: SourceFetcher?, root: String) async -> [Item] {
        var items: [Item] = []
        if let a = first.definitions, let b = second.definitions, a != b {
            var relation: String?
            if let (repository, _) = try? ProjectSnapshot.enclosingRepository(of: root), let x = ObjectID(hex: a), let y = ObjectID(hex: b) {
                relation = repository.relation(x, y).rawValue
            }
            items.append(Item(kind: .definitions, subject: "definitions", source: "the HLD repository", from: String(a.prefix(12)), to: String(b.prefix(12)), relation: relation))
        }
        for key in first.components.keys.sorted() {
            guard let mine = first.components[key], let theirs = second.components[key] else { continue }
            for pin in mine.pins where !pin.isLocal {
                guard let other = theirs.pins.first(where: { $0.sameSource(as: pin) }), other.taking(pin) != other else { continue }
                items.append(Item(kind: .pin, subject: key, source: pin.sourceIdentity, from: pin.resolvedDescription, to: other.resolvedDescription,
                                  relation: await relation(pin, other, fetcher: fetcher)))
            }
        }
        for file in first.values.keys.sorted() {
            let counterpart = counterpartFile(file, from: from, to: to)
            let theirs = second.values.first { counterpartFile($0.key, from: to, to: to) == counterpart }?.value ?? [:]
            for (path, value) in first.values[file]!.sorted(by: { $0.key < $1.key }) where theirs[path] != value {
                items.append(Item(kind: .value, subject: file, source: path, from: value.flowText, to: theirs[path]?.flowText, relation: nil))
            }
        }
        return items
    }

    /// `config/dev.yaml` → `config/stage` (the extension left out: either may be JSON).
    static func counterpartFile(_ file: String, from: String, to: String) -> String {
        for ext in [".yaml", ".json"] where file.hasSuffix("config/\(from)\(ext)") {
            return String(file.dropLast("\(from)\(ext)".count)) + to
        }
        return file
    }

    /// Whether `a`'s resolution is ahead of `b`'s: commit history for git, version order for charts.
    static func relation(_ a: Pin, _ b: Pin, fetcher: SourceFetcher?) async -> String? {
        switch (a, b) {
        case (.git(let url, _, let x, _, _), .git(_, _, let y, _, _)):
            guard let fetcher else { return nil }
            return await fetcher.relation(url, x, y).rawValue
        case (.chart(_, _, _, let x, _), .chart(_, _, _, let y, _)), (.oci(_, _, let x, _, _), .oci(_, _, let y, _, _)):
            guard let v = SemanticVersion(x), let w = SemanticVersion(y) else { return nil }
            return v > w ? "ahead" : v < w ? "behind" : "republished"
        default:
            return nil
        }
    }
}

extension Pin {
    /// The source without the ref it asks for (`git https://…/cat.git deploy`): what two
    /// environments share when they follow different branches of it.
    var sourceIdentity: String {
        switch self {
        case .git(let url, _, _, let path, _): return "git \(url)" + (path.isEmpty ? "" : " " + path)
        case .chart(let repository, let name, _, _, _): return "chart \(name) from \(repository)"
        case .oci(let reference, _, _, _, _): return "chart \(reference)"
        case .http(let url, _): return "http \(url)"
        case .local(let path): return "local \(path)"
        }
    }
}
