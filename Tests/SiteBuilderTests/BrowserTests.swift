import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import Testing

@testable import SiteBuilder

/// Loads pages in Debian's headless Chromium from file://: no console errors, no CSP violations, and
/// a screenshot of each in `.build/site-screenshots/` for a person to look at.
@Suite("The site in a real browser (headless Chromium)", .serialized, .processSlot)
struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let screenshots: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent(".build/site-screenshots").path
    }()

    /// Runs Chromium on `url`; returns (console lines, stdout). Killed after `timeout` seconds, which
    /// fails the test instead of hanging it.
    func chromium(_ arguments: [String], url: String, timeout: Double = 45) async throws -> (
        console: [String], stdout: String
    ) {
        let binary = try #require(Self.chromium, "Debian's chromium is not installed: run `make deps`")
        let result = try await runProcess(
            binary,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--enable-logging=stderr",
                "--v=0", "--user-data-dir=\(NSTemporaryDirectory())lb-chromium-\(UUID().uuidString)",
            ] + arguments + [url],
            timeout: timeout)
        #expect(result.exited, "chromium did not finish within \(Int(timeout)) s on \(url)")
        let console = result.stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") }
        return (console, result.stdout)
    }

    @Test(
        "Each page kind loads from file:// without console errors or CSP violations",
        arguments: [
            "index.html", "threads/ops.html", "threads/billing.html", "threads/writing.html", "threads/approvals.html",
            "audit/index.html", "status.html", "agents.html", "search.html",
        ])
    func page(_ page: String) async throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let shot = Self.screenshots + "/" + page.replacingOccurrences(of: "/", with: "_") + ".png"
        let result = try await chromium(
            ["--window-size=1200,1600", "--screenshot=\(shot)"], url: "file://\(inbox.workspace.site)/\(page)")
        #expect(result.console.isEmpty, "\(page): \(result.console.joined(separator: "\n"))")
        #expect(FileManager.default.fileExists(atPath: shot))
    }

    @Test("Search finds messages from file://, with its script and index under the CSP")
    func search() async throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        // The search page has no refresh, so virtual time can let its scripts load the index and run.
        let result = try await chromium(
            ["--dump-dom", "--virtual-time-budget=5000"],
            url: "file://\(inbox.workspace.site)/search.html?q=invoice%20double")
        #expect(result.console.isEmpty, "\(result.console.joined(separator: "\n"))")
        #expect(result.stdout.contains("1 results"), "\(result.stdout.suffix(2000))")
        #expect(result.stdout.contains("threads/billing.html#m-invoice"))
        // A snippet with every term marked, the permalink, and the filters filled from the index.
        #expect(result.stdout.contains("<mark>invoice</mark>") && result.stdout.contains("<mark>double</mark>"))
        #expect(result.stdout.contains(" #m-invoice</a>"))
        #expect(result.stdout.contains("<option value=\"billing\">Billing questions</option>"))
        #expect(result.stdout.contains("<option value=\"retrying\">retrying</option>"))
    }

    @Test("Search leaves out the text of a message edited after it was sent, and says so")
    func searchEdited() async throws {
        let inbox = try FixtureInbox.everyState()
        try SiteBuild(workspace: inbox.workspace, logger: Logger(label: "test")).build()
        let result = try await chromium(
            ["--dump-dom", "--virtual-time-budget=5000"],
            url: "file://\(inbox.workspace.site)/search.html?q=healthy")
        #expect(result.console.isEmpty, "\(result.console.joined(separator: "\n"))")
        #expect(result.stdout.contains("0 results"), "\(result.stdout.suffix(1500))")
    }
}
