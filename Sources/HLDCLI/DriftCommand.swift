import ArgumentParser
import Foundation
import HLD

extension HLDCommand {
    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drift",
            abstract: "Report what promotion would move between environments and has not.",
            usage: "hld drift [<options>] [<from> <to>]",
            discussion: """
                For each neighbouring pair of hld.yaml's promotion path (or the two \
                environments named): the pins that differ (from hld.lock, or resolved now when \
                there is none), with whether the first environment's commit or version is \
                ahead of the second's; the promoted values (hld.yaml promote:) that differ in \
                the config files; the definitions commit with promoteDefinitions; and, for \
                information, how many rendered resources differ. Differences that come from \
                environment config alone are not drift. Exit status: 0 no drift, 1 drift, 2 \
                trouble (a render or resolve failed), 64 usage errors.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Two environments, the earlier one first (default: each neighbouring pair).", valueName: "environment"),
                  completion: .custom(environmentNames))
        var environments: [String] = []

        @Option(help: "text, markdown (a table per pair, for a pull-request comment), or json.")
        var format: DiffFormat = .text

        func validate() throws {
            guard environments.isEmpty || environments.count == 2 else {
                throw ValidationError("hld drift compares two environments (hld drift stage prod), or each neighbouring pair when none is named; got \(environments.count)")
            }
        }

        func run() async throws {
            let options: MaterializeOptions
            do {
                options = try global.materializeOptions(environments: [], allowHooks: false)
            } catch {
                throw ExitCode(2)
            }
            let reports: [HLD.Drift.Report]
            do {
                let pairs = environments.count == 2 ? [(environments[0], environments[1])] : []
                reports = try await HLD.Drift.compare(options, pairs: pairs)
            } catch {
                if format == .json { try? DriftText.json(reports: [], error: error) }
                printFailure(error, options)
                Self.exitFailing(ExitCode(2))
            }
            (options.diagnostics as? TerminalDiagnostics)?.endLine()
            switch format {
            case .text: print(DriftText.text(reports), terminator: "")
            case .markdown: print(DriftText.markdown(reports), terminator: "")
            case .json: try DriftText.json(reports: reports, error: nil)
            }
            for report in reports where report.renderError != nil {
                printError("cannot compare the renders of \(report.from) and \(report.to): \(report.renderError ?? "")")
            }
            if reports.contains(where: { $0.renderError != nil }) { throw ExitCode(2) }
            if reports.contains(where: \.drifted) { throw ExitCode.failure }
        }
    }
}

/// How `hld drift` shows its reports.
enum DriftText {
    static func side(_ value: String?) -> String { value ?? "(none)" }

    static func relation(_ item: HLD.Drift.Item, _ report: HLD.Drift.Report) -> String {
        switch item.relation {
        case "ahead": return "\(report.from) ahead"
        case "behind": return "\(report.from) behind"
        case "unrelated": return "unrelated histories"
        case "republished": return "same version, other content"
        default: return ""
        }
    }

    static func rendered(_ report: HLD.Drift.Report) -> String {
        guard let count = report.differingResources else { return "rendered: not compared (\(report.renderError ?? "a render failed"))" }
        return "rendered: \(count) resource(s) differ"
    }

    static func text(_ reports: [HLD.Drift.Report]) -> String {
        var lines: [String] = []
        for report in reports {
            guard report.drifted else {
                lines.append("\(report.from) → \(report.to): no drift (\(rendered(report))\(report.differingResources ?? 0 > 0 ? ", from environment config" : ""))")
                continue
            }
            lines.append("\(report.from) → \(report.to): \(report.items.count) difference(s) promotion would move")
            let rows = report.items.map { item in
                [item.subject, item.kind.rawValue, item.source, "\(report.from) \(side(item.from))", "\(report.to) \(side(item.to))", relation(item, report)]
            }
            var widths = Array(repeating: 0, count: 5)
            for row in rows { for column in 0..<5 { widths[column] = max(widths[column], row[column].count) } }
            for row in rows {
                let padded = (0..<5).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                lines.append(("  " + padded + (row[5].isEmpty ? "" : "  (\(row[5]))")).replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression))
            }
            lines.append("  " + rendered(report))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func markdown(_ reports: [HLD.Drift.Report]) -> String {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var lines: [String] = []
        for report in reports {
            lines.append("### \(report.from) → \(report.to): \(report.drifted ? "\(report.items.count) difference(s) promotion would move" : "no drift")")
            lines.append("")
            if report.drifted {
                lines.append("| Component or file | What | \(cell(report.from)) | \(cell(report.to)) | |")
                lines.append("|---|---|---|---|---|")
                for item in report.items {
                    lines.append("| `\(cell(item.subject))` | \(item.kind.rawValue): \(cell(item.source)) | `\(cell(side(item.from)))` | `\(cell(side(item.to)))` | \(relation(item, report)) |")
                }
                lines.append("")
            }
            lines.append("_\(rendered(report).prefix(1).uppercased() + rendered(report).dropFirst())_")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    static func json(reports: [HLD.Drift.Report], error: HLDError?) throws {
        struct Document: Encodable {
            var drift: Bool
            var pairs: [HLD.Drift.Report]
            var error: HLDError?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(drift: reports.contains(where: \.drifted), pairs: reports, error: error)
        try writeStandardOutput(Array(try encoder.encode(document)) + [0x0A])
    }
}
