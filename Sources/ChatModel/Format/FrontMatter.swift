internal import Yams

/// A value in front matter, typed by the file's schema.
public enum FrontMatterValue: Hashable, Sendable {
    case string(String)
    case strings([String])
    case int(Int)

    /// The value as a string, when it is one.
    public var string: String? { if case let .string(s) = self { s } else { nil } }
    /// The value as a list of strings, when it is one.
    public var strings: [String]? { if case let .strings(s) = self { s } else { nil } }
    /// The value as an integer, when it is one.
    public var int: Int? { if case let .int(i) = self { i } else { nil } }
}

/// The keys a kind of file may hold in its front matter, and their types.
public struct FrontMatterSchema: Sendable {
    /// The type of one key.
    public enum FieldType: Sendable {
        /// A string of at most `maxLength` characters.
        case string(maxLength: Int)
        /// A list of at most `maxCount` strings, each at most `maxLength` characters.
        case strings(maxCount: Int, maxLength: Int)
        /// An integer.
        case int
    }

    /// The allowed keys, in the order they are listed in error messages.
    public var fields: [(key: String, type: FieldType)]

    public init(_ fields: [(key: String, type: FieldType)]) { self.fields = fields }

    func type(of key: String) -> FieldType? { fields.first { $0.key == key }?.type }
    var knownKeys: String { fields.map(\.key).joined(separator: ", ") }

    /// `thread.md` (docs/format.md §3.2).
    public static let thread = FrontMatterSchema([
        ("title", .string(maxLength: 200)), ("agent", .string(maxLength: 120)),
        ("tags", .strings(maxCount: 20, maxLength: 40)),
    ])
    /// An operator message (§4.3).
    public static let message = FrontMatterSchema([
        ("agent", .string(maxLength: 120)), ("author", .string(maxLength: 80)),
    ])
    /// A control file (§8).
    public static let control = FrontMatterSchema([
        ("action", .string(maxLength: 20)), ("target", .string(maxLength: 200)), ("note", .string(maxLength: 4000)),
        ("arguments", .string(maxLength: 64 * 1024)),
    ])
    /// A file the daemon wrote (§6.1); read back when the daemon restarts.
    public static let daemonFile = FrontMatterSchema([
        ("id", .string(maxLength: 200)), ("role", .string(maxLength: 20)), ("agent", .string(maxLength: 120)),
        ("in-reply-to", .string(maxLength: 200)), ("run", .string(maxLength: 200)), ("created", .string(maxLength: 40)),
        ("status", .string(maxLength: 20)), ("tool", .string(maxLength: 200)), ("tool-call", .string(maxLength: 200)),
        ("approval", .string(maxLength: 200)), ("runtime-id", .string(maxLength: 200)),
        ("author", .string(maxLength: 80)), ("decisions", .string(maxLength: 80)), ("expires", .string(maxLength: 40)),
    ])
}

/// A Markdown document split into front matter and body (docs/format.md §5).
public struct MarkdownDocument: Sendable, Hashable {
    /// The typed front matter; empty when the file has none.
    public var fields: [String: FrontMatterValue]
    /// The Markdown after the front matter.
    public var body: String
    /// The 1-based line of the file where `body` starts.
    public var bodyLine: Int

    public init(fields: [String: FrontMatterValue] = [:], body: String, bodyLine: Int = 1) {
        self.fields = fields
        self.body = body
        self.bodyLine = bodyLine
    }

    /// The front matter value of `key` as a string.
    public subscript(string key: String) -> String? { fields[key]?.string }
}

/// Splits and parses front matter. Pure: text in, typed values or a located `FormatError` out.
public enum FrontMatter {
    /// The largest front matter block, in bytes.
    public static let defaultMaxBytes = 8 * 1024

