import ChatModel
import Foundation
import InboxStore
import Logging
import Testing

@testable import SiteBuilder

@Suite("Untrusted content comes out inert (issue: static site, Safety)")
struct SafetyTests {
    static let payloads = [
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "'><svg onload=alert(3)>",
        "javascript:alert(4)", "</textarea><iframe src=//evil>",
    ]

    /// An inbox with a payload in every field that does not come from cmark.
    func hostileInbox() throws -> FixtureInbox {
        let inbox = try FixtureInbox(title: "Site <script>alert(0)</script>")
        try inbox.journal(
            nil,
            [
                (.daemon, .daemonStarted(detail: #"{"pid":1}"#)),
                (
                    .daemon,
                    .agentsListed(
                        detail:
                            #"[{"id":"x<script>alert(5)</script>","name":"\"><img src=x onerror=alert(6)>","scopes":["chat"],"runtime":"<b>rt</b>"}]"#
                    )
                ),
                (.daemon, .runtimeDegraded(reason: Self.payloads[1])),
            ])
        try inbox.thread(
            "hostile", title: Self.payloads[0], agent: Self.payloads[1], tags: [Self.payloads[2]],
            description: "Desc " + Self.payloads[0])
        // Markdown bodies: raw HTML and dangerous links, which cmark's safe mode and the link filter handle.
        try inbox.message(
            "hostile", "body",
            """
            ---
            author: "\(Self.payloads[1].replacingOccurrences(of: "\"", with: "\\\""))"
            ---
            Raw: <script>alert(7)</script> <img src=x onerror=alert(8)>
            [js](javascript:alert(9)) [vb](vbscript:msgbox(1)) [data](data:text/html;base64,PHNjcmlwdD4=)
            [file](file:///etc/passwd) [rel](../../etc/passwd) <javascript:alert(10)> [ok](https://example.com/a?b=1&c=2)
            ![remote](http://evil.example/x.png) ![inline](data:image/png;base64,iVBORw0KGgo=)
            """, agent: Self.payloads[2])
        try inbox.sent("hostile", "body")
        try inbox.reply(
            "hostile", to: "body", text: "Reply <iframe src=//evil></iframe> done", status: .errored,
            reason: Self.payloads[3] + " " + Self.payloads[0])
        try inbox.journal(
            "hostile",
            [
                (.runtime, .state(run: "run-body-1", detail: #"{"k":"<script>alert(11)</script>"}"#)),
                (.runtime, .custom(run: "run-body-1", detail: #"{"name":"\"><img src=x onerror=alert(12)>"}"#)),
            ])
        try inbox.message("hostile", "tool", "Use a tool.")
        try inbox.sent("hostile", "tool")
        let run = "run-tool"
        try inbox.journal(
            "hostile",
            [(.runtime, .replyStarted(run: run, message: "tool", file: "tool.reply.md", agent: "a", runtimeID: nil))])
        try inbox.write("hostile", "tool.reply.md", "---\nstatus: streaming\n---\n")
        let toolName = "rm<script>alert(13)</script>"
        let toolBody = DaemonFile.toolCallBody(
            tool: toolName, arguments: #"{"cmd": "</code></pre><script>alert(14)</script>```"}"#,
            result: "<img src=x onerror=alert(15)>")
        try inbox.write(
            "hostile", "tool.reply.tool-1.md",
            DaemonFile(
                id: "tool.reply.tool-1", role: .tool, agent: "a", created: inbox.tick(), status: "complete",
                body: toolBody
            ).text)
        try inbox.journal(
            "hostile",
            [
                (
                    .runtime,
                    .toolCall(
                        run: run, toolCall: "c1", tool: toolName, file: "tool.reply.tool-1.md", status: "complete",
                        runtimeID: nil)
                ),
                (
                    .runtime,
                    .approvalRequested(
                        approval: "tool.reply.approval-1", run: run, file: "tool.reply.approval-1.md", toolCall: "c1",
                        tool: toolName, runtimeID: nil)
                ),
                (
                    .operator,
                    .approvalAnswered(
                        approval: "tool.reply.approval-1", decision: .reject, note: Self.payloads[1], file: nil)
                ),
            ])
        try inbox.write(
            "hostile", "tool.reply.approval-1.md",
            ApprovalForm.body(prompt: "Run <script>alert(16)</script>?", tool: toolName, arguments: "{}"))
        try inbox.message("hostile", "failed", "x")
        try inbox.journal(
            "hostile", [(.daemon, .failed(message: "failed", reason: "422: " + Self.payloads[1], attempt: nil))])
        try inbox.write("hostile", "evil.txt", "x")
        try inbox.journal("hostile", [(.daemon, .rejected(file: "evil.txt", reason: Self.payloads[0], sha256: nil))])
        return inbox
    }

    @Test("No payload survives as markup in any page, feed or script")
    func inert() throws {
        let inbox = try hostileInbox()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        let files = tree(inbox.workspace.site)
        #expect(files["threads/hostile.html"] != nil)
        for (path, data) in files where !path.hasPrefix("assets/") {
            let text = String(decoding: data, as: UTF8.self)
            if path.hasSuffix(".js") {
                // Search shards hold text as JSON strings in an external script, shown with textContent.
                let json = text.drop { $0 != "(" }.dropFirst().reversed().drop { $0 != ")" }.dropFirst().reversed()
                #expect(
                    (try? JSONSerialization.jsonObject(with: Data(String(json).utf8))) != nil,
                    "\(path) is not a JSON literal")
                continue
            }
            // Escaped payloads are text; an injected tag would appear with a raw "<".
            for needle in ["<script>alert", "<img src=x", "<svg", "<iframe", "</textarea>"] {
                #expect(!text.contains(needle), "\(path) contains \(needle)")
            }
            for scheme in ["javascript:", "vbscript:", "data:text", "file:"] {
                #expect(!text.lowercased().contains("href=\"\(scheme)"), "\(path) links to \(scheme)")
            }
            if path.hasSuffix(".html") {
                // The only script tag is the search page's own.
                let scripts = text.components(separatedBy: "<script").count - 1
                #expect(scripts == (path == "search.html" ? 1 : 0), "\(path) has \(scripts) script tags")
                #expect(!text.contains("src=\"http"), "\(path) loads a remote asset")
            }
        }
        let page = String(decoding: files["threads/hostile.html"] ?? Data(), as: UTF8.self)
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the title is shown, escaped")
        #expect(page.contains("<a href=\"https://example.com/a?b=1&amp;c=2\">ok</a>"), "an https link survives")
        #expect(page.contains("<a href=\"http://evil.example/x.png\">remote</a>"), "a remote image becomes a link")
        #expect(page.contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\""), "an inline PNG stays an image")
        #expect(page.contains(">js</a>") == false && page.contains(">rel</a>") == false, "disallowed links become text")
    }
}
