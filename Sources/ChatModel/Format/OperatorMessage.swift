/// An operator's message, read from its file (docs/format.md §4).
public struct OperatorMessage: Sendable, Hashable {
    /// The message id (the file name without `.md`).
    public var id: String
    /// The agent it goes to instead of the thread's, if the front matter names one.
    public var agent: String?
    /// Who wrote it, for display (front matter `author`, default `operator`).
    public var author: String
    /// The Markdown that is sent.
    public var body: String

    /// Parses a message file's bytes. Errors carry the line; the caller adds the path.
    public static func parse(id: String, bytes: [UInt8], maxBytes: Int = TextFile.defaultMaxBytes) throws(FormatError)
        -> OperatorMessage
    {
        let text = try TextFile.decode(bytes, maxBytes: maxBytes)
        let document = try FrontMatter.parse(text, schema: .message)
        let body = document.body.trimmingWhitespace
        guard !body.isEmpty else {
            throw FormatError(
                .empty, "the message is empty; write something below the front matter", line: document.bodyLine)
        }
        return OperatorMessage(
            id: id, agent: document[string: "agent"], author: document[string: "author"] ?? "operator", body: body)
    }
}

/// A thread's `thread.md` (docs/format.md §3.2).
public struct ThreadMeta: Sendable, Hashable {
    public var title: String?
    public var agent: String?
    public var tags: [String]
    /// The description (Markdown).
    public var description: String

    public init(title: String? = nil, agent: String? = nil, tags: [String] = [], description: String = "") {
        self.title = title
        self.agent = agent
        self.tags = tags
        self.description = description
    }

    /// Parses `thread.md`'s bytes.
    public static func parse(bytes: [UInt8]) throws(FormatError) -> ThreadMeta {
        let text = try TextFile.decode(bytes, maxBytes: 64 * 1024)
        let document = try FrontMatter.parse(text, schema: .thread)
        return ThreadMeta(
            title: document[string: "title"], agent: document[string: "agent"],
            tags: document.fields["tags"]?.strings ?? [],
            description: document.body.trimmingWhitespace)
    }

    /// The text of a `thread.md` with these values.
    public var fileText: String {
        var lines = ["---"]
        if let title { lines.append("title: \(YAMLScalar.quoted(title))") }
        if let agent { lines.append("agent: \(YAMLScalar.quoted(agent))") }
        if !tags.isEmpty { lines.append("tags: [\(tags.map(YAMLScalar.quoted).joined(separator: ", "))]") }
        lines.append("---")
        return lines.joined(separator: "\n") + "\n" + (description.isEmpty ? "" : description + "\n")
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    public var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

/// Writes YAML scalars that read back as the same string in any YAML parser.
public enum YAMLScalar {
    private static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]

    /// `text` plain when that is unambiguous (`ops`, `hello.reply`), else double-quoted JSON-style.
    public static func quoted(_ text: String) -> String {
        let plainSafe =
            text.utf8.first.map { Names.isAlphanumeric($0) && !($0 >= 48 && $0 <= 57) } ?? false
            && text.utf8.allSatisfy {
                Names.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "/")
            }
            && !reserved.contains(text.lowercased())
        return plainSafe ? text : CanonicalJSON.quoted(text)
    }
}
