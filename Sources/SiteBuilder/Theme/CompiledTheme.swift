/// The built-in theme as Swift: each function writes what the built-in template of the same name
/// renders, byte for byte, from the typed page views into one output buffer.
///
/// No Mustache and no `[String: Any]` on this path: Mustache's context lookups and the casts behind
/// them were most of a full build (docs/benchmarks.md). `CompiledThemeTests` renders every page of the
/// golden fixtures, and seeded random views, both ways and requires identical bytes, so this file and
/// `DefaultTemplates` cannot drift apart: a change to one needs the same change to the other.
struct CompiledTheme: Sendable {
    /// The UI strings, escaped once.
    let labels: [String: [UInt8]]

    init(strings: [String: String]) {
        labels = strings.mapValues { Array(HTML.escape($0).utf8) }
    }

    /// `{{strings.KEY}}`.
    private func label(_ key: String, _ w: inout HTMLWriter) {
        if let bytes = labels[key] { w.raw(bytes) }
    }

    // MARK: layout

    private func layout(
        _ frame: PageFrame, _ w: inout HTMLWriter, scripts: StaticString? = nil, content: (inout HTMLWriter) -> Void
    ) {
        w.raw("<!doctype html>\n<html lang=\"")
        label("lang", &w)
        w.raw(
            "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\""
        )
        w.text(Page.contentSecurityPolicy)
        w.raw(
            "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"generator\" content=\"Letterbox\">\n")
        if let refresh = frame.refresh {
            w.raw("<meta http-equiv=\"refresh\" content=\"")
            w.number(refresh)
            w.raw("\">\n")
        }
        w.raw("<title>")
        w.text(frame.title)
        w.raw(" · ")
        w.text(frame.siteTitle)
        w.raw("</title>\n<link rel=\"stylesheet\" href=\"")
        w.text(frame.root)
        w.raw("assets/style.css\">\n")
        if let feed = frame.feed {
            w.raw("<link rel=\"alternate\" type=\"application/atom+xml\" href=\"")
            w.text(feed)
            w.raw("\" title=\"")
            w.text(frame.title)
            w.raw("\">\n")
        }
        w.raw("</head>\n<body>\n<a class=\"skip\" href=\"#main\">")
        label("skip", &w)
        w.raw("</a>\n<header class=\"site-header\">\n<nav aria-label=\"")
        label("nav_label", &w)
        w.raw("\">\n<a class=\"brand\" href=\"")
        w.text(frame.root)
        w.raw("index.html\">")
        w.text(frame.siteTitle)
        w.raw("</a>\n<ul>\n")
        navItem(frame, .threads, "index.html", &w)
        navItem(frame, .search, "search.html", &w)
        navItem(frame, .agents, "agents.html", &w)
        navItem(frame, .audit, "audit/index.html", &w)
        navItem(frame, .status, "status.html", &w)
        w.raw("</ul>\n</nav>\n</header>\n")
        if let banner = frame.banner {
            w.raw("<p class=\"banner\" role=\"alert\"><strong>")
            w.text(banner.label)
            w.raw("</strong> ")
            label("since", &w)
            w.raw(" ")
            time(banner.since, &w)
            w.raw(" · <a href=\"")
            w.text(frame.root)
            w.raw("status.html\">")
            label("status", &w)
            w.raw("</a></p>\n")
        }
        w.raw("<main id=\"main\">\n")
        content(&w)
        w.raw("\n</main>\n<footer class=\"site-footer\"><p>")
        label("generated_by", &w)
        w.raw(" <a href=\"")
        w.text(frame.root)
        w.raw("feed.xml\">")
        label("feed", &w)
        w.raw("</a></p></footer>\n")
        if let scripts { w.raw(scripts) }
        w.raw("\n</body>\n</html>\n")
    }

    private func navItem(_ frame: PageFrame, _ nav: PageFrame.Nav, _ href: StaticString, _ w: inout HTMLWriter) {
        w.raw("<li><a href=\"")
        w.text(frame.root)
        w.raw(href)
        w.raw(frame.nav == nav ? "\" aria-current=\"page\">" : "\">")
        label(nav.rawValue, &w)
        w.raw("</a></li>\n")
    }

    private func time(_ time: TimeView, _ w: inout HTMLWriter) {
        w.raw("<time datetime=\"")
        w.text(time.iso)
        w.raw("\">")
        w.text(time.short)
        w.raw("</time>")
    }

