/// What an entry in a thread folder is, decided by its name alone (docs/format.md §3.3).
public enum FileKind: Hashable, Sendable {
    /// An editor artefact or dotfile: ignored.
    case artefact
    /// The thread journal, `journal.jsonl`.
    case journal
    /// `thread.md`: the thread's title, agent, tags and description.
    case threadMeta
    /// A draft (`*.draft.md` or under `drafts/`): never sent.
    case draft
    /// A control file under `controls/`, named by its file name.
    case control(name: String)
    /// A reply the daemon wrote to message `message`; `index` 1 is `.reply.md`, N is `.reply-N.md`.
    case reply(message: String, index: Int)
    /// A tool call record of the reply whose id is `reply`.
    case toolCall(reply: String, index: Int)
    /// An approval request of the reply whose id is `reply`.
    case approval(reply: String, index: Int)
    /// A message pulled from the runtime; `id` ends in `.remote`.
    case remote(id: String)
    /// An operator message with this id.
    case message(id: String)
    /// Something Letterbox does not read; `reason` says what to do.
    case unsupported(reason: String)

    /// Whether the daemon writes files of this kind (so an operator may not create one).
    public var isWrittenByDaemon: Bool {
        switch self {
        case .reply, .toolCall, .approval, .remote: true
        default: false
        }
    }

    /// The id of a daemon-written file or message: its file name without `.md`.
    public var fileID: String? {
        switch self {
        case let .reply(message, index): Self.replyID(message: message, index: index)
        case let .toolCall(reply, index): "\(reply).tool-\(index)"
        case let .approval(reply, index): "\(reply).approval-\(index)"
        case let .remote(id), let .message(id): id
        default: nil
        }
    }

    /// The id of reply number `index` to `message`: `hello.reply`, `hello.reply-2`, ...
    public static func replyID(message: String, index: Int) -> String {
        index == 1 ? "\(message).reply" : "\(message).reply-\(index)"
    }
}

/// The type of a directory entry, as `lstat` reports it.
public enum EntryType: Sendable, Hashable {
    case file, directory, symlink, other
}

/// Classifies names in an inbox (docs/format.md §2, §3.3). Pure: names in, kinds out.
public enum FileClassifier {
    /// The name of a journal file.
    public static let journalName = "journal.jsonl"
    /// The name of a thread's metadata file.
    public static let threadMetaName = "thread.md"
    /// The folder under a thread that holds drafts.
    public static let draftsFolder = "drafts"
    /// The folder under a thread that holds control files.
    public static let controlsFolder = "controls"
    /// The prefix of the daemon's temp files.
    public static let tempPrefix = ".lb-tmp-"

    private static let artefactSuffixes = [".swp", ".swx", ".tmp", ".vsctmp", ".bak", ".orig", ".crdownload", ".part"]

    /// What a top-level entry of the inbox root is.
    public enum RootEntry: Hashable, Sendable {
        case thread(String)
        case journal
        case ignored
        case rejected(reason: String)
    }

    /// Classifies an entry directly in the inbox root.
    public static func classifyRoot(_ name: String, type: EntryType) -> RootEntry {
        if name.hasPrefix(".") { return .ignored }
        switch type {
        case .directory:
            return Names.isValidThreadName(name) ? .thread(name) : .rejected(reason: Names.threadNameRule)
        case .file where name == journalName:
            return .journal
        case .file where name == DeliveryLease.fileName:
            // The delivery lease (docs/format.md, "The delivery lease"): the daemon's, not a message.
            return .ignored
        case .symlink:
            return .rejected(reason: "symbolic links are not followed; move the folder into the inbox instead")
        case .other:
            if isEditorArtefact(name) { return .ignored }
            return .rejected(
                reason:
                    "is not a regular file or a folder (a named pipe, socket or device), so it is never opened; remove it"
            )
        case .file:
            if isEditorArtefact(name) { return .ignored }
            return .rejected(reason: "only thread folders belong in the inbox root; put messages in a thread folder")
        }
    }

    /// Classifies an entry inside a thread folder, given its path components relative to the folder.
    public static func classify(_ components: [String], type: EntryType) -> FileKind {
        guard let name = components.last, !components.isEmpty else { return .artefact }
        if components.contains(where: { $0.hasPrefix(".") }) || isEditorArtefact(name) { return .artefact }
        if components.first == draftsFolder { return .draft }
        if type == .symlink {
            return .unsupported(reason: "symbolic links are not followed; copy the file instead")
        }
        if type == .other {
            return .unsupported(
                reason: "is not a regular file (a named pipe, socket or device), so it is never opened; remove it")
        }
        if components.count == 1 && type == .directory {
            if name == draftsFolder || name == controlsFolder { return .artefact }
            return .unsupported(
                reason: "only drafts/ and controls/ folders belong in a thread folder; move this folder out")
        }
        if components.count == 2 && components[0] == controlsFolder {
            guard type == .file else { return .unsupported(reason: "controls/ holds only .md control files") }
            guard name.hasSuffix(".md"), Names.isValidMessageID(String(name.dropLast(3))) else {
                return .unsupported(
                    reason: "control files are .md files named like abort.md or retry-hello.md; rename it")
            }
            return .control(name: name)
        }
        guard components.count == 1, type == .file else {
            return .unsupported(reason: "only drafts/ and controls/ folders belong in a thread folder; move this out")
        }
        return classifyThreadFile(name)
    }

    /// Whether a name is an editor artefact (rules 1-3 of §3.3), never a message.
    public static func isEditorArtefact(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix(".") || name.hasSuffix("~") { return true }
        if name.count >= 2 && name.hasPrefix("#") && name.hasSuffix("#") { return true }
        if artefactSuffixes.contains(where: { name.hasSuffix($0) }) { return true }
        return name.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func classifyThreadFile(_ name: String) -> FileKind {
        if name == journalName { return .journal }
        if name == threadMetaName { return .threadMeta }
        guard name.hasSuffix(".md") else {
            return .unsupported(reason: "only .md files are messages; rename it to end in .md to send it")
        }
        let stem = String(name.dropLast(3))
        if stem.hasSuffix(".draft") { return .draft }
        guard Names.isValidMessageID(stem) else { return .unsupported(reason: Names.messageNameRule) }
        if let (base, index) = numberedSuffix(stem, marker: ".reply", allowBare: true), index != 0 {
            return .reply(message: base, index: index)
        }
        if let (base, index) = numberedSuffix(stem, marker: ".tool", allowBare: false) {
            return .toolCall(reply: base, index: index)
        }
        if let (base, index) = numberedSuffix(stem, marker: ".approval", allowBare: false) {
            return .approval(reply: base, index: index)
        }
        if stem.hasSuffix(".remote") { return .remote(id: stem) }
        return .message(id: stem)
    }

    /// Splits `hello.reply-2` into (`hello`, 2); `hello.reply` into (`hello`, 1) when `allowBare`.
    private static func numberedSuffix(_ stem: String, marker: String, allowBare: Bool) -> (String, Int)? {
        if allowBare, stem.hasSuffix(marker) {
            let base = String(stem.dropLast(marker.count))
            return base.isEmpty ? nil : (base, 1)
        }
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let digits = stem[stem.index(after: dash)...]
        guard !digits.isEmpty, digits.count <= 6, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            digits.first != "0", let index = Int(digits)
        else { return nil }
        let head = stem[..<dash]
        guard head.hasSuffix(marker) else { return nil }
        let base = String(head.dropLast(marker.count))
        guard !base.isEmpty else { return nil }
        if marker == ".reply" && index < 2 { return nil }
        return (base, index)
    }
}
