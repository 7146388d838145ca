import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

@testable import InboxDaemon

/// The daemon against the scripted OpenAI-compatible server (Tests/Peers/openai_scripted_peer.py): the
/// request's `model` picks the scenario, so each configured agent is one scenario.
@Suite("OpenAI-compatible chat completions against the scripted peer", .serialized, .processSlot)
struct OpenAIPeerTests {
    static let models = [
        "text", "tools", "error-400", "error-401", "error-429", "error-500", "error-midstream", "cut", "slow",
    ]

    /// The peer, one agent per scenario, the threads (thread -> agent) made before the daemon starts, and
    /// a daemon.
    static func withPeer(threads: [String: String], _ body: (Scratch, PeerProcess) async throws -> Void)
        async throws
    {
        try await PeerProcess.with("openai_scripted_peer.py") { peer in
            var agents = models.map { "  - id: \($0)\n    model: \($0)" }
            agents[0] += "\n    system_prompt: You are terse."
            let scratch = try Scratch(
                extraConfig: """
                    runtimes:
                      - name: local
                        kind: openai
                        url: \(peer.baseURL)
                    agents:
                    \(agents.joined(separator: "\n"))
                    """)
            for (thread, agent) in threads { try scratch.thread(thread, agent: agent) }
            let daemon = try DaemonProcess.start(scratch, runtimeURL: peer.baseURL)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try await body(scratch, peer)
        }
    }

    static func run(_ scratch: Scratch, _ thread: String, _ message: String) throws -> RunState? {
        try scratch.state(thread).runs.values.first { $0.message == message }
    }

    static func delivery(_ scratch: Scratch, _ thread: String, _ message: String) throws -> DeliveryState? {
        try scratch.state(thread).message(message)?.delivery
    }

    static func text(_ scratch: Scratch, _ file: String) -> String {
        let text = scratch.read(file) ?? ""
        return ReplyBody(String((try? FrontMatter.split(text).body) ?? text[...])).text
    }