    // MARK: index

    func index(_ view: IndexView) -> [UInt8] {
        var w = HTMLWriter(capacity: 4096 + view.items.reduce(0) { $0 + $1.utf8.count })
        layout(view.frame, &w) { w in
            w.raw("<h1>")
            label("threads", &w)
            w.raw("</h1>\n")
            if view.items.isEmpty {
                w.raw("<section class=\"empty-state\">\n<h2>")
                label("empty_inbox_title", &w)
                w.raw("</h2>\n<p>")
                label("empty_inbox_body", &w)
                w.raw("</p>\n</section>\n")
            } else {
                w.raw("<ol class=\"thread-list\">\n")
                for item in view.items { w.raw(item) }
                w.raw("</ol>\n")
            }
        }
        return w.bytes
    }

    func indexItem(_ item: IndexItemView) -> [UInt8] {
        var w = HTMLWriter(capacity: 1024)
        w.raw("<li class=\"thread-item\">\n<h2><a href=\"threads/")
        w.text(item.href)
        w.raw(".html\">")
        w.text(item.title)
        w.raw("</a></h2>\n<p class=\"meta\"><span>")
        label("agent", &w)
        w.raw(": ")
        w.text(item.agent)
        w.raw("</span> · <span>")
        w.text(item.messageCount)
        w.raw("</span>")
        if let last = item.lastActivity {
            w.raw(" · <span>")
            label("last_activity", &w)
            w.raw(" ")
            time(last, &w)
            w.raw("</span>")
        }
        w.raw("</p>\n")
        if !item.badges.isEmpty {
            w.raw("<ul class=\"badges\">")
            for badge in item.badges {
                w.raw("<li class=\"badge badge-")
                w.text(badge.kind)
                w.raw("\">")
                w.text(badge.label)
                w.raw("</li>")
            }
            w.raw("</ul>")
        }
        w.raw("\n")
        if !item.tags.isEmpty {
            w.raw("<p class=\"tags\">")
            label("tags", &w)
            w.raw(": ")
            for tag in item.tags {
                w.raw("<span class=\"tag\">")
                w.text(tag)
                w.raw("</span> ")
            }
            w.raw("</p>")
        }
        w.raw("\n</li>\n")
        return w.bytes
    }

    // MARK: thread

    /// The thread page around its message sections, already rendered (`message(_:)`), in order.
    func thread(_ view: ThreadView, sections: [[UInt8]]) -> [UInt8] {
        var w = HTMLWriter(capacity: 8192 + sections.reduce(0) { $0 + $1.count })
        layout(view.frame, &w) { w in
            w.raw("<article class=\"thread\">\n<header class=\"thread-header\">\n<h1>")
            w.text(view.title)
            w.raw("</h1>\n<p class=\"meta\"><span>")
            label("agent", &w)
            w.raw(": ")
            w.text(view.agent)
            w.raw("</span>")
            if !view.tags.isEmpty {
                w.raw(" · ")
                label("tags", &w)
                w.raw(": ")
                for tag in view.tags {
                    w.raw("<span class=\"tag\">")
                    w.text(tag)
                    w.raw("</span> ")
                }
            }
            w.raw(" · <a href=\"")
            w.text(view.feed)
            w.raw("\">")
            label("feed", &w)
            w.raw("</a></p>\n")
            if let description = view.description {
                w.raw("<div class=\"description prose\">")
                w.raw(description)
                w.raw("</div>")
            }
            w.raw("\n")
            if view.refreshing {
                w.raw("<p class=\"notice notice-live\" role=\"status\">")
                label("refreshing", &w)
                w.raw("</p>")
            }
            w.raw("\n")
            for item in view.attention {
                w.raw("<p class=\"badge badge-attention\" role=\"status\"><a href=\"#m-")
                w.text(item.anchor)
                w.raw("\">")
                w.text(item.label)
                w.raw("</a></p>")
            }
            w.raw("\n")
            for problem in view.problems {
                w.raw("<p class=\"notice notice-error\" role=\"alert\"><strong>")
                label("journal_problem", &w)
                w.raw(":</strong> ")
                w.text(problem)
                w.raw("</p>")
            }
            w.raw("\n</header>\n")
            for section in sections { w.raw(section) }
            w.raw("\n")
            if !view.rejected.isEmpty {
                w.raw("<section class=\"rejected\" aria-labelledby=\"rejected-h\">\n<h2 id=\"rejected-h\">")
                label("files_not_sent", &w)
                w.raw("</h2>\n<ul>")
                for rejected in view.rejected {
                    w.raw("<li><code>")
                    w.text(rejected.file)
                    w.raw("</code>: ")
                    w.text(rejected.reason)
                    w.raw(" ")
                    time(rejected.at, &w)
                    w.raw("</li>")
                }
                w.raw("</ul>\n</section>")
            }
            w.raw("\n")
            if !view.controls.isEmpty {
                w.raw("<section class=\"controls\" aria-labelledby=\"controls-h\">\n<h2 id=\"controls-h\">")
                label("controls", &w)
                w.raw("</h2>\n<ul>")
                for control in view.controls {
                    w.raw("<li><code>")
                    w.text(control.file)
                    w.raw("</code>: <span class=\"outcome outcome-")
                    w.text(control.outcome)
                    w.raw("\">")
                    w.text(control.outcome)
                    w.raw("</span>")
                    if let reason = control.reason {
                        w.raw(" (")
                        w.text(reason)
                        w.raw(")")
                    }
                    w.raw(" ")
                    time(control.at, &w)
                    w.raw("</li>")
                }
                w.raw("</ul>\n</section>")
            }
            w.raw("\n</article>\n")
        }
        return w.bytes
    }

