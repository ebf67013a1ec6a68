import Foundation

/// Where the library reports what is not an error: warnings and progress. The CLI decides
/// how to show them; the library never prints.
public protocol DiagnosticsSink: Sendable {
    func warning(_ message: String)
    func progress(_ message: String)
}

/// Keeps every diagnostic, for tests and for callers that print at the end.
public final class CollectedDiagnostics: DiagnosticsSink, @unchecked Sendable {
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

/// `--strict`: warnings are held back and fail the run before anything is written, each
/// one listed in the error; progress passes through.
final class StrictDiagnostics: DiagnosticsSink, @unchecked Sendable {
    // Guarded by `lock`; the class is Sendable because every access takes it.
    private let lock = NSLock()
    private var warnings: [String] = []
    private let base: DiagnosticsSink

    init(_ base: DiagnosticsSink) { self.base = base }

    func warning(_ message: String) { lock.withLock { warnings.append(message) } }
    func progress(_ message: String) { base.progress(message) }

    /// Throws when any warning was reported.
    func check() throws(HLDError) {
        let held = lock.withLock { warnings }
        guard !held.isEmpty else { return }
        let list = held.map { "  " + $0 }.joined(separator: "\n")
        throw HLDError("--strict turns \(held.count == 1 ? "this warning" : "these \(held.count) warnings") into an error; nothing was written:\n\(list)")
    }
}

/// A place in a definition file, printed `file:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
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

/// An hld failure with a sentence a user can act on.
public struct HLDError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    public init(_ location: SourceLocation, _ message: String) {
        description = "\(location): \(message)"
    }
}
