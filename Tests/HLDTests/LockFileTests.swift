import Foundation
import Testing
import YAML
@testable import HLD

/// `hld.lock` read and written: stable text, every pin kind round-trips, and a hand-broken
/// file is refused with its line.
@Suite struct LockFileTests {
    static let git = Pin.git(url: "https://example.com/a.git", requested: "branch dev", commit: String(repeating: "a", count: 40),
                             path: "deploy", tree: String(repeating: "b", count: 40))
    static let chart = Pin.chart(repository: "https://charts.example.com", name: "web", requested: "^1.2", version: "1.2.3",
                                 digest: String(repeating: "c", count: 64))
    static let oci = Pin.oci(reference: "oci://registry.example.com/charts/web", requested: "", version: "2.0.0",
                             manifest: "sha256:" + String(repeating: "d", count: 64), digest: String(repeating: "e", count: 64))
    static let http = Pin.http(url: "https://example.com/crds.yaml", digest: String(repeating: "f", count: 64))

    func sample() -> LockFile {
        var lock = LockFile()
        lock.sections["prod"] = LockSection(definitions: String(repeating: "1", count: 40), components: [
            "cluster": LockedComponent(),
            "cluster/web": LockedComponent(definition: Self.git, source: Self.chart, dependencies: [Self.oci]),
            "cluster/crds": LockedComponent(source: Self.http),
            "cluster/infra": LockedComponent(source: .local(path: "infra/manifests")),
        ], values: ["config/prod.yaml": ["subcomponents.web.config.image.tag": .string("1.10")]])
        lock.sections["dev"] = LockSection(components: ["cluster": LockedComponent()])
        return lock
    }

    @Test func everyPinKindRoundTripsAndTheTextIsStable() throws {
        let lock = sample()
        let text = lock.text(order: ["dev", "stage", "prod"])
        let parsed = try LockFile.parse(Array(text.utf8), file: "hld.lock")
        #expect(parsed == lock)
        #expect(parsed.text(order: ["dev", "stage", "prod"]) == text)
        // Sections in promotion order, components sorted by logical path.
        #expect(text.range(of: "  dev:")!.lowerBound < text.range(of: "  prod:")!.lowerBound)
        #expect(text.range(of: "cluster/crds:")!.lowerBound < text.range(of: "cluster/web:")!.lowerBound)
        // A version that reads as a number in YAML stays a string.
        #expect(text.contains(#"subcomponents.web.config.image.tag: "1.10""#))
    }

    func failure(_ text: String) -> HLDError? {
        do {
            _ = try LockFile.parse(Array(text.utf8), file: "/p/hld.lock")
            return nil
        } catch {
            return error
        }
    }

    @Test func aHandBrokenLockIsRefusedWithItsLine() throws {
        let valid = sample().text()
        // Not YAML any more.
        let truncated = valid.replacingOccurrences(of: "method: helm", with: "method: [helm")
        let broken = try #require(failure(truncated))
        #expect(broken.description.contains("/p/hld.lock:"), "\(broken)")
        // A typo in a method: the line of the value and a suggestion.
        let lines = valid.components(separatedBy: "\n")
        let line = try #require(lines.firstIndex { $0.contains("method: http") }) + 1
        let typo = try #require(failure(valid.replacingOccurrences(of: "method: http", with: "method: htp")))
        #expect(typo.description.contains("/p/hld.lock:\(line):"), "\(typo)")
        #expect(typo.description.contains("did you mean http?"), "\(typo)")
        // A commit id cut short.
        let short = try #require(failure(valid.replacingOccurrences(of: String(repeating: "a", count: 40), with: "aaaa")))
        #expect(short.description.contains("commit must be a full hex digest"), "\(short)")
        // A missing field.
        let missing = try #require(failure(valid.replacingOccurrences(of: "          chart: web\n", with: "")))
        #expect(missing.description.contains("has no chart"), "\(missing)")
        // Another format version, an empty file, a list instead of a mapping.
        #expect(try #require(failure(valid.replacingOccurrences(of: "lockVersion: 1", with: "lockVersion: 2"))).description.contains("lockVersion 2"))
        #expect(try #require(failure("")).description.contains("empty"))
        #expect(try #require(failure("- a\n")).description.contains("/p/hld.lock:1:1"))
        // Every message says how to recover.
        #expect(typo.description.contains("run hld lock again"))
    }

    @Test func promotePatternsMatchEveryKeyAStarStandsFor() throws {
        let node = try Node.document(in: """
            subcomponents:
              web:
                config:
                  image: {tag: v1, repository: web}
              api:
                config:
                  image: {tag: v2}
              db:
                config: {replicas: 3}
              shop:
                config:
                  images:
                    registry.example.com/shop: {newTag: 1.4.1}
            """)
        let patterns = try ["subcomponents.*.config.image.tag", "subcomponents.*.config.images"].map { try Authoring.Assignment.keyPath($0) }
        let found = PromotedValues.matches(in: node, patterns: patterns)
        #expect(found.map { PromotedValues.dotted($0.path) } == ["subcomponents.web.config.image.tag", "subcomponents.api.config.image.tag", "subcomponents.shop.config.images"])
        #expect(found.map { $0.value.flowText } == ["v1", "v2", "{registry.example.com/shop: {newTag: 1.4.1}}"])
        // A key holding dots is quoted, and reads back as one key.
        let dotted = PromotedValues.dotted([.key("images"), .key("registry.example.com/shop"), .key("newTag")])
        #expect(dotted == #"images."registry.example.com/shop".newTag"#)
        #expect(try Authoring.Assignment.keyPath(dotted) == [.key("images"), .key("registry.example.com/shop"), .key("newTag")])
    }
}