    /// One message's section (the `message` template with its `run` partials).
    func message(_ m: MessageView) -> [UInt8] {
        var w = HTMLWriter(capacity: 2048 + m.body.utf8.count + m.runs.reduce(0) { $0 + $1.body.utf8.count })
        w.raw("<section class=\"message message-")
        w.text(m.role)
        w.raw("\" id=\"m-")
        w.text(m.id)
        w.raw("\" aria-labelledby=\"m-")
        w.text(m.id)
        w.raw("-h\">\n<header class=\"message-header\">\n<h2 id=\"m-")
        w.text(m.id)
        w.raw("-h\"><span class=\"author\">")
        w.text(m.author)
        w.raw("</span> <a class=\"permalink\" href=\"#m-")
        w.text(m.id)
        w.raw("\" title=\"")
        label("permalink", &w)
        w.raw("\"><code>")
        w.text(m.file)
        w.raw("</code></a></h2>\n<p class=\"meta\">")
        time(m.at, &w)
        if let agent = m.agent {
            w.raw(" · ")
            label("agent", &w)
            w.raw(": ")
            w.text(agent)
        }
        w.raw(" · <span class=\"state state-")
        w.text(m.state)
        w.raw("\">")
        w.text(m.stateLabel)
        w.raw("</span>")
        if let detail = m.stateDetail {
            w.raw(" <span class=\"state-detail\">")
            w.text(detail)
            w.raw("</span>")
        }
        w.raw("</p>\n</header>\n")
        for note in m.notes {
            w.raw("<p class=\"notice notice-")
            w.text(note.kind)
            w.raw("\">")
            w.text(note.text)
            w.raw("</p>")
        }
        w.raw("\n<div class=\"prose\">")
        w.raw(m.body)
        w.raw("</div>\n")
        if !m.attempts.isEmpty {
            w.raw(
                m.attemptsOpen
                    ? "<details class=\"attempts\" open>\n<summary>" : "<details class=\"attempts\">\n<summary>")
            label("attempts", &w)
            w.raw(" (")
            w.number(m.attempts.count)
            w.raw(")</summary>\n<table>\n<thead><tr><th scope=\"col\">")
            label("attempt", &w)
            w.raw("</th><th scope=\"col\">")
            label("started", &w)
            w.raw("</th><th scope=\"col\">")
            label("outcome", &w)
            w.raw("</th></tr></thead>\n<tbody>")
            for attempt in m.attempts {
                w.raw("<tr><td>")
                w.number(attempt.number)
                w.raw("</td><td>")
                time(attempt.at, &w)
                w.raw("</td><td>")
                w.text(attempt.outcome)
                if let reason = attempt.reason {
                    w.raw(": ")
                    w.text(reason)
                }
                if let next = attempt.next {
                    w.raw(" (")
                    label("next_attempt", &w)
                    w.raw(" ")
                    time(next, &w)
                    w.raw(")")
                }
                w.raw("</td></tr>")
            }
            w.raw("</tbody>\n</table>\n</details>")
        }
        w.raw("\n")
        for run in m.runs { self.run(run, &w) }
        w.raw("\n</section>\n")
        return w.bytes
    }