    @Test("text: the model and system prompt from config, the history, stream with usage; usage recorded")
    func text() async throws {
        try await Self.withPeer(threads: ["o": "text"]) { scratch, peer in
            try scratch.write("o/q1.md", "What is the answer?")
            await scratch.waitUntil("replied") { try Self.delivery(scratch, "o", "q1") == .replied }
            #expect(Self.text(scratch, "o/q1.reply.md") == "The answer is 42.")
            let detail = try Self.run(scratch, "o", "q1")?.detail ?? ""
            #expect(detail.contains(#""completion_tokens":5"#) && detail.contains(#""total_tokens""#), "\(detail)")
            try scratch.write("o/q2.md", "And again?")
            await scratch.waitUntil("replied") { try Self.delivery(scratch, "o", "q2") == .replied }
            let request = try #require(peer.log("request").last)
            #expect(request["path"] == "/v1/chat/completions")
            #expect(request["headers"]?["authorization"]?.stringValue == "Bearer \(DaemonHarness.token)")
            let body = try #require(request["body"])
            #expect(body["model"] == "text" && body["stream"] == true)
            #expect(body["stream_options"] == ["include_usage": true])
            #expect(
                body["messages"]
                    == [
                        ["role": "system", "content": "You are terse."],
                        ["role": "user", "content": "What is the answer?"],
                        ["role": "assistant", "content": "The answer is 42."],
                        ["role": "user", "content": "And again?"],
                    ])
        }
    }

    @Test("tool calls are recorded from the deltas; finish_reason tool_calls completes the run")
    func tools() async throws {
        try await Self.withPeer(threads: ["o": "tools"]) { scratch, _ in
            try scratch.write("o/w.md", "Weather and time in Paris?")
            await scratch.waitUntil("replied") { try Self.delivery(scratch, "o", "w") == .replied }
            let weather = try #require(scratch.read("o/w.reply.tool-1.md"))
            #expect(weather.contains("tool: get_weather") && weather.contains(#"{"city": "Paris"}"#))
            #expect(weather.contains("tool-call: call_weather_1"))
            let time = try #require(scratch.read("o/w.reply.tool-2.md"))
            #expect(time.contains("tool: get_time") && time.contains(#"{"timezone": "Europe/Paris"}"#))
            #expect(try Self.run(scratch, "o", "w")?.toolCalls.map(\.tool) == ["get_weather", "get_time"])
        }
    }

    @Test("4xx fails the message with the server's message; 401 pauses delivery for the token")
    func clientErrors() async throws {
        try await Self.withPeer(threads: ["o": "error-400", "k": "error-401"]) { scratch, _ in
            try scratch.write("o/bad.md", "x")
            await scratch.waitUntil("failed") {
                if case .failed = try Self.delivery(scratch, "o", "bad") { true } else { false }
            }
            guard case let .failed(reason)? = try Self.delivery(scratch, "o", "bad") else { return }
            #expect(reason.contains("HTTP 400") && reason.contains("Invalid value for 'messages'"), "\(reason)")
            #expect(try Self.run(scratch, "o", "bad") == nil, "no run was started")

            try scratch.write("k/key.md", "x")
            await scratch.waitUntil("auth pause") {
                if case let .retrying(_, _, reason)? = try Self.delivery(scratch, "k", "key") {
                    return reason.contains("refused the token") && reason.contains("Incorrect API key provided.")
                }
                return false
            }
            await scratch.waitUntil("the inbox says the token is refused") {
                if case .authFailing = try scratch.inboxState().runtime { true } else { false }
            }
        }
    }

    @Test("429 is retried no sooner than Retry-After says; 5xx is retried")
    func retries() async throws {
        try await Self.withPeer(threads: ["r": "error-429", "f": "error-500"]) { scratch, peer in
            try scratch.write("r/busy.md", "x")
            try scratch.write("f/down.md", "x")
            await scratch.waitUntil("a retry is scheduled") {
                try scratch.journal("r").contains { $0.event.name == "retry_scheduled" }
            }
            let line = try #require(try scratch.journal("r").first { $0.event.name == "retry_scheduled" })
            guard case let .retrying(_, notBefore, reason)? = try scratch.state("r").message("busy")?.delivery
            else {
                Issue.record("not retrying")
                return
            }
            #expect(reason.contains("HTTP 429") && reason.contains("Retry-After: 2 s"))
            // Retry-After: 2 s (the retry time and the line's time are read from the clock a moment apart).
            #expect(notBefore.milliseconds - line.ts.milliseconds >= 1_950)
            await scratch.waitUntil("the 500 is retried") {
                peer.log("request").filter { $0["scenario"] == "error-500" }.count >= 2
            }
            let attempts = try scratch.state("f").message("down")?.attempts ?? []
            #expect(attempts.count >= 1)
            if case let .retry(why, _)? = attempts.first?.outcome { #expect(why.contains("HTTP 500")) }
        }
    }

    @Test("a stream cut mid-way, or an error object mid-stream, ends the run as errored keeping the text")
    func brokenStreams() async throws {
        try await Self.withPeer(threads: ["c": "cut", "m": "error-midstream"]) { scratch, _ in
            try scratch.write("c/q.md", "x")
            try scratch.write("m/q.md", "x")
            await scratch.waitUntil("both errored") {
                try Self.run(scratch, "c", "q")?.status == .errored && Self.run(scratch, "m", "q")?.status == .errored
            }
            #expect(Self.text(scratch, "c/q.reply.md") == "The answer")
            #expect(try Self.run(scratch, "c", "q")?.reason?.contains("lost mid-stream") == true)
            #expect(Self.text(scratch, "m/q.reply.md") == "The answer")
            #expect(
                try Self.run(scratch, "m", "q")?.reason
                    == "the runtime reported an error mid-stream: The model stopped unexpectedly. (stream_error)")
            // The daemon goes on.
            try scratch.write("c/next.md", "---\nagent: text\n---\nstill there?")
            await scratch.waitUntil("replied") { try Self.delivery(scratch, "c", "next") == .replied }
        }
    }

    @Test("abort closes the stream: the peer logs the disconnect, the text is kept")
    func abort() async throws {
        try await Self.withPeer(threads: ["s": "slow"]) { scratch, peer in
            try scratch.write("s/q.md", "take your time")
            await scratch.waitUntil("streaming") { scratch.read("s/q.reply.md")?.contains("tick 2") == true }
            try scratch.write("s/controls/abort.md", "")
            await scratch.waitUntil("aborted") { try Self.run(scratch, "s", "q")?.status == .aborted }
            await scratch.waitUntil("the peer saw the disconnect") {
                peer.log("disconnect").contains { $0["scenario"] == "slow" }
            }
            #expect(Self.text(scratch, "s/q.reply.md").hasPrefix("tick 0 tick 1 tick 2"))
        }
    }
}
