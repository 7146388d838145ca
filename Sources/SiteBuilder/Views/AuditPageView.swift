/// One page of the audit log.
struct AuditPageView: Sendable, Hashable {
    var frame: PageFrame
    /// The rows, newest first, already rendered (`AuditPages.row`).
    var rows: [UInt8]
    /// The table of hash chains (only on the newest page), already rendered (`AuditPages.chainRow`).
    var chainRows: String
    /// Links to the neighbouring pages, when there is more than one page.
    var pager: Pager?

    struct Pager: Sendable, Hashable {
        var number: Int
        var count: Int
        var newer: String?
        var older: String?
    }
}
