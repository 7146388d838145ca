import ChatModel

/// Message sections of thread pages rendered by earlier builds, kept by a long-lived `SiteBuild` (the
/// daemon's), so that a new message in a long thread costs one section's Markdown and theme
/// rendering instead of the whole thread's.
///
/// A section is reused only when everything it is rendered from equals what it was rendered from: the
/// message's folded state, its runs (with their tool calls and approvals), its front matter and the
/// text of every file it shows. The theme and the strings cannot change under a `SiteBuild`.
///
/// Memory stays bounded: only the sections of the `threadLimit` threads rendered most recently are
/// kept, and full builds neither read nor fill the cache.
final class MessageSectionCache {
    /// Everything a message section is rendered from.
    struct Inputs: Hashable {
        var message: MessageState
        var runs: [RunState]
        var fields: [String: FrontMatterValue]
        /// The change stamp (inode, size, nanosecond mtime) of every file the section shows, by file
        /// name (absent: the file is missing): the same test the build uses to find changed threads.
        var stamps: [String: String]
    }

    /// One rendered section: the message's view (the feeds read it), its HTML, the search index's text
    /// of the message and of each of its runs, in order (`SearchIndex.text(html:)`), and its items in
    /// the read API as builds write them.
    struct Section {
        var inputs: Inputs
        var view: MessageView
        var html: [UInt8]
        var searchTexts: [[UInt8]]
        let api = ReadAPI.Fragments()

        init(inputs: Inputs, view: MessageView, html: [UInt8]) {
            self.inputs = inputs
            self.view = view
            self.html = html
            searchTexts = SearchIndex.texts(of: view, edited: !inputs.message.edits.isEmpty)
        }
    }

    static let defaultThreadLimit = 16

    let threadLimit: Int
    /// Sections by thread, then by message id.
    private var threads: [String: [String: Section]] = [:]
    /// Thread ids, least recently rendered first.
    private var recency: [String] = []
    /// Sections reused so far (for tests and profiling).
    private(set) var reused = 0

    init(threadLimit: Int = defaultThreadLimit) {
        self.threadLimit = threadLimit
    }

    /// The cached section of `message` in `thread`, if it was rendered from `inputs`.
    func section(thread: String, message: String, inputs: Inputs) -> Section? {
        guard let section = threads[thread]?[message], section.inputs == inputs else { return nil }
        reused += 1
        return section
    }

    /// Replaces what is kept for `thread` with `sections` (by message id), forgetting the least recently
    /// rendered thread when there are more than `threadLimit`.
    func store(thread: String, sections: [String: Section]) {
        threads[thread] = sections
        recency.removeAll { $0 == thread }
        recency.append(thread)
        while recency.count > threadLimit { threads[recency.removeFirst()] = nil }
    }
}
