/// The search page (the results are built in the browser from the index).
struct SearchPageView: Sendable, Hashable {
    var frame: PageFrame
}
