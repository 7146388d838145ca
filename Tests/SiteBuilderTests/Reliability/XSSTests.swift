import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import Testing

@testable import SiteBuilder

/// XSS (docs/reliability.md): more than 300 payloads in every untrusted field the site shows, the site built,
/// and every page loaded in Debian's headless Chromium (plus search queries made of payloads). Every payload that
/// ran would log `LBXSS` on the console. Counted: script executions, CSP violations, event-handler attributes
/// and links or sources with a scheme other than http, https or mailto, in the DOM Chromium built and in the
/// files the builder wrote.
@Suite("Reliability: XSS payloads in every untrusted field", .serialized, .processSlot)
struct XSSTests {
    static let js = "console.log('LBXSS')"

    /// 50 vectors, each behind 7 prefixes that close the context it lands in: 350 payloads.
    static let payloads: [String] = {
        let vectors = [
            "<script>\(js)</script>", "<img src=x onerror=\"\(js)\">", "<svg onload=\(js)>",
            "<svg><script>\(js)</script></svg>",
            "<iframe src=\"javascript:\(js)\"></iframe>", "<a href=\"javascript:\(js)\">x</a>", "[x](javascript:\(js))",
            "[x](JaVaScRiPt:\(js))", "[x](&#106;avascript:\(js))", "[x](data:text/html,<script>\(js)</script>)",
            "![x](javascript:\(js))", "<javascript:\(js)>", "</title><script>\(js)</script>",
            "</textarea><script>\(js)</script>", "</style><script>\(js)</script>", "<body onload=\(js)>",
            "<details open ontoggle=\(js)>", "<math><mtext><table><mglyph><style><img src=x onerror=\(js)>",
            "<object data=\"javascript:\(js)\"></object>", "<embed src=\"javascript:\(js)\">",
            "<form action=\"javascript:\(js)\"><button>x</button></form>", "<input autofocus onfocus=\(js)>",
            "<video><source onerror=\(js)></video>", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:\(js)\">",
            "<link rel=stylesheet href=\"javascript:\(js)\">", "<base href=\"javascript:\(js)//\">",
            "{{{\(js)}}}{{#x}}{{/x}}", "${\(js)}", "\";\(js);//", "';\(js);//", "</script><script>\(js)</script>",
            "<!--<script>\(js)</script>-->", "<![CDATA[<script>\(js)</script>]]>",
            "\\u003cscript\\u003e\(js)\\u003c/script\\u003e", "%3Cscript%3E\(js)%3C/script%3E",
            "&lt;script&gt;\(js)&lt;/script&gt;", "<a href=\" javascript:\(js)\">x</a>",
            "<a href=\"java\tscript:\(js)\">x</a>", "[x](vbscript:msgbox(1))", "[x](file:///etc/passwd)",
            "<svg><a xlink:href=\"javascript:\(js)\"><text>x</text></a></svg>",
            "<img src=\"x` `<script>\(js)</script>\"` `>",
            "<style>@import 'javascript:\(js)';</style>", "<div style=\"background:url(javascript:\(js))\">x</div>",
            "<marquee onstart=\(js)>x</marquee>",
            "<noscript><p title=\"</noscript><img src=x onerror=\(js)>\"></noscript>",
            "<template><script>\(js)</script></template>", "<x onclick=\(js)>click</x>",
            "[x](<javascript:\(js)>)", "<img srcset=\"javascript:\(js) 1x\">",
        ]
        let prefixes = ["", "\"'>", "</p>", "-->", "]]>", "*/</script>", "`"]
        return prefixes.flatMap { prefix in vectors.map { prefix + $0 } }
    }()

    /// A Markdown body that puts `payload` in every Markdown context.
    static func body(_ payload: String) -> String {
        """
        # \(payload)

        \(payload)

        *\(payload)* **\(payload)** `\(payload)` [\(payload)](https://example.com/\(payload)) ![\(payload)](\(payload))

        > \(payload)

        - \(payload)
        - [ ] \(payload)

        | \(payload) | b |
        | --- | --- |
        | \(payload) | [x](\(payload)) |

        ```\(payload)
        \(payload)
        ```

        <div>\(payload)</div>

        [ref]: \(payload)
        """
    }

