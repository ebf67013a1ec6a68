import Foundation
import YAML

/// One `hld.lock` section as a `--locked` run uses it: every source the resolve stage
/// meets must be in it with the same request (URL, ref or constraint asked for), and
/// resolves to exactly its pin; at the end, entries the run never asked for are stale.
final class LockedPins: Sendable {
    enum Role: String, Sendable { case definition, source, dependency }

    let section: LockSection
    /// The section's name (`dev`, `prod eastus`), for messages.
    let name: String
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    nonisolated(unsafe) private var used: Set<String> = []

    init(section: LockSection, name: String) {
        self.section = section
        self.name = name
    }

    /// What to run to bring the lock up to date.
    var rerun: String { "run hld lock \(name) to pin the definition as it is now" }

    /// The locked pin of `component` (logical path) that answers `request` in `role`.
    func pin(_ request: Pin, _ role: Role, component key: String, shown: String, at location: SourceLocation,
             setting: SourceLocation? = nil) throws(HLDError) -> Pin {
        lock.withLock { _ = used.insert(key) }
        guard let entry = section.components[key] else {
            throw HLDError(location, component: shown, "hld.lock has no pins for this component in \(name) (a component added since the lock was written); \(rerun)").kind(.definition)
        }
        let candidates: [Pin]
        switch role {
        case .definition: candidates = entry.definition.map { [$0] } ?? []
        case .source: candidates = entry.source.map { [$0] } ?? []
        case .dependency: candidates = entry.dependencies
        }
        if let match = candidates.first(where: { $0.request == request.request }) { return match }
        let locked = candidates.map(\.sourceDescription).joined(separator: ", ")
        throw HLDError(setting ?? location, component: shown, "the definition asks for \(request.sourceDescription), and hld.lock (\(name)) pins \(locked.isEmpty ? "no \(role.rawValue) for it" : locked): the source changed since the lock was written; \(rerun)").kind(.definition)
    }

    /// Marks a component without pins (a container) as covered, or fails when the lock
    /// does not know it.
    func cover(component key: String, shown: String, at location: SourceLocation) throws(HLDError) {
        lock.withLock { _ = used.insert(key) }
        guard section.components[key] != nil else {
            throw HLDError(location, component: shown, "hld.lock has no entry for this component in \(name) (a component added since the lock was written); \(rerun)").kind(.definition)
        }
    }

    /// Fails when the lock pins components the definition no longer has.
    func checkNoStaleEntries() throws(HLDError) {
        let used = lock.withLock { self.used }
        let stale = section.components.keys.filter { !used.contains($0) }.sorted()
        guard !stale.isEmpty else { return }
        throw HLDError("hld.lock (\(name)) pins \(stale.count == 1 ? "a component" : "components") the definition does not have: \(stale.joined(separator: ", ")) (a lock from another version of the definition); \(rerun)").kind(.definition)
    }
}

/// A `LockedPins` narrowed to one component, for the code that fetches its sources.
struct PinLookup: Sendable {
    let pins: LockedPins
    let component: String
    let shown: String
    let location: SourceLocation

    /// `at`: where the setting that asks for the source was made, when not the entry.
    func pin(_ request: Pin, _ role: LockedPins.Role, at setting: SourceLocation? = nil) throws(HLDError) -> Pin {
        try pins.pin(request, role, component: component, shown: shown, at: location, setting: setting)
    }

    /// An error about a fetched source that no longer matches its pin.
    func mismatch(_ detail: String) -> HLDError {
        HLDError(location, component: shown, "\(detail): hld.lock (\(pins.name)) pins other content; the source was re-published or the lock edited by hand").kind(.source)
    }
}
