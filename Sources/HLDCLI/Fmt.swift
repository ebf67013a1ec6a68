import ArgumentParser
import Foundation
import HLD
import YAML

extension HLDCommand {
    struct Fmt: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fmt",
            abstract: "Re-emit YAML or JSON manifests in hld's canonical Kubernetes style.",
            discussion: """
                Parses every document of every file (aliases expanded, merge keys applied, \
                duplicate keys rejected) and writes them to standard output, each starting \
                with `---`: 2-space indent, block style, literal blocks for multi-line \
                strings, and quotes on every string a YAML 1.1 or 1.2 reader would take for \
                another type. Nothing is written unless every file parses.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "YAML or JSON files to read.", completion: .file())
        var files: [String]

        func run() throws {
            _ = try global.enterDirectory()
            // Each document is emitted as soon as it is parsed and its tree dropped, so memory
            // holds the input and the output text, not every tree; the output is held back
            // until every file has parsed.
            let writer = YAMLWriter(options: EmitOptions(explicitDocumentStart: true))
            var output: [UInt8] = []
            // Canonical output is about as long as the input; reserving that up front avoids
            // a grow-and-copy of the whole buffer, which would double peak memory.
            let inputSize = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            output.reserveCapacity(inputSize + inputSize / 8)
            do {
                for file in files {
                    let reader = try DocumentReader(contentsOf: file)
                    while let document = try reader.next() {
                        try writer.write(document)
                        output += writer.takeOutput()
                    }
                }
                try writer.finish()
                output += writer.takeOutput()
            } catch {
                printError(error.description)
                throw ExitCode.failure
            }
            try writeStandardOutput(output)
        }
    }
}

/// Writes all of `bytes` to standard output without an intermediate copy.
func writeStandardOutput(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let n = write(STDOUT_FILENO, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                printError("cannot write to standard output: \(String(cString: strerror(errno)))")
                throw ExitCode.failure
            }
            offset += n
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("\(Colour.paint("error:", .red)) \(message)\n".utf8))
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("\(Colour.paint("warning:", .yellow)) \(message)\n".utf8))
}

/// Colour for `error:` and `warning:`: on a terminal only, never with `NO_COLOR` set or
/// `--color never`, always with `--color always`.
enum Colour {
    enum Tint: String { case red = "31", yellow = "33" }

    /// Set once from `--color` while the arguments are parsed, before anything prints.
    nonisolated(unsafe) static var mode: ColourMode = .auto

    static var enabled: Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return !noColor && isatty(STDERR_FILENO) == 1
        }
    }

    static func paint(_ text: String, _ tint: Tint) -> String {
        enabled ? "\u{1B}[1;\(tint.rawValue)m\(text)\u{1B}[0m" : text
    }
}

enum ColourMode: String, ExpressibleByArgument, Sendable {
    case auto, always, never
}

/// Every failure of an hld error (siblings that failed together), one `error:` line each.
func printError(_ error: HLDError) {
    for failure in error.all { printError(failure.description) }
}
