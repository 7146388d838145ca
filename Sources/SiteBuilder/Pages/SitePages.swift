import ChatModel
import Foundation
import InboxStore

/// The index, status and agents pages' contexts.
enum SitePages {
    /// The index: the threads' pre-rendered items (see `item`), newest activity first.
    static func index(_ items: [String], siteTitle: String, strings: [String: String]) -> [String: Any] {
        var context = Page.base(
            title: strings["threads"] ?? "", siteTitle: siteTitle, root: "", nav: "threads", strings: strings,
            feed: "feed.xml")
        context["threads"] = items
        return context
    }

    /// One thread's entry on the index.
    static func item(_ summary: ThreadSummary, strings: [String: String]) -> [String: Any] {
        compact([
            "href": Page.segment(summary.id), "title": summary.title,
            "agent": summary.agent ?? strings["no_agent"] ?? "",
            "messageCount": Page.count(summary.messageCount, "message_count", strings), "tags": summary.tags,
            "lastActivity": Page.time(summary.lastActivity.map(Timestamp.init(milliseconds:))),
            "badges": summary.badges(strings), "strings": strings,
        ])
    }

    /// Threads by last activity, newest first; ties by id so the order is stable.
    static func ordered(_ summaries: [ThreadSummary]) -> [ThreadSummary] {
        summaries.sorted { a, b in
            let (x, y) = (a.lastActivity ?? Int64.min, b.lastActivity ?? Int64.min)
            return x != y ? x > y : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
        }
    }

    static func status(
        inbox: InboxState, daemon: DaemonStatus?, summaries: [ThreadSummary], problems: [String], siteTitle: String,
        strings: [String: String]
    ) -> [String: Any] {
        var context = Page.base(
            title: strings["status"] ?? "", siteTitle: siteTitle, root: "", nav: "status", strings: strings, refresh: 30
        )
        let daemonContext: [String: Any]
        if let daemon {
            let started = Timestamp(milliseconds: daemon.startedAt).shortDescription
            if let stopped = daemon.stoppedAt {
                daemonContext = [
                    "kind": "warn", "label": strings["daemon_stopped"] ?? "",
                    "detail":
                        "\(strings["daemon_stopped_at"] ?? "") \(Timestamp(milliseconds: stopped).shortDescription)",
                ]
            } else {
                daemonContext = [
                    "kind": "ok", "label": strings["daemon_running"] ?? "",
                    "detail":
                        "pid \(daemon.pid), \(strings["daemon_started_at"] ?? "") \(started), \(strings["daemon_heartbeat"] ?? "") \(Timestamp(milliseconds: daemon.heartbeatAt).shortDescription) (every \(daemon.heartbeatSeconds) s)",
                ]
            }
        } else if let started = inbox.startedAt {
            daemonContext = [
                "kind": "warn", "label": strings["daemon_stopped"] ?? "",
                "detail": "\(strings["daemon_started_at"] ?? "") \(started.shortDescription)",
            ]
        } else {
            daemonContext = ["kind": "info", "label": strings["daemon_never"] ?? ""]
        }
        context["daemon"] = daemonContext
        switch inbox.runtime {
        case .unknown: context["runtime"] = ["kind": "info", "label": strings["runtime_unknown"] ?? ""]
        case .reachable: context["runtime"] = ["kind": "ok", "label": strings["runtime_reachable"] ?? ""]
        case let .degraded(since, reason):
            context["runtime"] = compact([
                "kind": "bad", "label": strings["runtime_degraded"] ?? "", "since": Page.time(since), "reason": reason,
            ])
        case let .authFailing(since, reason):
            context["runtime"] = compact([
                "kind": "bad", "label": strings["runtime_auth"] ?? "", "since": Page.time(since), "reason": reason,
            ])
        }
        let queue = summaries.reduce(0) { $0 + $1.queued }
        context["queue"] = queue > 0 ? queue : false
        if let error = inbox.lastError {
            context["lastError"] = compact(["text": error, "at": Page.time(inbox.lastErrorAt)])
        }
        context["incidents"] = inbox.incidents.reversed().map { incident -> [String: Any] in
            compact([
                "kind": incident.kind, "reason": incident.reason, "start": Page.time(incident.start),
                "end": Page.time(incident.end),
            ])
        }
        context["problems"] = problems
        return context
    }

    /// An agent the page lists.
    struct Agent: Decodable, Hashable {
        var id: String
        var name: String?
        var scopes: [String]
        var runtime: String?
    }

    static func agents(inbox: InboxState, config: WorkspaceConfig, siteTitle: String, strings: [String: String])
        -> [String: Any]
    {
        var context = Page.base(
            title: strings["agents"] ?? "", siteTitle: siteTitle, root: "", nav: "agents", strings: strings)
        var agents = config.agents.map {
            Agent(id: $0.id, name: $0.name, scopes: $0.scopes, runtime: $0.runtime ?? config.runtimes.first?.name)
        }
        if let listed = inbox.agents, let decoded = try? JSONDecoder().decode([Agent].self, from: Data(listed.utf8)) {
            agents += decoded.filter { agent in !agents.contains { $0.id == agent.id } }
        }
        context["agents"] = agents.filter { $0.scopes.contains("chat") }.sorted { $0.id < $1.id }.map {
            agent -> [String: Any] in
            [
                "id": agent.id, "name": agent.name ?? agent.id, "scopes": agent.scopes.joined(separator: ", "),
                "runtime": agent.runtime ?? "",
            ]
        }
        return context
    }

    static func search(siteTitle: String, strings: [String: String]) -> [String: Any] {
        Page.base(title: strings["search"] ?? "", siteTitle: siteTitle, root: "", nav: "search", strings: strings)
    }
}
