import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

/// The built-in theme exists twice: as Mustache templates (`DefaultTemplates`, what a theme folder
/// overrides) and as Swift (`CompiledTheme`, what builds use). These tests hold them to the same bytes.
@Suite("The compiled theme renders what the built-in templates render")
struct CompiledThemeTests {
    let logger = Logger(label: "test")

    @Test(
        "Every page of the golden fixtures, built with the compiled theme and with the templates as Mustache, is byte-identical",
        arguments: ["empty", "states", "hostile"])
    func fixturesBothWays(_ fixture: String) throws {
        let inbox: FixtureInbox
        switch fixture {
        case "empty": inbox = try FixtureInbox()
        case "states": inbox = try FixtureInbox.everyState()
        default: inbox = try SafetyTests().hostileInbox()
        }
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-mustache"
        let mustache = try SiteBuild(workspace: workspace, site: nil, logger: logger, compiledTheme: false)
        #expect(mustache.theme.compiled == nil)
        try mustache.build()
        let compiled = tree(inbox.workspace.site)
        let viaMustache = tree(workspace.site)
        #expect(compiled.keys.sorted() == viaMustache.keys.sorted())
        for (path, bytes) in compiled {
            #expect(viaMustache[path] == bytes, "\(path) differs between the compiled theme and Mustache")
        }
        // Incremental builds take the section path; it must agree too.
        if fixture == "states" {
            try inbox.message("ops", "late", "One more *thing*.")
            let builds = [
                try SiteBuild(workspace: inbox.workspace, logger: logger),
                try SiteBuild(workspace: workspace, site: nil, logger: logger, compiledTheme: false),
            ]
            for build in builds { try build.build(changed: ["ops"]) }
            #expect(tree(inbox.workspace.site)["threads/ops.html"] == tree(workspace.site)["threads/ops.html"])
        }
    }

    @Test("Seeded random views render the same both ways: absent and empty values, escaping, empty lists")
    func randomViews() throws {
        let theme = try Theme.load(overrides: nil, compiled: false)
        let compiled = CompiledTheme(strings: theme.strings)
        var random = Random(seed: 0x5EED_0001)
        for round in 0..<300 {
            let messages = (0..<random.int(3)).map { _ in random.message() }
            let thread = random.threadView(messages: messages)
            let sections = messages.map(compiled.message)
            for (message, section) in zip(messages, sections) {
                try same(theme.messageSection(message), section, "round \(round): message section")
            }
            try same(
                theme.thread(thread, sections: nil), compiled.thread(thread, sections: sections),
                "round \(round): thread page")
            try same(
                theme.thread(thread, sections: sections), compiled.thread(thread, sections: sections),
                "round \(round): thread page around sections")
            let item = random.indexItem()
            try same(Array(theme.indexItem(item).utf8), compiled.indexItem(item), "round \(round): index item")
            let index = IndexView(frame: random.frame(), items: (0..<random.int(3)).map { _ in random.text() })
            try same(theme.index(index), compiled.index(index), "round \(round): index")
            let status = random.status()
            try same(theme.status(status), compiled.status(status), "round \(round): status")
            let agents = AgentsView(
                frame: random.frame(),
                agents: (0..<random.int(3)).map { _ in
                    .init(id: random.text(), name: random.text(), scopes: random.text(), runtime: random.text())
                })
            try same(theme.agents(agents), compiled.agents(agents), "round \(round): agents")
            let audit = random.auditPage()
            try same(theme.audit(audit), compiled.audit(audit), "round \(round): audit")
            let search = SearchPageView(frame: random.frame())
            try same(theme.search(search), compiled.search(search), "round \(round): search")
            let feed = random.feed()
            try same(theme.feed(feed), compiled.feed(feed), "round \(round): feed")
        }
    }

