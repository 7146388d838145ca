import Foundation
import Testing

@testable import ChatModel

@Suite("Front matter (docs/format.md §5)")
struct FrontMatterTests {
    @Test("§5: no front matter unless the first line is ---")
    func noFrontMatter() throws {
        let doc = try FrontMatter.parse("Hello\n---\nagent: x\n---\n", schema: .message)
        #expect(doc.fields.isEmpty)
        #expect(doc.body.hasPrefix("Hello"))
    }

    @Test("§5: typed values and the body's first line")
    func typed() throws {
        let doc = try FrontMatter.parse(
            "---\ntitle: \"Q4: plan\"\nagent: ops\ntags: [billing, urgent]\n---\nBody\n", schema: .thread)
        #expect(doc[string: "title"] == "Q4: plan")
        #expect(doc.fields["tags"] == .strings(["billing", "urgent"]))
        #expect(doc.bodyLine == 6)
        #expect(doc.body == "Body\n")
    }

    @Test("§5: block lists and CRLF line ends")
    func blockListsAndCRLF() throws {
        let doc = try FrontMatter.parse("---\r\ntags:\r\n  - a\r\n  - b\r\n---\r\nBody", schema: .thread)
        #expect(doc.fields["tags"] == .strings(["a", "b"]))
    }

