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
            ("---\nagent: \"unclosed\n---\n", nil, "YAML"),
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
