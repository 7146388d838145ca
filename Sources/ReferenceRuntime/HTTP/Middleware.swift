import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Outermost: turns every error into the API's JSON error shape and logs each request (never its headers).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = RuntimeRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = JSONCoding.errorResponse(error)
        } catch let error as HTTPError {
            response = JSONCoding.errorResponse(Self.apiError(for: error, request: request), headers: error.headers)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = JSONCoding.errorResponse(
                APIError(.internalServerError, "internal_error", "the reference runtime failed: \(error)"))
        }
        context.logger.debug(
            "request",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)",
            ])
        return response
    }

    static func apiError(for error: HTTPError, request: Request) -> APIError {
        if error.status == .notFound {
            return APIError(
                .notFound, "unknown_endpoint",
                "this runtime has no endpoint \(request.method) \(request.uri.path)")
        }
        return APIError(error.status, APIError.code(for: error.status), error.body ?? error.status.reasonPhrase)
    }
}

/// Counts requests per method and path for `GET /_reference/requests` (test control itself is not counted).
struct CountingMiddleware: RouterMiddleware {
    typealias Context = RuntimeRequestContext
    let book: FaultBook

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if !path.hasPrefix(TestControlRoutes.prefix) {
            await book.count(method: request.method.rawValue, path: path)
        }
        return try await next(request, context)
    }
}

/// Refuses requests without `Authorization: Bearer <token>` (401). Compares in constant time; never logs the token.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = RuntimeRequestContext
    let expected: [UInt8]

    init(token: String) {
        self.expected = Array("Bearer \(token)".utf8)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let given = request.headers[.authorization] else {
            return Self.refuse("this runtime needs an Authorization: Bearer <token> header")
        }
        guard Self.same(Array(given.utf8), expected) else { return Self.refuse("the bearer token is not valid") }
        return try await next(request, context)
    }

    private static func refuse(_ message: String) -> Response {
        JSONCoding.errorResponse(
            APIError(.unauthorized, "unauthorized", message), headers: [.wwwAuthenticate: "Bearer"])
    }

    private static func same(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
