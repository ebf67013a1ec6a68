import FuzzSupport
@testable import HLD
import YAML

/// Any bytes as `component.yaml` and as `component.json` (`ComponentFile.parse`, what
/// `ComponentFile.load` calls on the file's bytes). A definition it accepts keeps the
/// loader's promises: every component has a name usable as a file name, sibling names are
/// unique, a non-inline subcomponent has a source or a path, locations are real lines.
/// Where the YAML and the JSON reading both accept the text, they give the same tree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let yaml = load(bytes, file: "component.yaml", format: .yaml)
    let json = load(bytes, file: "component.json", format: .json)
    if let yaml, let json, keysAreLowercase(bytes) {
        // JSON matches field names case-insensitively, as Fabrikate's Go decoder did, so
        // only a text whose keys are all lower case must read alike both ways.
        require(summary(yaml) == summary(json), "component.yaml and component.json readings of one text agree",
                "yaml: \(summary(yaml))\njson: \(summary(json))")
    }
    return 0
}

func keysAreLowercase(_ bytes: [UInt8]) -> Bool {
    func check(_ node: Node) -> Bool {
        switch node.content {
        case .scalar: return true
        case .sequence(let items): return items.allSatisfy(check)
        case .mapping(let pairs):
            return pairs.allSatisfy { pair in
                (pair.key.scalarText.map { $0 == $0.lowercased() } ?? true) && check(pair.key) && check(pair.value)
            }
        }
    }
    guard let documents = try? DocumentReader(bytes: bytes, format: .json).readAll() else { return false }
    return documents.allSatisfy(check)
}

func load(_ bytes: [UInt8], file: String, format: SourceFormat) -> ComponentDefinition? {
    guard let definition = try? ComponentFile.parse(bytes: bytes, file: file, format: format, diagnostics: DiscardedDiagnostics()) else {
        return nil
    }
    trace("accepted \(file): \(definition.name) with \(definition.subcomponents.count) subcomponent(s)")
    checkPromises(definition, path: definition.name)
    return definition
}

func checkPromises(_ definition: ComponentDefinition, path: String) {
    let name = definition.name
    require(!name.isEmpty && !name.contains("/") && name != "." && name != "..",
            "a component name can be used as a file name", "\(path): name \(quote(name))")
    require(definition.location.line >= 1 && definition.location.column >= 1,
            "a definition's location is a line and column of the file", "\(path): \(definition.location)")
    for (field, location) in definition.fieldLocations {
        require(location.line >= 1 && location.column >= 1, "a field's location is a line and column of the file", "\(path).\(field): \(location)")
    }
    for value in [definition.source, definition.path, definition.version, definition.branch] {
        require(value.map { !$0.isEmpty } ?? true, "an empty string field reads as absent", "\(path): \(quote(value ?? ""))")
    }
    var seen: Set<String> = []
    for child in definition.subcomponents {
        require(seen.insert(child.name).inserted, "sibling subcomponents have different names", "\(path)/\(child.name)")
        require(child.type.isInline || child.source != nil || child.path != nil,
                "a non-inline subcomponent has a source or a path", "\(path)/\(child.name)")
        checkPromises(child, path: "\(path)/\(child.name)")
    }
}

/// The fields a definition carries, without locations (they differ by design: none).
func summary(_ definition: ComponentDefinition) -> String {
    let hooks = definition.hooks.keys.sorted { $0.rawValue < $1.rawValue }.map { "\($0.rawValue)=\(definition.hooks[$0]!)" }
    let fields: [String] = [definition.name, definition.type.rawValue, definition.method.rawValue, definition.source ?? "-",
                            definition.path ?? "-", definition.version ?? "-", definition.branch ?? "-", hooks.joined(separator: ",")]
    return "(" + fields.joined(separator: "|") + definition.subcomponents.map(summary).joined() + ")"
}
