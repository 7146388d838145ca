import HTTPTypes

/// An error the API answers with: a status and the JSON body `{"error": {"code": …, "message": …}}`.
struct APIError: Error, Equatable {
    var status: HTTPResponse.Status
    /// A stable machine code (`thread_not_found`).
    var code: String
    /// What went wrong and what to do, for a human.
    var message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }

    static func threadNotFound(_ id: String) -> APIError {
        APIError(.notFound, "thread_not_found", "there is no thread '\(id)'")
    }

    static func messageNotFound(_ id: String) -> APIError {
        APIError(.notFound, "message_not_found", "there is no message '\(id)'")
    }

    static func approvalNotFound(_ id: String) -> APIError {
        APIError(.notFound, "approval_not_found", "there is no approval '\(id)'")
    }

    /// The default code for a status, used for faults and framework errors.
    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 408: "request_timeout"
        case 409: "conflict"
        case 413: "content_too_large"
        case 422: "unprocessable"
        case 429: "rate_limited"
        case 500: "internal_error"
        case 501: "not_implemented"
        case 502: "bad_gateway"
        case 503: "unavailable"
        case 504: "gateway_timeout"
        default: status.code < 500 ? "client_error" : "server_error"
        }
    }
}

/// The JSON error body.
struct ErrorBody: Codable, Equatable {
    struct Detail: Codable, Equatable {
        var code: String
        var message: String
    }

    var error: Detail
}
