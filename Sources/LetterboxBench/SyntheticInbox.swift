import ChatModel
import Foundation
import InboxStore

/// A seeded, realistic inbox written the way the daemon writes one: operator messages, replies in
/// daemon files, and hash-chained journals with the six lines a delivered-and-answered message gets.
struct SyntheticInbox {
    var threads: Int
    var messagesPerThread: Int
    var seed: UInt64

    /// The total number of message files (operator messages plus replies).
    var totalMessages: Int { threads * messagesPerThread }

    func write(into root: String) throws {
        try FileSystem.createDirectory(root + "/inbox")
        try Data("title: Synthetic inbox\n".utf8).write(to: URL(fileURLWithPath: root + "/letterbox.yaml"))
        let workspace = try Workspace.locate(from: root)
        var random = SplitMix64(seed: seed)
        var clock = Timestamp("2026-01-01T00:00:00.000Z")!
        for thread in 0..<threads {
            let id = String(format: "thread-%04d", thread)
            let folder = workspace.threadFolder(id)
            try FileSystem.createDirectory(folder)
            let meta = ThreadMeta(
                title: "Thread \(thread): \(Words.topics[thread % Words.topics.count])", agent: "assistant",
                tags: ["bench"])
            try Data(meta.fileText.utf8).write(to: URL(fileURLWithPath: folder + "/thread.md"))
            var events: [(Timestamp, Actor, JournalEvent)] = []
            for index in 0..<(messagesPerThread / 2) {
                let message = String(format: "m%04d", index)
                let text = Words.markdown(&random, paragraphs: 1 + Int(random.next() % 3))
                try Data(text.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(message).md"))
                let sha = SHA256Hex.digest(Array(text.utf8))
                let key = "\(id)/\(message)#\(index)"
                func tick() -> Timestamp {
                    clock = clock.adding(milliseconds: 137)
                    return clock
                }
                events.append((tick(), .daemon, .detected(message: message, file: "\(message).md", sha256: sha)))
                events.append(
                    (tick(), .daemon, .accepted(message: message, requestID: key, agent: "assistant", sha256: sha)))
                events.append((tick(), .daemon, .attempt(message: message, requestID: key, attempt: 1)))
                events.append(
                    (
                        tick(), .daemon,
                        .sent(message: message, requestID: key, attempt: 1, runtimeID: "rt-\(thread)-\(index)")
                    ))
                let run = "run-\(thread)-\(index)"
                let replyFile = "\(message).reply.md"
                events.append(
                    (
                        tick(), .runtime,
                        .replyStarted(run: run, message: message, file: replyFile, agent: "assistant", runtimeID: nil)
                    ))
                let reply = DaemonFile(
                    id: "\(message).reply", role: .assistant, agent: "assistant", inReplyTo: message, run: run,
                    created: clock,
                    status: "complete", body: Words.markdown(&random, paragraphs: 2 + Int(random.next() % 3)))
                try Data(reply.text.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(replyFile)"))
                events.append(
                    (
                        tick(), .runtime,
                        .replyCompleted(run: run, file: replyFile, sha256: SHA256Hex.digest(reply.text), detail: nil)
                    ))
            }
            // The lines a `JournalFile` would append, written at once without an fsync per thread
            // (generating 300k messages was minutes of fsync on a busy disk).
            var lines: [UInt8] = []
            var previous: JournalEntry?
            for (ts, actor, event) in events {
                let entry = JournalCodec.entry(after: previous, ts: ts, actor: actor, event: event)
                lines += JournalCodec.encode(entry)
                lines.append(10)
                previous = entry
            }
            try Data(lines).write(to: URL(fileURLWithPath: folder + "/journal.jsonl"))
        }
    }
}

extension SplitMix64 {
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}

/// Chat-like Markdown: paragraphs, lists, code, links and tables, from a fixed vocabulary.
enum Words {
    static let topics = [
        "backups", "deploys", "billing", "on-call", "release notes", "incident review", "capacity", "access",
    ]
    static let words = """
        the nightly job finished on db-1 but the replica lagged behind for about twenty minutes which is longer \
        than usual so we should check the disk latency and the network between the racks before the next run \
        please confirm whether the new retention policy applies to the archive bucket as well and who approved it
        """.split(separator: " ").map(String.init)

    static func sentence(_ random: inout SplitMix64) -> String {
        let count = 8 + Int(random.next() % 14)
        var words = (0..<count).map { _ in random.pick(Self.words) }
        words[0] = words[0].prefix(1).uppercased() + words[0].dropFirst()
        if random.next() % 4 == 0 { words[Int(random.next() % UInt64(count))] = "**\(random.pick(Self.words))**" }
        if random.next() % 5 == 0 { words[Int(random.next() % UInt64(count))] = "`\(random.pick(Self.words))`" }
        return words.joined(separator: " ") + "."
    }

    static func markdown(_ random: inout SplitMix64, paragraphs: Int) -> String {
        var blocks: [String] = []
        for _ in 0..<paragraphs {
            blocks.append((0..<(1 + Int(random.next() % 3))).map { _ in sentence(&random) }.joined(separator: " "))
            switch random.next() % 8 {
            case 0: blocks.append((0..<3).map { _ in "- " + sentence(&random) }.joined(separator: "\n"))
            case 1:
                blocks.append(
                    "```sh\n$ systemctl status backup\n● backup.service - Nightly backup\n   Active: active (exited)\n```"
                )
            case 2:
                blocks.append("See [the runbook](https://runbooks.example.com/\(random.pick(Self.words))) for details.")
            case 3:
                blocks.append(
                    "| host | status | size |\n| --- | --- | ---: |\n| db-1 | ok | 4.2 GB |\n| db-2 | lagging | 3.9 GB |"
                )
            default: break
            }
        }
        return blocks.joined(separator: "\n\n") + "\n"
    }
}
