import ArgumentParser
import Foundation
import Git
import HLD

extension HLDCommand {
    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work with hld's cache.",
            subcommands: [Fetch.self]
        )
    }
}

extension HLDCommand.Cache {
    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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
