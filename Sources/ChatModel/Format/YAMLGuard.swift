internal import CYaml

/// Refuses YAML features that front matter and configuration never need and that can hurt.
///
/// Yams expands aliases while it builds and hashes nodes: a 386-byte "billion laughs" document took
/// 9.4 s and 2 GB there (docs/architecture.md). So before Yams sees a document, its libyaml event
/// stream (the same libyaml Yams parses with, reached through Yams' `CYaml` module) is walked once and
/// any anchor, alias or explicit tag is refused. Nothing is expanded, so a bomb costs microseconds.
enum YAMLGuard {
    /// The most events a front matter or config document may produce.
    static let maxEvents = 20_000
    /// The deepest nesting allowed.
    static let maxDepth = 16

    /// Throws a `FormatError` (line relative to `yaml`) for anchors, aliases, tags, or a document
    /// that is too large or too deep.
    static func check(_ yaml: String) throws(FormatError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw FormatError(.frontMatter, "the YAML parser could not start (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        if bytes.isEmpty { return }
        let failure: FormatError? = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            for _ in 0..<maxEvents {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let line = Int(parser.problem_mark.line) + 1
                    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    let context = parser.context.map { String(cString: $0) } ?? ""
                    return FormatError(
                        .frontMatter, FrontMatter.explain(problem: problem, context: context), line: line)
                }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    return FormatError(
                        .frontMatter, "YAML aliases (*name) are not allowed; write the value out", line: line)
                case YAML_SCALAR_EVENT:
                    if event.data.scalar.anchor != nil { return anchorError(line) }
                    if event.data.scalar.tag != nil { return tagError(line) }
                case YAML_SEQUENCE_START_EVENT:
                    if event.data.sequence_start.anchor != nil { return anchorError(line) }
                    if event.data.sequence_start.tag != nil { return tagError(line) }
                    depth += 1
                case YAML_MAPPING_START_EVENT:
                    if event.data.mapping_start.anchor != nil { return anchorError(line) }
                    if event.data.mapping_start.tag != nil { return tagError(line) }
                    depth += 1
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                default:
                    break
                }
                if depth > maxDepth {
                    return FormatError(
                        .frontMatter, "YAML nested more than \(maxDepth) levels deep; flatten it", line: line)
                }
            }
            return FormatError(.tooLarge, "YAML document has more than \(maxEvents) nodes; shorten it")
        }
        if let failure { throw failure }
    }

    private static func anchorError(_ line: Int) -> FormatError {
        FormatError(.frontMatter, "YAML anchors (&name) are not allowed; write the value out", line: line)
    }

    private static func tagError(_ line: Int) -> FormatError {
        FormatError(.frontMatter, "YAML tags (!!type) are not allowed; remove the tag", line: line)
    }
}
