import ChatModel
import InboxStore

/// What the index, status page and feeds need to know about a thread, kept in the build manifest so
/// that an unchanged thread is never read again.
struct ThreadSummary: Codable, Sendable, Hashable {
    var id: String
    var title: String
    var agent: String?
    var tags: [String]
    var messageCount: Int
    /// Milliseconds; nil for a thread with no journal and no messages.
    var lastActivity: Int64?
    /// Milliseconds: the first journal line, or the oldest file when nothing is journaled.
    var createdAt: Int64?
    var unreadReply: Bool
    var awaitingApproval: Bool
    var failed: Bool
    var running: Bool
    var problem: String?
    var rejectedCount: Int
    /// Accepted messages not yet delivered.
    var queued: Int
    /// A message waits for its next attempt after a failed one.
    var retrying: Bool
    /// What waits on the operator (pending approvals, messages failed for good), for `attention.xml`.
    var attention: [AttentionItem]

    /// One thing that needs the operator.
    struct AttentionItem: Codable, Sendable, Hashable {
        var file: String
        /// `approval` or `failed`.
        var kind: String
        var reason: String
        /// Milliseconds.
        var since: Int64
        /// The page anchor (`m-ID`) without the prefix.
        var anchor: String
    }

    init(_ content: ThreadContent) {
        let snapshot = content.snapshot
        let state = snapshot.state
        id = snapshot.id
        title = snapshot.title
        agent = snapshot.meta.agent
        tags = snapshot.meta.tags
        messageCount = state.messages.count
        let newestFile = snapshot.files.map(\.mtime).max()
        lastActivity = (state.lastActivity ?? newestFile).map(\.milliseconds)
        createdAt = (content.journal.firstAt ?? snapshot.files.map(\.mtime).min()).map(\.milliseconds)
        let lastOperator = state.messages.filter { $0.origin == .operator }.map(\.detectedAt).max()
        let lastReply = state.runs.values.filter { $0.status == .complete }.compactMap(\.endedAt).max()
        unreadReply = lastReply.map { reply in lastOperator.map { reply > $0 } ?? true } ?? false
        awaitingApproval = !state.pendingApprovals.isEmpty
        failed = state.messages.contains { if case .failed = $0.delivery { true } else { false } }
        running = state.activeRun != nil
        problem = snapshot.journalError?.description ?? snapshot.metaError?.description
        rejectedCount = state.rejected.count
        queued = state.messages.filter { $0.isAwaitingDelivery || $0.notYetSeen }.count
        retrying = state.messages.contains { if case .retrying = $0.delivery { true } else { false } }
        attention = StatusReport.attention(state).map {
            AttentionItem(
                file: $0.file, kind: $0.kind, reason: $0.reason, since: $0.since.milliseconds,
                anchor: $0.file.hasSuffix(".md") ? String($0.file.dropLast(3)) : $0.file)
        }
    }

    /// The badges the index shows, in a fixed order.
    func badges(_ strings: [String: String]) -> [IndexItemView.Badge] {
        var out: [IndexItemView.Badge] = []
        func add(_ on: Bool, _ kind: String) {
            if on { out.append(.init(kind: kind, label: strings["badge_\(kind)"] ?? kind)) }
        }
        add(running, "running")
        add(awaitingApproval, "approval")
        add(failed, "failed")
        add(retrying, "retrying")
        add(queued > 0 && !retrying, "queued")
        add(unreadReply, "unread")
        add(rejectedCount > 0, "rejected")
        add(problem != nil, "problem")
        return out
    }
}
