import ChatModel

/// What every page's frame (the `layout` template) shows: titles, the relative root, the navigation
/// entry that is current, the refresh interval and the page's feed.
struct PageFrame: Sendable, Hashable {
    /// The navigation entries, in the order the header lists them.
    enum Nav: String, Sendable, Hashable {
        case threads, search, agents, audit, status
    }

    var title: String
    var siteTitle: String
    /// The path from the page to the site's root: "" or "../".
    var root: String
    var nav: Nav
    /// Seconds between automatic reloads, when the page refreshes itself.
    var refresh: Int?
    /// The page's Atom feed, relative to the page.
    var feed: String?
    /// The notice every page carries while the runtime is degraded or refuses the token.
    var banner: Banner?

    /// What the banner says, and since when.
    struct Banner: Sendable, Hashable {
        var label: String
        var since: TimeView
    }
}

/// A time as pages show it: `iso` for `datetime=` and `short` for people.
struct TimeView: Sendable, Hashable {
    var iso: String
    var short: String

    init(_ ts: Timestamp) {
        // `shortDescription` from the one `description` (formatting a time twice showed in profiles).
        iso = ts.description
        let utf8 = iso.utf8
        short =
            String(decoding: utf8.prefix(10), as: UTF8.self) + " "
            + String(decoding: utf8.dropFirst(11).prefix(5), as: UTF8.self) + " UTC"
    }

    init(iso: String, short: String) {
        self.iso = iso
        self.short = short
    }
}
