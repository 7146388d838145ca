import Testing

@testable import ChatModel

@Suite("File names (docs/format.md §2, §3, §4.1)")
struct FileClassifierTests {
    @Test(
        "§3.3 rules 1-3: editor artefacts are never messages",
        arguments: [
            ".hello.md.swp", ".hello.md.swx", ".#hello.md", "#hello.md#", "hello.md~", "4913", "5036", "5159",
            "hello.md.tmp", "hello.md.vsctmp", ".hello.md.nosync1234", ".lb-tmp-hello.reply.md.12.99", "hello.md.bak",
            "hello.md.orig", ".DS_Store", "hello.md.crdownload", "hello.md.part", "~",
        ])
    func editorArtefacts(name: String) {
        #expect(FileClassifier.classify([name], type: .file) == .artefact)
    }

    @Test("§3.3 rules 4-5: the journal and thread.md")
    func journalAndMeta() {
        #expect(FileClassifier.classify(["journal.jsonl"], type: .file) == .journal)
        #expect(FileClassifier.classify(["thread.md"], type: .file) == .threadMeta)
    }

    @Test(
        "§3.3 rules 6-7: drafts are never sent",
        arguments: [
            ["hello.draft.md"], ["drafts", "hello.md"], ["drafts", "deep", "x.md"], ["drafts"],
        ])
    func drafts(path: [String]) {
        let kind = FileClassifier.classify(path, type: path.count == 1 && path[0] == "drafts" ? .directory : .file)
        #expect(kind == .draft || (path == ["drafts"] && kind == .artefact))
    }

    @Test("§3.3 rule 8 and §8: control files live in controls/")
    func controls() {
        #expect(FileClassifier.classify(["controls", "abort.md"], type: .file) == .control(name: "abort.md"))
        #expect(
            FileClassifier.classify(["controls", "retry-hello.md"], type: .file) == .control(name: "retry-hello.md"))
        #expect(FileClassifier.classify(["controls", ".abort.md.swp"], type: .file) == .artefact)
        if case .unsupported = FileClassifier.classify(["controls", "abort.txt"], type: .file) {
        } else {
            Issue.record("abort.txt")
        }
    }

    @Test(
        "§3.3 rules 9-12: files the daemon writes",
        arguments: [
            ("hello.reply.md", FileKind.reply(message: "hello", index: 1)),
            ("hello.reply-2.md", .reply(message: "hello", index: 2)),
            ("hello.reply-17.md", .reply(message: "hello", index: 17)),
            ("hello.reply.tool-1.md", .toolCall(reply: "hello.reply", index: 1)),
            ("hello.reply-2.tool-3.md", .toolCall(reply: "hello.reply-2", index: 3)),
            ("hello.reply.approval-1.md", .approval(reply: "hello.reply", index: 1)),
            ("r-42.remote.md", .remote(id: "r-42.remote")),
            ("r-42.remote.reply.md", .reply(message: "r-42.remote", index: 1)),
        ])
    func daemonFiles(name: String, kind: FileKind) {
        #expect(FileClassifier.classify([name], type: .file) == kind)
        #expect(kind.isWrittenByDaemon)
        #expect(kind.fileID.map { $0 + ".md" } == name)
    }

    @Test(
        "§3.3 rule 13 and §4.1: operator messages and their ids",
        arguments: [
            "hello.md", "Q4-plan_v2.md", "2026.11.21-notes.md", "a.md", "hello.reply-1.md", "hello.reply-02.md",
        ])
    func messages(name: String) {
        #expect(FileClassifier.classify([name], type: .file) == .message(id: String(name.dropLast(3))))
    }

    @Test(
        "§3.3 rule 14: anything else is rejected with a reason",
        arguments: [
            ["notes.txt"], ["Hello World.md"], ["UPPER.MD"], ["-dash.md"], ["é.md"], ["sub"], ["sub", "x.md"],
            ["controls", "nested", "x.md"], [String(repeating: "a", count: 121) + ".md"], ["trailing..md"],
        ])
    func unsupported(path: [String]) {
        let type: EntryType = path == ["sub"] ? .directory : .file
        guard case let .unsupported(reason) = FileClassifier.classify(path, type: type) else {
            Issue.record("\(path) should be unsupported")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test("§3.3: symbolic links are refused")
    func symlinks() {
        guard case let .unsupported(reason) = FileClassifier.classify(["hello.md"], type: .symlink) else {
            Issue.record("symlink accepted")
            return
        }
        #expect(reason.contains("symbolic links"))
    }

    @Test(
        "§3.1: thread folder names",
        arguments: [
            ("ops", true), ("q4-planning", true), ("incident_2026.11", true), ("A", true),
            ("", false), ("-ops", false), (".hidden", false), ("two words", false), ("ops.", false), ("ünïcode", false),
            (String(repeating: "a", count: 80), true), (String(repeating: "a", count: 81), false),
        ])
    func threadNames(name: String, valid: Bool) {
        #expect(Names.isValidThreadName(name) == valid)
    }

    @Test("§2: the inbox root holds thread folders and the inbox journal")
    func root() {
        #expect(FileClassifier.classifyRoot("ops", type: .directory) == .thread("ops"))
        #expect(FileClassifier.classifyRoot("journal.jsonl", type: .file) == .journal)
        #expect(FileClassifier.classifyRoot(".git", type: .directory) == .ignored)
        #expect(FileClassifier.classifyRoot("notes.md~", type: .file) == .ignored)
        guard case .rejected = FileClassifier.classifyRoot("bad name", type: .directory),
            case .rejected = FileClassifier.classifyRoot("stray.md", type: .file),
            case .rejected = FileClassifier.classifyRoot("linked", type: .symlink)
        else {
            Issue.record("root rejections")
            return
        }
    }

    @Test("§6.3: remote ids are made safe")
    func slugs() {
        #expect(Names.slug("msg_01HZ:42/x") == "msg_01HZ-42-x")
        #expect(Names.slug("---") == nil)
        #expect(Names.slug("Hello, World!") == "Hello-World")
    }
}

@Suite("Name order")
struct NameOrderTests {
    @Test("utf8Precedes orders as the UTF-8 bytes do: ASCII, accents, emoji, prefixes, small and large strings")
    func utf8Order() {
        var rng = SplitMix64(seed: 0x0DE7)
        let alphabet: [String] = ["a", "b", "Z", "0", "-", ".", "_", "é", "e\u{301}", "😀", "ß", "\u{7F}", "~"]
        var names: [String] = [
            "", "a", "ab", "abc", String(repeating: "x", count: 40), String(repeating: "x", count: 41),
        ]
        for _ in 0..<400 {
            let length = Int(rng.next() % 24)
            names.append((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined())
        }
        let wrong = names.flatMap { a in
            names.prefix(60).filter { b in a.utf8Precedes(b) != a.utf8.lexicographicallyPrecedes(b.utf8) }.map {
                (a, $0)
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }
}
