import ChatModel
import Dispatch
import Foundation
import InboxStore

/// One build: decides what to render, renders it thread by thread, and writes as it goes so memory
/// stays bounded by the largest thread, not the inbox.
final class BuildPlan {
    /// Thrown when an incremental build finds that history changed under it (a journal shrank or was
    /// replaced, a thread vanished): only a full build gives the right result then.
    struct NeedsFullBuild: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    let build: SiteBuild
    let full: Bool
    /// The manifest this build writes. An incremental build takes over the previous build's and
    /// replaces what it renders, reading each record before replacing it: copying 1,000 thread
    /// records and 5,000 output hashes was a tenth of a one-message build.
    var manifest: Manifest
    /// What an incremental build replaced, to put back if it fails (`rollback`): the records of the
    /// threads it rendered (nil for a new thread), and the manifest's smaller fields as they were.
    private var replacedThreads: [String: Manifest.ThreadRecord?] = [:]
    private let before:
        (feed: [Feeds.Entry], inbox: Manifest.JournalRecord, auditTotal: Int, auditTail: [AuditPages.Row])
    var threadIDs: [String] = []
    var rejectedRoot: [(name: String, reason: String)] = []
    var rendered: [String] = []
    /// Folder listings taken to decide what to render, kept so that each is read once.
    private var listed: [String: [DiskFile]] = [:]

    var theme: Theme { build.theme }
    var strings: [String: String] { build.theme.strings }
    var title: String { build.workspace.config.title }
    var workspace: Workspace { build.workspace }

    /// A full build (`previous` nil), or an incremental one that takes over `previous`.
    init(build: SiteBuild, previous: consuming Manifest?) {
        self.build = build
        full = previous == nil
        manifest = previous ?? Manifest(fingerprint: build.fingerprint)
        before = (manifest.feed, manifest.inboxJournal, manifest.auditTotal, manifest.auditTail)
    }

    /// The output hashes, moved out of the manifest for a sink to update in place.
    func takeOutputs() -> [String: String] {
        defer { manifest.outputs = [:] }
        return manifest.outputs
    }

    /// The manifest as it was before this (failed) incremental build, with `outputs`: the hashes of
    /// the files on disk now, some of which it may have written.
    func rollback(outputs: [String: String]) -> Manifest {
        var manifest = manifest
        for (id, record) in replacedThreads { manifest.threads[id] = record }
        (manifest.feed, manifest.inboxJournal, manifest.auditTotal, manifest.auditTail) = before
        manifest.outputs = outputs
        return manifest
    }

    /// Renders the site into `sink`. `changed` limits which threads are looked at (nil: all).
    func run(into sink: OutputSink, changed: Set<String>?) throws {
        for entry in try FileSystem.listTypes(workspace.inbox) {
            switch FileClassifier.classifyRoot(entry.name, type: entry.type) {
            case let .thread(id): threadIDs.append(id)
            case let .rejected(reason): rejectedRoot.append((entry.name, reason))
            case .journal, .ignored: break
            }
        }
        // Every previous thread must still be there: the records of those not rendered are kept.
        if threadIDs.count(where: { manifest.threads.index(forKey: $0) != nil }) != manifest.threads.count {
            throw NeedsFullBuild(reason: "a thread was removed")
        }

        let auditRows = AuditSpool(scratchFolder: workspace.stateFolder, spillThreshold: build.auditSpillThreshold)
        var feed = manifest.feed
        var chains: [AuditLog.ChainStatus] = []

        // Threads: render what changed, keep the rest from the manifest.
        let toRender = try threadsToRender(changed: changed)
        if full, build.jobs > 1, let command = build.workerCommand, toRender.count > 1 {
            try renderInWorkers(toRender, command: command, into: sink, rows: auditRows, feed: &feed)
        } else {
            try renderThreads(toRender, into: sink, rows: auditRows, feed: &feed) { [build] done in
                build.progress?(done, toRender.count)
            }
        }

        // The inbox journal.
        let (inboxEntries, inboxReadError) = InboxReader.readJournal(
            workspace.inboxJournalPath, beneath: workspace.inbox)
        var inbox = InboxState()
        var inboxProblem = inboxReadError
        do { inbox = try InboxState.fold(inboxEntries) } catch { inboxProblem = inboxProblem ?? error }
        let knownInbox = manifest.inboxJournal
        guard inboxEntries.count >= knownInbox.lines,
            knownInbox.lines == 0 || inboxEntries[knownInbox.lines - 1].hash == knownInbox.lastHash
        else { throw NeedsFullBuild(reason: "the inbox journal was rewritten") }
        // Anchor lines are bookkeeping for `audit verify`, not events anyone reads (docs/format.md §7.7).
        for entry in inboxEntries[knownInbox.lines...] where entry.event.name != "anchor" {
            try auditRows.append(AuditPages.row(entry, journal: "inbox"))
        }
        let inboxChain = JournalText.verifyChain(inboxEntries) ?? inboxReadError
        manifest.inboxJournal = Manifest.JournalRecord(
            lines: inboxEntries.count, lastHash: inboxEntries.last?.hash ?? JournalCodec.genesis,
            problem: inboxChain?.description)

        chains = [
            AuditLog.ChainStatus(
                journal: "inbox", lines: inboxEntries.count,
                problem: manifest.inboxJournal.problem.map { FormatError(.journal, $0) })
        ]
        for id in threadIDs {
            guard let record = manifest.threads[id] else { continue }
            chains.append(
                AuditLog.ChainStatus(
                    journal: id, lines: record.journal.lines,
                    problem: record.journal.problem.map { FormatError(.journal, $0) }))
        }

        try writeAudit(newRows: auditRows, chains: chains, into: sink)
        feed.sort(by: Feeds.Entry.newestFirst)
        manifest.feed = Array(feed.prefix(Feeds.inboxLimit))
        try writeSitePages(inbox: inbox, inboxProblem: inboxProblem, into: sink)
    }

