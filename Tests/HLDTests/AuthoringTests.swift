import Testing
import YAML
@testable import HLD

@Suite struct AssignmentParsingTests {
    @Test(arguments: [
        ("replicas=4", [PathSegment.key("replicas")], Node.plain("4")),
        ("flag=true", [.key("flag")], .plain("true")),
        ("image.tag=v1.2", [.key("image"), .key("tag")], .plain("v1.2")),
        ("image.tag=1.10.0", [.key("image"), .key("tag")], .string("1.10.0")),
        ("args=--a=b", [.key("args")], .plain("--a=b")),
        ("\"app.kubernetes.io/name\".x=shop", [.key("app.kubernetes.io/name"), .key("x")], .plain("shop")),
        ("answer=y", [.key("answer")], .string("y")),
        ("'a=b'.c=1", [.key("a=b"), .key("c")], .plain("1")),
        ("empty=", [.key("empty")], .string("")),
        ("quoted=\"4\"", [.key("quoted")], .string("4")),
        ("list=[1, 2]", [.key("list")], .string("[1, 2]")),
        ("octal=0755", [.key("octal")], .string("0755")),
        ("none=null", [.key("none")], .plain("null")),
    ])
    func valuesReadAsYAMLScalars(argument: String, path: [PathSegment], value: Node) throws {
        let assignment = try Authoring.Assignment.parse(argument, string: false)
        #expect(assignment.path == path)
        #expect(assignment.value == value)
        #expect(assignment.value.scalarType(.yaml11) == value.scalarType(.yaml11))
    }

    @Test func stringTakesEveryValueAsAString() throws {
        #expect(try Authoring.Assignment.parse("replicas=4", string: true).value.scalarType(.core12) == .string)
    }

    @Test(arguments: ["novalue", "a..b=1", ".a=1", "a.=1", "\"a.b=1", "=1"])
    func malformedAssignmentsAreErrors(argument: String) {
        #expect(throws: HLDError.self) { try Authoring.Assignment.parse(argument, string: false) }
    }
}
