import ArgumentParser
import CacheStore
import Foundation
import HLD

@main
struct HLDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hld",
        abstract: "Materialize Fabrikate-style high-level definitions into Kubernetes manifests.",
        discussion: """
            Run in the directory of the top-level component (or pass -C): `hld materialize \
            prod` resolves the component tree, fetches every git repository, chart and \
            manifest it names into a shared cache, merges config/common with the \
            environment's config, renders Helm charts, Kustomize directories and static \
            manifests, and writes generated/prod/ atomically. `hld init` scaffolds a new \
            HLD; `hld install` only fetches; `hld lock` pins every source per environment in \
            hld.lock, `materialize --locked` renders exactly those pins, `hld promote dev \
            stage` moves them (and the promoted config values) to the next environment and \
            `hld drift` reports what has not been promoted; \
            `hld set`, `hld add` and `hld remove` edit config and component files in place, \
            keeping comments and formatting; `hld diff dev prod` (or `hld diff prod \
            --base HEAD~1`) compares two renders resource by resource; `hld explain` shows \
            a component's merged config with the file and line of each value; `hld tree` shows the resolved component \
            tree; `hld fmt` re-emits manifests in hld's canonical style; `hld cache fetch` fetches \
            git repositories, `hld cache info` shows what the cache holds and `hld cache \
            prune` removes what was not used lately. Global options (-C, --jobs, --offline, --verbose, --quiet, \
            --strict, --color, --helm, --kustomize, --cache-dir, --ca-file) go before or after the \
            subcommand. \
            Exit status: 0 success, 1 failure (or differences for --check, diff and \
            drift), 2 trouble for diff and drift, 64 usage errors.
            """,
        version: BuildInfo.hldVersion,
        subcommands: [Init.self, Materialize.self, Install.self, Lock.self, Promote.self, Drift.self, Diff.self, SetValues.self, Add.self, Remove.self, Explain.self, Tree.self, Cache.self, Fmt.self, Version.self]
    )

    /// Parses with the global options moved behind the subcommand, where the subcommand's
    /// option group reads them: `hld -C dir materialize prod` is `hld materialize -C dir prod`.
    static func main() async {
        Interrupts.install()
        let arguments = GlobalArguments.hoisted(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            waitIfStopping()
            exit(withError: error)
        }
        waitIfStopping()
    }

    /// While an interrupt is being handled, the handler's thread cleans up and exits with
    /// 130 or 143; the run must not exit first with its own status (a failure the
    /// interrupt itself caused, such as a temporary file it refused, is not the run's).
    static func waitIfStopping() {
        guard InFlight.isStopping else { return }
        while true { pause() }
    }
}

extension ParsableCommand {
    /// Exits with `code` — unless an interrupt is being handled, whose handler exits first.
    static func exitFailing(_ code: ExitCode) -> Never {
        HLDCommand.waitIfStopping()
        exit(withError: code)
    }
}

/// Where global options may be written: before the subcommand as well as after it.
enum GlobalArguments {
    /// Options that take a value.
    static let valued: Set<String> = ["-C", "--jobs", "--helm", "--kustomize", "--cache-dir", "--color", "--ca-file"]
    /// Options that are flags.
    static let flags: Set<String> = ["--offline", "-v", "--verbose", "-q", "--quiet", "--strict"]
    /// Subcommands, with the ones nested under them.
    static let subcommands: [String: Set<String>] = [
        "init": [], "materialize": [], "generate": [], "install": [], "diff": [], "set": [], "add": [], "remove": [], "explain": [], "tree": [],
        "fmt": [], "version": [], "cache": ["fetch", "info", "prune"], "lock": [], "promote": [], "drift": [],
    ]

    /// `arguments` with the global options that come before the subcommand moved to just
    /// after it (after a nested subcommand: `cache fetch`). Anything else is left as it is,
    /// so argument-parser reports mistakes as usual.
    static func hoisted(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flags.contains(argument) {
                globals.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.count {
                globals += [argument, arguments[index + 1]]
                index += 2
            } else if valued.contains(name) && argument.contains("=") {
                globals.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !globals.isEmpty, index < arguments.count, let nested = subcommands[arguments[index]] else { return arguments }
        var path = [arguments[index]]
        index += 1
        if index < arguments.count, nested.contains(arguments[index]) {
            path.append(arguments[index])
            index += 1
        }
        return path + globals + arguments[index...]
    }
}
