/// The approval request file's body and how an operator's decision is read from it (docs/format.md §6.4).
public enum ApprovalForm {
    /// The line after which the reason (reject), the answer (respond) or a note is written; it says
    /// what the text is for, for the decisions offered.
    public static func noteMarker(_ decisions: [Decision]) -> String {
        var uses: [String] = []
        if decisions.contains(.reject) { uses.append("the reason for Reject") }
        if decisions.contains(.respond) { uses.append("your answer for Respond") }
        return uses.isEmpty ? "Note (optional):" : "Note (\(uses.joined(separator: ", ")); optional otherwise):"
    }
    /// The info string of the fenced block that holds the arguments an Edit sends.
    public static let argumentsInfo = "json args"

    /// What the file says.
    public enum Reading: Sendable, Hashable {
        /// No box is ticked yet.
        case unanswered
        /// Exactly one offered box is ticked and what it needs is there; `arguments` is the edited
        /// arguments' canonical JSON (for `edit`).
        case answered(Decision, note: String?, arguments: String?)
        /// The file was saved in a state that is not a decision; `reason` says what to fix.
        case invalid(reason: String)
    }

    /// What a request allows, for checking a decision (from the journal's `approval_requested`).
    public struct Offer: Sendable, Hashable {
        public var decisions: [Decision]
        public var expired: Bool
        public var expiresAt: Timestamp?
        /// The JSON Schema edited arguments must meet.
        public var schema: String?
        /// The digest of the proposed arguments' canonical JSON.
        public var argumentsSHA256: String?

        public init(
            decisions: [Decision], expired: Bool = false, expiresAt: Timestamp? = nil, schema: String? = nil,
            argumentsSHA256: String? = nil
        ) {
            self.decisions = decisions
            self.expired = expired
            self.expiresAt = expiresAt
            self.schema = schema
            self.argumentsSHA256 = argumentsSHA256
        }

        /// The offer of a journaled request.
        public init(_ approval: ApprovalState) {
            self.init(
                decisions: approval.decisions, expired: approval.expired, expiresAt: approval.expiresAt,
                schema: approval.schema, argumentsSHA256: approval.argumentsSHA256)
        }
    }

    /// The words beside each box.
    static func label(_ decision: Decision) -> String {
        switch decision {
        case .approve: "Approve"
        case .edit: "Edit (change the arguments above, then tick this)"
        case .reject: "Reject (the tool does not run; the reason below goes to the agent)"
        case .respond: "Respond (write your answer below)"
        case .cancel: "Cancel (withdraw the request)"
        }
    }

    /// The Markdown body of a request: what is asked, the tool and its arguments, then one box per
    /// offered decision.
    public static func body(
        prompt: String, tool: String?, arguments: String?, decisions: [Decision] = Decision.basic,
        expiresAt: Timestamp? = nil
    ) -> String {
        var text = prompt.trimmingWhitespace.isEmpty ? "The agent asks for your approval." : prompt.trimmingWhitespace
        text += "\n\n"
        if let tool {
            text += "Tool: `\(tool.replacingBackticks)`\n\n"
        }
        if let arguments, !arguments.isEmpty {
            text +=
                decisions.contains(.edit)
                ? "Arguments (to change them, edit this block and tick Edit):\n\n" : "Arguments:\n\n"
            text += CodeFence.block(JSONValue.prettyPrinted(arguments), language: argumentsInfo) + "\n"
        }
        if let expiresAt {
            text += "Expires at \(expiresAt) (after that it can only be cancelled).\n\n"
        }
        text += "\(instruction)\n\n"
        for decision in decisions { text += "- [ ] \(label(decision))\n" }
        text += "\n\(noteMarker(decisions))\n\n"
        return text
    }

    /// The line before the boxes (`instructions` also holds the one files written before edit existed).
    static let instruction = "Tick exactly one box and save the file:"
    static let instructions: Set<String> = [instruction, "Tick one box and save the file:"]

