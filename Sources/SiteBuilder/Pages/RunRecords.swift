import Foundation

/// A run's `custom` journal lines (docs/format.md §7.4), sorted into what the page shows apart: the
/// subagents the run delegated to (`{"type":"SUBAGENT", …}` records, merged per invocation), each
/// activity message's latest content (`{"type":"ACTIVITY", …}`), and every other event as it is.
struct RunRecords {
    /// One subagent invocation, merged from its records in journal order.
    struct Subagent {
        var id: String
        var name: String?
        var description: String?
        var parentToolCall: String?
        var status = "running"
        var error: String?
        var code: String?
        var toolCalls: [String] = []
        var text: String?
        /// Indented JSON.
        var result: String?
    }

    private(set) var subagents: [Subagent] = []
    private(set) var activities: [(type: String, content: String)] = []
    private(set) var events: [String] = []
    /// Tool call id -> the name of the subagent that made it.
    private(set) var subagentOfToolCall: [String: String] = [:]

    init(_ lines: [String]) {
        var index: [String: Int] = [:]
        var activityIndex: [String: Int] = [:]
        for line in lines {
            guard line.contains("\"type\":\"SUBAGENT\"") || line.contains("\"type\":\"ACTIVITY\""),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let type = object["type"] as? String
            else {
                events.append(line)
                continue
            }
            switch type {
            case "SUBAGENT":
                guard let id = object["subagentRunId"] as? String else {
                    events.append(line)
                    continue
                }
                let at = index[id] ?? subagents.count
                if at == subagents.count {
                    index[id] = at
                    subagents.append(Subagent(id: id))
                }
                var record = subagents[at]
                record.name = object["name"] as? String ?? record.name
                record.description = object["description"] as? String ?? record.description
                record.parentToolCall = object["parentToolCallId"] as? String ?? record.parentToolCall
                record.status = object["status"] as? String ?? record.status
                record.error = object["error"] as? String ?? record.error
                record.code = object["code"] as? String ?? record.code
                for call in object["toolCalls"] as? [String] ?? [] where !record.toolCalls.contains(call) {
                    record.toolCalls.append(call)
                }
                if let text = object["text"] as? String, !text.isEmpty {
                    record.text = record.text.map { "\($0)\n\n\(text)" } ?? text
                }
                if let result = object["result"] { record.result = Self.indented(result) }
                subagents[at] = record
            case "ACTIVITY":
                guard let id = object["messageId"] as? String, let content = object["content"] else {
                    events.append(line)
                    continue
                }
                let entry = (type: object["activityType"] as? String ?? "", content: Self.indented(content))
                if let at = activityIndex[id] {
                    activities[at] = entry
                } else {
                    activityIndex[id] = activities.count
                    activities.append(entry)
                }
            default:
                events.append(line)
            }
        }
        for subagent in subagents {
            for call in subagent.toolCalls { subagentOfToolCall[call] = subagent.name ?? subagent.id }
        }
    }

    /// A JSON value as indented text, keys sorted (the same on every build).
    static func indented(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else {
            if let text = value as? String { return text }
            if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) {
                return String(decoding: data, as: UTF8.self)
            }
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
