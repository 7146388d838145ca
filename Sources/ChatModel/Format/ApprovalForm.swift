/// The approval request file's body and how an operator's answer is read from it (docs/format.md §6.4).
public enum ApprovalForm {
    /// The line after which a note may be written.
    public static let noteMarker = "Note (optional, sent with your answer):"

    /// What the file says.
    public enum Reading: Sendable, Hashable {
        /// No box is ticked yet.
        case unanswered
        /// Exactly one box is ticked.
        case answered(Decision, note: String?)
        /// The file was saved in a state that is not an answer; `reason` says what to fix.
        case invalid(reason: String)
    }

    /// The Markdown body of a request: what is asked, then the task list.
    public static func body(prompt: String, tool: String?, arguments: String?) -> String {
        var text = prompt.trimmingWhitespace.isEmpty ? "The agent asks for your approval." : prompt.trimmingWhitespace
        text += "\n\n"
        if let tool {
            text += "Tool: `\(tool.replacingBackticks)`\n\n"
        }
        if let arguments, !arguments.isEmpty {
            text += CodeFence.block(arguments, language: "json") + "\n"
        }
        text += "\(instruction)\n\n- [ ] Approve\n- [ ] Reject\n\n\(noteMarker)\n\n"
        return text
    }

    /// The line before the boxes.
    static let instruction = "Tick one box and save the file:"

    /// A line opening or closing a fenced code block: its character and run length.
    private static func fenceRun(_ line: String) -> (character: Character, length: Int)? {
        guard let first = line.first, first == "`" || first == "~" else { return nil }
        let length = line.prefix { $0 == first }.count
        return length >= 3 ? (first, length) : nil
    }

    /// Reads the operator's answer from the request file's text (front matter included or not).
    public static func read(_ text: String) -> Reading {
        let body = (try? FrontMatter.split(text).body).map(String.init) ?? text
        var ticked: [Decision] = []
        var seen: Set<Decision> = []
        var lastItemLine = -1
        let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        // The boxes are the ones after the last instruction line: what the runtime asked (the prompt,
        // the arguments) comes before it, so a prompt holding "- [x] Approve", or a fence it never
        // closes, cannot answer or hide the boxes. Without that line (an operator removed it), the whole body.
        let start = lines.lastIndex { $0.trimmingWhitespace == instruction }.map { $0 + 1 } ?? 0
        var fence: (character: Character, length: Int)?
        for (index, raw) in lines.enumerated().dropFirst(start) {
            let line = raw.trimmingWhitespace
            if let opener = fenceRun(line) {
                // A fence closes only with a run of the same character at least as long (CommonMark).
                if let open = fence {
                    if opener.character == open.character, opener.length >= open.length,
                        line.dropFirst(opener.length).trimmingWhitespace.isEmpty
                    {
                        fence = nil
                    }
                } else {
                    fence = opener
                }
                continue
            }
            guard fence == nil, let (checked, label) = taskItem(line) else { continue }
            let word = label.filter { $0 != "*" && $0 != "_" }.trimmingWhitespace.lowercased()
            guard let decision = Decision(rawValue: word) else { continue }
            seen.insert(decision)
            lastItemLine = index
            if checked { ticked.append(decision) }
        }
        guard !seen.isEmpty else {
            return .invalid(
                reason:
                    "the Approve and Reject boxes are gone; put back '- [ ] Approve' and '- [ ] Reject' and tick one")
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
            return .answered(ticked[0], note: note.isEmpty ? nil : String(note.prefix(4000)))
        default:
            return .invalid(reason: "more than one box is ticked; tick only Approve or only Reject and save again")
        }
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
