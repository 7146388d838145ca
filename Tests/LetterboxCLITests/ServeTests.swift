import AsyncHTTPClient
import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import NIOCore
import NIOHTTP1
import SiteServer
import Testing

@Suite("letterbox serve: where it may listen, and the page a browser gets (issue 11)")
struct ServeRuleTests {
    @Test(
        "Loopback by default; anything else only with --public",
        arguments: [
            (nil, false, "127.0.0.1"), (nil, true, "0.0.0.0"), ("127.0.0.1", false, "127.0.0.1"),
            ("127.1.2.3", false, "127.1.2.3"), ("localhost", false, "localhost"), ("::1", false, "::1"),
            ("[::1]", false, "::1"), ("0.0.0.0", true, "0.0.0.0"), ("192.168.1.20", true, "192.168.1.20"),
        ] as [(String?, Bool, String)])
    func allowed(host: String?, isPublic: Bool, bound: String) throws {
        let address = try ListenAddress.resolve(host: host, port: 8788, public: isPublic).get()
        #expect(address.host == bound)
        #expect(address.isPublic == !["127.0.0.1", "127.1.2.3", "localhost", "::1"].contains(bound))
    }

    @Test(
        "Refused without --public: every address other machines can reach",
        arguments: [
            "0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "127.0.0.1.5", "1127.0.0.1", "::ffff:10.0.0.1",
        ])
    func refused(host: String) {
        guard case let .failure(refusal) = ListenAddress.resolve(host: host, port: 8788, public: false) else {
            Issue.record("\(host) was allowed")
            return
        }
        #expect(refusal.description.contains("add --public"), "\(refusal)")
    }

