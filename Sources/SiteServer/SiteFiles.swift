import ChatModel
import Foundation
import HTTPTypes
import Hummingbird
import InboxStore
import NIOCore

/// The site folder as the server sees it: URL paths to files, and files to responses.
struct SiteFiles: Sendable {
    /// The site folder (absolute).
    let site: String
    let maxBytes: Int

    /// What a URL path names in the site.
    enum Target: Equatable {
        /// A file (a folder's `index.html` for a path ending in `/`).
        case file(String)
        /// A folder named without the final `/`: redirected, so the pages' relative links resolve.
        case folder
    }

    /// What `urlPath` names, or nil when it may not name anything: `..` or `.` segments, hidden names
    /// (`.letterbox`, dotfiles), a backslash, NUL, or an invalid percent escape.
    func resolve(_ urlPath: String) -> Target? {
        guard let decoded = urlPath.removingPercentEncoding, !decoded.contains("\0") else { return nil }
        let segments = decoded.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments where segment.hasPrefix(".") || segment.contains("\\") { return nil }
        let path = site + (segments.isEmpty ? "" : "/" + segments.joined(separator: "/"))
        if decoded.hasSuffix("/") || segments.isEmpty { return .file(path + "/index.html") }
        if (try? FileSystem.entry(at: path))??.type == .directory { return .folder }
        return .file(path)
    }

    /// The bytes of the file at `path` (inside the site, no symlink on the way), or nil when there is none.
    func read(_ path: String) throws -> [UInt8]? {
        guard let entry = try FileSystem.entry(at: path), entry.type == .file else { return nil }
        return try FileSystem.readFile(path, maxBytes: maxBytes, beneath: site)
    }

    /// What changes when the file changes: its inode, size and modification time; nil when it is missing.
    func stamp(_ path: String) -> String? {
        guard let entry = try? FileSystem.entry(at: path), entry.type == .file else { return nil }
        return entry.stamp
    }

    /// The response for a GET of `urlPath`.
    func response(for urlPath: String) throws -> Response {
        let path: String
        switch resolve(urlPath) {
        case .folder?:
            var headers = HTTPFields()
            headers[.location] = urlPath + "/"
            return Response(status: .movedPermanently, headers: headers)
        case let .file(found)?:
            path = found
        case nil:
            throw HTTPError(.notFound)
        }
        let bytes: [UInt8]
        do {
            guard let found = try read(path) else { throw HTTPError(.notFound) }
            bytes = found
        } catch let error as StoreError {
            throw HTTPError(.forbidden, message: "\(error.message)\n")
        }
        let type = Self.contentType(of: path)
        var headers = Self.commonHeaders
        headers[.contentType] = type
        let body =
            type.hasPrefix("text/html") ? LiveReload.inject(into: bytes, version: LiveReload.version(of: bytes)) : bytes
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Every response: always revalidated (pages change under the preview), never sniffed, no referrer.
    static let commonHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-cache"
        for (name, value) in [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")] {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return headers
    }()

    /// The media type for a file name.
    static func contentType(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        // The site's feeds: feed.xml and threads/ID.xml.
        case "xml": return name == "feed.xml" || path.contains("/threads/") ? "application/atom+xml" : "application/xml"
        case "txt", "md": return "text/plain; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }
}