    private func run(_ r: RunView, _ w: inout HTMLWriter) {
        w.raw("<section class=\"run run-")
        w.text(r.status)
        w.raw("\" id=\"m-")
        w.text(r.id)
        w.raw("\" aria-label=\"")
        w.text(r.label)
        w.raw("\">\n<header class=\"run-header\">\n<p class=\"meta\"><strong>")
        w.text(r.label)
        w.raw("</strong> · <a class=\"permalink\" href=\"#m-")
        w.text(r.id)
        w.raw("\"><code>")
        w.text(r.file)
        w.raw("</code></a> · ")
        w.text(r.agent)
        w.raw(" · ")
        time(r.at, &w)
        w.raw(" · <span class=\"run-state run-state-")
        w.text(r.status)
        w.raw("\">")
        w.text(r.statusLabel)
        w.raw("</span>")
        if let reason = r.reason {
            w.raw(" <span class=\"state-detail\">")
            w.text(reason)
            w.raw("</span>")
        }
        w.raw("</p>\n</header>\n")
        if r.missing {
            w.raw("<p class=\"notice notice-warning\">")
            label("reply_missing", &w)
            w.raw("</p>")
        }
        w.raw("\n")
        for call in r.toolCalls {
            if let custom = call.custom {
                w.raw("<div class=\"tool-call tool-call-custom\" id=\"m-")
                w.text(call.id)
                w.raw("\">")
                w.raw(custom)
                w.raw("</div>")
                continue
            }
            w.raw("<details class=\"tool-call\" id=\"m-")
            w.text(call.id)
            w.raw("\">\n<summary>")
            label("tool_call", &w)
            w.raw(": <code>")
            w.text(call.tool)
            w.raw("</code> <span class=\"tool-status\">")
            w.text(call.status)
            w.raw("</span>")
            if let subagent = call.subagent {
                w.raw(" <span class=\"tool-subagent\">")
                label("by_subagent", &w)
                w.raw(" ")
                w.text(subagent)
                w.raw("</span>")
            }
            w.raw("</summary>\n<div class=\"prose\">")
            w.raw(call.body)
            w.raw("</div>\n</details>")
        }
        w.raw("\n")
        for approval in r.approvals { self.approval(approval, &w) }
        w.raw("\n")
        for subagent in r.subagents { self.subagent(subagent, &w) }
        if let reasoning = r.reasoning {
            w.raw("<details class=\"reasoning\"><summary>")
            label("reasoning", &w)
            w.raw("</summary><div class=\"prose\">")
            w.raw(reasoning)
            w.raw("</div></details>")
        }
        w.raw("\n<div class=\"prose reply\">")
        w.raw(r.body)
        w.raw("</div>\n")
        if let usage = r.usage {
            w.raw("<p class=\"usage\">")
            label("usage", &w)
            w.raw(": ")
            w.text(usage)
            w.raw("</p>")
        }
        w.raw("\n")
        if let shared = r.sharedState {
            w.raw("<details class=\"shared-state\"><summary>")
            label("shared_state", &w)
            w.raw("</summary><pre><code>")
            w.text(shared)
            w.raw("</code></pre></details>")
        }
        for activity in r.activities {
            w.raw("<details class=\"activity\"><summary>")
            label("activity", &w)
            w.raw(": ")
            w.text(activity.type)
            w.raw("</summary><pre><code>")
            w.text(activity.content)
            w.raw("</code></pre></details>")
        }
        w.raw("\n")
        if !r.events.isEmpty {
            w.raw("<details class=\"events\"><summary>")
            label("events", &w)
            w.raw("</summary><ul>")
            for event in r.events {
                w.raw("<li><code>")
                w.text(event)
                w.raw("</code></li>")
            }
            w.raw("</ul></details>")
        }
        w.raw("\n</section>\n")
    }

