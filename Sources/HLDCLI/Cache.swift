import ArgumentParser
import CacheStore
import Foundation
import Git
import HLD

extension HLDCommand {
    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cache",
            abstract: "Work with hld's cache.",
            subcommands: [Fetch.self, Info.self, Prune.self]
        )
    }
}

extension HLDCommand.Cache {
    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fetch",
            abstract: "Fetch git repositories into the cache and print what each ref resolves to.",
            discussion: """
                Prints one line per URL: the commit, the tree at --path, and the URL \
                (credentials removed). Each URL is fetched once, at most --jobs at a time; \
                tokens come from access.yaml in the working directory or \
                HLD_GIT_TOKEN_<HOST>; the mirrors of hld.yaml in the working directory and \
                HLD_MIRRORS rewrite URL prefixes.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The branch to resolve (default: the remote's default branch).")
        var branch: String?

        @Option(help: "A tag or commit id to resolve (wins over --branch).")
        var version: String?

        @Option(help: "A directory inside the repository.")
        var path: String = ""

        @Flag(help: "Also export the tree at --path into the cache.")
        var export = false

        @Argument(help: "Git URLs or absolute paths of repositories.")
        var urls: [String]

        func run() async throws {
            let workingDirectory = try global.enterDirectory()
            let ref = GitRef(branch: branch, version: version)
            let cache: MirrorCache
            let parsed: [GitURL]
            do {
                let access = try AccessFile.load(workingDirectory + "/access.yaml")
                let environment = ProcessInfo.processInfo.environment
                // A relative path names a local repository, relative to the working directory.
                parsed = try urls.map { url throws(GitSourceError) in
                    let local = !url.hasPrefix("/") && !url.contains("://") && FileManager.default.fileExists(atPath: url)
                    return try GitURL(local ? workingDirectory + "/" + url : url)
                }
                cache = try MirrorCache(options: MirrorCacheOptions(
                    root: global.cacheRoot, offline: global.offline,
                    credentials: GitCredentials(accessTokens: access, environment: environment),
                    rewrites: URLRewrites(try ProjectFile.load(in: workingDirectory).mirrors).merging(try URLRewrites.fromEnvironment(environment))))
            } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            let results = await withTaskGroup(of: (Int, Result<ResolvedSource?, GitSourceError>, ObjectID?, ObjectID?).self) { group in
                var next = 0
                var results: [(Int, Result<ResolvedSource?, GitSourceError>, ObjectID?, ObjectID?)] = []
                func add() {
                    guard next < parsed.count else { return }
                    let index = next, url = parsed[index], path = self.path, export = self.export
                    next += 1
                    group.addTask {
                        do throws(GitSourceError) {
                            if export { return (index, .success(try await cache.source(url, ref, path: path)), nil, nil) }
                            let (commit, tree) = try await cache.locate(url, ref, path: path)
                            return (index, .success(nil), commit, tree)
                        } catch {
                            return (index, .failure(error), nil, nil)
                        }
                    }
                }
                for _ in 0..<global.jobs { add() }
                for await result in group {
                    results.append(result)
                    add()
                }
                return results.sorted { $0.0 < $1.0 }
            }
            var failed = false
            for (index, result, commit, tree) in results {
                switch result {
                case .success(let source?):
                    print("\(source.commit) \(source.tree) \(parsed[index].redacted) \(source.directory.path)")
                case .success(nil):
                    print("\(commit?.hex ?? "-") \(tree?.hex ?? "-") \(parsed[index].redacted)")
                case .failure(let error):
                    printError(error.description)
                    failed = true
                }
            }
            let contacted = await cache.contacted.count
            let downloaded = await cache.downloaded.count
            global.progress("contacted \(contacted) remote(s), downloaded from \(downloaded)")
            if failed { throw ExitCode.failure }
        }
    }
}

/// `--format` of `hld cache info` and `hld cache prune`.
enum CacheReportFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}

extension HLDCommand.Cache {
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Show how much the cache holds, per kind of entry.",
            discussion: """
                Prints the cache directory, then per kind (git mirrors, git trees, chart \
                archives, chart indexes, OCI records, http URLs, http objects, renders, \
                assembled charts, tools) the number of entries and the bytes of their \
                files, what belongs to no entry (temporaries of interrupted runs, files \
                other versions left), and the total. --format json gives exact byte counts \
                for scripts.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "text or json.")
        var format: CacheReportFormat = .text

        func run() async throws {
            let root = global.cacheRoot
            let inventory = CacheMaintenance.inventory(cacheRoot: root)
            switch format {
            case .json:
                struct Kind: Encodable {
                    var kind: String, directory: String, entries: Int, bytes: Int64
                }
                struct Report: Encodable {
                    var directory: String, kinds: [Kind], otherBytes: Int64, entries: Int, bytes: Int64
                }
                let kinds = CacheStore.Kind.allCases.map { kind in
                    let usage = inventory.usage(kind)
                    return Kind(kind: kind.rawValue, directory: kind.directory, entries: usage.entries, bytes: usage.bytes)
                }
                try printJSON(Report(directory: root.path, kinds: kinds, otherBytes: inventory.otherBytes,
                                     entries: inventory.entries.count, bytes: inventory.totalBytes))
            case .text:
                var lines = ["cache directory: \(root.path)"]
                func row(_ label: String, _ entries: Int?, _ bytes: Int64) -> String {
                    label.padding(toLength: 18, withPad: " ", startingAt: 0)
                        + (entries.map { "\($0)" } ?? "").leftPadded(to: 8) + "  " + ByteText.format(bytes).leftPadded(to: 10)
                }
                lines.append("kind".padding(toLength: 18, withPad: " ", startingAt: 0) + "entries".leftPadded(to: 8) + "  " + "size".leftPadded(to: 10))
                for kind in CacheStore.Kind.allCases {
                    let usage = inventory.usage(kind)
                    lines.append(row(kind.plural, usage.entries, usage.bytes))
                }
                lines.append(row("other", nil, inventory.otherBytes))
                lines.append(row("total", inventory.entries.count, inventory.totalBytes))
                try writeStandardOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove cache entries that were not used lately.",
            discussion: """
                Removes entries last used longer ago than --older-than, then, least recently \
                used first, entries until the rest take at most --max-size; with neither, \
                --older-than 30d. An entry is used when a run reads it (its .use file beside \
                it records when). Never removed: an entry a running hld process is using or \
                writing (it is skipped, and said so), and what the project's hld.lock pins \
                (in the working directory, or -C): the mirrors and exported trees of pinned \
                commits, pinned chart archives and http manifests, so that materialize \
                --frozen still works. Prints each entry removed and the space freed; \
                --dry-run prints what would go and removes nothing.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Remove entries last used longer ago than this: a number with s, m, h, d or w (90m, 12h, 30d).", valueName: "age"))
        var olderThan: String?

        @Option(help: ArgumentHelp("Then remove the least recently used entries until the rest take at most this: bytes, or a number with K, M, G or T (500M, 5G; powers of 1024).", valueName: "size"))
        var maxSize: String?

        @Flag(help: "Print what would be removed; remove nothing.")
        var dryRun = false

        @Option(help: "text or json.")
        var format: CacheReportFormat = .text

        func validate() throws {
            if let olderThan, CacheMaintenance.parseAge(olderThan) == nil {
                throw ValidationError("--older-than \(olderThan) is not an age: write a number with s, m, h, d or w (90m, 12h, 30d)")
            }
            if let maxSize, CacheMaintenance.parseSize(maxSize) == nil {
                throw ValidationError("--max-size \(maxSize) is not a size: write bytes (1048576) or a number with K, M, G or T (500M, 5G)")
            }
        }

        /// The limits as given; `--older-than 30d` when neither is.
        var limits: PruneLimits {
            let age = olderThan.flatMap(CacheMaintenance.parseAge)
            let size = maxSize.flatMap(CacheMaintenance.parseSize)
            return PruneLimits(olderThan: age ?? (size == nil ? 30 * 86400 : nil), maxBytes: size)
        }

        func run() async throws {
            let directory = try global.enterDirectory()
            let outcome: CacheMaintenance.PruneOutcome
            do {
                outcome = try CacheMaintenance.prune(cacheRoot: global.cacheRoot, projectDirectory: directory, limits: limits, dryRun: dryRun)
            } catch {
                printError("\(error) (nothing was removed)")
                throw ExitCode.failure
            }
            let report = outcome.report
            switch format {
            case .json:
                struct Entry: Encodable {
                    var kind: String, name: String, bytes: Int64, lastUsed: String, reason: String?
                }
                struct Report: Encodable {
                    var dryRun: Bool, lockFile: String?
                    var removed: [Entry], skipped: [Entry], kept: [Entry], failed: [Entry]
                    var freedBytes: Int64, leftoverBytes: Int64, remainingBytes: Int64
                }
                func entry(_ stored: StoredEntry, _ reason: String? = nil) -> Entry {
                    Entry(kind: stored.entry.kind.rawValue, name: stored.entry.name, bytes: stored.bytes, lastUsed: timestamp(stored.lastUsed), reason: reason)
                }
                try printJSON(Report(dryRun: dryRun, lockFile: outcome.lockFile, removed: report.removed.map { entry($0) },
                                     skipped: report.skipped.map { entry($0) }, kept: report.kept.map { entry($0) },
                                     failed: report.failed.map { entry($0.0, $0.1) }, freedBytes: report.freedBytes,
                                     leftoverBytes: report.leftoverBytes, remainingBytes: report.remainingBytes))
            case .text:
                let verb = dryRun ? "would remove" : "removed"
                var lines: [String] = []
                for stored in report.removed {
                    lines.append("\(verb) \(describe(stored)) (\(ByteText.format(stored.bytes)), last used \(timestamp(stored.lastUsed)))")
                }
                for stored in report.skipped {
                    lines.append("skipped \(describe(stored)): another hld process is using or writing it")
                }
                if !report.kept.isEmpty, let lockFile = outcome.lockFile {
                    lines.append("kept \(report.kept.count) \(report.kept.count == 1 ? "entry" : "entries") that \(lockFile) pins")
                }
                let leftovers = report.leftoverBytes > 0 ? " and \(ByteText.format(report.leftoverBytes)) of interrupted writes" : ""
                let count = "\(report.removed.count) \(report.removed.count == 1 ? "entry" : "entries")"
                lines.append("\(verb) \(count)\(leftovers), \(dryRun ? "would free" : "freed") \(ByteText.format(report.freedBytes)); "
                             + "the entries left take \(ByteText.format(report.remainingBytes))")
                try writeStandardOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
            }
            for (stored, reason) in report.failed {
                printError("cannot remove \(stored.entry.path): \(reason) (check the permissions of \(stored.entry.directory), or remove it by hand while no hld runs)")
            }
            if !report.failed.isEmpty { throw ExitCode.failure }
        }

        private func describe(_ stored: StoredEntry) -> String {
            "\(stored.entry.kind.singular) \(stored.entry.name)"
        }
    }
}

/// `2026-01-31T12:00:00Z`.
private func timestamp(_ date: Date) -> String {
    date == .distantPast ? "never" : ISO8601DateFormatter().string(from: date)
}

private func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try writeStandardOutput(Array(try encoder.encode(value)) + [0x0A])
}

/// Byte counts for people: `0 B`, `512 B`, `1.5 KiB`, `12.3 MiB`, `4.0 GiB`.
enum ByteText {
    static func format(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes)
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            value /= 1024
            if value < 1024 || unit == "TiB" { return String(format: "%.1f %@", value, unit) }
        }
        return "\(bytes) B"
    }
}

extension CacheStore.Kind {
    /// How `hld cache info` names the kind.
    var plural: String {
        switch self {
        case .gitMirrors: "git mirrors"
        case .gitTrees: "git trees"
        case .chartArchives: "chart archives"
        case .chartIndexes: "chart indexes"
        case .ociRecords: "OCI records"
        case .httpURLs: "http URLs"
        case .httpObjects: "http objects"
        case .renders: "renders"
        case .assembledCharts: "assembled charts"
        case .tools: "tools"
        }
    }

    /// How `hld cache prune` names one entry of the kind.
    var singular: String {
        switch self {
        case .gitMirrors: "git mirror"
        case .gitTrees: "git tree"
        case .chartArchives: "chart archive"
        case .chartIndexes: "chart index"
        case .ociRecords: "OCI record"
        case .httpURLs: "http URL"
        case .httpObjects: "http object"
        case .renders: "render"
        case .assembledCharts: "assembled chart"
        case .tools: "tool"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
