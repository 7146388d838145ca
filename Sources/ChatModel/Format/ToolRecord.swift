/// A tool call record's body (`NAME.reply.tool-N.md`, docs/format.md §6.3): the tool, its arguments and,
/// once known, its result, each in a fenced block. The writer and the reader live here together.
public struct ToolRecord: Sendable, Hashable {
    /// The arguments (JSON text).
    public var arguments: String
    /// The result, once known.
    public var result: String?

    public init(arguments: String, result: String?) {
        self.arguments = arguments
        self.result = result
    }

    /// Reads a record's body back: the first fenced block is the arguments, the second the result.
    public init(_ body: String) {
        let blocks = Self.fencedBlocks(body)
        arguments = blocks.first ?? "{}"
        result = blocks.count > 1 ? blocks[1] : nil
    }

    /// The body of the record of a call to `tool`; `notRun` says why a call without a result never
    /// ran (instead of "Waiting for the result.").
    public static func body(tool: String, arguments: String, result: String?, notRun: String? = nil) -> String {
        var text =
            "Tool call: `\(tool.replacingBackticks)`\n\n### Arguments\n\n"
            + CodeFence.block(arguments, language: "json")
        if let result {
            text += "\n### Result\n\n" + CodeFence.block(result)
        } else if let notRun {
            text += "\n_Not run: \(notRun)._\n"
        } else {
            text += "\n_Waiting for the result._\n"
        }
        return text
    }

    /// The contents of each fenced block, in order.
    static func fencedBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        var fence = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.hasPrefix("```") {
                fence = String(line.prefix { $0 == "`" })
                current = []
            } else if current != nil, line.hasPrefix(fence), line.allSatisfy({ $0 == "`" }) {
                blocks.append(current.map { $0.joined(separator: "\n") } ?? "")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}