    /// Reads the operator's decision from the request file's text (front matter included or not).
    public static func read(_ text: String, offer: Offer) -> Reading {
        let body = (try? FrontMatter.split(text).body).map(String.init) ?? text
        var ticked: [Decision] = []
        var seen: Set<Decision> = []
        var lastItemLine = -1
        let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        // The boxes are the ones after the last instruction line: what the runtime asked (the prompt,
        // the arguments) comes before it, so a prompt holding "- [x] Approve", or a fence it never
        // closes, cannot answer or hide the boxes. Without that line (an operator removed it), the
        // whole body.
        let boxesStart = lines.lastIndex { instructions.contains($0.trimmingWhitespace) } ?? -1
        var fence: (marker: String, info: String, start: Int)?
        var blocks: [(info: String, text: String)] = []
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingWhitespace
            if index == boxesStart {
                fence = nil
                continue
            }
            if let open = fence {
                if line.hasPrefix(open.marker) && line.allSatisfy({ $0 == open.marker.first }) {
                    blocks.append((open.info, lines[(open.start + 1)..<index].joined(separator: "\n")))
                    fence = nil
                }
                continue
            }
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                let marker = String(line.prefix { $0 == line.first })
                fence = (marker, String(line.dropFirst(marker.count)).trimmingWhitespace.lowercased(), index)
                continue
            }
            guard index > boxesStart, let (checked, label) = taskItem(line) else { continue }
            let word = String(
                label.filter { $0 != "*" && $0 != "_" }.trimmingWhitespace.prefix { $0.isLetter }
            ).lowercased()
            guard let decision = Decision(rawValue: word) else { continue }
            seen.insert(decision)
            lastItemLine = index
            if checked, !ticked.contains(decision) { ticked.append(decision) }
        }
        guard !seen.isEmpty else {
            return .invalid(
                reason:
                    "the decision boxes are gone; put back the lines '- [ ] Approve', '- [ ] Reject', ... and tick one")
        }
        switch ticked.count {
        case 0:
            return .unanswered
        case 1:
            var noteLines = lines[(lastItemLine + 1)...].map { String($0) }
            if let marker = noteLines.firstIndex(where: {
                $0.trimmingWhitespace.lowercased().hasPrefix("note") && $0.trimmingWhitespace.hasSuffix(":")
            }) {
                noteLines.removeSubrange(...marker)
            }
            let note = noteLines.joined(separator: "\n").trimmingWhitespace
            let arguments = blocks.first { $0.info == argumentsInfo }?.text ?? blocks.first { $0.info == "json" }?.text
            return check(ticked[0], note: note.isEmpty ? nil : note, arguments: arguments, offer: offer)
        default:
            return .invalid(
                reason:
                    "more than one box is ticked (\(ticked.map(\.rawValue).joined(separator: ", "))); tick exactly one and save again"
            )
        }
    }

    /// Checks a decision against what the request offers (the file and the CLI share this): an
    /// offered decision, not after expiry unless it cancels, an edit whose arguments parse, differ
    /// from the proposal and meet the schema, a respond with text.
    public static func check(_ decision: Decision, note rawNote: String?, arguments: String?, offer: Offer) -> Reading {
        let note = rawNote.map { String($0.prefix(4000)) }
        if offer.expired && decision != .cancel {
            let when = offer.expiresAt.map { " at \($0)" } ?? ""
            return .invalid(reason: "the request expired\(when); it can only be cancelled now: tick Cancel")
        }
        guard offer.decisions.contains(decision) else {
            let why: String =
                switch decision {
                case .respond: " (a tool call's result cannot be written by hand; reject it with a reason instead)"
                case .edit: " (the runtime cannot take edited arguments here)"
                default: ""
                }
            return .invalid(
                reason:
                    "\(decision.rawValue) is not offered for this request\(why); use one of: \(offer.decisions.map(\.rawValue).joined(separator: ", "))"
            )
        }
        switch decision {
        case .edit:
            guard let arguments, !arguments.trimmingWhitespace.isEmpty else {
                return .invalid(reason: "Edit is ticked but there is no ```json args block with the new arguments")
            }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: arguments)
            } catch {
                return .invalid(
                    reason: "the edited arguments are not valid JSON (\(error.reason)); fix them and save again")
            }
            guard case .object = value else {
                return .invalid(reason: "the edited arguments must be a JSON object, not \(value.typeName)")
            }
            let canonical = value.jsonText
            if let proposal = offer.argumentsSHA256, SHA256Hex.digest(canonical) == proposal {
                return .invalid(
                    reason: "Edit is ticked but the arguments are unchanged; change them, or tick Approve instead")
            }
            if let schemaText = offer.schema, let schema = try? JSONValue(parsing: schemaText) {
                let problems = ArgumentSchema.problems(value, schema: schema)
                if !problems.isEmpty {
                    return .invalid(
                        reason:
                            "the edited arguments do not fit the tool's schema: \(problems.joined(separator: "; ")); fix them and save again"
                    )
                }
            }
            return .answered(.edit, note: note, arguments: canonical)
        case .respond:
            guard let note, !note.trimmingWhitespace.isEmpty else {
                return .invalid(
                    reason: "Respond is ticked but there is no answer below the Note line; write it and save again")
            }
            return .answered(.respond, note: note, arguments: nil)
        case .approve, .reject, .cancel:
            return .answered(decision, note: note, arguments: nil)
        }
    }

    /// The digest an edit is compared with: the canonical JSON of the proposed arguments (nil when
    /// they are not JSON).
    public static func argumentsDigest(_ arguments: String?) -> String? {
        guard let arguments, let value = try? JSONValue(parsing: arguments) else { return nil }
        return SHA256Hex.digest(value.jsonText)
    }

    /// The file's text with its front matter `status` set to `status` (the body, as the operator left
    /// it, unchanged); nil when the text has no front matter with a status line or already says so.
    public static func withStatus(_ text: String, status: String) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first?.trimmingWhitespace == "---" else { return nil }
        for index in lines.indices.dropFirst() {
            let line = lines[index]
            if line.trimmingWhitespace == "---" { return nil }
            guard line.hasPrefix("status:") else { continue }
            let wanted = "status: \(YAMLScalar.quoted(status))"
            if line == wanted { return nil }
            lines[index] = wanted
            return lines.joined(separator: "\n")
        }
        return nil
    }

    /// `- [x] label` -> (true, label); nil when the line is not a task item.
    private static func taskItem(_ line: String) -> (Bool, String)? {
        var rest = Substring(line)
        guard let bullet = rest.first, bullet == "-" || bullet == "*" || bullet == "+" else { return nil }
        rest = rest.dropFirst()
        guard rest.first == " " else { return nil }
        rest = rest.drop { $0 == " " }
        guard rest.count >= 3, rest.first == "[" else { return nil }
        let mark = rest[rest.index(after: rest.startIndex)]
        guard rest[rest.index(rest.startIndex, offsetBy: 2)] == "]" else { return nil }
        let checked: Bool
        switch mark {
        case " ": checked = false
        case "x", "X": checked = true
        default: return nil
        }
        return (checked, String(rest.dropFirst(3)))
    }
}

/// Fenced code blocks that cannot be broken out of by their content.
public enum CodeFence {
    /// `content` in a fence longer than any run of backticks inside it.
    public static func block(_ content: String, language: String = "") -> String {
        var longest = 0
        var run = 0
        for character in content {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        let text = content.hasSuffix("\n") ? content : content + "\n"
        return "\(fence)\(language)\n\(text)\(fence)\n"
    }
}

extension String {
    var replacingBackticks: String { String(map { $0 == "`" ? "'" : $0 }) }
}
