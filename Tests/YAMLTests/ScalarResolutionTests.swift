import Testing
import YAML

@Suite struct ScalarResolutionTests {
    /// (plain text, YAML 1.1 type, YAML 1.2 core type)
    static let table: [(String, ScalarType, ScalarType)] = [
        ("", .null, .null), ("~", .null, .null), ("null", .null, .null), ("Null", .null, .null),
        ("NULL", .null, .null), ("nULL", .string, .string),
        ("true", .bool, .bool), ("False", .bool, .bool), ("TRUE", .bool, .bool), ("tRUE", .string, .string),
        ("yes", .bool, .string), ("Yes", .bool, .string), ("YES", .bool, .string), ("y", .bool, .string),
        ("Y", .bool, .string), ("n", .bool, .string), ("no", .bool, .string), ("NO", .bool, .string),
        ("on", .bool, .string), ("On", .bool, .string), ("OFF", .bool, .string), ("off", .bool, .string),
        ("yEs", .string, .string), ("nope", .string, .string),
        ("0", .int, .int), ("42", .int, .int), ("-17", .int, .int), ("+3", .int, .int),
        ("0755", .int, .int), ("08", .string, .int), ("0o17", .string, .int), ("0x1F", .int, .int),
        ("0b101", .int, .string), ("1_000", .int, .string), ("1:20", .int, .string), ("190:20:30", .int, .string),
        ("01:20", .string, .string), ("1:70", .string, .string),
        ("1.10", .float, .float), ("1.0", .float, .float), ("-.5", .float, .float), (".5", .float, .float),
        ("1.", .float, .float), ("1e3", .string, .float), ("1.0e+3", .float, .float), ("1.0e3", .string, .float),
        ("6.8523015e+5", .float, .float), ("1_000.5", .float, .string), ("190:20:30.15", .float, .string),
        (".inf", .float, .float), ("-.Inf", .float, .float), ("+.INF", .float, .float), (".NaN", .float, .float),
        ("1.2.3", .float, .string), (".", .string, .string), ("-", .string, .string), ("+", .string, .string),
        ("2001-12-14", .timestamp, .string), ("2001-12-14t21:59:43.10-05:00", .timestamp, .string),
        ("2001-12-14 21:59:43.10 -5", .timestamp, .string), ("2001-12-15T02:59:43.1Z", .timestamp, .string),
        ("2001-12-14 21:59:43", .timestamp, .string), ("2001-1-4", .string, .string), ("2001-12-14x", .string, .string),
        ("nginx", .string, .string), ("app.kubernetes.io/name", .string, .string), ("v1", .string, .string),
        ("1.2.3-beta", .string, .string), ("10Gi", .string, .string), ("100m", .string, .string),
        ("0.0.0.0/0", .string, .string), ("<<", .string, .string), ("é", .string, .string),
    ]

    @Test(arguments: table)
    func resolvesPlainScalars(text: String, yaml11: ScalarType, core12: ScalarType) {
        #expect(ScalarResolver.resolve(text, .yaml11) == yaml11, "YAML 1.1 type of \(text.debugDescription)")
        #expect(ScalarResolver.resolve(text, .core12) == core12, "YAML 1.2 type of \(text.debugDescription)")
    }

    @Test(arguments: ["yes", "on", "y", "n", "No", "OFF", "1.10", "0755", "1e3", "~", "null", "", "2001-12-14",
                      ".inf", "-.inf", ".nan", "true", "1_000", "1:20", "0x1F", "0o17", "0b11", "08", "+inf",
                      "-Infinity", "0x1p3", "1.2.3", "<<", "=", "123", "-0", "+1"])
    func ambiguousStringsNeedQuotes(text: String) {
        #expect(ScalarResolver.isAmbiguous(text))
    }

    @Test(arguments: ["nginx", "nginx:1.25", "app", "yess", "onn", "v1.2.3", "10Gi", "100m", "1.2.3-rc1",
                      "hello world", "0.0.0.0/0", "-foo", "é", "/health", "a=b", "true-ish"])
    func plainStringsStayPlain(text: String) {
        #expect(!ScalarResolver.isAmbiguous(text))
    }

    @Test func typedAccessorsFollowYAML11LikeFabrikate() throws {
        let node = try Node.document(in: """
            injectNamespace: yes
            disabled: off
            replicas: 0x10
            mode: 0755
            seconds: 1:30
            ratio: 1.5
            inf: -.inf
            version: 1.10
            quoted: "true"
            nothing: ~
            """)
        #expect(node["injectNamespace"]?.bool() == true)
        #expect(node["injectNamespace"]?.bool(.core12) == nil)
        #expect(node["disabled"]?.bool() == false)
        #expect(node["replicas"]?.int() == 16)
        #expect(node["mode"]?.int() == 0o755)
        #expect(node["mode"]?.int(.core12) == 755)
        #expect(node["seconds"]?.int() == 90)
        #expect(node["ratio"]?.double() == 1.5)
        #expect(node["inf"]?.double() == -.infinity)
        #expect(node["version"]?.string() == nil)
        #expect(node["version"]?.textValue == "1.10")
        #expect(node["quoted"]?.bool() == nil)
        #expect(node["quoted"]?.string() == "true")
        #expect(node["nothing"]?.isNull == true)
        #expect(node["nothing"]?.textValue == nil)
        #expect(node["missing"] == nil)
        #expect(node.keys == ["injectNamespace", "disabled", "replicas", "mode", "seconds", "ratio", "inf", "version", "quoted", "nothing"])
    }
}
