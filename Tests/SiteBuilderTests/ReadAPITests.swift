import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

@Suite("The site's JSON read API (api/chat/…) against docs/openapi.yaml")
struct ReadAPITests {
    static let openAPI: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml").path
    }()

    func json(_ site: String, _ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: try Data(contentsOf: URL(fileURLWithPath: site + "/" + path)))
    }

    @Test("Every built file validates: threads.json as SiteThreadList, each messages.json as SiteMessageList")
    func validates() throws {
        let validator = try SchemaValidator(openAPI: Self.openAPI)
        for inbox in [try FixtureInbox.everyState(), try SafetyTests().hostileInbox(), try FixtureInbox()] {
            try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
            let site = inbox.workspace.site
            let threads = try json(site, "api/chat/threads.json")
            #expect(validator.validate(threads, against: "SiteThreadList") == [])
            guard case let .object(top) = threads, case let .array(list)? = top["threads"] else {
                Issue.record("threads.json has no threads")
                continue
            }
            for case let .object(thread) in list {
                guard case let .object(extra)? = thread["letterbox"], case let .string(path)? = extra["messages"] else {
                    Issue.record("a thread without its messages path")
                    continue
                }
                let messages = try json(site, path)
                #expect(validator.validate(messages, against: "SiteMessageList") == [], "\(path)")
            }
        }
    }

    @Test("The validator finds what is wrong: a missing field, a wrong type, an unknown state")
    func validatorFails() throws {
        let validator = try SchemaValidator(openAPI: Self.openAPI)
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        let text = try String(
            contentsOfFile: inbox.workspace.site + "/api/chat/threads/ops/messages.json", encoding: .utf8)
        for (from, to) in [
            ("\"seq\":", "\"sequence\":"), ("\"seq\":", "\"seq\":\"1\",\"x\":"),
            ("\"state\":\"replied\"", "\"state\":\"lost\""),
        ] {
            let broken = try JSONDecoder().decode(JSONValue.self, from: Data(text.replacing(from, with: to).utf8))
            #expect(!validator.validate(broken, against: "SiteMessageList").isEmpty, "\(from) -> \(to)")
        }
    }

    @Test("Messages carry what the page shows: delivery states and attempts, answers, tool calls, approvals")
    func content() throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        let site = inbox.workspace.site
        let ops = try String(contentsOfFile: site + "/api/chat/threads/ops/messages.json", encoding: .utf8)
        #expect(ops.contains(#""role":"tool""#) && ops.contains(#""name":"restart_service""#))
        #expect(ops.contains(#""arguments":"{\"service\": \"backup\", \"host\": \"db-1\"}""#))
        #expect(ops.contains(#""prompt":"Restart backup on db-1?""#))
        #expect(ops.contains(#""label":"Answer 2 of 2""#))
        #expect(ops.contains(#""editedAfterSend":true"#))
        let billing = try String(contentsOfFile: site + "/api/chat/threads/billing/messages.json", encoding: .utf8)
        #expect(
            billing.contains(
                #""state":"retrying","reason":"HTTP 503 Service Unavailable (Retry-After: 30 s)","nextAttempt":"2026-11-21T09:30:00.000Z""#
            ))
        #expect(billing.contains(#""notYetSeen":true"#))
        let threads = try String(contentsOfFile: site + "/api/chat/threads.json", encoding: .utf8)
        // Oldest first, as the control plane lists them.
        let order = ["ops", "billing", "writing", "approvals"].compactMap {
            threads.range(of: "\"id\":\"\($0)\"")?.lowerBound
        }
        #expect(order.count == 4 && order == order.sorted())
    }
}
