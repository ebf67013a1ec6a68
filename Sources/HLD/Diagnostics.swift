import Foundation
public import YAML

/// A warning (or, in `--format json`, an error) as data: what, where, and for which
/// component. The CLI decides how to print it.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case warning, error }

    public var severity: Severity
    public var message: String
    /// The file, line and column it is about, when it is about one (the message names it
    /// too, for people).
    public var location: SourceLocation?
    /// The component it is about (its path in the tree), when it is about one.
    public var component: String?
    /// Where in the tree it was reported: child indexes from the root, so sorting by it
    /// is tree order.
    public var position: [Int]

    public init(severity: Severity = .warning, message: String, location: SourceLocation? = nil, component: String? = nil, position: [Int] = []) {
        self.severity = severity
        self.message = message
        self.location = location
        self.component = component
        self.position = position
    }

    public var description: String { message }
}

/// Where the library reports what is not an error: warnings and progress. The CLI decides
/// how to show them; the library never prints.
public protocol DiagnosticsSink: Sendable {
    func warning(_ message: String)
    /// A warning about the place `location` (which `message` names for people).
    func warning(_ message: String, at location: SourceLocation?)
    func progress(_ message: String)
    /// A sink whose warnings belong to the component `component` at `position` in the tree.
    func scoped(to position: [Int], component: String?) -> any DiagnosticsSink
}

extension DiagnosticsSink {
    public func scoped(to position: [Int], component: String?) -> any DiagnosticsSink { self }
    public func warning(_ message: String, at location: SourceLocation?) { warning(message) }
}

/// Keeps every diagnostic, for tests and for callers that print at the end.
final class CollectedDiagnostics: DiagnosticsSink, @unchecked Sendable {
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var _warnings: [String] = []
    private var _progress: [String] = []

    public init() {}

    public func warning(_ message: String) { lock.withLock { _warnings.append(message) } }
    public func progress(_ message: String) { lock.withLock { _progress.append(message) } }

    public var warnings: [String] { lock.withLock { _warnings } }
    public var progressMessages: [String] { lock.withLock { _progress } }
}

/// One run's warnings, held back and handed on in tree order (whatever order concurrent
/// work finished in), so the output is the same for `--jobs 1` and `--jobs 8`. Under
/// `--strict` they fail the run instead. Progress passes straight through.
final class OrderedDiagnostics: DiagnosticsSink, @unchecked Sendable {
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var held: [Diagnostic] = []
    private let base: any DiagnosticsSink
    let strict: Bool

    init(_ base: any DiagnosticsSink, strict: Bool) {
        self.base = base
        self.strict = strict
    }

    func warning(_ message: String) { add(Diagnostic(message: message)) }
    func warning(_ message: String, at location: SourceLocation?) { add(Diagnostic(message: message, location: location)) }
    func progress(_ message: String) { base.progress(message) }
    func scoped(to position: [Int], component: String?) -> any DiagnosticsSink { Scoped(owner: self, position: position, component: component) }

    fileprivate func add(_ diagnostic: Diagnostic) { lock.withLock { held.append(diagnostic) } }

    /// The warnings so far in tree order (a stable sort: one component's own warnings
    /// keep the order its one task reported them in).
    var ordered: [Diagnostic] {
        lock.withLock { held }.enumerated().sorted { a, b in
            a.element.position != b.element.position
                ? a.element.position.lexicographicallyPrecedes(b.element.position)
                : a.offset < b.offset
        }.map(\.element)
    }

    /// Hands the warnings on in tree order, once; under `--strict` (with `failing`), throws
    /// them as one error instead.
    func finish(failing: Bool) throws(HLDError) -> [Diagnostic] {
        let warnings = ordered
        lock.withLock { held = [] }
        if strict && failing && !warnings.isEmpty {
            let list = warnings.map { "  " + $0.message }.joined(separator: "\n")
            throw HLDError("--strict turns \(warnings.count == 1 ? "this warning" : "these \(warnings.count) warnings") into an error; nothing was written:\n\(list)")
        }
        for warning in warnings { base.warning(warning.message) }
        return warnings
    }

    private struct Scoped: DiagnosticsSink {
        let owner: OrderedDiagnostics
        let position: [Int]
        let component: String?

