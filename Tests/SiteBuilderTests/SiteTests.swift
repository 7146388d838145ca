import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

@Suite("The static site (issue: static site)")
struct SiteTests {
    let logger = Logger(label: "test")

    @Test("Counts read naturally; a run's usage shows its whole-number token counts, nothing else")
    func labels() {
        #expect(Page.count(1, "message_count", Strings.english) == "1 message")
        #expect(Page.count(12, "message_count", Strings.english) == "12 messages")
        let detail =
            #"{"runtime_id":"r1","usage":{"total_tokens":5,"cached":true,"details":{"a":1},"prompt_tokens":2}}"#
        #expect(ThreadPage.usage(detail) == "prompt tokens 2 · total tokens 5")
        #expect(ThreadPage.usage(#"{"runtime_id":"r1"}"#) == nil)
        #expect(ThreadPage.usage("not json") == nil)
    }

    @Test("An empty inbox has a designed empty state; every page kind exists")
    func emptyInbox() throws {
        let inbox = try FixtureInbox()
        let report = try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        #expect(report.full)
        let site = inbox.workspace.site
        for page in [
            "index.html", "status.html", "agents.html", "search.html", "feed.xml", "audit/index.html",
            "assets/style.css", "assets/search.js", "search/index.js", "README.md",
        ] {
            #expect(FileSystem.exists(site + "/" + page), "\(page)")
        }
        assertSnapshot(try read(site + "/index.html"), named: "empty/index.html")
        assertSnapshot(try read(site + "/status.html"), named: "empty/status.html")
        assertSnapshot(try read(site + "/agents.html"), named: "empty/agents.html")
    }

