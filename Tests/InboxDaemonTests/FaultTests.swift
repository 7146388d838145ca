import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

@Suite("A flaky runtime: retries, Retry-After, the breaker, auth pauses, validation errors", .processSlot)
struct FaultTests {
    static let post = "/external/chat/messages"

    func message(_ scratch: Scratch, _ id: String) throws -> MessageState? { try scratch.state("ops").message(id) }

    @Test("500 twice, then success: retried with backoff and delivered exactly once")
    func serverErrors() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([ReferenceFault(method: "POST", path: Self.post, status: 500, count: 2)]
            )
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied") { try message(scratch, "m")?.delivery == .replied }
            let attempts = try #require(try message(scratch, "m")?.attempts)
            #expect(attempts.count == 3)
            #expect(attempts.prefix(2).allSatisfy { if case .retry = $0.outcome { true } else { false } })
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    @Test("503 and 429 with Retry-After, in seconds and as an HTTP date: the next attempt waits at least that long")
    func retryAfter() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let date = formatter.string(from: Date().addingTimeInterval(2))
            let due = try #require(formatter.date(from: date))
            try await runtime.control.addFaults([
                ReferenceFault(method: "POST", path: Self.post, status: 503, retryAfter: "1", count: 1),
                ReferenceFault(method: "POST", path: Self.post, status: 429, retryAfter: date, count: 1),
            ])
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied", timeout: .seconds(15)) {
                try message(scratch, "m")?.delivery == .replied
            }
            let attempts = try #require(try message(scratch, "m")?.attempts)
            #expect(attempts.count == 3)
            guard attempts.count == 3 else { return }
            #expect(attempts[1].startedAt.milliseconds - attempts[0].startedAt.milliseconds >= 1000)
            if case let .retry(reason, _)? = attempts[0].outcome {
                #expect(reason.contains("503") && reason.contains("Retry-After"))
            }
            // An HTTP date is absolute: the third attempt may not start before it, however late the
            // 429 arrived.
            #expect(attempts[2].startedAt.milliseconds >= Int64(due.timeIntervalSince1970 * 1000))
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    @Test("A hang past the timeout and a connection reset are retried; the runtime sees one message")
    func hangsAndResets() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(method: "POST", path: Self.post, hangSeconds: 8, count: 1),
                ReferenceFault(method: "POST", path: Self.post, reset: true, count: 1),
            ])
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied", timeout: .seconds(20)) {
                try message(scratch, "m")?.delivery == .replied
            }
            let attempts = try #require(try message(scratch, "m")?.attempts)
            #expect(attempts.count == 3)
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    @Test("The runtime did it but the answer was lost: the retry reuses the key and nothing happens twice")
    func lostResponse() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(method: "POST", path: Self.post, status: 500, count: 1, afterEffect: true)
            ])
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied") { try message(scratch, "m")?.delivery == .replied }
            #expect(try message(scratch, "m")?.attempts.count == 2)
            #expect(await runtime.effects(.messageAccepted).count == 1)
            #expect(await runtime.effects(.runStarted).count == 1)
        }
    }

    @Test("422: the message fails with the runtime's reason; nothing is retried")
    func validationError() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(
                    method: "POST", path: Self.post, status: 422, body: "content breaks policy 7", code: "policy",
                    count: 1)
            ])
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("failed") {
                if case .failed = try message(scratch, "m")?.delivery { return true }
                return false
            }
            guard case let .failed(reason)? = try message(scratch, "m")?.delivery else { return }
            #expect(reason.contains("422") && reason.contains("content breaks policy 7"))
            #expect(try message(scratch, "m")?.attempts.count == 1)
        }
    }

    @Test("Repeated failures open the breaker: one degraded event, one recovery")
    func breaker() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([ReferenceFault(method: "POST", path: Self.post, status: 503, count: 4)]
            )
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("degraded") {
                if case .degraded = try scratch.inboxState().runtime { return true }; return false
            }
            await scratch.waitUntil("replied and recovered", timeout: .seconds(15)) {
                try message(scratch, "m")?.delivery == .replied && scratch.inboxState().runtime == .reachable
            }
            let inbox = try scratch.inboxState()
            #expect(inbox.incidents.map(\.kind) == ["degraded"])
            #expect(inbox.incidents.first?.end != nil)
            #expect(await runtime.effects(.messageAccepted).count == 1)
            await scratch.waitUntil("the status page shows it") {
                let page = try String(contentsOfFile: scratch.root + "/site/status.html", encoding: .utf8)
                return page.contains("degraded") && page.contains("recovered") == true
            }
        }
    }

    @Test("401 pauses all delivery with a clear status instead of failing messages; it resumes when the token works")
    func authentication() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([ReferenceFault(method: "POST", path: Self.post, status: 401, count: 2)]
            )
            try scratch.write("ops/a.md", "First")
            await scratch.waitUntil("auth failing") {
                if case .authFailing = try scratch.inboxState().runtime { return true }; return false
            }
            guard case let .retrying(_, _, reason)? = try message(scratch, "a")?.delivery else {
                Issue.record("not retrying: \(String(describing: try message(scratch, "a")?.delivery))")
                return
            }
            #expect(reason.contains("waiting") && reason.contains("token"))
            try scratch.write("ops/b.md", "Second")
            await scratch.waitUntil("both replied", timeout: .seconds(20)) {
                try message(scratch, "a")?.delivery == .replied && message(scratch, "b")?.delivery == .replied
            }
            let inbox = try scratch.inboxState()
            #expect(inbox.runtime == .reachable)
            let lines = try InboxReader.read(scratch.workspace).inboxEntries.map {
                "\($0.event.name) \(AuditLog.summary($0))"
            }
            #expect(inbox.incidents.map(\.kind) == ["auth_failed"], "\(lines)")
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["First", "Second"])
        }
    }
}
