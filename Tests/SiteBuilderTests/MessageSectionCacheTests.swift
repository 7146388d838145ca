import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

@Suite("Message sections cached between builds")
struct MessageSectionCacheTests {
    let logger = Logger(label: "test")

    @Test(
        "Sections, their search text and read-API items reused over several incremental builds give the same site as a cold full build"
    )
    func reusedSectionsEqualColdBuild() throws {
        let inbox = try FixtureInbox.everyState()
        let build = try SiteBuild(workspace: inbox.workspace, logger: logger)
        try build.build()
        #expect(build.messageSections.reused == 0, "a full build neither reads nor fills the cache")

        // A new message, its delivery, a reply, an edit to its file and a message in another thread:
        // each changes one section (or adds one) and leaves the others to the cache.
        try inbox.message("ops", "late", "One more thing.")
        try build.build(changed: ["ops"])
        try inbox.sent("ops", "late")
        try build.build(changed: ["ops"])
        #expect(build.messageSections.reused > 0)
        try inbox.reply("ops", to: "late", text: "Noted: **one more thing**.")
        try build.build(changed: ["ops"])
        try inbox.write("ops", "late.md", "One more thing, reworded.")
        try build.build(changed: ["ops"])
        try inbox.message("billing", "follow-up", "Any news on the invoice?")
        try build.build(changed: ["billing"])
        // A new title: every kept section (and its search text and read-API items) stays valid, but
        // the search shard's headings change.
        try inbox.thread("ops", title: "Operations, renamed", tags: ["infra", "nightly"])
        try build.build(changed: ["ops"])
        // A message file the daemon has not seen yet: its `seq` in the read API is one past the journal,
        // so it moves when lines are added for another message, while its section is reused.
        try inbox.write("ops", "unseen.md", "Not picked up yet.")
        try build.build(changed: ["ops"])
        try inbox.message("ops", "later", "And another.")
        let report = try build.build(changed: ["ops"])
        #expect(!report.full)

        var workspace = inbox.workspace
        workspace.site = inbox.root + "/site-cold"
        try SiteBuild(workspace: workspace, logger: logger).build(full: true)
        let cold = tree(workspace.site)
        let warm = tree(inbox.workspace.site)
        #expect(warm.keys.sorted() == cold.keys.sorted())
        for (path, bytes) in cold { #expect(warm[path] == bytes, "\(path)") }
    }

    @Test("Only the most recently rendered threads are kept")
    func bounded() throws {
        let inbox = try FixtureInbox.everyState()
        let content = try ThreadContent.read("ops", workspace: inbox.workspace)
        let message = try #require(content.snapshot.state.messages.first)
        let page = ThreadPage(content: content, renderer: MarkdownRenderer(), strings: [:], siteTitle: "")
        let inputs = page.inputs(message)
        let section = MessageSectionCache.Section(
            inputs: inputs, view: page.message(message), html: Array("<p>text</p>".utf8))
        let cache = MessageSectionCache(threadLimit: 2)
        for thread in ["a", "b", "c"] { cache.store(thread: thread, sections: [message.id: section]) }
        #expect(cache.section(thread: "a", message: message.id, inputs: inputs) == nil)
        #expect(cache.section(thread: "c", message: message.id, inputs: inputs)?.html == Array("<p>text</p>".utf8))
        var changed = inputs
        changed.stamps[message.file] = "another stamp"
        #expect(cache.section(thread: "c", message: message.id, inputs: changed) == nil)
    }

    @Test("A theme that overrides the message, run or thread template renders through the partials")
    func overriddenTemplates() throws {
        #expect(try Theme.load(overrides: nil).rendersMessageSections)
        // The messages section was found and replaced (if `thread` changes, so must the replacement).
        #expect(DefaultTemplates.threadAroundSections.contains("{{#messages}}{{{html}}}{{/messages}}"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lb-theme-\(UUID().uuidString)").path
        try FileSystem.createDirectory(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(DefaultTemplates.message.replacing("{{author}}", with: "{{author}} ({{thread.title}})").utf8).write(
            to: URL(fileURLWithPath: folder + "/message.mustache"))
        #expect(try !Theme.load(overrides: folder).rendersMessageSections)
    }
}
