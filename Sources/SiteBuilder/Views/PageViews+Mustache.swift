import Foundation

/// The page views as Mustache contexts, for themes that override a built-in template (docs/site.md
/// lists the keys). The built-in theme never goes through here: it is compiled (`CompiledTheme`).
///
/// Optional values are left out rather than stored as nil (see `compact`), so `{{#key}}` skips them.
extension PageFrame {
    /// The keys every page has: site, strings, CSP, the relative root, navigation and page.
    func context(strings: [String: String]) -> [String: Any] {
        var page: [String: Any] = ["title": title]
        if let refresh { page["refresh"] = refresh }
        if let feed { page["feed"] = feed }
        var context: [String: Any] = [
            "site": ["title": siteTitle], "strings": strings, "root": root, "nav": [nav.rawValue: true], "page": page,
            "csp": Page.contentSecurityPolicy,
        ]
        if let banner { context["banner"] = ["label": banner.label, "since": banner.since.context] }
        return context
    }
}

extension TimeView {
    var context: [String: Any] { ["iso": iso, "short": short] }
}

extension ThreadView {
    /// The page's context, the messages as their own contexts (rendered through the `message` partial).
    func context(strings: [String: String]) -> [String: Any] {
        context(strings: strings, messages: messages.map(\.context))
    }

    /// The page's context with `messages` as the messages' contexts.
    func context(strings: [String: String], messages: [[String: Any]]) -> [String: Any] {
        var context = frame.context(strings: strings)
        var thread: [String: Any] = [
            "title": title, "agent": agent, "tags": tags, "feed": feed, "refreshing": refreshing, "problems": problems,
            "attention": attention.map { ["anchor": $0.anchor, "label": $0.label] },
        ]
        if let description { thread["description"] = description }
        context["thread"] = thread
        context["messages"] = messages
        context["rejected"] = rejected.map { rejected -> [String: Any] in
            ["file": rejected.file, "reason": rejected.reason, "at": rejected.at.context]
        }
        context["controls"] = controls.map { control -> [String: Any] in
            compact([
                "file": control.file, "outcome": control.outcome, "reason": control.reason, "at": control.at.context,
            ])
        }
        return context
    }
}

extension MessageView {
    var context: [String: Any] {
        compact([
            "id": id, "file": file, "role": role, "author": author, "at": at.context, "agent": agent, "state": state,
            "stateLabel": stateLabel, "stateDetail": stateDetail,
            "notes": notes.map { ["kind": $0.kind, "text": $0.text] }, "body": body,
            "attempts": attempts.map(\.context), "attemptCount": attempts.count, "attemptsOpen": attemptsOpen,
            "runs": runs.map(\.context),
        ])
    }
}

extension AttemptView {
    var context: [String: Any] {
        compact(["number": number, "at": at.context, "outcome": outcome, "reason": reason, "next": next?.context])
    }
}

extension RunView {
    var context: [String: Any] {
        compact([
            "id": id, "file": file, "label": label, "agent": agent, "endedAt": endedAt, "at": at.context,
            "status": status, "statusLabel": statusLabel, "reason": reason, "missing": missing, "body": body,
            "reasoning": reasoning,
            "toolCalls": toolCalls.map { call -> [String: Any] in
                [
                    "id": call.id, "tool": call.tool, "status": call.status, "body": call.body,
                    "subagent": call.subagent ?? false, "custom": call.custom ?? false,
                ]
            },
            "approvals": approvals.map(\.context), "usage": usage, "sharedState": sharedState, "events": events,
            // Absent values are `false`, not left out: `{{#body}}` would otherwise find the run's body.
            "subagents": subagents.map { subagent -> [String: Any] in
                [
                    "id": subagent.id, "name": subagent.name, "status": subagent.status,
                    "statusLabel": subagent.statusLabel, "description": subagent.description ?? false,
                    "via": subagent.via ?? false, "tools": subagent.tools ?? false, "error": subagent.error ?? false,
                    "body": subagent.body ?? false, "result": subagent.result ?? false,
                ]
            },
            "activities": activities.map { ["type": $0.type, "content": $0.content] },
        ])
    }
}

