/// What a control file (or the matching command) asks for (docs/format.md §8).
public struct ControlRequest: Sendable, Hashable {
    /// The actions an operator can ask for.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case abort, retry, regenerate, approve, edit, reject, respond, cancel

        /// Whether it decides an approval.
        public var isDecision: Bool { Decision(rawValue: rawValue) != nil }
    }

    public var action: Action
    /// A message, run or approval id; nil means the documented default target.
    public var target: String?
    /// A note sent with an approval decision: the reason (reject), the answer (respond).
    public var note: String?
    /// The edited arguments (JSON text), for `edit`.
    public var arguments: String?

    public init(action: Action, target: String? = nil, note: String? = nil, arguments: String? = nil) {
        self.action = action
        self.target = target
        self.note = note
        self.arguments = arguments
    }

    /// Parses a control file named `fileName` (e.g. `abort.md`, `retry-hello.md`).
    public static func parse(fileName: String, bytes: [UInt8]) throws(FormatError) -> ControlRequest {
        let text = try TextFile.decode(bytes, maxBytes: 64 * 1024)
        let document = try FrontMatter.parse(text, schema: .control)
        let actionName: String
        if let named = document[string: "action"] {
            actionName = named.lowercased()
        } else {
            let stem = fileName.hasSuffix(".md") ? String(fileName.dropLast(3)) : fileName
            actionName = String(stem.prefix { $0 != "-" && $0 != "_" && $0 != "." }).lowercased()
        }
        guard let action = Action(rawValue: actionName) else {
            let names = Action.allCases.map(\.rawValue).joined(separator: ", ")
            throw FormatError(
                .control,
                "'\(actionName)' is not an action (use one of \(names)); name the file after the action, e.g. abort.md, or set action: in its front matter"
            )
        }
        let note =
            document[string: "note"]
            ?? (action.isDecision && action != .edit ? document.body.trimmingWhitespace.nonEmpty : nil)
        let arguments =
            document[string: "arguments"] ?? (action == .edit ? document.body.trimmingWhitespace.nonEmpty : nil)
        return ControlRequest(action: action, target: document[string: "target"], note: note, arguments: arguments)
    }

    /// The text of a control file for this request, as the CLI writes it.
    public var fileText: String {
        var lines = ["---", "action: \(action.rawValue)"]
        if let target { lines.append("target: \(YAMLScalar.quoted(target))") }
        if let note { lines.append("note: \(YAMLScalar.quoted(note))") }
        if let arguments { lines.append("arguments: \(YAMLScalar.quoted(arguments))") }
        lines.append("---")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Nil when empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