    private func subagent(_ s: SubagentView, _ w: inout HTMLWriter) {
        w.raw("<section class=\"subagent subagent-")
        w.text(s.status)
        w.raw("\">\n<p class=\"meta\"><strong>")
        label("subagent", &w)
        w.raw(": ")
        w.text(s.name)
        w.raw("</strong> · <span class=\"subagent-state\">")
        w.text(s.statusLabel)
        w.raw("</span>")
        if let via = s.via {
            w.raw(" · ")
            label("subagent_via", &w)
            w.raw(" <code>")
            w.text(via)
            w.raw("</code>")
        }
        if let error = s.error {
            w.raw(" <span class=\"state-detail\">")
            w.text(error)
            w.raw("</span>")
        }
        w.raw("</p>\n")
        if let description = s.description {
            w.raw("<p class=\"subagent-description\">")
            w.text(description)
            w.raw("</p>")
        }
        if let tools = s.tools {
            w.raw("<p class=\"subagent-tools\">")
            label("subagent_tools", &w)
            w.raw(": ")
            w.text(tools)
            w.raw("</p>")
        }
        if let body = s.body {
            w.raw("<div class=\"prose\">")
            w.raw(body)
            w.raw("</div>")
        }
        if let result = s.result {
            w.raw("<details class=\"subagent-result\"><summary>")
            label("subagent_result", &w)
            w.raw("</summary><pre><code>")
            w.text(result)
            w.raw("</code></pre></details>")
        }
        w.raw("\n</section>\n")
    }

    private func approval(_ a: ApprovalView, _ w: inout HTMLWriter) {
        w.raw("<section class=\"approval approval-")
        w.text(a.state)
        w.raw("\" id=\"m-")
        w.text(a.id)
        w.raw("\">\n<h3>")
        label("approval_request", &w)
        if let tool = a.tool {
            w.raw(": <code>")
            w.text(tool)
            w.raw("</code>")
        }
        w.raw(" <span class=\"approval-state\">")
        w.text(a.stateLabel)
        w.raw("</span></h3>\n")
        if a.pending {
            w.raw("<p class=\"notice notice-action\" role=\"status\">")
            label("approval_pending", &w)
            w.raw("</p>")
        }
        w.raw("\n")
        if let answer = a.answer {
            w.raw("<p class=\"answer\"><strong>")
            w.text(answer.decisionLabel)
            w.raw("</strong> · ")
            label("answered_at", &w)
            w.raw(" ")
            time(answer.at, &w)
            if let note = answer.note {
                w.raw(" · ")
                label("note", &w)
                w.raw(": ")
                w.text(note)
            }
            w.raw("</p>")
        }
        w.raw("\n")
        for invalid in a.invalid {
            w.raw("<p class=\"notice notice-warning\">")
            label("not_an_answer", &w)
            w.raw(": ")
            w.text(invalid)
            w.raw("</p>")
        }
        w.raw("\n<details")
        if a.pending { w.raw(" open") }
        w.raw("><summary><code>")
        w.text(a.file)
        w.raw("</code></summary><div class=\"prose\">")
        w.raw(a.body)
        w.raw("</div></details>\n</section>")
    }

    // MARK: audit

    func audit(_ view: AuditPageView) -> [UInt8] {
        var w = HTMLWriter(capacity: 4096 + view.rows.count + view.chainRows.utf8.count)
        layout(view.frame, &w) { w in
            w.raw("<h1>")
            label("audit", &w)
            w.raw("</h1>\n<p>")
            label("audit_intro", &w)
            w.raw("</p>\n<table class=\"chains\">\n<thead><tr><th scope=\"col\">")
            label("journal", &w)
            w.raw("</th><th scope=\"col\">")
            label("lines", &w)
            w.raw("</th><th scope=\"col\">Chain</th></tr></thead>\n<tbody>")
            w.raw(view.chainRows)
            w.raw("</tbody>\n</table>\n")
            pager(view.pager, &w)
            w.raw("<table class=\"audit\">\n<thead><tr>")
            for key in ["time", "journal", "actor", "event", "target", "details"] {
                w.raw("<th scope=\"col\">")
                label(key, &w)
                w.raw("</th>")
            }
            w.raw("</tr></thead>\n<tbody>\n")
            w.raw(view.rows)
            w.raw("\n</tbody>\n</table>\n")
            pager(view.pager, &w)
        }
        return w.bytes
    }