    @Test(
        "Golden pages for every state: queued, retrying, failed, streaming, awaiting approval, approved, rejected, aborted, errored, regenerated, edited after send, degraded"
    )
    func everyState() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        let site = inbox.workspace.site
        for page in [
            "index.html", "threads/ops.html", "threads/billing.html", "threads/writing.html", "threads/approvals.html",
            "threads/ops.xml", "feed.xml", "audit/index.html", "status.html", "agents.html", "search.html",
            "search/index.js",
            "search/ops.js",
        ] {
            assertSnapshot(try read(site + "/" + page), named: "states/\(page)")
        }
    }

    @Test("attention.xml lists what waits on the operator: the pending approval and the failed message, newest first")
    func attentionFeed() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        let feed = try read(inbox.workspace.site + "/attention.xml")
        #expect(feed.contains("<id>urn:letterbox:attention</id>"))
        #expect(feed.contains(#"href="threads/ops.html#m-restart.reply.approval-1""#))
        #expect(feed.contains("approval needed for restart_service"))
        #expect(feed.contains(#"href="threads/billing.html#m-refund""#))
        #expect(feed.contains("unknown agent &#39;refunds&#39;") || feed.contains("unknown agent &apos;refunds&apos;"))
        #expect(feed.components(separatedBy: "<entry>").count - 1 == 2)
        let index = try read(inbox.workspace.site + "/index.html")
        #expect(index.contains("badge-approval") && index.contains("badge-failed"))
        // The same inbox gives the same feed.
        let again = try FixtureInbox.everyState()
        try SiteBuild(workspace: again.workspace, logger: logger).build()
        #expect(try read(again.workspace.site + "/attention.xml") == feed)
    }

    @Test("Running the build again changes nothing")
    func idempotent() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try build.saveManifest()
        let before = mtimes(inbox.workspace.site)
        // A fresh builder, as a second `letterbox build` would be, reading the saved manifest.
        let again = try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        #expect(!again.full)
        #expect(again.pagesWritten == 0)
        #expect(again.threadsRendered == 0)
        #expect(mtimes(inbox.workspace.site) == before)
    }

    @Test(
        "A manifest saved in another boot is not trusted: pages written without fsync may be empty after a power loss")
    func manifestFromAnotherBoot() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try build.saveManifest()
        var manifest = try #require(Manifest.load(site: inbox.workspace.site, workspace: inbox.workspace))
        #expect(manifest.boot == Manifest.currentBoot && !manifest.boot.isEmpty)
        #expect(Manifest.load(site: inbox.workspace.site, workspace: inbox.workspace, boot: "another") == nil)
        // As after a power loss: the manifest vouches for a page the kernel never wrote out.
        manifest.boot = "another"
        try manifest.save(site: inbox.workspace.site, workspace: inbox.workspace)
        try Data().write(to: URL(fileURLWithPath: inbox.workspace.site + "/threads/ops.html"))
        let again = try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        #expect(again.full)
        #expect(try !read(inbox.workspace.site + "/threads/ops.html").isEmpty)
    }

    @Test(
        "One new message re-renders that thread, the index, the feeds and the newest audit page, and equals a full build"
    )
    func incremental() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        let before = tree(inbox.workspace.site)
        try inbox.message("billing", "follow-up", "Any news on the invoice?")
        let report = try build.build()
        #expect(!report.full)
        #expect(report.threadsRendered == 1)
        let after = tree(inbox.workspace.site)
        let changed = Set(after.keys.filter { after[$0] != before[$0] })
        #expect(
            changed == [
                "threads/billing.html", "threads/billing.xml", "search/billing.js", "index.html", "feed.xml",
                "status.html", "api/chat/threads.json", "api/chat/threads/billing/messages.json",
                "audit/index.html", "audit/page-1.html",
            ], "\(changed.sorted())")
        // The same inbox built from scratch elsewhere gives the same bytes.
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-full"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        #expect(tree(workspace.site) == after)
    }

    @Test("The daemon's hint (changed threads) gives the same result as a scan")
    func hintedIncremental() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try inbox.message("ops", "late", "One more thing.")
        let report = try build.build(changed: ["ops"])
        #expect(report.threadsRendered == 1)
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-full"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        #expect(tree(workspace.site) == tree(inbox.workspace.site))
    }

    @Test("§7.7: audit pages merge every journal newest first, are bounded, and only the newest changes")
    func auditPaging() throws {
        let inbox = try FixtureInbox()
        try inbox.thread("big")
        for index in 0..<150 { try inbox.message("big", "m\(index)", "Message \(index)") }
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        let site = inbox.workspace.site
        #expect(FileSystem.exists(site + "/audit/page-2.html"))
        #expect(!FileSystem.exists(site + "/audit/page-3.html"))
        let firstPage = try read(site + "/audit/page-1.html")
        #expect(firstPage.components(separatedBy: "<tr><td><time").count - 1 == AuditPages.pageSize)
        try inbox.message("big", "m150", "Message 150")
        try build.build()
        #expect(try read(site + "/audit/page-1.html") == firstPage)
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-full"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        #expect(tree(workspace.site) == tree(site))
    }

    @Test(
        "An incremental build that fails half way is finished by the next one, in the daemon or a new process: every audit row and page is there",
        arguments: [false, true])
    func failedIncremental(newProcess: Bool) throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try inbox.message("billing", "follow-up", "Any news on the invoice?")
        try inbox.message("ops", "late", "One more thing.")
        // `billing` renders (and journals its audit rows into the build) before `ops` fails to write.
        let blocker = inbox.workspace.site + "/threads/ops.html"
        try FileManager.default.removeItem(atPath: blocker)
        try FileManager.default.createDirectory(atPath: blocker + "/in-the-way", withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try build.build() }
        try FileManager.default.removeItem(atPath: blocker)
        // `letterbox build` saves the manifest after a failed build too.
        try build.saveManifest()
        let next = newProcess ? try SiteBuild(workspace: inbox.workspace, logger: logger) : build
        let report = try next.build()
        #expect(!report.full)
        #expect(report.threadsRendered == 2)
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-full"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        #expect(tree(workspace.site) == tree(inbox.workspace.site))
    }

    @Test("A deleted thread disappears from the site")
    func deletedThread() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        #expect(FileSystem.exists(inbox.workspace.site + "/threads/writing.html"))
        try FileManager.default.removeItem(atPath: inbox.workspace.threadFolder("writing"))
        try build.build()
        let site = tree(inbox.workspace.site)
        #expect(
            site["threads/writing.html"] == nil && site["threads/writing.xml"] == nil
                && site["search/writing.js"] == nil)
        #expect(!(try read(inbox.workspace.site + "/index.html")).contains("Release notes"))
    }

    @Test("Audit rows spilled to a scratch file give the same site as rows kept in memory")
    func spilledAudit() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-spilled"
        let spilling = try SiteBuild(workspace: workspace, logger: logger)
        spilling.auditSpillThreshold = 1
        try spilling.build()
        #expect(tree(workspace.site) == tree(inbox.workspace.site))
        // And incrementally, with the newest page's rows read back from the manifest.
        try inbox.message("ops", "late", "One more thing.")
        try spilling.build(changed: ["ops"])
        try SiteBuild(workspace: inbox.workspace, logger: logger).build(full: true)
        #expect(tree(workspace.site) == tree(inbox.workspace.site))
    }

    @Test("The same inbox builds a byte-identical site")
    func deterministic() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-2"
        try SiteBuild(workspace: workspace, logger: logger).build()
        #expect(tree(workspace.site) == tree(inbox.workspace.site))
    }

    @Test("Every page: CSP meta tag, relative links only, no inline script or style")
    func pageHygiene() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        for (path, data) in tree(inbox.workspace.site) where path.hasSuffix(".html") {
            let html = String(decoding: data, as: UTF8.self)
            #expect(
                html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;"),
                "\(path)")
            #expect(!html.contains("<style"), "\(path)")
            #expect(!html.contains(" style="), "\(path)")
            #expect(!html.contains("<script>"), "\(path): inline script")
            for attribute in ["href=\"/", "src=\"/", "href=\"file:", "src=\"http"] {
                #expect(!html.contains(attribute), "\(path): \(attribute)")
            }
        }
    }
}