    static func json(_ value: String) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    /// Lays the payloads into every untrusted field: thread metadata, message bodies and authors, replies, tool
    /// calls (name, arguments, result), approval prompts, runtime errors, rejected file names, controls, agent
    /// names, audit details.
    static func inbox(threads: Int) throws -> FixtureInbox {
        let inbox = try FixtureInbox(title: json(payloads[0]))
        try inbox.journal(nil, [(.operator, .inboxCreated(detail: #"{"format":1}"#))])
        let agents = payloads.enumerated().map { index, payload in
            #"{"id":"agent-\#(index)","name":\#(json(payload)),"scopes":["chat"],"runtime":\#(json(payload))}"#
        }
        try inbox.journal(
            nil,
            [
                (.daemon, .daemonStarted(detail: #"{"pid":1,"version":\#(json(payloads[1]))}"#)),
                (.daemon, .agentsListed(detail: "[" + agents.joined(separator: ",") + "]")),
            ])
        let perThread = (payloads.count + threads - 1) / threads
        for thread in 0..<threads {
            let id = "x\(thread)"
            let mine = Array(payloads.dropFirst(thread * perThread).prefix(perThread))
            try inbox.thread(
                id, title: mine[0], agent: "assistant", tags: ["t\(thread)"],
                description: mine.joined(separator: "\n\n"))
            for (index, payload) in mine.enumerated() {
                let message = "m\(index)"
                let author =
                    payload.count <= 80 && !payload.contains("\n") ? "---\nauthor: \(json(payload))\n---\n" : ""
                try inbox.message(id, message, author + body(payload))
                try inbox.journal(
                    id,
                    [
                        (.daemon, .attempt(message: message, requestID: "\(id)/\(message)#1", attempt: 1)),
                        (
                            .daemon,
                            .retryScheduled(
                                message: message, attempt: 1, reason: payload, notBefore: inbox.tick())
                        ),
                    ])
                try inbox.sent(id, message, attempt: 2)
                let status: RunStatus = [.complete, .errored, .aborted][index % 3]
                try inbox.reply(id, to: message, text: body(payload), status: status, reason: payload)
                let run = "run-\(message)-1"
                let tool = "\(message).reply.tool-1.md"
                let approval = "\(message).reply.approval-1"
                let at = inbox.tick()
                try inbox.write(
                    id, tool,
                    DaemonFile(
                        id: String(tool.dropLast(3)), role: .tool, agent: payload, inReplyTo: message, run: run,
                        created: at, status: "complete", extra: [("tool", payload)],
                        body: DaemonFile.toolCallBody(
                            tool: payload, arguments: #"{"arg": \#(json(payload))}"#, result: payload)
                    ).text)
                try inbox.write(
                    id, approval + ".md",
                    DaemonFile(
                        id: approval, role: .approval, agent: payload, inReplyTo: message, run: run, created: at,
                        status: "pending",
                        body: ApprovalForm.body(
                            prompt: payload, tool: payload, arguments: #"{"arg": \#(json(payload))}"#)
                    ).text)
                try inbox.journal(
                    id,
                    [
                        (
                            .runtime,
                            .toolCall(
                                run: run, toolCall: "call-\(index)", tool: payload, file: tool, status: "complete",
                                runtimeID: payload)
                        ),
                        (
                            .runtime,
                            .approvalRequested(
                                approval: approval, run: run, file: approval + ".md", toolCall: "call-\(index)",
                                tool: payload, runtimeID: payload)
                        ),
                        (.runtime, .custom(run: run, detail: #"{"name": \#(json(payload))}"#)),
                        // AG-UI 1.0 records: a subagent (every field, its tool call attributed) and an activity.
                        (
                            .runtime,
                            .custom(
                                run: run,
                                detail:
                                    #"{"type":"SUBAGENT","subagentRunId":\#(json(payload)),"name":\#(json(payload)),"description":\#(json(payload)),"parentToolCallId":"call-\#(index)","status":\#(json(payload)),"error":\#(json(payload)),"code":\#(json(payload)),"text":\#(json(payload)),"result":{"r":\#(json(payload))},"toolCalls":["call-\#(index)"]}"#
                            )
                        ),
                        (
                            .runtime,
                            .custom(
                                run: run,
                                detail:
                                    #"{"type":"ACTIVITY","messageId":"a","activityType":\#(json(payload)),"content":{"c":\#(json(payload))}}"#
                            )
                        ),
                        (.runtime, .state(run: run, detail: #"{"state": \#(json(payload))}"#)),
                        (.daemon, .rejected(file: payload, reason: payload, sha256: nil)),
                        (
                            .operator,
                            .control(
                                file: "controls/c\(index).md", outcome: .error, reason: payload,
                                detail: #"{"note": \#(json(payload))}"#)
                        ),
                    ])
                try inbox.message(id, "f\(index)", "Refused \(index).")
                try inbox.journal(id, [(.daemon, .failed(message: "f\(index)", reason: payload, attempt: 1))])
            }
        }
        try inbox.journal(
            nil,
            payloads.prefix(40).flatMap { payload in
                [
                    (Actor.daemon, JournalEvent.runtimeDegraded(reason: payload)), (.daemon, .runtimeRecovered),
                    (.daemon, .authFailed(reason: payload)), (.daemon, .authRecovered),
                ]
            })
        return inbox
    }

    @Test("350 payloads in every field, every page in Chromium: 0 executions, 0 CSP violations, only http/https/mailto")
    func payloadsInEveryField() async throws {
        #expect(Self.payloads.count >= 300)
        let watch = Stopwatch()
        let inbox = try Self.inbox(threads: 7)
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        let site = inbox.workspace.site
        let pages = try FileManager.default.subpathsOfDirectory(atPath: site).filter { $0.hasSuffix(".html") }.sorted()
        // The files as written: every page, not just those Chromium loads.
        var findings: [String] = []
        for page in pages {
            let html = try String(contentsOfFile: site + "/" + page, encoding: .utf8)
            findings += HTMLScan.findings(html).map { "\(page) (file): \($0)" }
        }
        var executions = 0
        var violations = 0
        var console: [String] = []
        // The short tier loads one page of each kind (every page is scanned as written above); the long tier all.
        let queries = Soak.tier(short: 4, long: 60)
        let loaded =
            Soak.long
            ? pages
            : pages.filter { !$0.hasPrefix("threads/") && !$0.hasPrefix("audit/") || $0 == "audit/index.html" }
                + pages.filter { $0.hasPrefix("threads/") }.prefix(2)
        var urls = loaded.map { "file://\(site)/\($0)" }
        var random = SplitMix64(seed: Soak.seed)
        for payload in Self.payloads.shuffled(using: &random).prefix(queries) {
            let query = payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            urls.append("file://\(site)/search.html?q=\(query)")
        }
        for url in urls {
            let (lines, dom) = try await Chromium.load(url)
            executions += lines.filter { $0.contains("LBXSS") }.count
            violations += lines.filter { $0.contains("Content Security Policy") }.count
            console += lines.map { "\(url.suffix(60)): \($0)" }
            findings += HTMLScan.findings(dom).map { "\(url.suffix(60)) (DOM): \($0)" }
        }
        // The detector itself: a page without the site's CSP that runs a payload must be counted.
        let probe = site + "/../xss-probe.html"
        try Data("<!doctype html><title>probe</title><script>\(Self.js)</script>".utf8).write(
            to: URL(fileURLWithPath: probe))
        let (probeConsole, _) = try await Chromium.load("file://\(probe)")
        #expect(
            probeConsole.contains { $0.contains("LBXSS") }, "the detector did not see a script run: \(probeConsole)")
        #expect(!HTMLScan.findings("<a href=\"java&#115;cript:x\" onclick=y>").isEmpty)
        Soak.report(
            "xss",
            [
                "payloads": "\(Self.payloads.count) (50 vectors x 7 context breakers), in every untrusted field",
                "pages":
                    "\(pages.count) written and scanned; \(urls.count) loads in Chromium (\(queries) search queries)",
                "script executions": "\(executions)",
                "CSP violations": "\(violations)",
                "console messages": "\(console.count)",
                "event handlers or links other than http/https/mailto": "\(findings.count)",
                "wall time": watch.seconds,
            ])
        #expect(executions == 0 && violations == 0, "\(console.prefix(20).joined(separator: "\n"))")
        #expect(console.isEmpty, "\(console.prefix(20).joined(separator: "\n"))")
        #expect(findings.isEmpty, "\(findings.prefix(30).joined(separator: "\n"))")
    }
}

/// Headless Chromium from Debian: the console and the DOM it built.
enum Chromium {
    static func load(_ url: String, timeout: Double = 60) async throws -> (console: [String], dom: String) {
        let binary = try #require(BrowserTests.chromium, "Debian's chromium is not installed: run `make deps`")
        let profile = NSTemporaryDirectory() + "lb-chromium-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let search = url.contains("search.html?")
        let result = try await runProcess(
            binary,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
                "--v=0", "--user-data-dir=\(profile)", "--dump-dom",
            ] + (search ? ["--virtual-time-budget=5000"] : []) + [url],
            timeout: timeout)
        #expect(result.exited, "chromium did not finish within \(Int(timeout)) s on \(url)")
        let console = result.stderr.split(separator: "\n").map(String.init).filter {
            $0.contains(":CONSOLE") || $0.contains("Content Security Policy")
        }
        return (console, result.stdout)
    }
}

/// A small HTML tokenizer that finds what must never be in a page: event-handler attributes, links or sources
/// with a scheme other than http, https or mailto, inline scripts, frames, objects, embeds and bases.
enum HTMLScan {
    static let urlAttributes: Set<String> = [
        "href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset", "background", "cite",
    ]
    static let forbidden: Set<String> = ["iframe", "frame", "object", "embed", "base", "applet"]

    static func findings(_ html: String) -> [String] {
        var found: [String] = []
        let s = Array(html.unicodeScalars)
        var i = 0
        func at(_ text: String) -> Bool {
            let t = Array(text.unicodeScalars)
            guard i + t.count <= s.count else { return false }
            for k in 0..<t.count where String(s[i + k]).lowercased() != String(t[k]) { return false }
            return true
        }
        while i < s.count {
            guard s[i] == "<" else {
                i += 1
                continue
            }
            if at("<!--") {
                while i < s.count && !at("-->") { i += 1 }
                i += 3
                continue
            }
            guard i + 1 < s.count, s[i + 1].properties.isAlphabetic else {
                i += 1
                continue
            }
            i += 1
            var name = ""
            while i < s.count, !" \t\n\r\u{0C}/>".unicodeScalars.contains(s[i]) {
                name.unicodeScalars.append(s[i])
                i += 1
            }
            name = name.lowercased()
            var attributes: [(String, String)] = []
            while i < s.count && s[i] != ">" {
                if " \t\n\r\u{0C}/".unicodeScalars.contains(s[i]) {
                    i += 1
                    continue
                }
                var key = ""
                while i < s.count, !" \t\n\r\u{0C}/>=".unicodeScalars.contains(s[i]) {
                    key.unicodeScalars.append(s[i])
                    i += 1
                }
                var value = ""
                if i < s.count && s[i] == "=" {
                    i += 1
                    if i < s.count && (s[i] == "\"" || s[i] == "'") {
                        let quote = s[i]
                        i += 1
                        while i < s.count && s[i] != quote {
                            value.unicodeScalars.append(s[i])
                            i += 1
                        }
                        i += 1
                    } else {
                        while i < s.count, !" \t\n\r\u{0C}>".unicodeScalars.contains(s[i]) {
                            value.unicodeScalars.append(s[i])
                            i += 1
                        }
                    }
                }
                if !key.isEmpty { attributes.append((key.lowercased(), value)) }
            }
            i += 1
            if forbidden.contains(name) { found.append("<\(name)> element") }
            for (key, value) in attributes {
                if key.hasPrefix("on") { found.append("<\(name) \(key)=…> event handler") }
                if urlAttributes.contains(key), let scheme = scheme(of: value),
                    !["http", "https", "mailto"].contains(scheme)
                {
                    found.append("<\(name) \(key)=\"\(value.prefix(80))\">: \(scheme): link")
                }
                if name == "meta" && key == "content", let url = value.range(of: "url=", options: .caseInsensitive) {
                    if let scheme = scheme(of: String(value[url.upperBound...])), !["http", "https"].contains(scheme) {
                        found.append("<meta refresh> to \(scheme):")
                    }
                }
            }
            if name == "script" {
                if !attributes.contains(where: { $0.0 == "src" })
                    && !attributes.contains(where: { $0.0 == "type" && $0.1.contains("json") })
                {
                    found.append("an inline <script>")
                }
                // Skip the script's text.
                while i < s.count && !at("</script") { i += 1 }
            } else if name == "style" || name == "textarea" || name == "title" {
                while i < s.count && !at("</\(name)") { i += 1 }
            }
        }
        return found
    }

    /// The URL's scheme (lowercased), after undoing entities and dropping the whitespace and controls a browser
    /// ignores; nil for a relative URL.
    static func scheme(of raw: String) -> String? {
        var value = raw.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&colon;", with: ":")
            .replacingOccurrences(of: "&Tab;", with: "").replacingOccurrences(of: "&NewLine;", with: "")
        while let range = value.range(of: #"&#(x[0-9a-fA-F]+|[0-9]+);?"#, options: .regularExpression) {
            let digits = value[range].dropFirst(2).filter { $0 != ";" }
            let number = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            value.replaceSubrange(range, with: number.flatMap { Unicode.Scalar($0) }.map { String($0) } ?? "")
        }
        let cleaned = String(value.unicodeScalars.filter { $0.value > 0x20 })
        guard let colon = cleaned.firstIndex(of: ":") else { return nil }
        let head = cleaned[..<colon]
        guard head.range(of: #"^[A-Za-z][A-Za-z0-9+.-]*$"#, options: .regularExpression) != nil else { return nil }
        return head.lowercased()
    }
}