    private func pager(_ pager: AuditPageView.Pager?, _ w: inout HTMLWriter) {
        if let pager {
            w.raw("<nav class=\"pager\" aria-label=\"")
            label("page", &w)
            w.raw("\">")
            if let newer = pager.newer {
                w.raw("<a rel=\"prev\" href=\"")
                w.text(newer)
                w.raw("\">← ")
                label("newer", &w)
                w.raw("</a>")
            }
            w.raw(" <span>")
            label("page", &w)
            w.raw(" ")
            w.number(pager.number)
            w.raw(" / ")
            w.number(pager.count)
            w.raw("</span> ")
            if let older = pager.older {
                w.raw("<a rel=\"next\" href=\"")
                w.text(older)
                w.raw("\">")
                label("older", &w)
                w.raw(" →</a>")
            }
            w.raw("</nav>")
        }
        w.raw("\n")
    }

    // MARK: status, agents, search

    func status(_ view: StatusView) -> [UInt8] {
        var w = HTMLWriter(capacity: 8192)
        layout(view.frame, &w) { w in
            w.raw("<h1>")
            label("status", &w)
            w.raw("</h1>\n<dl class=\"status-grid\">\n<div class=\"status-item status-")
            w.text(view.daemon.kind)
            w.raw("\"><dt>")
            label("status_daemon", &w)
            w.raw("</dt><dd><span class=\"status-label\">")
            w.text(view.daemon.label)
            w.raw("</span>")
            if let detail = view.daemon.detail {
                w.raw(" <span class=\"state-detail\">")
                w.text(detail)
                w.raw("</span>")
            }
            w.raw("</dd></div>\n<div class=\"status-item status-")
            w.text(view.runtime.kind)
            w.raw("\"><dt>")
            label("status_runtime", &w)
            w.raw("</dt><dd><span class=\"status-label\">")
            w.text(view.runtime.label)
            w.raw("</span>")
            if let since = view.runtime.since {
                w.raw(" ")
                label("since", &w)
                w.raw(" ")
                time(since, &w)
            }
            if let reason = view.runtime.reason {
                w.raw(" <span class=\"state-detail\">")
                w.text(reason)
                w.raw("</span>")
            }
            if let note = view.runtime.note {
                w.raw(" <span class=\"state-detail\">(")
                w.text(note)
                w.raw(")</span>")
            }
            w.raw("</dd></div>\n<div class=\"status-item\"><dt>")
            label("status_queue", &w)
            w.raw("</dt><dd>")
            if view.queue > 0 {
                w.number(view.queue)
                w.raw(" ")
                label("queue_waiting", &w)
            } else {
                label("queue_empty", &w)
            }
            w.raw("</dd></div>\n<div class=\"status-item\"><dt>")
            label("status_last_error", &w)
            w.raw("</dt><dd>")
            if let error = view.lastError {
                w.text(error.text)
                w.raw(" <time datetime=\"")
                if let at = error.at { w.text(at.iso) }
                w.raw("\">")
                if let at = error.at { w.text(at.short) }
                w.raw("</time>")
            } else {
                label("none", &w)
            }
            w.raw("</dd></div>\n</dl>\n<h2>")
            label("status_incidents", &w)
            w.raw("</h2>\n")
            if view.incidents.isEmpty {
                w.raw("\n<p>")
                label("none", &w)
                w.raw("</p>\n")
            } else {
                w.raw("<table><thead><tr>")
                for key in ["event", "since", "recovered", "details"] {
                    w.raw("<th scope=\"col\">")
                    label(key, &w)
                    w.raw("</th>")
                }
                w.raw("</tr></thead>\n<tbody>")
                for incident in view.incidents {
                    w.raw("<tr><td>")
                    w.text(incident.kind)
                    w.raw("</td><td>")
                    time(incident.start, &w)
                    w.raw("</td><td>")
                    if let end = incident.end {
                        time(end, &w)
                    } else {
                        label("ongoing", &w)
                    }
                    w.raw("</td><td>")
                    w.text(incident.reason)
                    w.raw("</td></tr>")
                }
                w.raw("</tbody></table>\n\n")
            }
            w.raw("<h2>")
            label("status_problems", &w)
            w.raw("</h2>\n")
            if view.problems.isEmpty {
                w.raw("\n<p>")
                label("none", &w)
                w.raw("</p>\n")
            } else {
                w.raw("<ul class=\"problems\">")
                for problem in view.problems {
                    w.raw("<li>")
                    w.text(problem)
                    w.raw("</li>")
                }
                w.raw("</ul>\n\n")
            }
        }
        return w.bytes
    }

