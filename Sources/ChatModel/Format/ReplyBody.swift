/// A reply file's body: the answer, then the model's reasoning, if any, after a marker line
/// (docs/format.md §5). The site shows the reasoning folded away.
public struct ReplyBody: Sendable, Hashable {
    /// The line that separates the answer from the reasoning: an HTML comment, so any Markdown
    /// viewer shows the file as the answer followed by the reasoning.
    public static let reasoningMarker = "<!-- letterbox:reasoning -->"

    public var text: String
    public var reasoning: String?

    public init(text: String, reasoning: String?) {
        self.text = text
        self.reasoning = reasoning
    }

    /// Splits a body at the first marker.
    public init(_ body: String) {
        if let range = body.firstRange(of: Self.reasoningMarker) {
            text = String(body[..<range.lowerBound]).trimmingWhitespace
            reasoning = String(body[range.upperBound...]).trimmingWhitespace.nonEmpty
        } else {
            text = body.trimmingWhitespace
            reasoning = nil
        }
    }

    /// The body as written to the file.
    public var markdown: String {
        guard let reasoning else { return text }
        return text + "\n\n" + Self.reasoningMarker + "\n\n" + reasoning
    }
}
