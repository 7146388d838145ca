import Foundation
import LetterboxTestSupport
import Testing

/// `make test`'s short fuzz pass: the seeded mutation loop of `letterbox-fuzz` over each target's committed
/// seeds (Tests/Fuzz/Corpus). `make fuzz` runs libFuzzer, 10^6 inputs per target (docs/reliability.md).
@Suite("Fuzz targets, short pass")
struct FuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus").path

    static let binary = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent()
        .appendingPathComponent("letterbox-fuzz").path

    @Test(
        "Each target survives its seeds and seeded mutations of them",
        arguments: ["front-matter", "journal-line", "sse", "approval-form", "filename"])
    func shortPass(target: String) async throws {
        let save = FileManager.default.temporaryDirectory.appendingPathComponent("lb-fuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: save) }
        let result = try await runProcess(
            Self.binary,
            [target, "--runs", "1000", "--seed", "20261127", "--corpus", Self.corpus + "/" + target, "--save", save])
        let crash = try? Data(contentsOf: URL(fileURLWithPath: save + "/crash-" + target))
        #expect(
            result.status == 0,
            "\(target) crashed on \(crash.map { String(decoding: $0, as: UTF8.self).debugDescription } ?? "?"): \(result.stderr.suffix(2000))"
        )
        #expect(result.stdout.contains("\(target): 10"), "\(result.stdout)")
        #expect(result.stdout.contains("0 crashes"))
    }
}