    /// Splits `text` into the raw YAML block (if any) and the body.
    ///
    /// Returns nil YAML when the first line is not exactly `---`. Throws when a block is opened and
    /// never closed.
    public static func split(_ text: String) throws(FormatError) -> (yaml: String?, body: Substring, bodyLine: Int) {
        // Work on UTF-8: Swift treats "\r\n" as one Character, so Character-based splitting misses CRLF files.
        let bytes = text.utf8
        var lineStart = bytes.startIndex
        var line = 1
        var yamlStart: String.Index?
        while lineStart < bytes.endIndex {
            let newline = bytes[lineStart...].firstIndex(of: 10)
            let lineEnd = newline ?? bytes.endIndex
            var content = text[lineStart..<lineEnd].utf8
            if content.last == 13 { content = text[lineStart..<text.utf8.index(before: lineEnd)].utf8 }
            let next = newline.map { bytes.index(after: $0) } ?? bytes.endIndex
            if line == 1 {
                guard content.elementsEqual("---".utf8) else { return (nil, text[...], 1) }
                yamlStart = next
            } else if content.elementsEqual("---".utf8) || content.elementsEqual("...".utf8) {
                let yaml = String(text[(yamlStart ?? next)..<lineStart])
                return (yaml, text[next...], line + 1)
            }
            line += 1
            lineStart = next
        }
        guard yamlStart != nil else { return (nil, text[...], 1) }
        throw FormatError(
            .frontMatter, "front matter starts with --- on line 1 but is never closed; add a line with --- after it",
            line: 1)
    }

    /// Parses `text` (a whole file) into a document whose front matter follows `schema`.
    public static func parse(_ text: String, schema: FrontMatterSchema, maxBytes: Int = defaultMaxBytes)
        throws(FormatError) -> MarkdownDocument
    {
        let (yaml, body, bodyLine) = try split(text)
        guard let yaml else { return MarkdownDocument(body: String(body), bodyLine: bodyLine) }
        guard yaml.utf8.count <= maxBytes else {
            throw FormatError(.tooLarge, "front matter is over \(maxBytes) bytes; shorten it", line: 1)
        }
        do {
            let fields = try parseFields(yaml, schema: schema)
            return MarkdownDocument(fields: fields, body: String(body), bodyLine: bodyLine)
        } catch {
            // YAML lines count from the line after the opening ---.
            throw error.shiftingLine(by: 1)
        }
    }

