import Foundation
import HTTPTypes
import NIOHTTP1
import Testing
import Yams

@testable import ReferenceRuntime

@Suite("docs/openapi.yaml agrees with the server")
struct OpenAPITests {
    static let document: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")

    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: document, encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect((root["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(root["paths"] as? [String: Any])
        var operations: Set<String> = []
        for (path, item) in paths {
            let methods = try #require(item as? [String: Any])
            for method in methods.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("The documented paths and methods are exactly the ones the server routes")
    func sameOperations() async throws {
        let served = Set(ExternalRoutes.endpoints.map { "\($0.method.rawValue) \($0.path)" })
        #expect(try Self.documentedOperations() == served)
        #expect(try Self.documentedOperations().allSatisfy { !$0.contains("/_reference") })
    }

    @Test("Every documented operation exists on a live server (never unknown_endpoint)")
    func liveServerServesEveryOperation() async throws {
        try await withRuntime { runtime in
            for operation in try Self.documentedOperations().sorted() {
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                let path = parts[1].replacingOccurrences(of: "{id}", with: "x")
                let reply = try await runtime.send(parts[0] == "GET" ? .GET : .POST, path, body: "{}")
                #expect(reply.errorCode != "unknown_endpoint", "\(operation): \(reply.text)")
            }
        }
    }

    @Test("Every documented schema name referenced by the operations is defined")
    func referencesResolve() throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let components = try #require(root["components"] as? [String: Any])
        var defined: Set<String> = []
        for (section, entries) in components {
            for name in (entries as? [String: Any] ?? [:]).keys { defined.insert("#/components/\(section)/\(name)") }
        }
        let references = text.matches(of: /\$ref: *['"]?([^'"\s]+)/).map { String($0.output.1) }
        #expect(!references.isEmpty)
        for reference in references {
            #expect(defined.contains(reference), "\(reference) is not defined")
        }
    }
}
