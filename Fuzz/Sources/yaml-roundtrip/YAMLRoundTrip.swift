import FuzzSupport
import YAML

/// Any bytes as a YAML stream: the parser throws or gives documents; then
/// - reading with duplicate keys resolved (`lastWins`) agrees with the strict reader;
/// - parse → emit → parse gives equal values (block style, explicit `---`, flow style);
/// - emitting is idempotent on its own output;
/// - a text that is strict JSON reads the same as JSON and as YAML.
///
/// Alias expansion is capped lower than hld's default so that alias bombs stay fast; the
/// cap itself is what the reader enforces either way.
let limits = ParseLimits(maxDepth: 1000, maxAliasExpansion: 20_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let documents: [Node]
    do {
        documents = try DocumentReader(bytes: bytes, limits: limits).readAll()
    } catch {
        return 0
    }
    checkLastWins(bytes, documents)
    checkRoundTrip(documents, EmitOptions(), "block style")
    checkRoundTrip(documents, EmitOptions(indent: 4, explicitDocumentStart: true), "explicit document starts, indent 4")
    checkRoundTrip(documents, EmitOptions(flow: true), "flow style")
    checkJSON(bytes, documents)
    return 0
}

/// Without duplicates, the lenient reader must read exactly what the strict one does.
func checkLastWins(_ bytes: [UInt8], _ documents: [Node]) {
    let reader = DocumentReader(bytes: bytes, limits: limits, duplicateKeys: .lastWins)
    let lenient: [Node]
    do {
        lenient = try reader.readAll()
    } catch {
        violated("a stream the strict reader accepts is accepted with lastWins", "\(error)")
    }
    require(reader.duplicates.isEmpty, "no duplicates are recorded in a stream without any", "\(reader.duplicates)")
    if let found = difference(documents, lenient) {
        violated("the lastWins reader reads what the strict reader reads", found)
    }
}

func checkRoundTrip(_ documents: [Node], _ options: EmitOptions, _ style: String) {
    if KnownIssue.emitterIssue(in: documents, flow: options.flow) != nil { return }
    let text: String
    do {
        text = try Node.yaml(documents: documents, options: options)
    } catch {
        violated("every parsed stream can be emitted (\(style))", "\(error)")
    }
    let again: [Node]
    do {
        again = try DocumentReader(text: text, file: "emitted", limits: .default).readAll()
    } catch {
        violated("emitted YAML parses (\(style))", "\(error)\nemitted:\n\(quote(text))")
    }
    if let found = difference(documents, again) {
        if KnownIssue.typedPlainQuoted.isTolerated, differsOnlyByQuotedTypedPlain(documents, again) { return }
        violated("parse → emit → parse gives equal values (\(style))", "\(found)\nemitted:\n\(quote(text))")
    }
    let second: String
    do {
        second = try Node.yaml(documents: again, options: options)
    } catch {
        violated("emitted YAML, parsed, can be emitted again (\(style))", "\(error)\nfirst emission:\n\(quote(text))")
    }
    require(second == text, "emitting is idempotent on its own output (\(style))",
            "first:\n\(quote(text))\nsecond:\n\(quote(second))")
}

/// Every JSON text is YAML: where both readers accept it, they agree.
func checkJSON(_ bytes: [UInt8], _ documents: [Node]) {
    guard let json = try? DocumentReader(bytes: bytes, format: .json, limits: limits).readAll() else { return }
    // The JSON reader rewrites surrogate-pair escapes that libyaml rejects, so a text with
    // one reads only as JSON; when it reads both ways the values must agree.
    if let found = difference(json, documents) {
        violated("a strict JSON text reads the same as JSON and as YAML", found)
    }
}
