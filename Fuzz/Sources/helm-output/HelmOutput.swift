import FuzzSupport
@testable import HLD
import YAML

/// Any bytes as `helm template` output (`ManifestStream.documents` with helm's
/// `# Source:` attribution), and, when they look like JSON, as a static `.json` manifest.
/// For what it accepts:
/// - no document is empty, and the documents are the non-empty ones the YAML reader
///   (duplicate keys resolved as the cluster does) finds;
/// - namespace injection stamps exactly the namespaced resources without a namespace,
///   and stamping twice changes nothing more;
/// - hld's canonical output of the documents (`OutputLayout.text`), read back as helm
///   output, gives the same documents with the same `# Source:` attribution.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let helm = ManifestStream.Origin(component: "fuzz", file: "helm output of fuzz", source: "fuzz", helmTemplates: true)
    if let documents = try? ManifestStream.documents(bytes, helm, diagnostics: DiscardedDiagnostics()) {
        check(documents, bytes, format: .yaml)
    }
    if bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }).map({ $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") }) ?? false {
        let file = ManifestStream.Origin(component: "fuzz", file: "manifests/fuzz.json", source: "fuzz/manifests/fuzz.json", format: .json)
        if let documents = try? ManifestStream.documents(bytes, file, diagnostics: DiscardedDiagnostics()) {
            require(documents.allSatisfy { $0.source == file.source }, "a static file's documents are attributed to the file")
            check(documents, bytes, format: .json)
        }
    }
    return 0
}

func check(_ documents: [RenderedDocument], _ bytes: [UInt8], format: SourceFormat) {
    trace("read \(documents.count) document(s) (\(format))")
    require(documents.allSatisfy { !$0.node.isNull }, "empty documents are dropped")
    guard let plain = try? DocumentReader(bytes: bytes, format: format, duplicateKeys: .lastWins).readAll() else {
        violated("what the manifest reader accepts, the YAML reader accepts", "")
    }
    if let found = difference(documents.map(\.node), plain.filter { !$0.isNull }) {
        violated("the manifest reader's documents are the YAML reader's non-empty ones", found)
    }
    for document in documents {
        require(document.source == "fuzz" || document.source.hasPrefix("fuzz/"), "a document is attributed to its component",
                quote(document.source))
        require(!document.source.contains("\n"), "an attribution is one line", quote(document.source))
    }
    checkNamespaceInjection(documents.map(\.node))
    if KnownIssue.emitterIssue(in: documents.map(\.node), flow: false) == nil {
        checkCanonicalOutput(documents)
    }
}

func checkNamespaceInjection(_ documents: [Node]) {
    let namespace = "fuzz-namespace"
    for document in documents {
        let stamped = NamespaceInjection.apply(namespace, to: document)
        let again = NamespaceInjection.apply(namespace, to: stamped)
        if let found = difference(again, stamped) { violated("namespace injection is idempotent", found) }
        let metadata = document["metadata"]
        let wanted = document.pairs != nil
            && document["kind"]?.scalarText.map { !NamespaceInjection.clusterScopedKinds.contains($0) } == true
            && metadata?.pairs != nil
            && (metadata?["namespace"].map(\.isNull) ?? true)
        if wanted {
            require(stamped["metadata"]?["namespace"]?.string() == namespace, "a namespaced resource without a namespace gets one",
                    show(stamped))
        } else if let found = difference(stamped, document) {
            violated("namespace injection leaves other documents alone", found)
        }
    }
}

/// hld writes `---`, `# Source: <source>`, the document; reading that back as helm
/// output (attributed to the empty component source) must give each document again,
/// attributed to `/<source>`.
func checkCanonicalOutput(_ documents: [RenderedDocument]) {
    // (Written without do/catch: Swift 6.3.1's optimizer crashes on this function with
    // typed-throws catch blocks here, "Found ownership error".)
    let written = Result { () throws(HLDError) -> [UInt8] in try OutputLayout.text(of: documents) }
    guard case .success(let text) = written else {
        violated("every document read can be written", "\(written)")
    }
    let output = quote(String(decoding: text, as: UTF8.self))
    let origin = ManifestStream.Origin(component: "fuzz", file: "hld output", source: "", helmTemplates: true)
    let read = Result { () throws(HLDError) -> [RenderedDocument] in
        try ManifestStream.documents(text, origin, diagnostics: DiscardedDiagnostics())
    }
    guard case .success(let again) = read else {
        violated("hld's output reads as manifests", "\(read)\noutput:\n\(output)")
    }
    if let found = difference(documents.map(\.node), again.map(\.node)) {
        violated("hld's output reads back as the same documents", "\(found)\noutput:\n\(output)")
    }
    for (document, back) in zip(documents, again) {
        require(back.source == "/" + document.source, "hld's output keeps each document's # Source: attribution",
                "\(quote(document.source)) came back as \(quote(back.source))\noutput:\n\(output)")
    }
}
