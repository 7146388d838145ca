/// One thread's entry on the index, rendered when the thread changes and kept, so the index is a join.
struct IndexItemView: Sendable, Hashable {
    /// The thread page's name without `.html`.
    var href: String
    var title: String
    var agent: String
    /// `1 message`, `12 messages`.
    var messageCount: String
    var lastActivity: TimeView?
    var badges: [Badge]
    var tags: [String]

    /// A state badge: its kind (for the CSS class) and label.
    struct Badge: Sendable, Hashable {
        var kind: String
        var label: String
    }
}

/// The index page: every thread's rendered entry, newest activity first.
struct IndexView: Sendable, Hashable {
    var frame: PageFrame
    /// The threads' rendered entries (see `IndexItemView`).
    var items: [String]
}