    @Test("A theme override renders through Mustache from the typed views, and only the pages that use it")
    func override() throws {
        let inbox = try FixtureInbox.everyState()
        let folder = inbox.root + "/theme"
        try FileSystem.createDirectory(folder)
        try Data(DefaultTemplates.message.replacing("{{author}}", with: "{{author}} [custom]").utf8).write(
            to: URL(fileURLWithPath: folder + "/message.mustache"))
        try Data("theme: theme\ntitle: Letterbox\n".utf8).write(
            to: URL(fileURLWithPath: inbox.root + "/letterbox.yaml"))
        let workspace = try Workspace.locate(from: inbox.root)
        let build = try SiteBuild(workspace: workspace, logger: logger)
        #expect(build.theme.overridden == ["message"])
        try build.build()
        let page = try read(workspace.site + "/threads/ops.html")
        #expect(page.contains("<span class=\"author\">operator [custom]</span>"))
        // Pages that do not use the override are the built-in theme's, byte for byte.
        var plain = inbox.workspace
        plain.site = inbox.root + "/site-plain"
        try SiteBuild(workspace: plain, logger: logger).build()
        #expect(try read(workspace.site + "/index.html") == read(plain.site + "/index.html"))
        #expect(
            try read(workspace.site + "/threads/ops.html").replacing(" [custom]", with: "")
                == read(plain.site + "/threads/ops.html"))
    }

    @Test(
        "A theme's tools/NAME.mustache renders that tool's calls from a typed context, escaped; other tools keep the generic block"
    )
    func toolTemplate() throws {
        let inbox = try FixtureInbox()
        try inbox.thread("t")
        try inbox.message("t", "m", "find it")
        try inbox.sent("t", "m")
        try inbox.reply("t", to: "m", text: "Looking.", status: nil)
        let calls = [
            (
                "m.reply.tool-1.md", "call-1", "search", #"{"query": "<script>alert(1)</script>", "limit": 2}"#,
                "found <b>2</b>"
            ),
            ("m.reply.tool-2.md", "call-2", "lookup", #"{"id": 7}"#, "none"),
        ]
        for (file, id, tool, arguments, result) in calls {
            try inbox.write(
                "t", file,
                DaemonFile(
                    id: String(file.dropLast(3)), role: .tool, agent: "assistant", inReplyTo: "m", run: "run-m-1",
                    created: inbox.tick(), status: "complete", extra: [("tool", tool), ("tool-call", id)],
                    body: ToolRecord.body(tool: tool, arguments: arguments, result: result)
                ).text)
            try inbox.journal(
                "t",
                [
                    (
                        .runtime,
                        .toolCall(
                            run: "run-m-1", toolCall: id, tool: tool, file: file, status: "complete", runtimeID: nil)
                    )
                ])
        }
        try FileSystem.createDirectory(inbox.root + "/theme/tools")
        try Data(
            #"<p class="search">{{name}}: <q>{{arguments.query}}</q> limit {{arguments.limit}} · {{state}} · {{stateLabel}} · {{result}}{{#subagent}} by {{.}}{{/subagent}}</p>"#
                .utf8
        ).write(to: URL(fileURLWithPath: inbox.root + "/theme/tools/search.mustache"))
        try Data("theme: theme\ntitle: Letterbox\n".utf8).write(
            to: URL(fileURLWithPath: inbox.root + "/letterbox.yaml"))
        let workspace = try Workspace.locate(from: inbox.root)
        let build = try SiteBuild(workspace: workspace, logger: logger)
        #expect(build.theme.overridden.isEmpty && build.theme.toolTemplates == ["search"])
        try build.build()
        let page = try read(workspace.site + "/threads/t.html")
        #expect(
            page.contains(
                #"<div class="tool-call tool-call-custom" id="m-m.reply.tool-1"><p class="search">search: <q>&lt;script&gt;alert(1)&lt;/script&gt;</q> limit 2 · complete · done · found &lt;b&gt;2&lt;/b&gt;</p></div>"#
            ))
        #expect(!page.contains("<script>alert(1)") && !page.contains("<b>2</b>"))
        #expect(page.contains(#"<details class="tool-call" id="m-m.reply.tool-2">"#), "lookup keeps the generic block")
        #expect(!page.contains(#"<details class="tool-call" id="m-m.reply.tool-1">"#))

        // The same page through the Mustache templates is byte-identical.
        var viaMustache = workspace
        viaMustache.site = inbox.root + "/site-mustache"
        try SiteBuild(workspace: viaMustache, site: nil, logger: logger, compiledTheme: false).build()
        #expect(try read(viaMustache.site + "/threads/t.html") == page)

        // A template that does not compile names its file.
        try Data("{{#broken}}".utf8).write(to: URL(fileURLWithPath: inbox.root + "/theme/tools/lookup.mustache"))
        #expect {
            _ = try SiteBuild(workspace: workspace, logger: logger)
        } throws: { error in
            "\(error)".contains("theme/tools/lookup.mustache")
        }
    }

    /// Requires the Mustache rendering `a` and the compiled one `b` to be equal, naming the first line
    /// that differs.
    func same(
        _ a: [UInt8], _ b: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let equal = a == b
        try #require(equal, "\(what): \(equal ? "" : diff(a, b))", sourceLocation: sourceLocation)
    }

    /// The first line where two renderings differ.
    func diff(_ a: [UInt8], _ b: [UInt8]) -> String {
        let x = String(decoding: a, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let y = String(decoding: b, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let index = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
        return
            "line \(index + 1)\n  mustache: \(index < x.count ? String(x[index]) : "<end>")\n  compiled: \(index < y.count ? String(y[index]) : "<end>")"
    }
}

/// Seeded random page views (SplitMix64), with values chosen to catch escaping and absent-versus-empty
/// differences.
private struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ... max.
    mutating func int(_ max: Int) -> Int { Int(next() % UInt64(max + 1)) }
    mutating func bool() -> Bool { next() % 2 == 0 }

    static let texts = [
        "", "plain", "a & b", "<script>alert(1)</script>", "\"quoted\" 'single'", "ünïcödé · …", "{{strings.agent}}",
        "line\nbreak", "  spaced  ",
    ]
    mutating func text() -> String { Self.texts[int(Self.texts.count - 1)] }
    mutating func maybe() -> String? { bool() ? nil : text() }
    /// Rendered HTML as cmark gives it (inserted unescaped).
    mutating func html() -> String { ["", "<p>text</p>\n", "<ul>\n<li>a &amp; b</li>\n</ul>\n"][int(2)] }
    mutating func time() -> TimeView { TimeView(iso: text(), short: text()) }
    mutating func texts() -> [String] { (0..<int(3)).map { _ in text() } }

    mutating func frame() -> PageFrame {
        PageFrame(
            title: text(), siteTitle: text(), root: bool() ? "" : "../",
            nav: [.threads, .search, .agents, .audit, .status][int(4)], refresh: bool() ? nil : int(30),
            feed: maybe(), banner: bool() ? nil : .init(label: text(), since: time()))
    }

    mutating func message() -> MessageView {
        MessageView(
            id: text(), file: text(), role: text(), author: text(), at: time(), detectedAt: Int64(int(1000)),
            agent: maybe(), state: text(), stateLabel: text(), stateDetail: maybe(),
            notes: (0..<int(2)).map { _ in .init(kind: text(), text: text()) }, body: html(),
            attempts: (0..<int(2)).map { _ in
                AttemptView(number: int(5), at: time(), outcome: text(), reason: maybe(), next: bool() ? nil : time())
            }, attemptsOpen: bool(), runs: (0..<int(2)).map { _ in run() })
    }

    mutating func run() -> RunView {
        RunView(
            id: text(), file: text(), label: text(), agent: text(), endedAt: bool() ? nil : Int64(int(9)), at: time(),
            status: text(), statusLabel: text(), reason: maybe(), missing: bool(), body: html(),
            reasoning: bool() ? nil : html(),
            toolCalls: (0..<int(2)).map { _ in
                ToolCallView(
                    id: text(), tool: text(), status: text(), body: html(), subagent: maybe(),
                    custom: bool() ? nil : html())
            },
            approvals: (0..<int(2)).map { _ in
                ApprovalView(
                    id: text(), file: text(), tool: maybe(), pending: bool(), invalid: texts(), body: html(),
                    state: text(), stateLabel: text(),
                    answer: bool() ? nil : .init(decisionLabel: text(), at: time(), note: maybe()))
            }, usage: maybe(), sharedState: maybe(),
            subagents: (0..<int(2)).map { _ in
                SubagentView(
                    id: text(), name: text(), status: text(), statusLabel: text(), description: maybe(), via: maybe(),
                    tools: maybe(), error: maybe(), body: bool() ? nil : html(), result: maybe())
            },
            activities: (0..<int(2)).map { _ in ActivityView(type: text(), content: text()) }, events: texts())
    }

    mutating func threadView(messages: [MessageView]) -> ThreadView {
        ThreadView(
            frame: frame(), title: text(), agent: text(), tags: texts(), feed: text(),
            description: bool() ? nil : html(), refreshing: bool(),
            attention: (0..<int(2)).map { _ in .init(anchor: text(), label: text()) }, problems: texts(),
            messages: messages,
            rejected: (0..<int(2)).map { _ in .init(file: text(), reason: text(), at: time()) },
            controls: (0..<int(2)).map { _ in .init(file: text(), outcome: text(), reason: maybe(), at: time()) })
    }

    mutating func indexItem() -> IndexItemView {
        IndexItemView(
            href: text(), title: text(), agent: text(), messageCount: text(), lastActivity: bool() ? nil : time(),
            badges: (0..<int(2)).map { _ in .init(kind: text(), label: text()) }, tags: texts())
    }

    mutating func status() -> StatusView {
        StatusView(
            frame: frame(), daemon: .init(kind: text(), label: text(), detail: maybe()),
            runtime: .init(kind: text(), label: text(), since: bool() ? nil : time(), reason: maybe(), note: maybe()),
            queue: int(3),
            lastError: bool() ? nil : .init(text: text(), at: bool() ? nil : time()),
            incidents: (0..<int(2)).map { _ in
                .init(kind: text(), reason: text(), start: time(), end: bool() ? nil : time())
            }, problems: texts())
    }

    mutating func auditPage() -> AuditPageView {
        AuditPageView(
            frame: frame(), rows: Array(html().utf8), chainRows: html(),
            pager: bool() ? nil : .init(number: int(9), count: int(9), newer: maybe(), older: maybe()))
    }

    mutating func feed() -> FeedView {
        FeedView(
            title: text(), id: text(), updated: text(), selfHref: text(),
            entries: (0..<int(2)).map { _ in
                .init(title: text(), id: text(), updated: text(), author: text(), href: text(), content: html())
            })
    }
}