    @Test("A served page gets the script tag and connect-src 'self'; nothing else changes")
    func injection() {
        let page = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;self&#39;">
            <title>t</title>
            </head>
            <body><p>hi</p></body>
            </html>
            """
        let served = String(decoding: LiveReload.inject(into: Array(page.utf8), version: "abc"), as: UTF8.self)
        #expect(
            served == """
                <!doctype html>
                <html lang="en">
                <head>
                <meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;self&#39;; connect-src &#39;self&#39;">
                <title>t</title>
                <script src="/_letterbox/live-reload.js" data-page-version="abc" defer></script>
                </head>
                <body><p>hi</p></body>
                </html>
                """)
        // A policy that has a connect-src already gets 'self' added to it.
        let withConnect =
            #"<meta http-equiv="content-security-policy" content="connect-src https://x; img-src 'self'"></head>"#
        let served2 = String(decoding: LiveReload.inject(into: Array(withConnect.utf8), version: "v"), as: UTF8.self)
        #expect(
            served2.hasPrefix(
                #"<meta http-equiv="content-security-policy" content="connect-src &#39;self&#39; https://x; img-src 'self'">"#
            ), "\(served2)")
        #expect(!LiveReload.script.contains("innerHTML") && !LiveReload.script.contains("eval("))
    }
}

/// A copy of the sample inbox with its site built, and `letterbox serve` running on it.
final class ServedSample {
    let scratch: Scratch
    let server: BackgroundProcess
    /// `http://127.0.0.1:PORT/`.
    let url: String

    var site: String { scratch.path + "/site" }

    private init(scratch: Scratch, server: BackgroundProcess, url: String) {
        self.scratch = scratch
        self.server = server
        self.url = url
    }

    static func start(_ arguments: [String] = []) async throws -> ServedSample {
        let scratch = try Scratch()
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/inbox", toPath: scratch.path + "/inbox")
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/letterbox.yaml", toPath: scratch.path + "/letterbox.yaml")
        let build = try await CLI.run(["build", "--quiet"], in: scratch.path)
        #expect(build.status == 0, "\(build.stderr)")
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_LOG_LEVEL"] = "debug"
        let server = try BackgroundProcess(
            CLI.binary, ["serve", "--port", "0"] + arguments, in: scratch.path, environment: environment,
            log: scratch.path + "/serve.log")
        let output = try #require(
            try await server.waitFor("(read-only; pages reload when they change)", timeout: .seconds(20)),
            "letterbox serve did not start:\n\(server.output)")
        let url = try #require(output.firstMatch(of: /at (http:\/\/127\.0\.0\.1:\d+\/)/)?.1)
        return ServedSample(scratch: scratch, server: server, url: String(url))
    }

    func get(_ path: String, method: HTTPMethod = .GET) async throws -> (
        status: UInt, headers: HTTPHeaders, body: String
    ) {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        // Redirects are not followed: they are part of what is tested.
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 << 20)
            try await client.shutdown()
            return (response.status.code, response.headers, String(buffer: body))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The page version the server embeds for `path`.
    func version(of path: String) async throws -> String {
        let page = try await get(path).body
        return String(try #require(page.firstMatch(of: /data-page-version="([0-9a-f]+)"/)?.1))
    }
}

/// An open event stream.
struct EventStream {
    var iterator: HTTPClientResponse.Body.AsyncIterator
    var received = ""

    static func open(_ url: String) async throws -> EventStream {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
        #expect(response.status == .ok)
        #expect(response.headers["content-type"].first == "text/event-stream")
        return EventStream(iterator: response.body.makeAsyncIterator())
    }

    /// Reads until `text` has arrived (or the stream ends); returns everything read so far.
    mutating func read(until text: String) async throws -> String {
        while !received.contains(text) {
            guard let chunk = try await iterator.next() else { break }
            received += String(buffer: chunk)
        }
        return received
    }

    /// Reads to the end of the stream.
    mutating func readToEnd() async throws -> String {
        while let chunk = try await iterator.next() { received += String(buffer: chunk) }
        return received
    }
}

@Suite("letterbox serve over real HTTP on 127.0.0.1 (issue 11)", .processSlot, .serialized)
struct ServeHTTPTests {
    @Test("Read-only: pages with the reload script (the files on disk untouched), no hidden files, no writes")
    func readOnly() async throws {
        let served = try await ServedSample.start()
        let index = try await served.get("")
        #expect(index.status == 200)
        #expect(index.headers["content-type"].first == "text/html; charset=utf-8")
        #expect(index.body.contains(#"<script src="/_letterbox/live-reload.js" data-page-version=""#))
        #expect(index.body.contains("connect-src &#39;self&#39;"))
        let onDisk = try String(contentsOfFile: served.site + "/index.html", encoding: .utf8)
        #expect(!onDisk.contains("live-reload"), "the built site is never changed")
        #expect(try await served.version(of: "index.html") == SHA256Hex.digest(Array(onDisk.utf8)))

        let script = try await served.get("_letterbox/live-reload.js")
        #expect(script.status == 200 && script.body.contains("new EventSource("))
        #expect(script.headers["content-type"].first == "text/javascript; charset=utf-8")
        let css = try await served.get("assets/style.css")
        #expect(css.status == 200 && css.headers["content-type"].first == "text/css; charset=utf-8")
        #expect(try await served.get("threads/welcome.html").status == 200)
        let folder = try await served.get("audit")
        #expect(folder.status == 301)
        #expect(folder.headers["location"].first == "/audit/", "\(folder.headers)")
        #expect(try await served.get("audit/").body.contains("<html"))
        #expect(try await served.get("assets/style.css", method: .HEAD).status == 200)
        for path in [
            "nope.html", ".letterbox/daemon.json", "%2e%2e/letterbox.yaml", "..%2fletterbox.yaml", "threads/%00.html",
        ] {
            #expect(try await served.get(path).status == 404, "\(path)")
        }
        for method in [HTTPMethod.POST, .PUT, .DELETE] {
            let refused = try await served.get("index.html", method: method)
            #expect(refused.status == 405, "\(method)")
            #expect(refused.headers["allow"].first == "GET, HEAD")
        }
        try await served.server.stop()
    }

    @Test(
        "Events: reload at once for a stale page; not for the same bytes rewritten; at the next real change; SIGTERM ends open streams"
    )
    func events() async throws {
        let served = try await ServedSample.start()
        let events = served.url + "_letterbox/events?page=%2Fthreads%2Fwelcome.html&version="

        var stale = try await EventStream.open(events + "not-the-page")
        #expect(try await stale.readToEnd().contains("event: reload"))

        let page = served.site + "/threads/welcome.html"
        let version = try await served.version(of: "threads/welcome.html")
        var stream = try await EventStream.open(events + version)
        #expect(try await stream.read(until: "retry: 1000").contains("retry: 1000"))
        // The same bytes written again (a new inode, as a build's rename makes): no reload.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: page))
        try bytes.write(to: URL(fileURLWithPath: page), options: .atomic)
        try await Task.sleep(for: .milliseconds(800))
        // A real change: one reload, naming the new version.
        let changed = bytes + Data("<!-- changed -->\n".utf8)
        try changed.write(to: URL(fileURLWithPath: page), options: .atomic)
        let text = try await stream.readToEnd()
        #expect(text.contains("event: reload\ndata: \(SHA256Hex.digest(Array(changed)))\n"), "\(text)")
        #expect(text.components(separatedBy: "event: reload").count == 2)

        // SIGTERM with a stream open: the stream ends and the server exits 0, promptly.
        let current = try await served.version(of: "threads/welcome.html")
        var open = try await EventStream.open(events + current)
        _ = try await open.read(until: "retry: 1000")
        served.server.signal(SIGTERM)
        let ended = try await open.readToEnd()
        #expect(!ended.contains("event: reload"))
        let exit = try await served.server.waitForExit(timeout: .seconds(10))
        #expect(exit.inTime && exit.status == 0, "\(served.server.output)")
    }

    @Test("Refuses a non-loopback address without --public (64, saying what to do); with --public it warns")
    func publicOnly() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "."], in: scratch.path)
        let refused = try await CLI.run(["serve", "--host", "0.0.0.0", "--port", "0"], in: scratch.path)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("refusing to listen on 0.0.0.0"), "\(refused.stderr)")
        #expect(refused.stderr.contains("add --public"))
        let daemon = try await CLI.run(["daemon", "--serve", "--serve-host", "10.1.2.3"], in: scratch.path)
        #expect(daemon.status == 64)
        #expect(daemon.stderr.contains("refusing to listen on 10.1.2.3"), "\(daemon.stderr)")
        let stray = try await CLI.run(["daemon", "--public"], in: scratch.path)
        #expect(stray.status == 64)
        #expect(stray.stderr.contains("only go with --serve"), "\(stray.stderr)")

        let open = try BackgroundProcess(
            CLI.binary, ["serve", "--public", "--port", "0"], in: scratch.path, log: scratch.path + "/serve.log")
        let output = try await open.waitFor("(read-only; pages reload when they change)", timeout: .seconds(20))
        #expect(output?.contains("anyone who can reach this machine can read every thread") == true, "\(open.output)")
        #expect(output?.contains("has not been built yet; building it first") == true, "\(open.output)")
        try await open.stop()
    }

    @Test("daemon --serve: a reply rebuilds the page and its open stream says reload; SIGTERM stops all three services")
    func daemonServe() async throws {
        try await LiveWorkspace.with { live in
            try await live.initialize()
            try live.writeConfig(runtimeURL: try await live.startRuntime())
            let daemon = try await live.startDaemon(["--serve", "--serve-port", "0"])
            let output = try #require(try await daemon.waitFor("(read-only; pages reload when they change)"))
            let base = String(try #require(output.firstMatch(of: /at (http:\/\/127\.0\.0\.1:\d+\/)/)?.1))
            let page = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: base + "threads/welcome.html"), timeout: .seconds(10))
            let html = String(buffer: try await page.body.collect(upTo: 16 << 20))
            let version = String(try #require(html.firstMatch(of: /data-page-version="([0-9a-f]+)"/)?.1))
            var stream = try await EventStream.open(
                base + "_letterbox/events?page=%2Fthreads%2Fwelcome.html&version=\(version)")
            _ = try await stream.read(until: "retry: 1000")
            #expect(try await live.run(["send", "welcome", "-", "--name", "ping"], stdin: "ping\n").status == 0)
            #expect(try await stream.readToEnd().contains("event: reload"))
            #expect(try await live.waitForFile("inbox/welcome/ping.reply.md", containing: "status: complete"))

            // A stream left open does not hold up the stop.
            let now = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: base + "threads/welcome.html"), timeout: .seconds(10))
            let current = String(buffer: try await now.body.collect(upTo: 16 << 20))
            let latest = String(try #require(current.firstMatch(of: /data-page-version="([0-9a-f]+)"/)?.1))
            var open = try await EventStream.open(
                base + "_letterbox/events?page=%2Fthreads%2Fwelcome.html&version=\(latest)")
            _ = try await open.read(until: "retry: 1000")
            daemon.signal(SIGTERM)
            _ = try await open.readToEnd()
            let exit = try await daemon.waitForExit(timeout: .seconds(15))
            #expect(exit.inTime && exit.status == 0, "\(daemon.output)")
            #expect(daemon.output.contains("letterbox daemon stopped"))
        }
    }
}

@Suite("Live reload in headless Chromium (issue 11)", .processSlot, .serialized)
struct LiveReloadBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test("A page served, its thread changed and the site rebuilt: Chromium reloads it, with no CSP violation")
    func reloads() async throws {
        let binary = try #require(Self.chromium, "Debian's chromium is not installed: run `make deps`")
        let served = try await ServedSample.start()
        let v1 = try await served.version(of: "threads/welcome.html")
        let browser = try BackgroundProcess(
            binary,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
                "--v=0", "--user-data-dir=\(served.scratch.path)/chromium",
                served.url + "threads/welcome.html",
            ], log: served.scratch.path + "/chromium.log")
        // The page's script opened its event stream, for the version it was served as.
        let opened = try await served.server.waitFor(
            "/_letterbox/events?page=%2Fthreads%2Fwelcome.html&version=\(v1) 200", timeout: .seconds(45))
        #expect(opened != nil, "the page did not open its event stream:\n\(served.server.output)\n\(browser.output)")

        // The thread changes and the site is rebuilt, as the daemon would after a reply.
        let meta = served.scratch.path + "/inbox/welcome/thread.md"
        let text = try String(contentsOfFile: meta, encoding: .utf8)
        try text.replacingOccurrences(of: "title: \"Welcome to Letterbox\"", with: "title: \"Welcome, reloaded\"")
            .write(
                toFile: meta, atomically: true, encoding: .utf8)
        let build = try await CLI.run(["build", "--quiet"], in: served.scratch.path)
        #expect(build.status == 0, "\(build.stderr)")
        let page = try String(contentsOfFile: served.site + "/threads/welcome.html", encoding: .utf8)
        #expect(page.contains("Welcome, reloaded"))
        let v2 = SHA256Hex.digest(Array(page.utf8))
        #expect(v2 != v1)

        // Chromium reloaded: the new page's script opened a stream for the new version.
        let reloaded = try await served.server.waitFor(
            "/_letterbox/events?page=%2Fthreads%2Fwelcome.html&version=\(v2) 200", timeout: .seconds(30))
        #expect(reloaded != nil, "Chromium did not reload the page:\n\(served.server.output)\n\(browser.output)")
        let console = browser.output.split(separator: "\n").filter {
            $0.contains(":CONSOLE") || $0.contains("Content Security Policy") || $0.contains("Refused to")
        }
        #expect(console.isEmpty, "\(console.joined(separator: "\n"))")
        try await browser.stop()
        try await served.server.stop()
    }
}