extension ToolCallView {
    /// The context of a theme's `tools/NAME.mustache` (docs/site.md): `arguments` and `resultValue`
    /// are the parsed JSON (so `{{arguments.query}}` works), `argumentsText` the arguments indented;
    /// absent values are `false`, so a section never finds a key of an enclosing context.
    func toolContext(strings: [String: String]) -> [String: Any] {
        let arguments = Self.parsed(arguments)
        return [
            "id": id, "name": tool, "arguments": arguments ?? self.arguments,
            "argumentsText": arguments.map(RunRecords.indented) ?? self.arguments, "result": result ?? false,
            "resultValue": result.flatMap(Self.parsed) ?? false, "state": state, "stateLabel": status,
            "subagent": subagent ?? false, "body": body, "strings": strings,
        ]
    }

    /// JSON text as Foundation values; nil when it is not JSON.
    static func parsed(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}

extension ApprovalView {
    var context: [String: Any] {
        var context = compact([
            "id": id, "file": file, "tool": tool, "pending": pending, "invalid": invalid, "body": body,
            "state": state, "stateLabel": stateLabel,
        ])
        if let answer {
            context["answer"] = compact([
                "decisionLabel": answer.decisionLabel, "at": answer.at.context, "note": answer.note,
            ])
        }
        return context
    }
}

extension IndexItemView {
    func context(strings: [String: String]) -> [String: Any] {
        compact([
            "href": href, "title": title, "agent": agent, "messageCount": messageCount, "tags": tags,
            "lastActivity": lastActivity?.context,
            "badges": badges.map { ["kind": $0.kind, "label": $0.label] }, "strings": strings,
        ])
    }
}

extension IndexView {
    func context(strings: [String: String]) -> [String: Any] {
        var context = frame.context(strings: strings)
        context["threads"] = items
        return context
    }
}

extension StatusView {
    func context(strings: [String: String]) -> [String: Any] {
        var context = frame.context(strings: strings)
        context["daemon"] = compact(["kind": daemon.kind, "label": daemon.label, "detail": daemon.detail])
        context["runtime"] = compact([
            "kind": runtime.kind, "label": runtime.label, "since": runtime.since?.context, "reason": runtime.reason,
            "note": runtime.note,
        ])
        context["queue"] = queue > 0 ? queue : false
        if let lastError { context["lastError"] = compact(["text": lastError.text, "at": lastError.at?.context]) }
        context["incidents"] = incidents.map { incident -> [String: Any] in
            compact([
                "kind": incident.kind, "reason": incident.reason, "start": incident.start.context,
                "end": incident.end?.context,
            ])
        }
        context["problems"] = problems
        return context
    }
}

extension AgentsView {
    func context(strings: [String: String]) -> [String: Any] {
        var context = frame.context(strings: strings)
        context["agents"] = agents.map { agent -> [String: Any] in
            ["id": agent.id, "name": agent.name, "scopes": agent.scopes, "runtime": agent.runtime]
        }
        return context
    }
}

extension AuditPageView {
    func context(strings: [String: String]) -> [String: Any] {
        var context = frame.context(strings: strings)
        context["rows"] = String(decoding: rows, as: UTF8.self)
        context["chainRows"] = chainRows
        if let pager {
            context["pager"] = compact([
                "number": pager.number, "count": pager.count, "newer": pager.newer, "older": pager.older,
            ])
        } else {
            context["pager"] = false
        }
        return context
    }
}

extension SearchPageView {
    func context(strings: [String: String]) -> [String: Any] { frame.context(strings: strings) }
}

extension FeedView {
    var context: [String: Any] {
        [
            "title": title, "id": id, "selfHref": selfHref, "updated": updated,
            "entries": entries.map { entry -> [String: Any] in
                [
                    "title": entry.title, "id": entry.id, "updated": entry.updated, "author": entry.author,
                    "href": entry.href, "content": entry.content,
                ]
            },
        ]
    }
}
