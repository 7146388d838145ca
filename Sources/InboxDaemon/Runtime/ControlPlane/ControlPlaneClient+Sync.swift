import Foundation
import InboxCore
import NIOHTTP1

extension ControlPlaneClient: ThreadListing {
    public func threads() async throws(RuntimeError) -> [RemoteThread] {
        var threads: [RemoteThread] = []
        var cursor: String?
        repeat {
            let query =
                cursor.map { "?cursor=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0)" }
                ?? ""
            let response = try await http.send(.GET, "/external/chat/threads" + query)
            guard response.status == 200 else { throw HTTPTransport.error(for: response) }
            let page: ControlPlaneWire.Threads
            do {
                page = try Self.decoder.decode(ControlPlaneWire.Threads.self, from: Data(response.body))
            } catch {
                throw RuntimeError(.protocolViolation, "the runtime's thread list is not the documented JSON: \(error)")
            }
            threads += page.threads.map {
                RemoteThread(id: $0.id, title: $0.title, agent: $0.agentId, updatedAt: $0.updatedAt)
            }
            cursor = page.nextCursor
        } while cursor != nil && threads.count < 100_000
        return threads
    }

    public func messages(inThread id: String) async throws(RuntimeError) -> [RemoteMessage] {
        let escaped =
            id.addingPercentEncoding(
                withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
        let response = try await http.send(.GET, "/external/chat/threads/\(escaped)/messages?afterSeq=0")
        guard response.status == 200 else { throw HTTPTransport.error(for: response) }
        do {
            return try Self.decoder.decode(ControlPlaneWire.Messages.self, from: Data(response.body)).messages.map {
                RemoteMessage(
                    id: $0.id, seq: $0.seq, role: $0.role, content: $0.content ?? "", status: $0.status,
                    replyTo: $0.replyTo, clientMessageID: $0.clientMessageId)
            }
        } catch {
            throw RuntimeError(.protocolViolation, "the runtime's messages are not the documented JSON: \(error)")
        }
    }
}
