/// A strict RFC 8259 syntax check for `.json` files. libyaml reads JSON as YAML, and YAML
/// accepts what no JSON reader does (trailing commas, comments, single quotes, bare words),
/// so a `component.json` that Fabrikate, Go or `jq` rejects would otherwise be accepted
/// here. The check only validates; the tree still comes from the YAML parser.
enum StrictJSON {
    /// The first syntax error in `bytes`, or nil when they are one JSON value.
    static func check(_ bytes: [UInt8], file: String?) -> YAMLError? {
        // UTF-16 (with a byte order mark) is left to libyaml, which decodes it.
        if bytes.count >= 2 && ((bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE)) { return nil }
        var scanner = Scanner(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.offset = 3 }
        guard let problem = scanner.run() else { return nil }
        let text = SourceText(bytes: bytes)
        return YAMLError(.syntax, "invalid JSON: \(problem)", file: file, mark: scanner.mark, sourceLine: text.line(scanner.mark.line))
    }

    private struct Scanner {
        enum Container { case object, array }

        let bytes: [UInt8]
        var offset = 0
        var line = 1
        var column = 1
        /// Where the problem is (set when `run` returns one).
        var mark = Mark(line: 1, column: 1)

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func advance() {
            guard let byte = current else { return }
            offset += 1
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { advance() }
        }

        mutating func fail(_ message: String) -> String {
            mark = Mark(line: line, column: column)
            return message
        }

        /// What an unexpected byte is, in words a user recognizes.
        mutating func unexpected(expecting: String) -> String {
            guard let byte = current else { return fail("the text ends where \(expecting) should be") }
            switch byte {
            case UInt8(ascii: "#"), UInt8(ascii: "/"): return fail("comments are not allowed in JSON")
            case UInt8(ascii: "'"): return fail("strings in JSON use double quotes, not single quotes")
            default:
                let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
                return fail("found \(shown) where \(expecting) should be")
            }
        }

        /// Walks the text with an explicit stack (no recursion, so nesting depth is not
        /// bounded by the call stack); nil when it is one valid JSON value.
        mutating func run() -> String? {
            var stack: [Container] = []
            skipWhitespace()
            if current == nil { return fail("the file is empty; a JSON file holds one value (write {} for an empty object)") }
            // State: expecting a value (possibly the end of an empty container first).
            var expectValue = true
            var allowClose = false
            while true {
                skipWhitespace()
                if expectValue {
                    if allowClose, let byte = current, (byte == UInt8(ascii: "]") && stack.last == .array) || (byte == UInt8(ascii: "}") && stack.last == .object) {
                        advance()
                        stack.removeLast()
                        expectValue = false
                        allowClose = false
                        if stack.isEmpty { break }
                        continue
                    }
                    if stack.last == .object {
                        // An object member: "key" : value
                        guard current == UInt8(ascii: "\"") else {
                            if current == UInt8(ascii: "}") { return fail("a trailing comma before } is not allowed in JSON") }
                            return unexpected(expecting: "a key in double quotes")
                        }
                        if let problem = string() { return problem }
                        skipWhitespace()
                        guard current == UInt8(ascii: ":") else { return unexpected(expecting: "':' after the key") }
                        advance()
                        skipWhitespace()
                    }
                    if current == UInt8(ascii: "]") && stack.last == .array && !allowClose {
                        return fail("a trailing comma before ] is not allowed in JSON")
                    }
                    guard let byte = current else { return fail("the text ends where a value should be") }
                    allowClose = false
                    switch byte {
                    case UInt8(ascii: "{"):
                        advance()
                        stack.append(.object)
                        allowClose = true
                        continue
                    case UInt8(ascii: "["):
                        advance()
                        stack.append(.array)
                        allowClose = true
                        continue
                    case UInt8(ascii: "\""):
                        if let problem = string() { return problem }
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if let problem = number() { return problem }
                    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                        if let problem = literal() { return problem }
                    default:
                        return unexpected(expecting: "a value")
                    }
                    expectValue = false
                    if stack.isEmpty { break }
                } else {
                    guard let container = stack.last else { break }
                    let close = container == .array ? UInt8(ascii: "]") : UInt8(ascii: "}")
                    if current == UInt8(ascii: ",") {
                        advance()
                        expectValue = true
                    } else if current == close {
                        advance()
                        stack.removeLast()
                        if stack.isEmpty { break }
                    } else {
                        return unexpected(expecting: "',' or '\(Character(Unicode.Scalar(close)))'")
                    }
                }
            }
            skipWhitespace()
            if current != nil { return unexpected(expecting: "the end of the text (a JSON file holds one value)") }
            return nil
        }

        mutating func string() -> String? {
            advance()  // the opening quote
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    advance()
                    return nil
                case UInt8(ascii: "\\"):
                    advance()
                    guard let escaped = current else { return fail("the text ends inside a string") }
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        advance()
                    case UInt8(ascii: "u"):
                        advance()
                        for _ in 0..<4 {
                            guard let digit = current, isHexDigit(digit) else { return fail("\\u must be followed by four hex digits") }
                            advance()
                        }
                    default:
                        return fail("invalid escape in a string (JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\u with four hex digits)")
                    }
                case 0x00..<0x20:
                    return fail(byte == 0x0A ? "a string runs past the end of the line (close it with \")" : "a control character in a string must be escaped")
                default:
                    advance()
                }
            }
            return fail("the text ends inside a string")
        }

        mutating func number() -> String? {
            if current == UInt8(ascii: "-") { advance() }
            guard let first = current, isDigit(first) else { return fail("a number needs digits") }
            advance()
            if first == UInt8(ascii: "0"), let next = current, isDigit(next) { return fail("numbers in JSON have no leading zeros") }
            while let byte = current, isDigit(byte) { advance() }
            if current == UInt8(ascii: ".") {
                advance()
                guard let byte = current, isDigit(byte) else { return fail("a number needs digits after the decimal point") }
                while let byte = current, isDigit(byte) { advance() }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                advance()
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { advance() }
                guard let byte = current, isDigit(byte) else { return fail("a number needs digits in its exponent") }
                while let byte = current, isDigit(byte) { advance() }
            }
            return nil
        }

        mutating func literal() -> String? {
            for word in ["true", "false", "null"] where bytes[offset...].starts(with: word.utf8) {
                for _ in word.utf8 { advance() }
                if let byte = current, isWordCharacter(byte) { return unexpected(expecting: "a value") }
                return nil
            }
            return unexpected(expecting: "a value (true, false, null, a number, a string, an object or an array)")
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
        }
        func isWordCharacter(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
        }
    }
}
