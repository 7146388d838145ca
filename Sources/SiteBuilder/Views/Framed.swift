/// A page view with the common frame (`layout`), so a build can put its banner in any of them.
protocol Framed {
    var frame: PageFrame { get set }
}

extension IndexView: Framed {}
extension StatusView: Framed {}
extension AgentsView: Framed {}
extension SearchPageView: Framed {}
extension AuditPageView: Framed {}
extension ThreadView: Framed {}