    // MARK: Threads

    /// The threads to render, in id order: those new since the last build, and those of `changed` (nil:
    /// all) whose folder listing no longer matches the one they were built from.
    ///
    /// Listing is a `stat` per file (100,000 in a 100k-message inbox) and most of a build with nothing
    /// new, so without a hint the folders are listed on every core at once (nothing else here touches
    /// shared state), by stamp only; with one, each hinted folder is listed once and kept in `listed`.
    func threadsToRender(changed: Set<String>?) throws -> [String] {
        let toCheck = threadIDs.indices.filter {
            manifest.threads.index(forKey: threadIDs[$0]) != nil && changed?.contains(threadIDs[$0]) != false
        }
        if changed != nil {
            // The daemon's hint: a few threads, each listed once, and the listing kept for reading it.
            var toRender: [String] = []
            for (index, id) in threadIDs.enumerated() {
                guard let record = manifest.threads.index(forKey: id) else {
                    toRender.append(id)
                    continue
                }
                guard toCheck.contains(index) else { continue }
                let files = try InboxReader.listThreadFiles(workspace.threadFolder(id), inbox: workspace.inbox)
                if InboxReader.listingStamp(of: files) != manifest.threads.values[record].fingerprint {
                    listed[id] = files
                    toRender.append(id)
                }
            }
            return toRender
        }
        var stamps = [Result<String, StoreError>?](repeating: nil, count: threadIDs.count)
        let lanes = min(ProcessInfo.processInfo.activeProcessorCount, max(1, toCheck.count / 64))
        let (workspace, ids) = (workspace, threadIDs)
        stamps.withUnsafeMutableBufferPointer { stamps in
            nonisolated(unsafe) let stamps = stamps
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                // Each lane writes only its own indices.
                for index in stride(from: lane, to: toCheck.count, by: lanes).map({ toCheck[$0] }) {
                    stamps[index] = Result { () throws(StoreError) in
                        try InboxReader.listingStamp(workspace.threadFolder(ids[index]), inbox: workspace.inbox)
                    }
                }
            }
        }
        var toRender: [String] = []
        for (index, id) in threadIDs.enumerated() {
            guard let record = manifest.threads.index(forKey: id) else {
                toRender.append(id)
                continue
            }
            if let stamp = stamps[index], try stamp.get() != manifest.threads.values[record].fingerprint {
                toRender.append(id)
            }
        }
        return toRender
    }

    /// `view` with the build's banner in its frame.
    func framed(_ view: ThreadView) -> ThreadView {
        var view = view
        view.frame.banner = build.banner
        return view
    }

    /// Renders `threads` into `sink`, their audit rows into `rows`, their newest entries into `feed`;
    /// records them in the manifest. `afterEach` gets the number rendered so far.
    func renderThreads(
        _ threads: [String], into sink: OutputSink, rows auditRows: AuditSpool, feed: inout [Feeds.Entry],
        afterEach: (Int) -> Void
    ) throws {
        for (index, id) in threads.enumerated() {
            let old = manifest.threads[id]
            // Full builds neither read nor fill the thread cache, so it cannot add to their peak memory.
            let content =
                try full
                ? ThreadContent.read(id, workspace: workspace)
                : build.threads.read(
                    id, workspace: workspace,
                    files: listed.removeValue(forKey: id)
                        ?? InboxReader.listThreadFiles(workspace.threadFolder(id), inbox: workspace.inbox),
                    needing: old?.journal.lines ?? 0)
            let output = try renderThread(content, into: sink)
            if let old, old.feedEntries > output.feed.count {
                throw NeedsFullBuild(reason: "thread \(id) has fewer feed entries than before")
            }
            // New journal lines since the last build (all of them in a full build). The thread cache
            // decodes at least those, and the line before them.
            var start = 0
            if let old {
                let known = old.journal
                // A journal shorter than at the last build (a `git reset`) was rewritten; only a longer
                // or equal one has the line the last build ended on.
                guard content.journal.lines >= known.lines else {
                    throw NeedsFullBuild(reason: "the journal of thread \(id) is shorter than at the last build")
                }
                let before =
                    known.lines == content.tailStart
                    ? content.tailAfter
                    : known.lines > content.tailStart ? content.tail[known.lines - 1 - content.tailStart].hash : nil
                guard known.lines == 0 || before == known.lastHash else {
                    throw NeedsFullBuild(reason: "the journal of thread \(id) was rewritten")
                }
                start = known.lines
            }
            guard start >= content.tailStart else {
                // The thread cache is asked for these lines; reaching here is a bug, not a bad inbox.
                throw NeedsFullBuild(reason: "the lines of thread \(id) since the last build were not read")
            }
            for entry in content.tail[(start - content.tailStart)...] {
                try auditRows.append(AuditPages.row(entry, journal: id))
            }
            let problem = content.chainProblem ?? content.snapshot.journalError
            let journal = Manifest.JournalRecord(
                lines: content.journal.lines, lastHash: content.journal.lastHash, problem: problem?.description)
            Self.merge(output.feed.prefix(Feeds.inboxLimit), replacing: id, into: &feed)
            if !full, !replacedThreads.keys.contains(id) { replacedThreads.updateValue(old, forKey: id) }
            manifest.threads[id] = Manifest.ThreadRecord(
                fingerprint: InboxReader.listingStamp(of: content.snapshot.files), summary: output.summary,
                journal: journal,
                feedEntries: output.feed.count,
                indexItem: theme.indexItem(SitePages.item(output.summary, strings: strings)))
            rendered.append(id)
            afterEach(index + 1)
        }
    }

    /// Adds `entries` to the inbox feed's candidates (replacing `thread`'s, if given), keeping only what
    /// can still make the feed, so memory does not grow with the inbox.
    static func merge(_ entries: some Sequence<Feeds.Entry>, replacing thread: String?, into feed: inout [Feeds.Entry])
    {
        if let thread { feed.removeAll { $0.thread == thread } }
        feed += entries
        if feed.count > 4 * Feeds.inboxLimit {
            feed.sort(by: Feeds.Entry.newestFirst)
            feed.removeSubrange(Feeds.inboxLimit...)
        }
    }

    /// Renders `threads` (a full build) in worker processes and this one: the first shard here, the
    /// others each in a process started with `command`. The result is the same as rendering them all
    /// here: every page, record, feed entry and audit row ends up in the same place.
    func renderInWorkers(
        _ threads: [String], command: [String], into sink: OutputSink, rows: AuditSpool, feed: inout [Feeds.Entry]
    ) throws {
        let shards = Self.shards(threads, count: min(build.jobs, threads.count), workspace: workspace)
        let tasks = shards.dropFirst().map {
            WorkerTask(
                root: workspace.root, configPath: workspace.configPath, inbox: workspace.inbox, site: build.site,
                staging: sink.root, fingerprint: build.fingerprint, threads: $0,
                auditSpillThreshold: build.auditSpillThreshold, banner: build.banner)
        }
        let pool = try WorkerPool(
            executable: command[0], arguments: Array(command.dropFirst()), tasks: tasks,
            scratch: workspace.stateFolder)
        let total = threads.count
        let own = shards[0].count
        try renderThreads(shards[0], into: sink, rows: rows, feed: &feed) { [build] done in
            build.progress?(done + pool.reported(), total)
        }
        let results = try pool.finish { [build] done in build.progress?(own + done, total) }
        for (result, spool) in results {
            for record in result.records {
                manifest.threads[record.summary.id] = record
                rendered.append(record.summary.id)
            }
            Self.merge(result.feed, replacing: nil, into: &feed)
            for output in result.outputs { sink.adopt(output.path, digest: output.digest) }
            rows.absorb(result.rows, from: spool)
        }
    }

    /// `threads` in `count` shards of about equal work (by journal size, largest first onto the
    /// lightest shard), each in id order. Which thread goes where does not change the site.
    static func shards(_ threads: [String], count: Int, workspace: Workspace) -> [[String]] {
        let sized = threads.map { id in
            (id: id, size: (try? FileSystem.entry(at: workspace.journalPath(thread: id)))??.size ?? 0)
        }.sorted { $0.size != $1.size ? $0.size > $1.size : $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        var shards = [[String]](repeating: [], count: max(1, count))
        var loads = [Int](repeating: 0, count: shards.count)
        for thread in sized {
            let lightest = loads.indices.min { loads[$0] != loads[$1] ? loads[$0] < loads[$1] : $0 < $1 } ?? 0
            shards[lightest].append(thread.id)
            loads[lightest] += thread.size + 1
        }
        return shards.map { $0.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
    }

    struct ThreadOutput {
        var summary: ThreadSummary
        var feed: [Feeds.Entry]
    }

    func renderThread(_ content: ThreadContent, into sink: OutputSink) throws -> ThreadOutput {
        let id = content.snapshot.id
        let page = ThreadPage(content: content, renderer: build.renderer, strings: strings, siteTitle: title)
        let segment = Page.segment(id)
        let messages: [MessageView]
        let searchTexts: [[[UInt8]]]
        var fragments: [ReadAPI.Fragments]?
        if theme.rendersMessageSections {
            // Full builds neither read nor fill the cache, so it cannot add to their peak memory.
            let sections = page.sections(theme: theme, cache: full ? nil : build.messageSections)
            messages = sections.map(\.view)
            searchTexts = sections.map(\.searchTexts)
            if !full { fragments = sections.map(\.api) }
            try sink.put(
                "threads/\(segment).html",
                theme.thread(framed(page.view(messages: messages)), sections: sections.map(\.html)))
        } else {
            messages = content.snapshot.state.messages.map(page.message)
            searchTexts = zip(messages, content.snapshot.state.messages).map { message, state in
                SearchIndex.texts(of: message, edited: !state.edits.isEmpty)
            }
            try sink.put("threads/\(segment).html", theme.thread(framed(page.view(messages: messages)), sections: nil))
        }
        let entries = Feeds.entries(
            thread: id, title: content.snapshot.title, messages: messages,
            limit: max(Feeds.threadLimit, Feeds.inboxLimit))
        let feed = Feeds.view(
            title: "\(content.snapshot.title) · \(title)", id: "urn:letterbox:\(id)", selfHref: "\(segment).xml",
            base: "", entries: Array(entries.prefix(Feeds.threadLimit)))
        try sink.put("threads/\(segment).xml", theme.feed(feed))
        var items: [SearchIndex.Item] = []
        for ((message, state), texts) in zip(zip(messages, content.snapshot.state.messages), searchTexts) {
            items.append(
                .init(
                    anchor: message.id, file: message.file, agent: message.agent ?? "", state: message.state,
                    at: message.at.iso, edited: !state.edits.isEmpty, text: texts[0]))
            for (run, text) in zip(message.runs, texts.dropFirst()) {
                items.append(
                    .init(
                        anchor: run.id, file: run.file, agent: run.agent, state: run.status, at: run.at.iso,
                        edited: false, text: text))
            }
        }
        try sink.put("search/\(segment).js", SearchIndex.shard(thread: id, title: content.snapshot.title, items: items))
        try sink.put(ReadAPI.messagesPath(id), ReadAPI.messages(content, views: messages, fragments: fragments))
        return ThreadOutput(summary: ThreadSummary(content), feed: entries)
    }

    // MARK: Audit

    func writeAudit(newRows rows: AuditSpool, chains: [AuditLog.ChainStatus], into sink: OutputSink) throws {
        rows.sort()
        let tail = manifest.auditTail
        var total = manifest.auditTotal
        if let last = tail.last, let first = try rows.rows(0..<min(1, rows.count)).first,
            AuditPages.Row.ascending(first, last)
        {
            // An event older than the newest page arrived (a journal from elsewhere): redo the pages.
            throw NeedsFullBuild(reason: "an event older than the newest audit page arrived")
        }
        let pageSize = AuditPages.pageSize
        // Pages from the first one that changes: the previous newest page, then any new ones.
        let firstPage = max(1, (total - tail.count) / pageSize + 1)
        total += rows.count
        try rows.prepend(sorted: tail)
        let pageCount = max(1, (total + pageSize - 1) / pageSize)
        var number = firstPage
        var offset = 0
        repeat {
            let end = min(rows.count, offset + pageSize)
            let slice = try rows.rows(offset..<end)[...]
            let isNewest = number == pageCount
            let html = theme.audit(
                withBanner(
                    AuditPages.page(
                        rows: slice, number: number, count: pageCount, chains: isNewest ? chains : nil,
                        siteTitle: title,
                        strings: strings
                    ) { [build, strings] chain in
                        if let kept = build.chainRows[chain.journal], kept.chain == chain { return kept.html }
                        let html = AuditPages.chainRow(chain, strings: strings)
                        build.chainRows[chain.journal] = (chain, html)
                        return html
                    }))
            let digest = SHA256Hex.digest(html)
            try sink.put("audit/page-\(number).html", html, digest: digest)
            if isNewest { try sink.put("audit/index.html", html, digest: digest) }
            offset = end
            number += 1
        } while offset < rows.count
        manifest.auditTotal = total
        manifest.auditTail = try rows.rows(((pageCount - firstPage) * pageSize)..<rows.count)
    }

    // MARK: Site-wide pages

    /// `view` with the build's banner in its frame.
    func withBanner<View: Framed>(_ view: View) -> View {
        var view = view
        view.frame.banner = build.banner
        return view
    }

    func writeSitePages(inbox: InboxState, inboxProblem: FormatError?, into sink: OutputSink) throws {
        let records = threadIDs.compactMap { manifest.threads.index(forKey: $0) }
        let summaries = records.map { manifest.threads.values[$0].summary }
        let items = SitePages.order(summaries).map { manifest.threads.values[records[$0]].indexItem }
        try sink.put("index.html", theme.index(withBanner(SitePages.index(items, siteTitle: title, strings: strings))))
        var problems = rejectedRoot.map { "\(workspace.relative(workspace.inbox + "/" + $0.name)): \($0.reason)" }
        if let inboxProblem { problems.append(inboxProblem.description) }
        problems += inbox.threadProblems.map { "\(workspace.relative(workspace.inbox + "/" + $0.file)): \($0.reason)" }
        problems += summaries.compactMap { summary in summary.problem.map { "\(summary.id): \($0)" } }
        try sink.put(
            "status.html",
            theme.status(
                withBanner(
                    SitePages.status(
                        inbox: inbox, daemon: DaemonStatus.read(in: workspace), summaries: summaries,
                        problems: problems, siteTitle: title, strings: strings))))
        try sink.put(
            "agents.html",
            theme.agents(
                withBanner(SitePages.agents(inbox: inbox, config: workspace.config, siteTitle: title, strings: strings))
            ))
        try sink.put("search.html", theme.search(withBanner(SitePages.search(siteTitle: title, strings: strings))))
        try sink.put(
            ReadAPI.threadsPath,
            ReadAPI.threads(summaries) { [build] summary in
                if let kept = build.apiItems[summary.id], kept.summary == summary { return kept.bytes }
                let bytes = ReadAPI.threadItem(summary)
                build.apiItems[summary.id] = (summary, bytes)
                return bytes
            })
        try sink.put("search/index.js", SearchIndex.index(shards: threadIDs.map { "\(Page.segment($0)).js" }))
        try sink.put(
            "feed.xml",
            theme.feed(
                Feeds.view(
                    title: title, id: "urn:letterbox:inbox", selfHref: "feed.xml", base: "threads/",
                    entries: manifest.feed)))
        try sink.put(
            "attention.xml",
            theme.feed(
                Feeds.view(
                    title: "\(title): \(strings["attention"] ?? "Needs your attention")",
                    id: "urn:letterbox:attention", selfHref: "attention.xml", base: "threads/",
                    entries: Feeds.attention(summaries))))
        try sink.put("assets/style.css", theme.assets["style.css"] ?? "")
        try sink.put("assets/search.js", theme.assets["search.js"] ?? "")
        try sink.put("README.md", WorkspaceInitializer.siteReadme)
    }
}
