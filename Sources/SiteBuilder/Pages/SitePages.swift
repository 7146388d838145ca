import ChatModel
import Foundation
import InboxStore

/// The index, status, agents and search pages' views.
enum SitePages {
    /// The index: the threads' pre-rendered items (see `item`), newest activity first.
    static func index(_ items: [String], siteTitle: String, strings: [String: String]) -> IndexView {
        IndexView(
            frame: PageFrame(
                title: strings["threads"] ?? "", siteTitle: siteTitle, root: "", nav: .threads, feed: "feed.xml"),
            items: items)
    }

    /// One thread's entry on the index.
    static func item(_ summary: ThreadSummary, strings: [String: String]) -> IndexItemView {
        IndexItemView(
            href: Page.segment(summary.id), title: summary.title, agent: summary.agent ?? strings["no_agent"] ?? "",
            messageCount: Page.count(summary.messageCount, "message_count", strings),
            lastActivity: summary.lastActivity.map { TimeView(Timestamp(milliseconds: $0)) },
            badges: summary.badges(strings), tags: summary.tags)
    }

    /// The positions of `summaries` in index order: by last activity, newest first; ties by id so the
    /// order is stable. Positions rather than summaries: moving a summary costs a retain per field.
    static func order(_ summaries: [ThreadSummary]) -> [Int] {
        summaries.indices.sorted { i, j in
            let (x, y) = (summaries[i].lastActivity ?? Int64.min, summaries[j].lastActivity ?? Int64.min)
            return x != y ? x > y : summaries[i].id.utf8.lexicographicallyPrecedes(summaries[j].id.utf8)
        }
    }

    static func status(
        inbox: InboxState, daemon: DaemonStatus?, summaries: [ThreadSummary], problems: [String], siteTitle: String,
        strings: [String: String]
    ) -> StatusView {
        let daemonView: StatusView.Daemon
        if let daemon {
            let started = Timestamp(milliseconds: daemon.startedAt).shortDescription
            if let stopped = daemon.stoppedAt {
                daemonView = .init(
                    kind: "warn", label: strings["daemon_stopped"] ?? "",
                    detail: "\(strings["daemon_stopped_at"] ?? "") \(Timestamp(milliseconds: stopped).shortDescription)"
                )
            } else {
                daemonView = .init(
                    kind: "ok", label: strings["daemon_running"] ?? "",
                    detail:
                        "pid \(daemon.pid), \(strings["daemon_started_at"] ?? "") \(started), \(strings["daemon_heartbeat"] ?? "") \(Timestamp(milliseconds: daemon.heartbeatAt).shortDescription) (every \(daemon.heartbeatSeconds) s)"
                )
            }
        } else if let started = inbox.startedAt {
            daemonView = .init(
                kind: "warn", label: strings["daemon_stopped"] ?? "",
                detail: "\(strings["daemon_started_at"] ?? "") \(started.shortDescription)")
        } else {
            daemonView = .init(kind: "info", label: strings["daemon_never"] ?? "", detail: nil)
        }
        var runtime: StatusView.Runtime
        switch inbox.runtime {
        case .unknown: runtime = .init(kind: "info", label: strings["runtime_unknown"] ?? "")
        case .reachable:
            // Since the last incident ended, when there was one.
            runtime = .init(
                kind: "ok", label: strings["runtime_reachable"] ?? "",
                since: inbox.incidents.last?.end.map(TimeView.init))
        case let .degraded(since, reason):
            runtime = .init(
                kind: "bad", label: strings["runtime_degraded"] ?? "", since: TimeView(since), reason: reason)
        case let .authFailing(since, reason):
            runtime = .init(kind: "bad", label: strings["runtime_auth"] ?? "", since: TimeView(since), reason: reason)
        }
        // With no daemon running, nothing is watching the runtime: say that the state is the last known.
        let daemonRunning = daemon.map { $0.stoppedAt == nil } ?? false
        if !daemonRunning, inbox.runtime != .unknown { runtime.note = strings["runtime_last_known"] }
        return StatusView(
            frame: PageFrame(
                title: strings["status"] ?? "", siteTitle: siteTitle, root: "", nav: .status, refresh: 30),
            daemon: daemonView, runtime: runtime, queue: summaries.reduce(0) { $0 + $1.queued },
            lastError: inbox.lastError.map { .init(text: $0, at: inbox.lastErrorAt.map(TimeView.init)) },
            incidents: inbox.incidents.reversed().map {
                .init(kind: $0.kind, reason: $0.reason, start: TimeView($0.start), end: $0.end.map(TimeView.init))
            },
            problems: problems)
    }

    /// An agent the page lists.
    struct Agent: Decodable, Hashable {
        var id: String
        var name: String?
        var scopes: [String]
        var runtime: String?
    }

    static func agents(inbox: InboxState, config: WorkspaceConfig, siteTitle: String, strings: [String: String])
        -> AgentsView
    {
        var agents = config.agents.map {
            Agent(id: $0.id, name: $0.name, scopes: $0.scopes, runtime: $0.runtime ?? config.runtimes.first?.name)
        }
        if let listed = inbox.agents, let decoded = try? JSONDecoder().decode([Agent].self, from: Data(listed.utf8)) {
            agents += decoded.filter { agent in !agents.contains { $0.id == agent.id } }
        }
        return AgentsView(
            frame: PageFrame(title: strings["agents"] ?? "", siteTitle: siteTitle, root: "", nav: .agents),
            agents: agents.filter { $0.scopes.contains("chat") }.sorted { $0.id < $1.id }.map { agent in
                .init(
                    id: agent.id, name: agent.name ?? agent.id, scopes: agent.scopes.joined(separator: ", "),
                    runtime: agent.runtime ?? "")
            })
    }

    static func search(siteTitle: String, strings: [String: String]) -> SearchPageView {
        SearchPageView(frame: PageFrame(title: strings["search"] ?? "", siteTitle: siteTitle, root: "", nav: .search))
    }
}