        func warning(_ message: String) { owner.add(Diagnostic(message: message, component: component, position: position)) }
        func warning(_ message: String, at location: SourceLocation?) {
            owner.add(Diagnostic(message: message, location: location, component: component, position: position))
        }
        func progress(_ message: String) { owner.progress(message) }
        func scoped(to position: [Int], component: String?) -> any DiagnosticsSink { Scoped(owner: owner, position: position, component: component) }
    }
}

/// What a run did, counted as it happens: for the summary line.
public final class RunStatistics: @unchecked Sendable {
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    func count(_ what: String) { lock.withLock { counts[what, default: 0] += 1 } }

    /// The git repositories transferred from so far (the mirror cache keeps that count).
    func setGitTransfers(_ count: Int) { lock.withLock { counts["git"] = count } }

    /// Downloads (http(s) GETs and git transfers).
    public var fetched: Int { lock.withLock { counts["fetched", default: 0] + counts["git", default: 0] } }
    /// Renders helm or kustomize ran for.
    public var rendered: Int { lock.withLock { counts["rendered", default: 0] } }
    /// Renders answered from the render cache.
    public var fromRenderCache: Int { lock.withLock { counts["cached", default: 0] } }
}

/// A place in a definition file, printed `file:line:column`.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// An hld failure with a sentence a user can act on: what kind of failure, where
/// (`file:line:column`), which component, what, and the underlying cause (a tool's
/// stderr, libgit2's message). Several failures (siblings that failed independently)
/// travel together in tree order.
public struct HLDError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// A definition, config or project file is wrong.
        case definition
        /// A source could not be fetched or resolved.
        case source
        /// A generator (helm, kustomize, a hook) failed or produced something unusable.
        case render
        /// The output could not be written.
        case output
        case other
    }

    public var kind: Kind
    public var location: SourceLocation?
    /// The component's path in the tree (`infra/jaeger`).
    public var component: String?
    public var message: String
    /// What failed underneath, as that layer said it (libgit2 through the git cache, an
    /// HTTP client, helm's or a hook's exit, a file system call); the message includes
    /// it for people, this keeps it apart for programs (`--format json`).
    public var cause: String?
    /// Further failures reported with this one, in tree order.
    public var others: [HLDError] = []

    // `others` is not encoded: a report lists `all` instead.
    private enum CodingKeys: String, CodingKey { case kind, location, component, message, cause }

    public init(_ message: String) {
        self.init(kind: .other, location: nil, component: nil, message)
    }

    public init(_ location: SourceLocation, _ message: String) {
        self.init(kind: .definition, location: location, component: nil, message)
    }

    public init(_ location: SourceLocation, component: String, _ message: String) {
        self.init(kind: .definition, location: location, component: component, message)
    }

    public init(component: String, _ message: String) {
        self.init(kind: .other, location: nil, component: component, message)
    }

    public init(kind: Kind, location: SourceLocation?, component: String?, _ message: String) {
        self.kind = kind
        self.location = location
        self.component = component
        self.message = message
    }

    /// A definition file that does not parse: its location, the message, the line and a
    /// caret under the column.
    public init(_ error: YAMLError) {
        let location = error.mark.map { SourceLocation(file: error.file ?? "<input>", line: $0.line, column: $0.column) }
        let prefix = location.map { "\($0): " } ?? ""
        let text = error.description
        self.init(kind: .definition, location: location, component: nil, text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text)
    }

    /// The same error with `error` as its underlying cause.
    func caused(by error: any Error) -> HLDError {
        var copy = self
        copy.cause = "\(error)"
        return copy
    }

    /// The same error as another kind.
    public func kind(_ kind: Kind) -> HLDError {
        var copy = self
        copy.kind = kind
        return copy
    }

    /// Every failure, in tree order, as one error (the first, carrying the rest).
    static func several(_ errors: [HLDError]) -> HLDError {
        let all = errors.flatMap(\.all)
        var first = all[0]
        first.others = Array(all.dropFirst())
        return first
    }

    /// This failure and the ones reported with it.
    public var all: [HLDError] {
        var head = self
        head.others = []
        return [head] + others.flatMap(\.all)
    }

    /// `file:line:column: component: message`, one line per failure.
    public var description: String {
        all.map(\.headline).joined(separator: "\n")
    }

    private var headline: String {
        (location.map { "\($0): " } ?? "") + (component.map { "\($0): " } ?? "") + message
    }
}