    func agents(_ view: AgentsView) -> [UInt8] {
        var w = HTMLWriter(capacity: 4096)
        layout(view.frame, &w) { w in
            w.raw("<h1>")
            label("agents", &w)
            w.raw("</h1>\n<p>")
            label("agents_intro", &w)
            w.raw("</p>\n")
            if view.agents.isEmpty {
                w.raw("\n<p class=\"empty-state\">")
                label("agents_empty", &w)
                w.raw("</p>\n")
            } else {
                w.raw("<table>\n<thead><tr><th scope=\"col\">")
                label("agent", &w)
                w.raw("</th><th scope=\"col\">id</th><th scope=\"col\">")
                label("scopes", &w)
                w.raw("</th><th scope=\"col\">")
                label("runtime", &w)
                w.raw("</th></tr></thead>\n<tbody>")
                for agent in view.agents {
                    w.raw("<tr><td>")
                    w.text(agent.name)
                    w.raw("</td><td><code>")
                    w.text(agent.id)
                    w.raw("</code></td><td>")
                    w.text(agent.scopes)
                    w.raw("</td><td>")
                    w.text(agent.runtime)
                    w.raw("</td></tr>")
                }
                w.raw("</tbody>\n</table>\n\n")
            }
        }
        return w.bytes
    }

    func search(_ view: SearchPageView) -> [UInt8] {
        var w = HTMLWriter(capacity: 4096)
        layout(view.frame, &w, scripts: "<script src=\"assets/search.js\"></script>") { w in
            w.raw("<h1>")
            label("search", &w)
            w.raw(
                "</h1>\n<form class=\"search-form\" role=\"search\" action=\"#\" data-index=\"search/index.js\">\n<label for=\"q\">"
            )
            label("search_label", &w)
            w.raw("</label>\n<input id=\"q\" name=\"q\" type=\"search\" placeholder=\"")
            label("search_placeholder", &w)
            w.raw("\" autocomplete=\"off\">\n<fieldset class=\"search-filters\"><legend>")
            label("search_filters", &w)
            w.raw("</legend>\n<label>")
            for (key, id) in [("search_thread", "f-thread"), ("agent", "f-agent"), ("search_state", "f-state")] {
                label(key, &w)
                w.raw(" <select id=\"")
                w.raw(id)
                w.raw("\"><option value=\"\">")
                label("search_any", &w)
                w.raw("</option></select></label>\n<label>")
            }
            label("search_from", &w)
            w.raw(" <input id=\"f-from\" type=\"date\"></label>\n<label>")
            label("search_to", &w)
            w.raw(" <input id=\"f-to\" type=\"date\"></label>\n</fieldset>\n</form>\n<noscript><p class=\"notice\">")
            label("search_noscript", &w)
            w.raw("</p></noscript>\n<p id=\"search-status\" role=\"status\" aria-live=\"polite\" data-loading=\"")
            label("search_loading", &w)
            w.raw("\" data-results=\"")
            label("search_results", &w)
            w.raw("\" data-edited=\"")
            label("search_edited", &w)
            w.raw("\"></p>\n<ol id=\"search-results\" class=\"search-results\"></ol>\n")
        }
        // The template's last line ends after `{{/layout}}`, and Mustache keeps that newline.
        w.raw("\n")
        return w.bytes
    }

    // MARK: feed

    func feed(_ view: FeedView) -> [UInt8] {
        var w = HTMLWriter(capacity: 2048 + view.entries.reduce(0) { $0 + $1.content.utf8.count + 512 })
        w.raw("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>")
        w.text(view.title)
        w.raw("</title>\n<id>")
        w.text(view.id)
        w.raw("</id>\n<updated>")
        w.text(view.updated)
        w.raw("</updated>\n<generator>Letterbox</generator>\n<link rel=\"self\" href=\"")
        w.text(view.selfHref)
        w.raw("\"/>\n")
        for entry in view.entries {
            w.raw("<entry>\n<title>")
            w.text(entry.title)
            w.raw("</title>\n<id>")
            w.text(entry.id)
            w.raw("</id>\n<updated>")
            w.text(entry.updated)
            w.raw("</updated>\n<author><name>")
            w.text(entry.author)
            w.raw("</name></author>\n<link rel=\"alternate\" href=\"")
            w.text(entry.href)
            w.raw("\"/>\n<content type=\"html\">")
            w.text(entry.content)
            w.raw("</content>\n</entry>\n")
        }
        w.raw("</feed>\n")
        return w.bytes
    }
}
