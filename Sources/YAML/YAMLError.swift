/// A YAML problem with where it happened: `file:line:column: message`, then the offending
/// source line and a caret under the column.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The text is not well-formed YAML (libyaml's scanner or parser rejected it).
        case syntax
        /// The bytes are not valid UTF-8/UTF-16.
        case encoding
        case duplicateKey
        case undefinedAlias
        /// Aliases expanded to more nodes than allowed (an alias bomb).
        case aliasExpansionLimit
        /// Collections nested deeper than allowed.
        case depthLimit
        case invalidMergeKey
        /// A single document was expected.
        case documentCount
        /// libyaml refused to write a node (an invalid tag, say).
        case emitter
        /// The file could not be read.
        case io
    }

    public var kind: Kind
    public var message: String
    /// The file the text came from, when known.
    public var file: String?
    public var mark: Mark?
    /// The source line `mark` points into, without its line break.
    public var sourceLine: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, mark: Mark? = nil, sourceLine: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.mark = mark
        self.sourceLine = sourceLine
    }

    /// `file:line:column: message` on one line.
    public var headline: String {
        var location = file ?? "<input>"
        if let mark { location += ":\(mark.line):\(mark.column)" }
        return "\(location): \(message)"
    }

    public var description: String {
        guard let mark, let sourceLine else { return headline }
        // Keep tabs so the caret lines up with the line as the terminal shows it.
        let pad = sourceLine.prefix(max(mark.column - 1, 0)).map { $0 == "\t" ? "\t" : " " }.joined()
        return "\(headline)\n\(sourceLine)\n\(pad)^"
    }
}

/// The source text an error can quote a line from.
struct SourceText: Sendable {
    let bytes: [UInt8]

    /// Line `line` (1-based) without its line break, or nil past the end.
    func line(_ line: Int) -> String? {
        guard line >= 1 else { return nil }
        var current = 1
        var start = 0
        if line > 1 {
            var found = false
            for (i, byte) in bytes.enumerated() where byte == 0x0A {
                current += 1
                if current == line { start = i + 1; found = true; break }
            }
            guard found, start < bytes.count else { return nil }
        }
        var end = start
        while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
        let slice = bytes[start..<end]
        // An invalid byte would make the quoted line itself unreadable; show U+FFFD instead.
        return String(decoding: slice, as: UTF8.self)
    }

    /// The character at a mark, if the mark is inside the text.
    func character(at mark: Mark) -> Character? {
        guard let line = line(mark.line), mark.column >= 1, mark.column <= line.count else { return nil }
        return line[line.index(line.startIndex, offsetBy: mark.column - 1)]
    }

    /// The 1-based line and character column of a byte offset.
    func mark(atByteOffset offset: Int) -> Mark {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Mark(line: line, column: column)
    }
}