@Suite("Full builds in worker processes")
struct WorkerFailureTests {
    let logger = Logger(label: "test")

    @Test(
        "A worker that fails or dies fails the build with its error, and the old site stays",
        arguments: [
            ("echo 'worker: cannot read thread x' >&2; exit 3", "exited with status 3: worker: cannot read thread x"),
            ("kill -9 $$", "was killed by signal 9"),
        ])
    func workerFails(_ script: String, _ expected: String) throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: logger).build()
        let before = tree(inbox.workspace.site)
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        build.jobs = 2
        build.workerCommand = ["/bin/sh", "-c", script]
        #expect {
            try build.build(full: true)
        } throws: { error in
            "\(error)".contains(expected)
        }
        #expect(tree(inbox.workspace.site) == before)
        let parent = Workspace.absolute("..", base: inbox.workspace.site)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).allSatisfy { !$0.hasPrefix(".site") })
    }

    @Test("Shards split threads by journal size, each thread once, each shard in id order")
    func shards() throws {
        let inbox = try FixtureInbox.everyState()
        let threads = ["approvals", "billing", "ops", "writing"]
        let shards = BuildPlan.shards(threads, count: 3, workspace: inbox.workspace)
        #expect(shards.count == 3)
        #expect(shards.flatMap { $0 }.sorted() == threads)
        for shard in shards { #expect(shard == shard.sorted()) }
        #expect(shards.allSatisfy { !$0.isEmpty })
    }
}

@Suite("The runtime's state on every page")
struct BannerTests {
    let logger = Logger(label: "test")

    @Test("Every page says the runtime is degraded, since when; when it recovers the next build is full and it is gone")
    func banner() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        for (path, data) in tree(inbox.workspace.site) where path.hasSuffix(".html") {
            let html = String(decoding: data, as: UTF8.self)
            #expect(html.contains("<p class=\"banner\" role=\"alert\"><strong>The runtime is degraded"), "\(path)")
        }
        try inbox.journal(nil, [(.daemon, .runtimeRecovered)])
        let report = try build.build()
        #expect(report.full)
        for (path, data) in tree(inbox.workspace.site) where path.hasSuffix(".html") {
            #expect(!String(decoding: data, as: UTF8.self).contains("class=\"banner\""), "\(path)")
        }
        try inbox.journal(nil, [(.daemon, .authFailed(reason: "HTTP 401"))])
        try build.build()
        #expect(try read(inbox.workspace.site + "/index.html").contains("The runtime refuses the token"))
    }
}
