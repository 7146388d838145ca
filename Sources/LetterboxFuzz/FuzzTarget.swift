import ChatModel
import InboxCore

/// The parsers that read what others write (operators' files, journals, runtimes' streams), each as a
/// function of arbitrary bytes that must return, never crash, hang or break its own promises. A broken
/// promise is a `precondition` failure: a crash, for libFuzzer and for the mutation loop alike.
enum FuzzTarget: String, CaseIterable, Sendable {
    case frontMatter = "front-matter"
    case journalLine = "journal-line"
    case sse
    case approvalForm = "approval-form"
    case filename

    /// Runs one input.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .frontMatter: Self.frontMatter(bytes)
        case .journalLine: Self.journalLine(bytes)
        case .sse: Self.sse(bytes)
        case .approvalForm: Self.approvalForm(bytes)
        case .filename: Self.filename(bytes)
        }
    }

    /// Tokens the mutation loop splices in (libFuzzer finds them from coverage; a dictionary helps both).
    var dictionary: [String] {
        switch self {
        case .frontMatter:
            [
                "---\n", "...\n", "agent: ", "author: ", "title: ", "tags: ", "action: ", "target: ", "note: ", ": ",
                "\"", "'", "&a ", "*a", "!!str ", "[", "]", "{", "}", "- ", "\t", "\r\n", "# ", "|\n", ">\n", "12",
                "true",
                "~", "null", "\u{FEFF}", "\0",
            ]
        case .journalLine:
            [
                "{\"seq\":", "\"event\":\"", "\"actor\":\"daemon\"", "\"prev\":\"", "\"hash\":\"", "\"ts\":\"",
                "2026-11-21T09:30:00.125Z", "\"target\":\"", "\\u00", "\\n", "\"detail\":\"", "anchor", "detected",
                "accepted", ",", "}", "0000000000000000000000000000000000000000000000000000000000000000",
            ]
        case .sse:
            ["data: ", "data:", "event: ", "id: ", "retry: ", ": ", "\n", "\r\n", "\r", "\n\n", "\u{FEFF}", "{}"]
        case .approvalForm:
            [
                "- [x] Approve\n", "- [ ] Reject\n", "- [X] Reject\n", "* [x] approve\n", "```\n", "````\n", "~~~\n",
                "Note (optional, sent with your answer):\n", "Tick one box and save the file:\n", "---\n", "\r\n",
                "**Approve**", "  ",
            ]
        case .filename:
            [
                ".md", ".reply.md", ".reply-2.md", ".tool-1.md", ".approval-1.md", ".remote.md", ".draft.md", "~", "#",
                ".swp", "journal.jsonl", "thread.md", "controls", "drafts", ".", "-", "_", "\u{202E}", "\u{1B}[", "\n",
            ]
        }
    }

    // MARK: Targets

    /// Front matter through every schema, messages, thread.md, controls and letterbox.yaml.
    static func frontMatter(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for schema in [FrontMatterSchema.message, .thread, .control, .daemonFile] {
            do {
                let document = try FrontMatter.parse(text, schema: schema)
                for key in document.fields.keys {
                    precondition(schema.fields.contains { $0.key == key }, "a key outside the schema: \(key)")
                }
            } catch {
                check(error)
            }
        }
        do { _ = try OperatorMessage.parse(id: "fuzz", bytes: bytes) } catch { check(error) }
        do { _ = try ThreadMeta.parse(bytes: bytes) } catch { check(error) }
        do { _ = try ControlRequest.parse(fileName: "retry.md", bytes: bytes) } catch { check(error) }
        do { _ = try DaemonFile.parse(bytes: bytes) } catch { check(error) }
        do { _ = try WorkspaceConfig.parse(text) } catch { check(error) }
    }

    /// A journal line: what decodes re-encodes to the same bytes with the same hash; whole files read
    /// and verify without crashing.
    static func journalLine(_ bytes: [UInt8]) {
        if let entry = try? JournalCodec.decode(bytes) {
            precondition(JournalCodec.encode(entry) == bytes, "a decoded line is not its own canonical encoding")
            precondition(JournalCodec.hash(of: entry) == entry.hash, "a decoded line's hash is not its content's")
        }
        let text = JournalText.read(bytes)
        if let error = text.firstError { check(error) }
        let report = JournalAudit.verify(inbox: bytes, threads: ["ops": bytes])
        for finding in report.findings { precondition(finding.line >= 1 && !finding.message.isEmpty) }
    }

    /// Server-sent events: the same stream cut anywhere gives the same events (or the same refusal).
    static func sse(_ bytes: [UInt8]) {
        func parse(_ pieces: [ArraySlice<UInt8>]) -> [SSEEvent]? {
            var parser = SSEParser(maxLineBytes: 64)
            var events: [SSEEvent] = []
            do {
                for piece in pieces { events += try parser.feed(piece) }
            } catch {
                precondition(error.limit == 64 && error.prefix.count <= 256)
                return nil
            }
            events += parser.finish()
            return events
        }
        let whole = parse([bytes[...]])
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        var step = 1
        while start < bytes.count {
            let end = min(bytes.count, start + step)
            pieces.append(bytes[start..<end])
            start = end
            step = step % 7 + 1
        }
        let split = parse(pieces)
        precondition(whole == split, "the events depend on where the stream was cut")
    }

    /// An approval form: a fresh form is unanswered whatever the runtime asks; any saved text reads as
    /// one answer, no answer, or a reason.
    static func approvalForm(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let offer = ApprovalForm.Offer(decisions: Decision.allCases)
        if case let .invalid(reason) = ApprovalForm.read(text, offer: offer) { precondition(!reason.isEmpty) }
        let half = text.index(text.startIndex, offsetBy: text.count / 2)
        let fresh = ApprovalForm.body(
            prompt: String(text[..<half]), tool: "tool", arguments: String(text[half...]), decisions: Decision.allCases)
        precondition(
            ApprovalForm.read(fresh, offer: offer) == .unanswered,
            "a form the daemon wrote reads as answered or invalid: \(fresh)")
    }

    /// File names: every kind the classifier gives keeps its promises.
    static func filename(_ bytes: [UInt8]) {
        let name = String(decoding: bytes, as: UTF8.self)
        for type in [EntryType.file, .directory, .symlink, .other] {
            switch FileClassifier.classifyRoot(name, type: type) {
            case let .thread(id): precondition(id == name && type == .directory && Names.isValidThreadName(id))
            case .journal: precondition(name == FileClassifier.journalName && type == .file)
            case let .rejected(reason): precondition(!reason.isEmpty)
            case .ignored: break
            }
            for path in [[name], [FileClassifier.controlsFolder, name], [FileClassifier.draftsFolder, name]] {
                switch FileClassifier.classify(path, type: type) {
                case let .message(id):
                    precondition(type == .file && path.count == 1 && name == id + ".md" && Names.isValidMessageID(id))
                case .control:
                    precondition(type == .file && path.count == 2 && path[0] == FileClassifier.controlsFolder)
                case let .unsupported(reason):
                    precondition(!reason.isEmpty)
                case .reply, .toolCall, .approval, .remote:
                    precondition(type == .file && name.hasSuffix(".md") && !name.hasPrefix("."))
                default:
                    break
                }
            }
        }
    }

    /// A refusal is a located, worded error.
    static func check(_ error: FormatError) {
        precondition(!error.message.isEmpty, "an error without words")
        precondition(error.line.map { $0 >= 1 } ?? true, "an error at line \(error.line ?? 0)")
    }
}
