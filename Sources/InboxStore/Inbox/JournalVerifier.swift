public import ChatModel

/// Reads every journal of an inbox and verifies them together (`letterbox audit verify`, docs/format.md
/// §7.3): the pure checks are `JournalAudit`'s; this only reads the files, never writes.
public enum JournalVerifier {
    /// Verifies `workspace`'s journals. A journal that exists but cannot be read (not a regular file, a
    /// hard link) is a finding too.
    public static func verify(_ workspace: Workspace) throws(StoreError) -> JournalAudit.Report {
        guard let root = try FileSystem.entry(at: workspace.inbox), root.type == .directory else {
            throw StoreError(.notFound, "the inbox folder does not exist; run `letterbox init`", path: workspace.inbox)
        }
        var unreadable: [JournalAudit.Finding] = []
        func bytes(_ path: String, journal: String) -> [UInt8]? {
            do {
                guard try FileSystem.entry(at: path) != nil else { return nil }
                return try FileSystem.readFile(path, maxBytes: Int.max, beneath: workspace.inbox)
            } catch {
                unreadable.append(
                    JournalAudit.Finding(journal: journal, line: 1, message: "cannot be read: \(error.message)"))
                return []
            }
        }
        var threads: [String: [UInt8]] = [:]
        for entry in try FileSystem.listTypes(workspace.inbox) {
            guard case let .thread(id) = FileClassifier.classifyRoot(entry.name, type: entry.type) else { continue }
            if let journal = bytes(workspace.journalPath(thread: id), journal: id) { threads[id] = journal }
        }
        let inbox = bytes(workspace.inboxJournalPath, journal: "inbox")
        var report = JournalAudit.verify(inbox: inbox, threads: threads)
        let unreadableJournals = Set(unreadable.map(\.journal))
        report.findings.removeAll { unreadableJournals.contains($0.journal) }
        report.findings = (report.findings + unreadable).sorted { a, b in
            if (a.journal == "inbox") != (b.journal == "inbox") { return a.journal == "inbox" }
            return a.journal.utf8.lexicographicallyPrecedes(b.journal.utf8)
        }
        return report
    }

    /// The path of a finding's journal, relative to the workspace (`inbox/ops/journal.jsonl`).
    public static func path(of finding: JournalAudit.Finding, in workspace: Workspace) -> String {
        workspace.relative(
            finding.journal == "inbox" ? workspace.inboxJournalPath : workspace.journalPath(thread: finding.journal))
    }
}
