import ArgumentParser
import Foundation
import HLD

/// Flags every command shares (SPEC §7).
struct GlobalOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if started in <dir>.", valueName: "dir"))
    var directory: String?

    // `.unconditional`: `--jobs -3` is a bad number, not a missing value.
    @Option(parsing: .unconditional, help: "How many fetches and renders run at once.")
    var jobs: Int = 4

    @Flag(help: "Use only what the cache holds; never contact a server.")
    var offline = false

    @Flag(name: .shortAndLong, help: "Say more about what happens (on stderr).")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Say nothing but errors.")
    var quiet = false

    @Option(help: "Colour error: and warning: (auto: on a terminal, unless NO_COLOR is set; always; never).")
    var color: ColourMode = .auto

    @Flag(help: "Treat every warning as an error (a duplicate key in a chart's output, an unknown field, config for no subcomponent, …); nothing is written.")
    var strict = false

    @Option(help: ArgumentHelp("The helm to render charts with (default: $HLD_HELM, else helm on PATH).", valueName: "path"))
    var helm: String?

    @Option(help: ArgumentHelp("The kustomize (or kubectl) to build kustomizations with (default: $HLD_KUSTOMIZE, else kustomize, else kubectl on PATH).", valueName: "path"))
    var kustomize: String?

    @Option(help: ArgumentHelp("The cache directory (default: $HLD_CACHE_DIR, $XDG_CACHE_HOME/hld, ~/.cache/hld).", valueName: "dir"))
    var cacheDir: String?

    @Option(help: ArgumentHelp("Trust only the CA certificates in this PEM file for HTTPS (git, chart repositories, registries, http manifests; default: $SSL_CERT_FILE, else the system's).", valueName: "file"))
    var caFile: String?

    func validate() throws {
        Colour.mode = color
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if verbose && quiet { throw ValidationError("--verbose and --quiet cannot be used together") }
        do {
            try TransportSecurity.configure(caFile: caFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    /// Applies `-C` and returns the working directory.
    func enterDirectory() throws -> String {
        if let directory {
            guard FileManager.default.changeCurrentDirectoryPath(directory) else {
                printError("cannot change to directory \(directory)")
                throw ExitCode.failure
            }
        }
        return FileManager.default.currentDirectoryPath
    }

    var cacheRoot: URL { CacheLocation.resolve(explicit: cacheDir) }

    /// Applies `-C` and gathers what a materialize or install run needs.
    func materializeOptions(environments: [String], allowHooks: Bool) throws -> MaterializeOptions {
        var options = MaterializeOptions(
            directory: try enterDirectory(), environments: environments, jobs: jobs, offline: offline,
            cacheRoot: cacheRoot, allowHooks: allowHooks, diagnostics: TerminalDiagnostics(verbose: verbose, quiet: quiet),
            helmPath: helm, kustomizePath: kustomize)
        options.strict = strict
        return options
    }

    func progress(_ message: String) {
        guard verbose else { return }
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
}

extension MaterializeOptions {
    /// `--locked` (and `--frozen`: no network either): the project's `hld.lock`, which
    /// must exist.
    mutating func useLock(offline frozen: Bool) throws(HLDError) {
        guard let lock = try LockFile.load(in: directory) else {
            throw HLDError("\(directory)/\(LockFile.fileName) does not exist: run hld lock to write it").kind(.definition)
        }
        lockFile = lock
        if frozen { offline = true }
    }
}

/// Prints a failure after whatever the run printed: the live line ended, the warnings
/// `--quiet` held (they often explain it), then the error.
func printFailure(_ error: HLDError, _ options: MaterializeOptions) {
    HLDCommand.waitIfStopping()
    (options.diagnostics as? TerminalDiagnostics)?.endLine()
    (options.diagnostics as? TerminalDiagnostics)?.printHeld()
    printError(error)
}
