import ChatModel

/// The audit log: every journal merged, newest first, in pages of at most `pageSize` rows.
///
/// Pages are numbered from the oldest (`audit/page-1.html`), and the newest, partial page is
/// `audit/index.html`, so a new event changes only the newest page. Rows are rendered by
/// `row(_:)` rather than a template: there is one per journal line (600k for a 100k-message inbox),
/// and a Mustache row took ~8 µs against ~0.5 µs here (the rest of the built-in theme is compiled to Swift
/// too now: `CompiledTheme`) (docs/benchmarks.md). Styling is the theme's CSS.
enum AuditPages {
    static let pageSize = 250

    /// A rendered row with the keys that place it in the merged order.
    struct Row: Codable, Sendable, Hashable {
        var ts: Int64
        var journal: String
        var seq: Int
        /// The row's HTML (UTF-8), kept as bytes from rendering to the page: 600k rows in a full build.
        var html: [UInt8]

        /// Oldest first: time, then journal name, then seq (the reverse of the displayed order).
        static func ascending(_ a: Row, _ b: Row) -> Bool {
            if a.ts != b.ts { return a.ts < b.ts }
            if a.journal != b.journal { return b.journal.utf8.lexicographicallyPrecedes(a.journal.utf8) }
            return a.seq < b.seq
        }
    }

    /// The row for one journal line. `journal` is `inbox` or a thread id.
    static func row(_ entry: JournalEntry, journal: String) -> Row {
        let isThread = journal != "inbox"
        let threadPage = "../threads/\(Page.segment(journal)).html"
        let ts = entry.ts.description
        var w = HTMLWriter(capacity: 512)
        w.raw("<tr><td><time datetime=\"")
        w.raw(ts)
        w.raw("\">")
        w.raw(ts)
        w.raw("</time></td><td>")
        if isThread {
            w.raw("<a href=\"")
            w.text(threadPage)
            w.raw("\">")
            w.text(journal)
            w.raw("</a>")
        } else {
            w.text(journal)
        }
        w.raw("&nbsp;#")
        w.number(entry.seq)
        w.raw("</td><td>")
        w.raw(entry.actor.rawValue)
        w.raw("</td><td>")
        w.raw(entry.event.name)
        w.raw("</td><td>")
        let target = entry.event.target ?? ""
        if isThread, let anchor = anchor(for: entry.event) {
            w.raw("<a href=\"")
            w.text(threadPage)
            w.raw("#m-")
            w.text(anchor)
            w.raw("\">")
            w.text(target)
            w.raw("</a>")
        } else {
            w.text(target)
        }
        w.raw("</td><td>")
        w.text(AuditLog.summary(entry))
        w.raw("</td></tr>\n")
        return Row(ts: entry.ts.milliseconds, journal: journal, seq: entry.seq, html: w.bytes)
    }

    /// The permalink anchor an event points at on its thread page, when there is one.
    static func anchor(for event: JournalEvent) -> String? {
        switch event {
        case let .detected(message, _, _), let .accepted(message, _, _, _), let .attempt(message, _, _),
            let .sent(message, _, _, _), let .retryScheduled(message, _, _, _), let .failed(message, _, _),
            let .retryRequested(message), let .editedAfterSend(message, _, _), let .remoteMessage(message, _, _),
            let .regenerateRequested(message), let .regenerateFailed(message, _):
            return message
        case let .replyStarted(_, _, file, _, _), let .replyCompleted(_, file, _, _), let .replyAborted(_, file, _),
            let .replyErrored(_, file, _), let .toolCall(_, _, _, file, _, _):
            return file.hasSuffix(".md") ? String(file.dropLast(3)) : file
        case let .approvalRequested(approval, _, _, _, _, _, _, _, _, _), let .approvalAnswered(approval, _, _, _, _),
            let .approvalAnswerInvalid(approval, _), let .approvalEditedAfterAnswer(approval, _),
            let .approvalSent(approval, _), let .approvalExpired(approval):
            return approval
        default:
            return nil
        }
    }

    /// The file name of page `number` of `count` (the newest is `index.html`).
    static func fileName(page number: Int, of count: Int) -> String {
        number == count ? "index.html" : "page-\(number).html"
    }

    /// Page `number` (1 = oldest) whose rows (oldest first) are `rows`.
    static func page(
        rows: ArraySlice<Row>, number: Int, count: Int, chains: [AuditLog.ChainStatus]?, siteTitle: String,
        strings: [String: String], chainRow: (AuditLog.ChainStatus) -> String
    ) -> AuditPageView {
        AuditPageView(
            frame: PageFrame(
                title: "\(strings["audit"] ?? "") (\(strings["page"] ?? "") \(number))", siteTitle: siteTitle,
                root: "../", nav: .audit),
            rows: Array(rows.reversed().map(\.html).joined()),
            chainRows: (chains ?? []).map(chainRow).joined(),
            pager: count > 1
                ? .init(
                    number: number, count: count, newer: number < count ? fileName(page: number + 1, of: count) : nil,
                    older: number > 1 ? fileName(page: number - 1, of: count) : nil) : nil)
    }

    /// One journal's row in the chain table. In Swift for the reason rows are: the newest page lists
    /// every journal (1,001 for a 1,000-thread inbox), and through Mustache that table was a third of
    /// a one-message incremental build.
    static func chainRow(_ chain: AuditLog.ChainStatus, strings: [String: String]) -> String {
        let state = chain.isIntact ? "intact" : "broken"
        let label = (chain.isIntact ? strings["chain_intact"] : strings["chain_broken"]) ?? ""
        var html =
            "<tr class=\"chain-\(state)\"><td><code>\(HTML.escape(chain.journal))</code></td><td>\(chain.lines)</td>"
        html += "<td><span class=\"chain chain-\(state)\">\(HTML.escape(label))</span>"
        if let problem = chain.problem?.description, !problem.isEmpty { html += ": " + HTML.escape(problem) }
        html += "</td></tr>"
        return html
    }
}
