/// The files the daemon writes: front matter in a fixed order, then a body (docs/format.md §6).
public struct DaemonFile: Sendable, Hashable {
    /// What the file records.
    public enum Role: String, Sendable, Hashable {
        case assistant, tool, approval, `operator`, system
    }

    public var id: String
    public var role: Role
    public var agent: String
    public var inReplyTo: String?
    public var run: String?
    public var created: Timestamp
    public var status: String
    /// Kind-specific keys (`tool`, `tool-call`, `approval`, `runtime-id`, `author`), written after the common ones.
    public var extra: [(String, String)]
    public var body: String

    public init(
        id: String, role: Role, agent: String, inReplyTo: String? = nil, run: String? = nil, created: Timestamp,
        status: String, extra: [(String, String)] = [], body: String
    ) {
        self.id = id
        self.role = role
        self.agent = agent
        self.inReplyTo = inReplyTo
        self.run = run
        self.created = created
        self.status = status
        self.extra = extra
        self.body = body
    }

    public static func == (lhs: DaemonFile, rhs: DaemonFile) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// The whole file.
    public var text: String {
        var lines = [
            "---", "id: \(YAMLScalar.quoted(id))", "role: \(role.rawValue)", "agent: \(YAMLScalar.quoted(agent))",
        ]
        if let inReplyTo { lines.append("in-reply-to: \(YAMLScalar.quoted(inReplyTo))") }
        if let run { lines.append("run: \(YAMLScalar.quoted(run))") }
        lines.append("created: \(YAMLScalar.quoted(created.description))")
        lines.append("status: \(YAMLScalar.quoted(status))")
        for (key, value) in extra { lines.append("\(key): \(YAMLScalar.quoted(value))") }
        lines.append("---")
        let trimmed = body.hasSuffix("\n") ? body : body + "\n"
        return lines.joined(separator: "\n") + "\n" + trimmed
    }

    /// Reads a daemon-written file back (front matter and body).
    public static func parse(bytes: [UInt8]) throws(FormatError) -> DaemonFile {
        let text = try TextFile.decode(bytes, maxBytes: 16 << 20)
        let document = try FrontMatter.parse(text, schema: .daemonFile)
        func required(_ key: String) throws(FormatError) -> String {
            guard let value = document[string: key] else {
                throw FormatError(
                    .frontMatter, "a file Letterbox wrote lacks '\(key)' in its front matter; was it edited?", line: 1)
            }
            return value
        }
        guard let role = Role(rawValue: try required("role")) else {
            throw FormatError(.frontMatter, "unknown role '\(document[string: "role"] ?? "")'", line: 1)
        }
        guard let created = Timestamp(try required("created")) else {
            throw FormatError(.frontMatter, "'created' is not an RFC 3339 time", line: 1)
        }
        let extraKeys = ["tool", "tool-call", "approval", "runtime-id", "author"]
        return DaemonFile(
            id: try required("id"), role: role, agent: try required("agent"),
            inReplyTo: document[string: "in-reply-to"],
            run: document[string: "run"], created: created, status: try required("status"),
            extra: extraKeys.compactMap { key in document[string: key].map { (key, $0) } }, body: document.body)
    }

    /// The body of a tool call record: the arguments and, once known, the result (`ToolRecord`).
    public static func toolCallBody(tool: String, arguments: String, result: String?) -> String {
        ToolRecord.body(tool: tool, arguments: arguments, result: result)
    }
}
