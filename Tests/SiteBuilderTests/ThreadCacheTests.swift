import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
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

    @Test("A journal cut back to fewer lines than the last build saw (a git reset) rebuilds the site, not crash")
    func shorterJournal() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        let path = inbox.workspace.journalPath(thread: "ops")
        let earlier = try Data(contentsOf: URL(fileURLWithPath: path))
        try inbox.message("ops", "late", "One more thing.")
        try build.build(changed: ["ops"])
        // The message's file stays; the lines about it go, as when a reset drops the daemon's commit.
        try earlier.write(to: URL(fileURLWithPath: path))
        try build.build(changed: ["ops"])
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
    }

    @Test(
        "Seeded history changes (new messages, resets, edits, removed files, new processes): every build equals a cold one"
    )
    func seededHistory() throws {
        let inbox = try FixtureInbox.everyState()
        var random = SplitMix64(seed: Soak.seed)
        var build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        let threads = ["ops", "billing", "writing", "approvals"]
        var done: [String] = []
        for round in 0..<Soak.tier(short: 24, long: 200) {
            let thread = threads.randomElement(using: &random) ?? "ops"
            let path = inbox.workspace.journalPath(thread: thread)
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                try inbox.message(thread, "m\(round)", "Message \(round).")
                if random.chance(0.5) {
                    try inbox.sent(thread, "m\(round)")
                    try inbox.reply(thread, to: "m\(round)", text: "Reply \(round).")
                }
                done.append("message in \(thread)")
            case 1:
                let keep = Int.random(in: 1...lines, using: &random)
                try inbox.cutJournal(thread, toLines: keep)
                done.append("\(thread) journal cut from \(lines) to \(keep) lines")
            case 2:
                let files = try FileManager.default.contentsOfDirectory(atPath: inbox.workspace.threadFolder(thread))
                    .filter { $0.hasSuffix(".md") && $0 != "thread.md" }.sorted()
                let file = files.randomElement(using: &random) ?? "thread.md"
                try inbox.write(thread, file, "Rewritten in round \(round).")
                done.append("\(thread)/\(file) rewritten")
            case 3:
                let files = try FileManager.default.contentsOfDirectory(atPath: inbox.workspace.threadFolder(thread))
                    .filter { $0.contains(".reply") }.sorted()
                if let file = files.randomElement(using: &random) {
                    try FileManager.default.removeItem(atPath: inbox.workspace.threadFolder(thread) + "/" + file)
                    done.append("\(thread)/\(file) removed")
                }
            default:
                build = try SiteBuild(workspace: inbox.workspace, logger: logger)
                done.append("a new process")
            }
            try build.build(changed: [thread])
            #expect(tree(inbox.workspace.site) == (try cold(inbox)), "after: \(done)")
        }
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

    @Test("A new process starts from the saved thread: it decodes and verifies only the journal's new lines")
    func savedBetweenProcesses() throws {
        let inbox = try FixtureInbox.everyState()
        let first = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try first.build()
        try inbox.message("ops", "late", "One more thing.")
        try first.build(changed: ["ops"])
        try first.saveManifest()

        try inbox.message("ops", "later", "And another.")
        try inbox.sent("ops", "late")
        let second = try SiteBuild(workspace: inbox.workspace, logger: logger)
        let report = try second.build(changed: ["ops"])
        #expect(!report.full)
        #expect(second.threads.threadsLoaded == 1)
        #expect(second.threads.linesDecoded == 4, "detected and accepted for later, attempt and sent for late")
        #expect(
            second.threads.filesRead == 1, "later.md; the others' front matter was saved, their text is read to render")
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))

        // And the next process starts from what the second one saved.
        try second.saveManifest()
        try inbox.message("ops", "last", "The last one.")
        let third = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try third.build(changed: ["ops"])
        #expect(third.threads.threadsLoaded == 1)
        #expect(third.threads.linesDecoded == 2, "detected and accepted")
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
    }

    @Test("A saved thread that is damaged, or another thread's, is ignored and read again")
    func savedButWrong() throws {
        let inbox = try FixtureInbox.everyState()
        let first = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try first.build()
        try inbox.message("ops", "late", "One more thing.")
        try inbox.message("billing", "follow-up", "Any news on the invoice?")
        try first.build(changed: ["ops", "billing"])
        try first.saveManifest()
        let folder = inbox.workspace.stateFolder + "/site-cache"
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        try #require(saved.count == 2)
        // The second thread's copy where the first one's belongs, and the second cut short.
        let (a, b) = (URL(fileURLWithPath: folder + "/" + saved[0]), URL(fileURLWithPath: folder + "/" + saved[1]))
        let bytes = try Data(contentsOf: b)
        try bytes.write(to: a)
        try bytes.prefix(bytes.count / 2).write(to: b)

        try inbox.message("ops", "later", "And another.")
        try inbox.message("billing", "again", "Still waiting.")
        let second = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try second.build(changed: ["ops", "billing"])
        #expect(second.threads.threadsLoaded == 0)
        #expect(tree(inbox.workspace.site) == (try cold(inbox)))
        // Both are saved again, whole.
        try second.saveManifest()
        try inbox.message("ops", "last", "The last one.")
        try inbox.message("billing", "last", "Closing this.")
        let third = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try third.build(changed: ["ops", "billing"])
        #expect(third.threads.threadsLoaded == 2)
    }

    @Test("A full build removes the saved copies of threads that are gone and of other themes")
    func pruned() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        try inbox.message("ops", "late", "One more thing.")
        try inbox.message("billing", "follow-up", "Any news on the invoice?")
        try build.build(changed: ["ops", "billing"])
        try build.saveManifest()
        let folder = inbox.workspace.stateFolder + "/site-cache"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder + "/left-by-another-theme.json"))
        try FileManager.default.removeItem(atPath: inbox.workspace.threadFolder("billing"))
        try build.build()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 1, "ops only")
    }

    @Test("A thread kept further than the lines a build asks for (a failed build was undone) is read whole")
    func aheadOfTheManifest() throws {
        let inbox = try FixtureInbox.everyState()
        let cache = ThreadCache()
        func files() throws -> [DiskFile] {
            try InboxReader.listThreadFiles(inbox.workspace.threadFolder("ops"), inbox: inbox.workspace.inbox)
        }
        let first = try cache.read("ops", workspace: inbox.workspace, files: files())
        try inbox.message("ops", "late", "One more thing.")
        let before = cache.linesDecoded
        let next = try cache.read("ops", workspace: inbox.workspace, files: files(), needing: first.journal.lines)
        #expect(cache.linesDecoded - before == 2 && next.tailStart == first.journal.lines, "built on")
        let again = try cache.read("ops", workspace: inbox.workspace, files: files(), needing: first.journal.lines)
        #expect(again.tailStart == 0 && again.tail.count == again.journal.lines, "read whole")
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
