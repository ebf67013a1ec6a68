/// A YAML schema that decides the type of plain (unquoted, untagged) scalars.
public enum Schema: Sendable, Hashable {
    /// YAML 1.1 as read by PyYAML, go-yaml v2 and so Kubernetes tooling and Fabrikate:
    /// `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0755` is octal, `1:20` is base 60,
    /// `2001-12-14` is a timestamp.
    case yaml11
    /// The YAML 1.2 core schema.
    case core12
}

/// The type a scalar has for a reader using some schema.
public enum ScalarType: Sendable, Hashable {
    case null, bool, int, float, timestamp, string
    /// An explicit tag other than the core ones (`!!binary`, `!local`, …).
    case tagged(String)
}

extension Node {
    /// The type this scalar has under `schema`: plain scalars are resolved by the schema,
    /// quoted and block scalars are strings, explicit tags decide for themselves. Nil for
    /// sequences and mappings.
    public func scalarType(_ schema: Schema) -> ScalarType? {
        guard case .scalar(let text, let style) = content else { return nil }
        switch tag {
        case nil:
            return style == .plain ? ScalarResolver.resolve(text, schema) : .string
        case Tag.nonSpecific?, Tag.str?: return .string
        case Tag.int?: return .int
        case Tag.float?: return .float
        case Tag.bool?: return .bool
        case Tag.null?: return .null
        case Tag.timestamp?: return .timestamp
        case let other?: return .tagged(other)
        }
    }
}

/// Plain-scalar resolution for both schemas, written as small matchers over UTF-8 bytes
/// (this runs for every key and many values; regular expressions would dominate parsing).
public enum ScalarResolver {
    /// What a reader using `schema` makes of `text` written as a plain scalar.
    public static func resolve(_ text: String, _ schema: Schema) -> ScalarType {
        var text = text
        return text.withUTF8 { bytes in
            switch schema {
            case .yaml11: return resolve11(bytes)
            case .core12: return resolve12(bytes)
            }
        }
    }

