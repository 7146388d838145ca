/// A thread page: the thread's header, every message section, rejected files and control outcomes.
struct ThreadView: Sendable, Hashable {
    var frame: PageFrame
    var title: String
    /// The thread's agent, or the label for the default one.
    var agent: String
    var tags: [String]
    /// The thread's feed, relative to the page.
    var feed: String
    /// `thread.md`'s description rendered to HTML, when there is one.
    var description: String?
    /// Whether a run is in flight (the page then refreshes itself).
    var refreshing: Bool
    /// What waits on the operator here (a badge linking to each: a pending approval, a failed message).
    var attention: [Attention]
    var problems: [String]
    var messages: [MessageView]
    var rejected: [Rejected]
    var controls: [Control]

    /// One thing that needs the operator, and where on the page it is.
    struct Attention: Sendable, Hashable {
        var anchor: String
        var label: String
    }

    /// A file that was not sent, with why.
    struct Rejected: Sendable, Hashable {
        var file: String
        var reason: String
        var at: TimeView
    }

    /// A control file that was acted on.
    struct Control: Sendable, Hashable {
        var file: String
        var outcome: String
        var reason: String?
        var at: TimeView
    }
}
