import AsyncHTTPClient
import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import NIOCore
import NIOHTTP1
import ReferenceRuntime
import Testing

@Suite("The runtime is the source of truth: what reaches it elsewhere is pulled into the inbox", .processSlot)
struct SyncTests {
    /// Posts a message to the runtime directly, as another channel (a web UI) would.
    func postElsewhere(_ runtime: RunningReferenceRuntime, thread: String?, title: String?, content: String)
        async throws
    {
        var request = HTTPClientRequest(url: runtime.baseURL + "/external/chat/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(runtime.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: UUID().uuidString)
        var fields: [String: Any] = ["agentId": "assistant", "content": content]
        if let thread { fields["threadId"] = thread }
        if let title { fields["title"] = title }
        let body = try JSONSerialization.data(withJSONObject: fields)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        #expect(response.status == .accepted)
    }

    @Test(
        "A thread started elsewhere becomes a folder; a message sent elsewhere into a known thread becomes a .remote.md file with its answer"
    )
    func pull() async throws {
        let scratch = try Scratch(syncSeconds: 1)
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/mine.md", "From the inbox.")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("mine")?.delivery == .replied }
            let bound = try #require(try scratch.state("ops").runtimeThreadID)

            try await postElsewhere(runtime, thread: bound, title: nil, content: "From the web UI.")
            try await postElsewhere(runtime, thread: nil, title: "Capacity planning", content: "Started in the web UI.")

            await scratch.waitUntil("the remote message and its answer", timeout: .seconds(15)) {
                let state = try scratch.state("ops")
                guard let remote = state.messages.first(where: { if case .remote = $0.origin { true } else { false } })
                else { return false }
                return state.runs(of: remote).first?.status == .complete
            }
            let state = try scratch.state("ops")
            let remote = try #require(state.messages.first { if case .remote = $0.origin { true } else { false } })
            #expect(remote.file.hasSuffix(".remote.md"))
            #expect(scratch.read("ops/\(remote.file)")?.contains("From the web UI.") == true)
            #expect(scratch.read("ops/\(remote.id).reply.md")?.contains("status: complete") == true)
            // Nothing pulled is sent back, and the inbox's own message is not pulled twice.
            #expect(await runtime.effects(.messageAccepted).count == 3)
            #expect(state.messages.count == 2)

            await scratch.waitUntil("the new thread's folder", timeout: .seconds(15)) {
                (try? scratch.state("capacity-planning").messages.first.map {
                    try scratch.state("capacity-planning").runs(of: $0).first?.status == .complete
                } ?? false) ?? false
            }
            #expect(scratch.read("capacity-planning/thread.md")?.contains("Capacity planning") == true)
            await scratch.waitUntil("its page") {
                FileManager.default.fileExists(atPath: scratch.root + "/site/threads/capacity-planning.html")
            }
        }
    }
}