    @Test(
        "§5: every error names the line and says what to do",
        arguments: [
            ("---\nagent: ops\nagnet: x\n---\n", 3, "unknown key 'agnet'"),
            ("---\nagent: [a, b]\n---\n", 2, "must be a single value"),
            ("---\nagent: ops\nagent: dev\n---\n", nil, "duplicate key"),
            ("---\nagent:\n---\n", 2, "has no value"),
            ("---\nagent: \"unclosed\n---\n", nil, "a quoted value is not closed"),
            ("---\nagent: ops\n", 1, "never closed"),
            ("---\n- just\n- a list\n---\n", 2, "key: value"),
        ] as [(String, Int?, String)])
    func errors(text: String, line: Int?, fragment: String) {
        do {
            _ = try FrontMatter.parse(text, schema: .message)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
            if let line { #expect(error.line == line, "\(error)") }
        }
    }

    @Test(
        "§5: a string key takes text: an unquoted number or yes/no value is refused with the fix",
        arguments: [
            ("---\nagent: 12\n---\nhi\n", "agent", "12", "a number"),
            ("---\nauthor: true\n---\nhi\n", "author", "true", "a yes/no value"),
            ("---\nauthor: no\n---\nhi\n", "author", "no", "a yes/no value"),
            ("---\nagent: 1.5\n---\nhi\n", "agent", "1.5", "a number"),
            ("---\nagent: 0x1F\n---\nhi\n", "agent", "0x1F", "a number"),
        ] as [(String, String, String, String)])
    func stringKeysTakeText(text: String, key: String, value: String, kind: String) throws {
        do {
            _ = try OperatorMessage.parse(id: "hello", bytes: Array(text.utf8))
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == 2)
            #expect(
                error.message
                    == "'\(key)' must be text, but YAML reads \(value) as \(kind); put it in quotes (\(key): \"\(value)\") if you mean the text",
                "\(error)")
        }
        // Quoted, the same value is text.
        let quoted = text.replacingOccurrences(of: ": \(value)\n", with: ": \"\(value)\"\n")
        let parsed = try OperatorMessage.parse(id: "hello", bytes: Array(quoted.utf8))
        #expect((key == "agent" ? parsed.agent : parsed.author) == value)
        // Tags in thread.md too.
        #expect(throws: FormatError.self) { try ThreadMeta.parse(bytes: Array("---\ntags: [ops, 12]\n---\n".utf8)) }
    }

    @Test(
        "§5: YAML syntax errors say what is wrong and what to do, not libyaml's words",
        arguments: [
            ("---\ntitle: Q4: plan\n---\n", "put the value in quotes, e.g. title: \"Q4: plan\""),
            ("---\ntitle: \"unclosed\n---\n", "a quoted value is not closed; add the closing quote"),
            ("---\ntitle: ops\n  agent: x\n---\n", "put the value in quotes"),
            ("---\ntitle: `cmd`\n---\n", "a value starts with a character YAML reserves"),
            ("---\ntitle: a\nagent\n---\n", "write one key: value per line"),
        ] as [(String, String)])
    func yamlErrorsInWords(text: String, fragment: String) {
        do {
            _ = try FrontMatter.parse(text, schema: .thread)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.contains(fragment), "\(error)")
            for raw in [
                "mapping values are not allowed", "could not find expected", "did not find expected", "found character",
            ] {
                #expect(!error.message.contains(raw), "\(error)")
            }
            #expect(error.line != nil)
        }
    }

    @Test("§5: the front matter limit is inclusive: 8,192 bytes of YAML pass, 8,193 do not")
    func sizeCapBoundary() throws {
        func text(_ yamlBytes: Int) -> String {
            // `author: "xxx…"\n` is 11 bytes plus the x's.
            "---\nauthor: \"" + String(repeating: "x", count: yamlBytes - 11) + "\"\n---\nhi\n"
        }
        let schema = FrontMatterSchema([("author", .string(maxLength: 10_000))])
        #expect(try FrontMatter.parse(text(8192), schema: schema)[string: "author"]?.count == 8181)
        #expect(throws: FormatError.self) { try FrontMatter.parse(text(8193), schema: schema) }
    }

    @Test("§4.3: the message limit is inclusive: 1 MiB passes, one byte more is refused saying by how much")
    func messageLimitBoundary() throws {
        let body = Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
        #expect(try OperatorMessage.parse(id: "big", bytes: body).body.utf8.count == 1 << 20)
        do {
            _ = try OperatorMessage.parse(id: "big", bytes: body + [UInt8(ascii: "a")])
            Issue.record("accepted one byte over")
        } catch {
            #expect(error.message.contains("the file is 1048577 bytes, over the limit of 1048576"), "\(error)")
        }
    }

    @Test(
        "§5: anchors, aliases and tags are refused",
        arguments: [
            "---\nagent: &a ops\n---\n", "---\nagent: *a\n---\n", "---\nagent: !!str ops\n---\n",
            "---\n? *a\n: x\n---\n",
        ])
    func refusedYAML(text: String) {
        #expect(throws: FormatError.self) { try FrontMatter.parse(text, schema: .message) }
    }

    @Test("§5: a YAML alias bomb is refused before anything expands it")
    func aliasBomb() throws {
        // Nine levels: 9^9 (387 million) nodes if expanded; Yams alone runs out of memory (field notes).
        // Aliases used as keys too, which Yams would hash while composing.
        var lines = ["---", "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = Array("abcdefghi")
        for (index, name) in names.dropFirst().enumerated() {
            let previous = names[index]
            lines.append(
                "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        }
        lines.append("? *i")
        lines.append(": boom")
        lines.append("---")
        let text = lines.joined(separator: "\n") + "\nBody\n"
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try FrontMatter.parse(text, schema: .message)
            Issue.record("bomb accepted")
        } catch {
            #expect(error.description.contains("anchors") || error.description.contains("aliases"))
            #expect(error.line == 2)
        }
        // Not a timing test: a generous bound that only an expansion would break.
        #expect(clock.now - start < .seconds(2))
    }

    @Test("§5: front matter is capped")
    func sizeCap() {
        let text = "---\nauthor: \"" + String(repeating: "x", count: 9000) + "\"\n---\nhi"
        #expect(throws: FormatError.self) { try FrontMatter.parse(text, schema: .message) }
    }

    @Test("§5: string lengths and list sizes are capped")
    func lengthCaps() {
        #expect(throws: FormatError.self) {
            try FrontMatter.parse("---\ntitle: \(String(repeating: "t", count: 201))\n---\n", schema: .thread)
        }
        let tags = (0..<21).map { "t\($0)" }.joined(separator: ", ")
        #expect(throws: FormatError.self) { try FrontMatter.parse("---\ntags: [\(tags)]\n---\n", schema: .thread) }
        #expect(throws: FormatError.self) { try FrontMatter.parse("---\ntags: solo\n---\n", schema: .thread) }
    }

    @Test(
        "§6.1: YAML scalars written by Letterbox read back as the same string",
        arguments: [
            "ops", "hello.reply", "yes", "No", "null", "123", "2026-11-21T09:30:00.125Z", "a: b", "# not a comment",
            "quote \" and \\ backslash", "tab\tand\nnewline", "- dash", "[bracket", "émoji 🎉",
        ])
    func scalarRoundTrip(value: String) throws {
        let doc = try FrontMatter.parse("---\nauthor: \(YAMLScalar.quoted(value))\n---\nx", schema: .message)
        #expect(doc[string: "author"] == value)
    }
}
