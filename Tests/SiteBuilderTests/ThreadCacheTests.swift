import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

@Suite("Threads kept between builds: only new journal lines and changed files are read")
struct ThreadCacheTests {
    let logger = Logger(label: "test")

    /// The site as a cold full build elsewhere makes it.
    func cold(_ inbox: FixtureInbox) throws -> [String: Data] {
        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-cold-\(UUID().uuidString)"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        return tree(workspace.site)
    }

    @Test("A new message decodes its own lines and reads its own file; the site equals a cold build")
    func onlyWhatIsNew() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try inbox.message("ops", "late", "One more thing.")
        try build.build(changed: ["ops"])
        let (lines, files) = (build.threads.linesDecoded, build.threads.filesRead)
        try inbox.message("ops", "later", "And another.")
        try build.build(changed: ["ops"])
        #expect(build.threads.linesDecoded - lines == 2, "detected + accepted")
        #expect(build.threads.filesRead - files == 1, "later.md")
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
    }

    @Test("A journal line changed in place (same length) is caught: the cache is not built on")
    func tamperedJournal() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try inbox.message("ops", "late", "One more thing.")
        try build.build(changed: ["ops"])
        let path = inbox.workspace.journalPath(thread: "ops")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let index = try #require(bytes.firstIndex(of: UInt8(ascii: "n")))
        bytes[index] = UInt8(ascii: "m")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try inbox.message("ops", "after", "After the change.")
        try build.build(changed: ["ops"])
        let page = try read(inbox.workspace.site + "/threads/ops.html")
        #expect(page.contains("notice-error"), "the journal problem is shown")
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
    }

    @Test("A file rewritten in place is read again")
    func rewrittenFile() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try build.build(changed: ["billing"])
        try inbox.write("billing", "later.md", "This one was rewritten.")
        try build.build(changed: ["billing"])
        #expect(try read(inbox.workspace.site + "/threads/billing.html").contains("This one was rewritten."))
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
    }

    @Test("Only the most recently read threads are kept")
    func bounded() throws {
        let inbox = try FixtureInbox.everyState()
        let cache = ThreadCache(threadLimit: 1)
        for id in ["ops", "billing"] {
            _ = try cache.read(
                id, workspace: inbox.workspace,
                files: InboxReader.listThreadFiles(inbox.workspace.threadFolder(id), inbox: inbox.workspace.inbox))
        }
        let before = cache.linesDecoded
        _ = try cache.read(
            "ops", workspace: inbox.workspace,
            files: InboxReader.listThreadFiles(inbox.workspace.threadFolder("ops"), inbox: inbox.workspace.inbox))
        #expect(cache.linesDecoded - before > 10, "ops was forgotten and read in full")
    }
}
