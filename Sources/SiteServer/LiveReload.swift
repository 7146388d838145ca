import ChatModel

/// Live reload for served pages: what the server adds to an HTML page, and the script it serves.
///
/// The built site never contains any of this: pages on disk (and opened from `file://`) stay exactly
/// what `letterbox build` wrote. Only the copy the preview server sends gets, before `</head>`,
///
///     <script src="/_letterbox/live-reload.js" data-page-version="SHA256" defer></script>
///
/// and its Content-Security-Policy gets `connect-src 'self'`, which the script's `EventSource` needs
/// (the site's policy is `default-src 'none'`). No inline script: the script is a file the server
/// serves under `script-src 'self'`. `data-page-version` is the hash of the page as it was sent; the
/// script opens `/_letterbox/events?page=PATH&version=HASH`, and the server sends `event: reload`
/// as soon as the page on disk has another hash (also at once, if it changed in between).
public enum LiveReload {
    /// Where the script is served.
    public static let scriptPath = "/_letterbox/live-reload.js"
    /// The server-sent events endpoint.
    public static let eventsPath = "/_letterbox/events"

    /// The script: one `EventSource` per page, reloading when told to.
    public static let script = """
        // Letterbox preview (letterbox serve): reloads this page when it changes on disk.
        "use strict";
        (function () {
          var script = document.currentScript;
          if (!script || !window.EventSource) { return; }
          var query = "?page=" + encodeURIComponent(location.pathname) +
            "&version=" + encodeURIComponent(script.getAttribute("data-page-version") || "");
          var events = new EventSource("\(eventsPath)" + query);
          events.addEventListener("reload", function () {
            events.close();
            location.reload();
          });
        })();

        """

    /// The page's version: the SHA-256 of its bytes on disk.
    public static func version(of page: [UInt8]) -> String { SHA256Hex.digest(page) }

    /// The page as served: the script tag before `</head>` (or at the end when there is none), and
    /// `connect-src 'self'` in its Content-Security-Policy meta tag, if it has one.
    public static func inject(into page: [UInt8], version: String) -> [UInt8] {
        var bytes = allowingEventSource(page)
        let tag = Array(
            "<script src=\"\(scriptPath)\" data-page-version=\"\(version)\" defer></script>\n".utf8)
        if let head = firstRange(of: Array("</head>".utf8), in: bytes, caseInsensitive: true) {
            bytes.insert(contentsOf: tag, at: head.lowerBound)
        } else {
            bytes.append(contentsOf: tag)
        }
        return bytes
    }

    /// Adds `'self'` to the page's `connect-src`, or a `connect-src 'self'` directive, in the first
    /// `<meta http-equiv="Content-Security-Policy" content="...">`. Quotes are written as `&#39;`,
    /// which is what an attribute value may hold whichever way the page escaped its own.
    static func allowingEventSource(_ page: [UInt8]) -> [UInt8] {
        let marker = Array("http-equiv=\"content-security-policy\"".utf8)
        guard let meta = firstRange(of: marker, in: page, caseInsensitive: true),
            let contentStart = firstRange(of: Array("content=\"".utf8), in: page, from: meta.upperBound),
            let end = page[contentStart.upperBound...].firstIndex(of: UInt8(ascii: "\"")),
            // The content attribute must belong to the same tag.
            !page[meta.upperBound..<contentStart.lowerBound].contains(UInt8(ascii: ">"))
        else { return page }
        let policy = page[contentStart.upperBound..<end]
        var bytes = page
        if let connect = firstRange(of: Array("connect-src".utf8), in: Array(policy), caseInsensitive: true) {
            let at = contentStart.upperBound + connect.upperBound
            bytes.insert(contentsOf: Array(" &#39;self&#39;".utf8), at: at)
        } else {
            // After the last directive (an entity such as `&#39;` ends in `;` too, so only spaces are
            // trimmed; an empty directive from a policy that ends in `;` is ignored by browsers).
            let trailingSpaces = policy.reversed().prefix { $0 == UInt8(ascii: " ") }.count
            let at = end - trailingSpaces
            bytes.insert(contentsOf: Array("; connect-src &#39;self&#39;".utf8), at: at)
        }
        return bytes
    }

    /// The first occurrence of `needle` in `haystack` at or after `start`.
    static func firstRange(
        of needle: [UInt8], in haystack: [UInt8], from start: Int = 0, caseInsensitive: Bool = false
    ) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count - start >= needle.count else { return nil }
        func fold(_ byte: UInt8) -> UInt8 {
            caseInsensitive && byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }
        let first = fold(needle[0])
        var index = start
        while index <= haystack.count - needle.count {
            if fold(haystack[index]) == first {
                var matched = true
                for offset in 1..<needle.count where fold(haystack[index + offset]) != fold(needle[offset]) {
                    matched = false
                    break
                }
                if matched { return index..<(index + needle.count) }
            }
            index += 1
        }
        return nil
    }
}
