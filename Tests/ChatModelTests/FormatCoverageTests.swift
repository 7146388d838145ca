import Foundation
import Testing

/// docs/format.md is the single source of truth, and every rule in it has a test: each test names the
/// sections it covers ("§4.2 …"). This test fails for any section of the spec that no test names.
@Suite("docs/format.md coverage")
struct FormatCoverageTests {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }()

    @Test("Every numbered section of docs/format.md is named by at least one test")
    func everySectionIsTested() throws {
        let spec = try String(contentsOf: Self.repository.appendingPathComponent("docs/format.md"), encoding: .utf8)
        let sections = spec.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("## ") || line.hasPrefix("### ") else { return nil }
            let title = line.drop { $0 == "#" || $0 == " " }
            let number = title.prefix { $0.isNumber || $0 == "." }
            let trimmed = number.hasSuffix(".") ? number.dropLast() : number
            return trimmed.isEmpty ? nil : String(trimmed)
        }
        #expect(sections.count >= 20, "the spec's sections were not found: \(sections)")
        var tests = ""
        let enumerator = FileManager.default.enumerator(
            at: Self.repository.appendingPathComponent("Tests"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            tests += (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        }
        // A section counts as covered when a test names it or one of its subsections.
        let missing = sections.filter { section in
            !tests.contains("§\(section):") && !tests.contains("§\(section) ") && !tests.contains("§\(section),")
                && !tests.contains("§\(section).") && !tests.contains("§\(section))")
        }
        #expect(missing.isEmpty, "sections of docs/format.md that no test names: \(missing.map { "§\($0)" })")
    }
}