    /// Parses a YAML mapping of `schema`'s keys (lines relative to `yaml`).
    static func parseFields(_ yaml: String, schema: FrontMatterSchema) throws(FormatError) -> [String: FrontMatterValue]
    {
        try YAMLGuard.check(yaml)
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw FormatError(.frontMatter, Self.describe(error), line: Self.line(of: error))
        } catch {
            throw FormatError(.frontMatter, "invalid YAML; check the syntax")
        }
        guard let node else { return [:] }
        guard case let .mapping(mapping) = node else {
            throw FormatError(.frontMatter, "front matter must be key: value lines", line: line(node))
        }
        var fields: [String: FrontMatterValue] = [:]
        for (keyNode, valueNode) in mapping {
            guard case let .scalar(keyScalar) = keyNode else {
                throw FormatError(
                    .frontMatter, "keys must be plain words (known keys: \(schema.knownKeys))", line: line(keyNode))
            }
            let key = keyScalar.string
            guard let type = schema.type(of: key) else {
                throw FormatError(
                    .frontMatter, "unknown key '\(key)' (known keys: \(schema.knownKeys)); fix the key or remove it",
                    line: line(keyNode))
            }
            fields[key] = try value(of: valueNode, key: key, type: type)
        }
        return fields
    }

    private static func value(of node: Node, key: String, type: FrontMatterSchema.FieldType) throws(FormatError)
        -> FrontMatterValue
    {
        switch type {
        case let .string(maxLength):
            let text = try scalarText(node, key: key, what: "a single value", asText: true)
            guard text.count <= maxLength else {
                throw FormatError(
                    .frontMatter, "'\(key)' is longer than \(maxLength) characters; shorten it", line: line(node))
            }
            return .string(text)
        case .int:
            let text = try scalarText(node, key: key, what: "a whole number")
            guard let number = Int(text) else {
                throw FormatError(.frontMatter, "'\(key)' must be a whole number, not '\(text)'", line: line(node))
            }
            return .int(number)
        case let .strings(maxCount, maxLength):
            guard case let .sequence(sequence) = node else {
                throw FormatError(.frontMatter, "'\(key)' must be a list, e.g. \(key): [one, two]", line: line(node))
            }
            guard sequence.count <= maxCount else {
                throw FormatError(
                    .frontMatter, "'\(key)' has more than \(maxCount) entries; remove some", line: line(node))
            }
            var items: [String] = []
            for item in sequence {
                let text = try scalarText(item, key: key, what: "a list of single values", asText: true)
                guard text.count <= maxLength else {
                    throw FormatError(
                        .frontMatter, "an entry of '\(key)' is longer than \(maxLength) characters", line: line(item))
                }
                items.append(text)
            }
            return .strings(items)
        }
    }

    /// The text of a scalar. With `asText`, an unquoted value that YAML reads as a number or a yes/no
    /// value (`agent: 12`, `author: true`) is refused: another YAML reader would not see text there.
    private static func scalarText(_ node: Node, key: String, what: String, asText: Bool = false) throws(FormatError)
        -> String
    {
        guard case let .scalar(scalar) = node else {
            let found = if case .mapping = node { "a mapping" } else { "a list" }
            throw FormatError(
                .frontMatter,
                "'\(key)' must be \(what), not \(found); write it on one line (\(key): value), in quotes if it holds ':' or '-'",
                line: line(node))
        }
        let text = scalar.string
        if scalar.style == .plain && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL")
        {
            throw FormatError(.frontMatter, "'\(key)' has no value; give it one or remove the line", line: line(node))
        }
        if asText, scalar.style == .plain {
            let kind: String?
            switch Resolver.default.resolveTag(of: node) {
            case .int, .float: kind = "a number"
            case .bool: kind = "a yes/no value"
            default: kind = nil
            }
            if let kind {
                throw FormatError(
                    .frontMatter,
                    "'\(key)' must be text, but YAML reads \(text) as \(kind); put it in quotes (\(key): \"\(text)\") if you mean the text",
                    line: line(node))
            }
        }
        return text
    }

    private static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        default:
            return nil
        }
    }

    /// What a YAML error means, in words, and what to do: libyaml's own text ("mapping values are not
    /// allowed in this context") says neither.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _),
            let .composer(context, problem, _, _):
            return explain(problem: problem, context: context?.text ?? "")
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")); keep one"
        default:
            return "the front matter is not valid YAML; write one key: value per line"
        }
    }

    /// Plain words for libyaml's problems (the ones an edited front matter block runs into).
    static func explain(problem: String, context: String) -> String {
        let all = problem + " " + context
        if all.contains("mapping values are not allowed") {
            return
                "a value holds ': ' (a colon and a space), which YAML reads as a second key; put the value in quotes, e.g. title: \"Q4: plan\""
        }
        if all.contains("found character that cannot start any token") {
            return "a value starts with a character YAML reserves (a tab, @, ` or %); put the value in quotes"
        }
        if all.contains("while scanning a quoted scalar") || all.contains("found unexpected end of stream") {
            return "a quoted value is not closed; add the closing quote"
        }
        if all.contains("could not find expected ':'") || all.contains("did not find expected key")
            || all.contains("block mapping")
        {
            return
                "a line is not 'key: value' or is indented differently from the others; write one key: value per line, starting at the left margin"
        }
        if all.contains("did not find expected node content") || all.contains("expected <block end>") {
            return
                "a value is missing or starts with a character YAML reserves ([, {, *, &, !, |, >); put the value in quotes"
        }
        if all.contains("found undefined tag handle") || all.contains("tag") {
            return "YAML tags (!!str, !custom) are not allowed; remove the tag"
        }
        if all.contains("alias") || all.contains("anchor") {
            return "YAML anchors and aliases (&a, *a) are not allowed; write the value out"
        }
        if all.contains("tab") {
            return "the front matter is indented with a tab; use spaces (or no indentation)"
        }
        return
            "the front matter is not valid YAML (\(problem)); write one key: value per line and quote values that hold ': ', '#' or start with a special character"
    }
}
