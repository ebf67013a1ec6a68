import YAML

/// Reads manifests another tool wrote — helm's and kustomize's output, static files, http
/// manifests — as the cluster would: documents where the YAML grammar puts them (never a
/// text search for `---`), empty documents dropped, and a key given twice resolved as the
/// Kubernetes decoder does (the last value wins) with a warning naming the component, the
/// template or file, the key and both lines.
enum ManifestStream {
    /// What a stream is and how its documents are attributed.
    struct Origin {
        /// The component that produced it, as messages name it.
        var component: String
        /// The file or stream as errors show it (`helm output of cluster/web`, a path).
        var file: String
        /// The `# Source:` attribution of every document.
        var source: String
        /// Helm marks each document with a `# Source: <chart>/templates/<file>` comment:
        /// append that template to `source`.
        var helmTemplates = false
        var format: SourceFormat = .yaml
    }

    static func documents(_ bytes: [UInt8], _ origin: Origin, diagnostics: any DiagnosticsSink) throws(HLDError) -> [RenderedDocument] {
        let reader = DocumentReader(bytes: bytes, file: origin.file, format: origin.format, duplicateKeys: .lastWins)
        let templates = origin.helmTemplates ? LineIndex(bytes).helmTemplates() : []
        func template(at line: Int) -> String? { line >= 1 && line < templates.count ? templates[line] : nil }
        var documents: [RenderedDocument] = []
        do {
            while let document = try reader.nextDocument() {
                guard !document.node.isNull else { continue }
                let template = template(at: document.node.mark.line)
                documents.append(RenderedDocument(source: origin.source + (template.map { "/" + $0 } ?? ""), node: document.node))
            }
        } catch {
            let template = error.mark.flatMap { template(at: $0.line) }
            throw HLDError("\(origin.component): \(origin.helmTemplates ? "helm produced invalid YAML" : "invalid YAML")\(template.map { " in \($0)" } ?? ""): \(error.description)")
        }
        for duplicate in reader.duplicates {
            let template = template(at: duplicate.second.line)
            let place = origin.helmTemplates
                ? "\(template ?? "helm's output") (lines \(duplicate.first.line) and \(duplicate.second.line) of helm's output)"
                : "\(origin.file) (lines \(duplicate.first.line) and \(duplicate.second.line))"
            diagnostics.warning("\(origin.component): duplicate key \(duplicate.dottedPath) in \(place); the last value is used, as in the cluster",
                                at: origin.helmTemplates ? nil : SourceLocation(file: origin.file, line: duplicate.second.line, column: duplicate.second.column))
        }
        return documents
    }
}

extension ManifestStream {
    /// A file that belongs to another tool (a chart's Chart.yaml or requirements.yaml, a
    /// kustomization, a repository index), read as that tool reads it: one document, a
    /// key given twice is a warning and the last value wins.
    static func foreignFile(_ bytes: [UInt8], file: String, component: String, diagnostics: any DiagnosticsSink) throws(YAMLError) -> Node {
        let reader = DocumentReader(bytes: bytes, file: file, duplicateKeys: .lastWins)
        let node = try reader.next() ?? .null
        for duplicate in reader.duplicates {
            diagnostics.warning("\(component): duplicate key \(duplicate.dottedPath) in \(file) (lines \(duplicate.first.line) and \(duplicate.second.line)); the last value is used",
                                at: SourceLocation(file: file, line: duplicate.second.line, column: duplicate.second.column))
        }
        return node
    }
}

/// The lines of a text, for reading the comments libyaml's events do not carry, numbered
/// as libyaml numbers them (its marks name documents by line): a line ends at LF, CRLF, a
/// lone CR, NEL, U+2028 or U+2029, also inside quoted scalars.
struct LineIndex {
    let bytes: [UInt8]
    /// Where each line starts, and where its text ends (before its line break).
    let starts: [Int]
    let ends: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var ends: [Int] = []
        var index = 0
        while index < bytes.count {
            let length: Int
            switch bytes[index] {
            case 0x0A: length = 1
            case 0x0D: length = index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85: length = 2
            case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                length = 3
            default:
                index += 1
                continue
            }
            ends.append(index)
            index += length
            starts.append(index)
        }
        ends.append(bytes.count)
        self.starts = starts
        self.ends = ends
    }

    /// Line `number` (1-based) without its line break.
    func line(_ number: Int) -> String? {
        guard number >= 1, number <= starts.count else { return nil }
        return String(decoding: bytes[starts[number - 1]..<ends[number - 1]], as: UTF8.self)
    }

    /// The template named by the nearest helm `# Source: <template>` comment at or above
    /// each line (index 0 is unused). helm writes one before every manifest it prints; a
    /// comment may also follow a `---` marker.
    func helmTemplates() -> [String?] {
        let marker = "# Source: "
        var result: [String?] = [nil]
        var current: String?
        for number in 1...starts.count {
            let line = self.line(number) ?? ""
            var text = Substring(line)
            if text.hasPrefix("---") { text = text.dropFirst(3).drop { $0 == " " || $0 == "\t" } }
            if text.hasPrefix(marker) { current = String(text.dropFirst(marker.count)).trimmingTrailingWhitespace }
            result.append(current)
        }
        return result
    }
}

extension String {
    fileprivate var trimmingTrailingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
