import Foundation
import Testing

/// Compares `actual` with `Snapshots/<name>`. When the file is missing or `RECORD_SNAPSHOTS=1`, writes
/// it and fails, so recording is never silent (as swift-argument-parser's `assertSnapshot` does).
func assertSnapshot(
    _ actual: String, named name: String, filePath: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let folder = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = folder.appendingPathComponent(name)
    let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
    guard !record, let expected = try? String(contentsOf: url, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? Data(actual.utf8).write(to: url)
        Issue.record("Recorded snapshot \(name); check it and run again.", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let common = min(expectedLines.count, actualLines.count)
        let index = (0..<common).first { expectedLines[$0] != actualLines[$0] } ?? common
        let want = index < expectedLines.count ? String(expectedLines[index]) : "<end>"
        let got = index < actualLines.count ? String(actualLines[index]) : "<end>"
        Issue.record(
            "\(name) differs at line \(index + 1):\n  expected: \(want)\n  actual:   \(got)\n(RECORD_SNAPSHOTS=1 to accept)",
            sourceLocation: sourceLocation)
    }
}

/// Every file under `root`, relative path -> bytes.
func tree(_ root: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return out }
    while let path = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue
        {
            out[path] = FileManager.default.contents(atPath: root + "/" + path)
        }
    }
    return out
}

/// Modification times of every file under `root`.
func mtimes(_ root: String) -> [String: Date] {
    var out: [String: Date] = [:]
    for path in tree(root).keys {
        out[path] = (try? FileManager.default.attributesOfItem(atPath: root + "/" + path)[.modificationDate]) as? Date
    }
    return out
}
