import ChatModel
import Foundation
import Testing

@testable import InboxStore

/// A fresh folder per test, removed afterwards.
final class TempFolder {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }
}

let t0 = Timestamp(milliseconds: 1_795_000_000_000)

@Suite("Files on disk (docs/format.md §6, §7.1, §7.6)")
struct StoreTests {
    @Test("§6: a new file never replaces an existing one, and no temp file is left")
    func neverOverwrites() throws {
        let folder = try TempFolder()
        try folder.write("hello.reply.md", "operator's own file")
        #expect(throws: StoreError.self) {
            try DurableWriter.write(Array("daemon".utf8), to: folder.path + "/hello.reply.md", mode: .createNew)
        }
        #expect(try folder.read("hello.reply.md") == "operator's own file")
        let path = try DurableWriter.writeNew(
            Array("second".utf8), candidates: [folder.path + "/hello.reply.md", folder.path + "/hello.reply-2.md"])
        #expect(path.hasSuffix("hello.reply-2.md"))
        #expect(try FileSystem.list(folder.path).map(\.name) == ["hello.reply-2.md", "hello.reply.md"])
    }

    @Test("A quick replacement swaps the new file in, removes the old one, and refuses to replace a folder")
    func replaceQuickly() throws {
        let folder = try TempFolder()
        try DurableWriter.replaceQuickly(Array("first".utf8), at: folder.path + "/page.html")
        let before = try #require(try FileSystem.entry(at: folder.path + "/page.html"))
        try DurableWriter.replaceQuickly(Array("second, longer".utf8), at: folder.path + "/page.html")
        #expect(try folder.read("page.html") == "second, longer")
        #expect(
            try FileSystem.entry(at: folder.path + "/page.html")?.inode != before.inode, "a new file, not a rewrite")
        try FileManager.default.createDirectory(atPath: folder.path + "/taken.html", withIntermediateDirectories: false)
        try folder.write("taken.html/inside", "x")
        #expect(throws: StoreError.self) {
            try DurableWriter.replaceQuickly(Array("page".utf8), at: folder.path + "/taken.html")
        }
        #expect(try folder.read("taken.html/inside") == "x")
        #expect(try FileSystem.list(folder.path).map(\.name) == ["page.html", "taken.html"], "no temp file left")
    }

    @Test("§6: orphan temp files are swept; a live writer's temp file and everything else stay")
    func sweep() throws {
        let folder = try TempFolder()
        // pid 2^22+1 is above Linux's pid_max default, so no process has it.
        try folder.write(".lb-tmp-hello.reply.md.4194305.456", "half")
        try folder.write(".lb-tmp-thread.md.\(getpid()).789", "mid-write")
        try folder.write("hello.md", "keep")
        #expect(try DurableWriter.sweepTempFiles(in: folder.path) == 1)
        #expect(try FileSystem.list(folder.path).map(\.name) == [".lb-tmp-thread.md.\(getpid()).789", "hello.md"])
    }

    @Test("§3.3: symbolic links are never followed when reading")
    func symlinks() throws {
        let folder = try TempFolder()
        try folder.write("secret", "s")
        try FileManager.default.createSymbolicLink(
            atPath: folder.path + "/hello.md", withDestinationPath: folder.path + "/secret")
        #expect(throws: StoreError.self) { try FileSystem.readFile(folder.path + "/hello.md", maxBytes: 100) }
        #expect(try FileSystem.list(folder.path).first { $0.name == "hello.md" }?.type == .symlink)
    }

    @Test("Listing names and types without a stat per entry gives what the full listing gives")
    func listTypes() throws {
        let folder = try TempFolder()
        try folder.write("b.md", "b")
        try FileSystem.createDirectory(folder.path + "/a-thread")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/c", withDestinationPath: "b.md")
        let full = try FileSystem.list(folder.path).map { "\($0.name) \($0.type)" }
        let quick = try FileSystem.listTypes(folder.path).map { "\($0.name) \($0.type)" }
        #expect(quick == full)
        #expect(quick == ["a-thread directory", "b.md file", "c symlink"])
    }

    @Test("§7.1: appends chain onto what is already in the file, across reopenings")
    func appendAndReopen() throws {
        let folder = try TempFolder()
        let path = folder.path + "/journal.jsonl"
        var opened = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
        try opened.journal.append([(t0, .daemon, .authRecovered), (t0, .daemon, .runtimeRecovered)])
        opened = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
        #expect(opened.entries.count == 2)
        try opened.journal.append([(t0, .daemon, .daemonStopped(reason: nil))])
        let (entries, error) = InboxReader.readJournal(path, beneath: nil)
        #expect(error == nil)
        #expect(entries.map(\.seq) == [1, 2, 3])
        #expect(JournalText.verifyChain(entries) == nil)
    }

    @Test("§7: events the fold refuses are never staged, and the chain goes on from the last good line")
    func refusedEventsAreNotStaged() throws {
        struct Refused: Error {}
        let folder = try TempFolder()
        let path = folder.path + "/journal.jsonl"
        let journal = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0).journal
        try journal.append([(t0, .daemon, .authRecovered)])
        #expect(throws: Refused.self) {
            _ = try journal.stage([(t0, .daemon, .runtimeRecovered), (t0, .daemon, .authRecovered)]) { entry in
                if entry.seq == 3 { throw Refused() }
            }
        }
        #expect(!journal.hasStaged)
        try journal.append([(t0, .daemon, .runtimeRecovered)])
        let (entries, error) = InboxReader.readJournal(path, beneath: nil)
        #expect(error == nil)
        #expect(entries.map(\.event) == [.authRecovered, .runtimeRecovered])
        #expect(JournalText.verifyChain(entries) == nil)
    }

    @Test("§7.6: a torn last line is cut off, kept, and the repair journaled")
    func tornTailRepair() throws {
        let folder = try TempFolder()
        let path = folder.path + "/journal.jsonl"
        let opened = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
        try opened.journal.append([(t0, .daemon, .authRecovered)])
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"actor":"daemon","even"#.utf8))
        try handle.close()
        let repaired = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
        #expect(repaired.entries.count == 2)
        guard case let .journalRepaired(bytes, _, kept)? = repaired.entries.last?.event else {
            Issue.record("no repair event")
            return
        }
        #expect(bytes == 23)
        // The journal names the kept file by its name only: no machine path in a file git tracks.
        #expect(!kept.contains("/") && kept.hasSuffix(".torn"))
        #expect(repaired.repairedTo == folder.path + "/torn/" + kept)
        #expect(
            try String(contentsOfFile: folder.path + "/torn/" + kept, encoding: .utf8) == #"{"actor":"daemon","even"#)
        let (entries, error) = InboxReader.readJournal(path, beneath: nil)
        #expect(error == nil && JournalText.verifyChain(entries) == nil)
    }

    @Test("The temp-file sweep removes only Letterbox's own orphans, never an operator's file that looks like one")
    func sweepKeepsOperatorFiles() throws {
        let folder = try TempFolder()
        for name in [".lb-tmp-my-notes.md", ".lb-tmp-reply.md.notapid.12", ".lb-tmp-x.md.2147483000.77"] {
            try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path + "/" + name))
        }
        #expect(try DurableWriter.sweepTempFiles(in: folder.path) == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == [".lb-tmp-my-notes.md", ".lb-tmp-reply.md.notapid.12"])
    }

    @Test("§7.3: a bad line in the middle is never 'repaired': opening refuses, naming it")
    func tamperedRefused() throws {
        let folder = try TempFolder()
        let path = folder.path + "/journal.jsonl"
        let opened = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
        try opened.journal.append([(t0, .daemon, .authRecovered), (t0, .daemon, .runtimeRecovered)])
        var text = try folder.read("journal.jsonl")
        text = text.replacingOccurrences(of: "auth_recovered", with: "auth_recovereX")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try JournalFile.open(path: path, tornFolder: folder.path + "/torn", now: t0)
            Issue.record("opened")
        } catch let error as FormatError {
            #expect(error.line == 1)
            #expect(error.path == path)
        }
        #expect(try folder.read("journal.jsonl") == text)
    }

    @Test("§1: the workspace is found from a subfolder; --inbox overrides")
    func locate() throws {
        let folder = try TempFolder()
        try WorkspaceInitializer.create(in: folder.path, now: t0)
        let workspace = try Workspace.locate(from: folder.path + "/inbox/welcome")
        #expect(workspace.inbox == folder.path + "/inbox")
        #expect(workspace.site == folder.path + "/site")
        let other = try Workspace.locate(from: "/", inbox: folder.path + "/inbox")
        #expect(other.inbox == folder.path + "/inbox")
        #expect(throws: (any Error).self) { try Workspace.locate(from: "/") }
    }

    @Test("§1: init creates the documented layout and refuses to run twice")
    func initLayout() throws {
        let folder = try TempFolder()
        let created = try WorkspaceInitializer.create(in: folder.path, now: t0)
        #expect(
            Set(created) == [
                "inbox/welcome/thread.md", "inbox/welcome/hello.draft.md", "site/README.md", ".gitignore",
                "letterbox.yaml",
                "inbox/journal.jsonl",
            ])
        #expect(throws: StoreError.self) { try WorkspaceInitializer.create(in: folder.path, now: t0) }
        let snapshot = try InboxReader.read(try Workspace.locate(from: folder.path))
        #expect(snapshot.threads.map(\.id) == ["welcome"])
        #expect(snapshot.threads[0].state.messages.isEmpty, "the sample is a draft and must never be sent")
        #expect(snapshot.inbox.createdAt == t0)
    }

    @Test("§4.2: send writes a checked message under a free name and never replaces one")
    func send() throws {
        let folder = try TempFolder()
        try WorkspaceInitializer.create(in: folder.path, now: t0)
        let workspace = try Workspace.locate(from: folder.path)
        try WorkspaceInitializer.createThread("ops", title: nil, agent: "ops", in: workspace)
        #expect(try Outbox.send("hi", thread: "ops", name: nil, defaultStem: "s", in: workspace) == "inbox/ops/s.md")
        #expect(
            try Outbox.send("again", thread: "ops", name: nil, defaultStem: "s", in: workspace) == "inbox/ops/s-2.md")
        #expect(throws: StoreError.self) {
            try Outbox.send("x", thread: "ops", name: "s.md", defaultStem: "s", in: workspace)
        }
        #expect(throws: FormatError.self) {
            try Outbox.send("  ", thread: "ops", name: nil, defaultStem: "e", in: workspace)
        }
        #expect(throws: StoreError.self) {
            try Outbox.send("x", thread: "nope", name: nil, defaultStem: "s", in: workspace)
        }
        let state = try InboxReader.readThread("ops", in: workspace).state
        #expect(state.messages.map(\.id) == ["s", "s-2"])
        #expect(state.messages.allSatisfy { $0.delivery == .queued && $0.notYetSeen })
    }
}