@Suite("The search index's plain text")
struct PlainTextTests {
    /// The byte-at-a-time extraction the index used before, kept as the reference.
    static func reference(_ html: String, limit: Int) -> String {
        var out: [UInt8] = []
        var inTag = false
        var pendingSpace = false
        var bytes = html.utf8.makeIterator()
        var entity: [UInt8] = []
        var inEntity = false
        func emit(_ byte: UInt8) {
            if byte == 32 || byte == 10 || byte == 9 || byte == 13 {
                pendingSpace = !out.isEmpty
                return
            }
            if pendingSpace {
                out.append(32)
                pendingSpace = false
            }
            out.append(byte)
        }
        while let byte = bytes.next(), out.count < limit {
            if inTag {
                if byte == UInt8(ascii: ">") {
                    inTag = false
                    pendingSpace = !out.isEmpty
                }
                continue
            }
            if inEntity {
                if byte == UInt8(ascii: ";") || entity.count > 8 {
                    inEntity = false
                    switch String(decoding: entity, as: UTF8.self) {
                    case "amp": emit(UInt8(ascii: "&"))
                    case "lt": emit(UInt8(ascii: "<"))
                    case "gt": emit(UInt8(ascii: ">"))
                    case "quot": emit(UInt8(ascii: "\""))
                    case "#39": emit(UInt8(ascii: "'"))
                    default: emit(32)
                    }
                    entity.removeAll()
                } else {
                    entity.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "<"): inTag = true
            case UInt8(ascii: "&"): inEntity = true
            default: emit(byte)
            }
        }
        while let last = out.last, last & 0xC0 == 0x80 || last >= 0xC0 {
            let start = out.lastIndex { $0 & 0xC0 != 0x80 } ?? 0
            let length = out[start] >= 0xF0 ? 4 : out[start] >= 0xE0 ? 3 : out[start] >= 0xC0 ? 2 : 1
            if out.count - start == length { break }
            out.removeSubrange(start...)
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(
        "Equals the reference on seeded random HTML: tags, entities (cut off too), spaces, multi-byte text at the limit"
    )
    func matchesReference() {
        let pieces = [
            "<p>", "</p>\n", "word", " ", "\n\n", "&amp;", "&lt;b&gt;", "&quot;", "&#39;", "&nbsp;", "&unknownentity;",
            "&", "&am", "é", "日本", "🙂", "\t", "<code>x &lt; y</code>", "a\u{2028}b",
        ]
        var state: UInt64 = 0x5EED_0002
        func next() -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % 1_000_000)
        }
        for round in 0..<2000 {
            let html = (0..<(next() % 60)).map { _ in pieces[next() % pieces.count] }.joined()
            let limit = [1, 2, 3, 5, 8, 13, 40, 2000][next() % 8]
            let fast = String(decoding: SearchIndex.plainText(html, limit: limit), as: UTF8.self)
            #expect(
                fast == Self.reference(html, limit: limit), "round \(round): \(html.debugDescription) limit \(limit)")
        }
    }
}
