import ArgumentParser
import Foundation
import YAML

extension HLDCommand {
    struct Fmt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-emit YAML or JSON manifests in hld's canonical Kubernetes style.",
            discussion: """
                Parses every document of every file (aliases expanded, merge keys applied, \
                duplicate keys rejected) and writes them to standard output, each starting \
                with `---`: 2-space indent, block style, literal blocks for multi-line \
                strings, and quotes on every string a YAML 1.1 or 1.2 reader would take for \
                another type. Nothing is written unless every file parses.
                """
        )

        @Argument(help: "YAML or JSON files to read.", completion: .file())
        var files: [String]

        func run() throws {
            var documents: [Node] = []
            for file in files {
                do {
                    documents += try DocumentReader(contentsOf: file).readAll()
                } catch {
                    printError(error.description)
                    throw ExitCode.failure
                }
            }
            let text: String
            do {
                text = try Node.yaml(documents: documents, options: EmitOptions(explicitDocumentStart: true))
            } catch {
                printError(error.description)
                throw ExitCode.failure
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}