    /// True when `text`, written plain, would not read back as a string in YAML 1.1, in
    /// YAML 1.2 core, or in a Go-based reader (go-yaml parses anything `strconv` accepts as
    /// a number, such as `+inf`, `0x1p3` or `08`). Such strings must be quoted.
    public static func isAmbiguous(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            resolve11(bytes) != .string || resolve12(bytes) != .string
                || isReserved11(bytes) || looksLikeGoNumber(bytes)
        }
    }

    // MARK: YAML 1.2 core

    static func resolve12(_ b: UnsafeBufferPointer<UInt8>) -> ScalarType {
        guard let first = b.first else { return .null }
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"):
            return isOneOf(b, ["~", "null", "Null", "NULL"]) ? .null : .string
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            return isOneOf(b, ["true", "True", "TRUE", "false", "False", "FALSE"]) ? .bool : .string
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            if isInt12(b) { return .int }
            if isFloat12(b) { return .float }
            return .string
        default:
            return .string
        }
    }

    private static func isInt12(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var c = Cursor(b)
        if c.peek(0, "0") && (c.peek(1, "o") || c.peek(1, "x")) {
            let hex = c.peek(1, "x")
            c.advance(2)
            return c.skip(while: hex ? isHex : isOctal) > 0 && c.atEnd
        }
        c.skipSign()
        return c.skip(while: isDigit) > 0 && c.atEnd
    }

    private static func isFloat12(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if isOneOf(b, [".nan", ".NaN", ".NAN"]) { return true }
        var c = Cursor(b)
        c.skipSign()
        if c.rest(isOneOf: [".inf", ".Inf", ".INF"]) { return true }
        // `\.[0-9]+` or `[0-9]+(\.[0-9]*)?`, then an optional exponent
        if c.skip(".") {
            guard c.skip(while: isDigit) > 0 else { return false }
        } else {
            guard c.skip(while: isDigit) > 0 else { return false }
            if c.skip(".") { c.skip(while: isDigit) }
        }
        return exponent12(&c) && c.atEnd
    }

    private static func exponent12(_ c: inout Cursor) -> Bool {
        guard c.skip("e") || c.skip("E") else { return true }
        c.skipSign()
        return c.skip(while: isDigit) > 0
    }

    // MARK: YAML 1.1

    static func resolve11(_ b: UnsafeBufferPointer<UInt8>) -> ScalarType {
        guard let first = b.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            return b.count == 1 ? .null : .string
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if isOneOf(b, ["null", "Null", "NULL"]) { return .null }
            return isOneOf(b, ["n", "N", "no", "No", "NO"]) ? .bool : .string
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"),
             UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            return isOneOf(b, bools11) ? .bool : .string
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            if isInt11(b) { return .int }
            if isFloat11(b) { return .float }
            if isTimestamp11(b) { return .timestamp }
            return .string
        default:
            return .string
        }
    }

    private static let bools11: [StaticString] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]

    private static func isInt11(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var c = Cursor(b)
        c.skipSign()
        let start = c.position
        if c.peek(0, "0") && c.peek(1, "b") {
            c.advance(2)
            return c.skip(while: { $0 == 0x30 || $0 == 0x31 || $0 == 0x5F }) > 0 && c.atEnd
        }
        if c.peek(0, "0") && c.peek(1, "x") {
            c.advance(2)
            return c.skip(while: { isHex($0) || $0 == 0x5F }) > 0 && c.atEnd
        }
        if c.peek(0, "0") {
            c.advance(1)
            if c.atEnd { return true }
            return c.skip(while: { isOctal($0) || $0 == 0x5F }) > 0 && c.atEnd
        }
        guard c.position < b.count, isDigit(b[c.position]) else { return false }
        c.skip(while: { isDigit($0) || $0 == 0x5F })
        if c.atEnd { return true }
        // base 60: [1-9][0-9_]*(:[0-5]?[0-9])+
        guard b[start] != UInt8(ascii: "0") else { return false }
        return sexagesimalTail(&c) && c.atEnd
    }

    /// `(:[0-5]?[0-9])+`
    private static func sexagesimalTail(_ c: inout Cursor) -> Bool {
        var groups = 0
        while c.skip(":") {
            let n = c.skip(while: isDigit, max: 2)
            guard n > 0 else { return false }
            if n == 2 && c.buffer[c.position - 2] > UInt8(ascii: "5") { return false }
            groups += 1
        }
        return groups > 0
    }

    private static func isFloat11(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if isOneOf(b, [".nan", ".NaN", ".NAN"]) { return true }
        var c = Cursor(b)
        c.skipSign()
        if c.rest(isOneOf: [".inf", ".Inf", ".INF"]) { return true }
        let afterSign = c.position
        // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
        if c.position < b.count, isDigit(b[c.position]) {
            c.skip(while: { isDigit($0) || $0 == 0x5F })
            if c.peek(0, ":") {
                guard sexagesimalTail(&c), c.skip(".") else { return false }
                c.skip(while: { isDigit($0) || $0 == 0x5F })
                return c.atEnd
            }
        }
        // [-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?, with at least one digit
        c = Cursor(b)
        c.position = afterSign
        var digits = 0
        if c.position < b.count, isDigit(b[c.position]) {
            digits += c.skip(while: { isDigit($0) || $0 == 0x5F })
        }
        guard c.skip(".") else { return false }
        while c.position < b.count, isDigit(b[c.position]) || b[c.position] == UInt8(ascii: ".") {
            if isDigit(b[c.position]) { digits += 1 }
            c.advance(1)
        }
        guard digits > 0 else { return false }
        if c.skip("e") || c.skip("E") {
            guard c.skip("-") || c.skip("+") else { return false }
            guard c.skip(while: isDigit) > 0 else { return false }
        }
        return c.atEnd
    }

    private static func isTimestamp11(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var c = Cursor(b)
        guard c.skip(while: isDigit, max: 4) == 4, c.skip("-") else { return false }
        let month = c.skip(while: isDigit, max: 2)
        guard month > 0, c.skip("-") else { return false }
        let day = c.skip(while: isDigit, max: 2)
        guard day > 0 else { return false }
        if c.atEnd { return month == 2 && day == 2 }
        // ([Tt]|[ \t]+)hh?:mm:ss(.frac)?(([ \t]*)Z|[-+]hh?(:mm)?)?
        if !(c.skip("T") || c.skip("t")) {
            guard c.skip(while: isBlank) > 0 else { return false }
        }
        guard c.skip(while: isDigit, max: 2) > 0, c.skip(":"),
              c.skip(while: isDigit, max: 2) == 2, c.skip(":"),
              c.skip(while: isDigit, max: 2) == 2 else { return false }
        if c.skip(".") { c.skip(while: isDigit) }
        if c.atEnd { return true }
        c.skip(while: isBlank)
        if c.skip("Z") { return c.atEnd }
        guard c.skip("-") || c.skip("+"), c.skip(while: isDigit, max: 2) > 0 else { return false }
        if c.skip(":") { guard c.skip(while: isDigit, max: 2) == 2 else { return false } }
        return c.atEnd
    }

    /// YAML 1.1 gives plain `<<` (merge) and `=` (value) meanings of their own.
    private static func isReserved11(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        isOneOf(b, ["<<", "="])
    }

    /// go-yaml v2 hands any plain scalar starting like a number to `strconv` (after
    /// removing `_`), which accepts more than either YAML schema: `08`, `+inf`, `0x1p3`.
    private static func looksLikeGoNumber(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = b.first, isDigit(first) || first == 0x2B || first == 0x2D || first == 0x2E,
              b.count < 64 else { return false }
        let stripped = String(decoding: b.filter { $0 != 0x5F }, as: UTF8.self)
        if Double(stripped) != nil { return true }
        var body = Substring(stripped)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        for (prefix, radix) in [("0b", 2), ("0o", 8), ("0x", 16)] where body.hasPrefix(prefix) {
            return Int(body.dropFirst(2), radix: radix) != nil
        }
        return false
    }

    // MARK: matching helpers

    private static func isOneOf(_ b: UnsafeBufferPointer<UInt8>, _ words: [StaticString]) -> Bool {
        words.contains { equals(b, $0) }
    }

    fileprivate static func equals(_ b: some Collection<UInt8>, _ word: StaticString) -> Bool {
        guard b.count == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { w in b.elementsEqual(w) }
    }
}

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func isOctal(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x37 }
@inline(__always) private func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
@inline(__always) private func isHex(_ c: UInt8) -> Bool {
    isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/// A read position in a byte buffer with the few moves the matchers need.
private struct Cursor {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

    var atEnd: Bool { position == buffer.count }

    func peek(_ offset: Int, _ char: Unicode.Scalar) -> Bool {
        position + offset < buffer.count && buffer[position + offset] == UInt8(ascii: char)
    }

    mutating func advance(_ n: Int) { position += n }

    mutating func skip(_ char: Unicode.Scalar) -> Bool {
        guard peek(0, char) else { return false }
        position += 1
        return true
    }

    mutating func skipSign() {
        if !skip("-") { _ = skip("+") }
    }

    @discardableResult
    mutating func skip(while predicate: (UInt8) -> Bool, max: Int = .max) -> Int {
        var n = 0
        while n < max, position < buffer.count, predicate(buffer[position]) {
            position += 1
            n += 1
        }
        return n
    }

    func rest(isOneOf words: [StaticString]) -> Bool {
        let rest = buffer[position...]
        return words.contains { ScalarResolver.equals(rest, $0) }
    }
}
