/// An Atom feed document.
struct FeedView: Sendable, Hashable {
    var title: String
    var id: String
    var updated: String
    var selfHref: String
    var entries: [Entry]

    struct Entry: Sendable, Hashable {
        var title: String
        var id: String
        var updated: String
        var author: String
        var href: String
        /// HTML, escaped again as Atom's `type="html"` requires.
        var content: String
    }
}
