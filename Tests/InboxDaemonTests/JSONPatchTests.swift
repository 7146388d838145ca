import ChatModel
import InboxCore
import Testing

@testable import InboxDaemon

@Suite("JSON Patch (RFC 6902) and JSON Pointer (RFC 6901)")
struct JSONPatchTests {
    static func json(_ text: String) throws -> JSONValue { try JSONValue(parsing: text) }

    /// The examples of RFC 6902 Appendix A that succeed: document, patch, result.
    static let rfcExamples: [(String, String, String, String)] = [
        (
            "A.1 add an object member", #"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#,
            #"{"baz":"qux","foo":"bar"}"#
        ),
        (
            "A.2 add an array element", #"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#,
            #"{"foo":["bar","qux","baz"]}"#
        ),
        (
            "A.3 remove an object member", #"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#,
            #"{"foo":"bar"}"#
        ),
        (
            "A.4 remove an array element", #"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#,
            #"{"foo":["bar","baz"]}"#
        ),
        (
            "A.5 replace a value", #"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#,
            #"{"baz":"boo","foo":"bar"}"#
        ),
        (
            "A.6 move a value", #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
            #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
            #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#
        ),
        (
            "A.7 move an array element", #"{"foo":["all","grass","cows","eat"]}"#,
            #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#
        ),
        (
            "A.8 test a value: success", #"{"baz":"qux","foo":["a",2,"c"]}"#,
            #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
            #"{"baz":"qux","foo":["a",2,"c"]}"#
        ),
        (
            "A.10 add a nested member object", #"{"foo":"bar"}"#,
            #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"child":{"grandchild":{}},"foo":"bar"}"#
        ),
        (
            "A.11 ignore unrecognised elements", #"{"foo":"bar"}"#,
            #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, #"{"baz":"qux","foo":"bar"}"#
        ),
        (
            "A.14 ~ escape ordering", #"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#,
            #"{"/":9,"~1":10}"#
        ),
        (
            "A.16 add an array value", #"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#,
            #"{"foo":["bar",["abc","def"]]}"#
        ),
        ("copy", #"{"a":{"b":1}}"#, #"[{"op":"copy","from":"/a","path":"/c"}]"#, #"{"a":{"b":1},"c":{"b":1}}"#),
        ("replace the whole document", #"{"a":1}"#, #"[{"op":"replace","path":"","value":[1]}]"#, "[1]"),
        ("test compares numbers by value", #"{"n":1}"#, #"[{"op":"test","path":"/n","value":1.0}]"#, #"{"n":1}"#),
        (
            "the scripted peer's delta", #"{"todo":["write"],"count":1,"draft":"tmp"}"#,
            #"[{"op":"add","path":"/todo/-","value":"review"},{"op":"replace","path":"/count","value":2},{"op":"remove","path":"/draft"}]"#,
            #"{"count":2,"todo":["write","review"]}"#
        ),
    ]

    @Test("RFC 6902 Appendix A examples", arguments: rfcExamples.indices)
    func examples(_ index: Int) throws {
        let (name, document, patch, expected) = Self.rfcExamples[index]
        let result = try JSONPatch.apply(Self.json(patch), to: Self.json(document))
        #expect(result.equals(try Self.json(expected)), "\(name): got \(result.jsonText)")
    }

    /// Patches that must fail, with a fragment of the reason.
    static let failures: [(String, String, String, String)] = [
        ("A.9 test fails", #"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#, "test failed"),
        (
            "A.12 add to a nonexistent target", #"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#,
            "no member 'baz'"
        ),
        (
            "A.15 test with a different type", #"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":"10"}]"#,
            "test failed"
        ),
        ("remove a missing member", #"{"a":1}"#, #"[{"op":"remove","path":"/b"}]"#, "no member 'b'"),
        ("replace a missing member", #"{"a":1}"#, #"[{"op":"replace","path":"/b","value":1}]"#, "no member 'b'"),
        ("index out of range", #"{"a":[1]}"#, #"[{"op":"add","path":"/a/2","value":1}]"#, "out of range"),
        ("leading zero", #"{"a":[1,2]}"#, #"[{"op":"remove","path":"/a/01"}]"#, "not an array index"),
        ("- outside add", #"{"a":[1]}"#, #"[{"op":"replace","path":"/a/-","value":1}]"#, "not an array index"),
        ("a bad escape", #"{"a":1}"#, #"[{"op":"remove","path":"/~2"}]"#, "'~' not followed by 0 or 1"),
        ("a pointer without /", #"{"a":1}"#, #"[{"op":"remove","path":"a"}]"#, "must be empty or start with '/'"),
        ("an unknown op", #"{}"#, #"[{"op":"merge","path":"","value":{}}]"#, "unknown op 'merge'"),
        ("a missing value", #"{}"#, #"[{"op":"add","path":"/a"}]"#, "has no 'value'"),
        (
            "move into its own child", #"{"a":{"b":{}}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#,
            "into its own child"
        ),
        ("not an array", #"{}"#, #"{"op":"add","path":"/a","value":1}"#, "must be an array"),
        ("into a scalar", #"{"a":1}"#, #"[{"op":"add","path":"/a/b","value":1}]"#, "cannot add 'b' to a number"),
    ]

    @Test("invalid patches fail with a reason naming the operation", arguments: failures.indices)
    func failing(_ index: Int) throws {
        let (name, document, patch, fragment) = Self.failures[index]
        #expect(name.isEmpty == false)
        #expect {
            try JSONPatch.apply(Self.json(patch), to: Self.json(document))
        } throws: { error in
            (error as? JSONPatch.Failure)?.description.contains(fragment) == true
        }
    }

    @Test("a patch is all or nothing: a failure in operation 2 names it, and the input is untouched")
    func atomic() throws {
        let document = try Self.json(#"{"a":1}"#)
        let patch = try Self.json(#"[{"op":"add","path":"/b","value":2},{"op":"remove","path":"/zzz"}]"#)
        #expect {
            try JSONPatch.apply(patch, to: document)
        } throws: { error in
            (error as? JSONPatch.Failure)?.operation == 1
        }
        #expect(document.jsonText == #"{"a":1}"#)
    }

    @Test("pointers: escapes decode in the right order; the empty pointer is the whole document")
    func pointers() throws {
        #expect(try JSONPatch.pointer("") == [])
        #expect(try JSONPatch.pointer("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"])
        #expect(try JSONPatch.pointer("/") == [""])
        #expect(JSONPatch.render(["a/b", "m~n"]) == "/a~1b/m~0n")
    }

    @Test("JSONValue keeps integers exact and writes sorted keys")
    func jsonText() throws {
        let value = try Self.json(#"{"b":[1,2.5,true,null,"x/y"],"a":{"n":9007199254740993}}"#)
        #expect(value.jsonText == #"{"a":{"n":9007199254740993},"b":[1,2.5,true,null,"x/y"]}"#)
    }
}
