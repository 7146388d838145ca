import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// JSON in and out, with the API's error shapes.
enum JSONCoding {
    /// Sorted keys and unescaped slashes: the same value always encodes to the same bytes.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A JSON response.
    static func response(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encode(value))))
    }

    /// The JSON error response for an API error.
    static func errorResponse(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        let body = ErrorBody(error: .init(code: error.code, message: error.message))
        // Encoding two strings cannot fail; the fallback keeps the status if it ever did.
        return (try? response(body, status: error.status, headers: headers)) ?? Response(status: error.status)
    }

    /// Reads and decodes a JSON body, turning every failure into a 400 (or 413 when it is too big).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        guard let value = try await decodeIfPresent(type, from: request, limit: limit) else {
            throw APIError.badRequest("invalid_json", "the body is empty; it must be a JSON object")
        }
        return value
    }

    /// Decodes the body as `T`, or `nil` when there is no body (or only white space).
    static func decodeIfPresent<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "content_too_large", "the request body is over \(limit) bytes")
        }
        guard buffer.readableBytesView.contains(where: { !" \t\r\n".utf8.contains($0) }) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    private static func describe(_ error: DecodingError) -> APIError {
        func name(_ path: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            (path + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .badRequest("missing_field", "field '\(name(context.codingPath, key))' is required")
        case .valueNotFound(_, let context):
            return .badRequest("missing_field", "field '\(name(context.codingPath))' must not be null")
        case .typeMismatch(let type, let context):
            let expected = type == String.self ? "a string" : type == Bool.self ? "a boolean" : "\(type)"
            return .badRequest("invalid_field", "field '\(name(context.codingPath))' must be \(expected)")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .badRequest("invalid_json", "the body is not valid JSON")
        case .dataCorrupted(let context):
            return .badRequest("invalid_field", "field '\(name(context.codingPath))' has an invalid value")
        @unknown default:
            return .badRequest("invalid_json", "the body could not be read")
        }
    }
}

extension Request {
    /// A header's value by case-insensitive name (for names HTTPTypes has no constant for).
    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.canonicalName == lowered }?.value
    }
}
