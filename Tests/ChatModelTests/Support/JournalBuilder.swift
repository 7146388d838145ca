@testable import ChatModel

/// Builds chained journal entries with increasing timestamps, for tests.
struct JournalBuilder {
    var entries: [JournalEntry] = []
    var clock = Timestamp(milliseconds: 1_795_000_000_000)

    @discardableResult
    mutating func add(_ event: JournalEvent, actor: Actor = .daemon) -> JournalEntry {
        clock = clock.adding(milliseconds: 1000)
        let entry = JournalCodec.entry(after: entries.last, ts: clock, actor: actor, event: event)
        entries.append(entry)
        return entry
    }

    /// The journal file's bytes.
    var bytes: [UInt8] { entries.flatMap { JournalCodec.encode($0) + [10] } }

    /// The file's lines.
    var lines: [[UInt8]] { entries.map { JournalCodec.encode($0) } }

    /// A message detected, accepted, sent and answered by a complete run.
    mutating func deliveredAndReplied(_ id: String, run: String? = nil) {
        add(.detected(message: id, file: "\(id).md", sha256: "h-\(id)"))
        add(.accepted(message: id, requestID: "ops/\(id)#1", agent: "ops", sha256: "h-\(id)"))
        add(.attempt(message: id, requestID: "ops/\(id)#1", attempt: 1))
        add(.sent(message: id, requestID: "ops/\(id)#1", attempt: 1, runtimeID: "rt-\(id)"))
        let run = run ?? "run-\(id)"
        add(.replyStarted(run: run, message: id, file: "\(id).reply.md", agent: "ops", runtimeID: nil), actor: .runtime)
        add(.replyCompleted(run: run, file: "\(id).reply.md", sha256: "r-\(id)", detail: nil), actor: .runtime)
    }
}
