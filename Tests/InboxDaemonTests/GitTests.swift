import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

/// The inbox's history in git: commits at journal points, by whom, and what never enters history.
@Suite("Git-native history: commits at journal points", .processSlot)
struct GitTests {
    /// A scratch workspace in a git repository with an operator identity, and fast commits.
    static func repository() async throws -> Scratch {
        let scratch = try Scratch(extraConfig: "git:\n  quiet_seconds: 0\n")
        try scratch.thread("ops")
        try await Workplace.git(["init", "-q", "-b", "main"], in: scratch.root)
        try await Workplace.git(["config", "user.name", "Ada Operator"], in: scratch.root)
        try await Workplace.git(["config", "user.email", "ada@example.com"], in: scratch.root)
        try await Workplace.git(["add", "-A"], in: scratch.root)
        try await Workplace.git(["commit", "-q", "-m", "start"], in: scratch.root)
        return scratch
    }

    /// `git log` as (author, subject, files) per commit, oldest first.
    static func log(_ root: String) async throws -> [(author: String, subject: String, files: [String])] {
        let text = try await Workplace.git(
            ["log", "--reverse", "--format=@@%an|%s", "--name-only"], in: root)
        return text.components(separatedBy: "@@").dropFirst().map { chunk in
            let lines = chunk.split(separator: "\n").map(String.init)
            let head = lines.first?.split(separator: "|", maxSplits: 1).map(String.init) ?? []
            return (head.first ?? "", head.count > 1 ? head[1] : "", Array(lines.dropFirst()))
        }
    }

    @Test(
        "An operator's message is committed on its own as the operator; Letterbox's files as Letterbox, saying what happened"
    )
    func commits() async throws {
        let scratch = try await Self.repository()
        try await DaemonHarness.run(scratch) { _ in
            try scratch.write("ops/rollout.md", "Roll out 1.4 to staging.")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("rollout")?.delivery == .replied }
            await scratch.waitUntil("committed", timeout: .seconds(15)) {
                try await Self.log(scratch.root).contains { $0.subject.contains("reply from assistant to rollout.md") }
            }
        }
        let log = try await Self.log(scratch.root)
        let mine = try #require(log.first { $0.subject == "ops: message rollout.md" })
        #expect(mine.author == "Ada Operator")
        #expect(mine.files == ["inbox/ops/rollout.md"])
        let reply = try #require(log.first { $0.subject.contains("reply from assistant to rollout.md") })
        #expect(reply.author == "Letterbox")
        #expect(reply.files.contains("inbox/ops/rollout.reply.md") && reply.files.contains("inbox/ops/journal.jsonl"))
        #expect(!reply.files.contains("inbox/ops/rollout.md"))
    }

    @Test("The site, .letterbox/, temp files and tokens never enter history")
    func ignored() async throws {
        let scratch = try await Self.repository()
        try Data(DaemonHarness.token.utf8).write(to: URL(fileURLWithPath: scratch.root + "/runtime.token"))
        try await DaemonHarness.run(scratch) { _ in
            for index in 0..<3 { try scratch.write("ops/m\(index).md", "Message \(index)") }
            await scratch.waitUntil("replied") {
                try (0..<3).allSatisfy { try scratch.state("ops").message("m\($0)")?.delivery == .replied }
            }
            await scratch.waitUntil("committed", timeout: .seconds(15)) {
                try await Self.log(scratch.root).contains { $0.subject.contains("m2.md") && $0.author == "Letterbox" }
            }
        }
        let files = try await Workplace.git(["log", "--all", "--name-only", "--format="], in: scratch.root)
            .split(separator: "\n").map(String.init)
        for file in files {
            #expect(!file.hasPrefix("site/") || file == "site/README.md", "\(file)")
            #expect(!file.hasPrefix(".letterbox/"), "\(file)")
            #expect(!file.contains(".lb-tmp-"), "\(file)")
            #expect(!file.hasSuffix(".token"), "\(file)")
        }
        let everything = try await Workplace.git(["log", "--all", "-p", "--format=%B"], in: scratch.root)
        #expect(!everything.contains(DaemonHarness.token), "the token is in git history")
    }

    @Test("Commits wait while another git command holds the index")
    func indexLock() async throws {
        let scratch = try await Self.repository()
        try await DaemonHarness.run(scratch) { _ in
            let lock = scratch.root + "/.git/index.lock"
            #expect(FileManager.default.createFile(atPath: lock, contents: nil))
            try scratch.write("ops/wait.md", "Wait for the lock.")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("wait")?.delivery == .replied }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await !Self.log(scratch.root).contains { $0.subject.contains("wait.md") })
            try FileManager.default.removeItem(atPath: lock)
            await scratch.waitUntil("committed once the lock is gone", timeout: .seconds(15)) {
                // What waited is one commit: a summary line, and a line per journal point.
                try await Workplace.git(["log", "--format=%B"], in: scratch.root).contains(
                    "- ops: reply from assistant to wait.md")
            }
        }
    }

    @Test("letterbox init makes a repository with a first commit and a .gitignore; --no-git does not")
    func initMakesRepository() async throws {
        let folder = try Workplace.folder("init")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try await Workplace.letterbox(["init", folder + "/with"], in: folder)
        #expect(made.status == 0, "\(made.stderr)")
        let log = try await Self.log(folder + "/with")
        #expect(log.count == 1 && log[0].author == "Letterbox")
        #expect(log[0].files.contains(".gitignore") && log[0].files.contains("letterbox.yaml"))
        let status = try await Workplace.git(["status", "--porcelain"], in: folder + "/with")
        #expect(status.isEmpty, "\(status)")
        let ignore = try String(contentsOfFile: folder + "/with/.gitignore", encoding: .utf8)
        #expect(ignore.contains("/.letterbox/") && ignore.contains(".lb-tmp-") && ignore.contains("/site/*"))

        let bare = try await Workplace.letterbox(["init", "--no-git", folder + "/without"], in: folder)
        #expect(bare.status == 0, "\(bare.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/without/.git"))
    }
}
