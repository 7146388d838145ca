internal import CCmarkGFM

#if canImport(Glibc)
    import Glibc
#endif

/// Renders untrusted Markdown to HTML with Debian's cmark-gfm, in safe mode only.
///
/// Safe mode replaces raw HTML with a comment and empties `javascript:`, `vbscript:`, `file:` and most
/// `data:` URLs. On top of that, links keep only `http:`, `https:`, `mailto:` and in-page `#` targets
/// (anything else becomes plain text), and remote images become links, because the site's
/// Content-Security-Policy loads nothing from elsewhere.
///
/// Not thread-safe: cmark-gfm's extensions share a global table that parsing mutates
/// (docs/architecture.md). Use one renderer on one thread; parallel builds use worker processes.
public final class MarkdownRenderer {
    static let extensionNames = ["table", "strikethrough", "autolink", "tagfilter", "tasklist"]

    public init() {
        cmark_gfm_core_extensions_ensure_registered()
    }

    /// The HTML for `markdown`.
    public func html(_ markdown: String) -> String {
        render(markdown) { document, extensions in
            cmark_render_html(document, CMARK_OPT_DEFAULT, extensions)
        }
    }

    /// Plain text for `markdown` (for search and feed summaries).
    public func plainText(_ markdown: String) -> String {
        render(markdown) { document, _ in
            cmark_render_plaintext(document, CMARK_OPT_DEFAULT, 0)
        }
    }

    private func render(
        _ markdown: String,
        _ output: (OpaquePointer?, UnsafeMutablePointer<cmark_llist>?) -> UnsafeMutablePointer<CChar>?
    ) -> String {
        guard let parser = cmark_parser_new(CMARK_OPT_DEFAULT) else { return "" }
        defer { cmark_parser_free(parser) }
        for name in Self.extensionNames {
            if let syntaxExtension = cmark_find_syntax_extension(name) {
                cmark_parser_attach_syntax_extension(parser, syntaxExtension)
            }
        }
        var bytes = Array(markdown.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    cmark_parser_feed(parser, $0, buffer.count)
                }
            }
        }
        guard let document = cmark_parser_finish(parser) else { return "" }
        defer { cmark_node_free(document) }
        restrictLinks(in: document)
        guard let rendered = output(document, cmark_parser_get_syntax_extensions(parser)) else { return "" }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    /// Unlinks disallowed links and turns remote images into links (or text).
    private func restrictLinks(in document: OpaquePointer) {
        var links: [OpaquePointer] = []
        var images: [OpaquePointer] = []
        guard let iterator = cmark_iter_new(document) else { return }
        defer { cmark_iter_free(iterator) }
        while true {
            let event = cmark_iter_next(iterator)
            if event == CMARK_EVENT_DONE { break }
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            switch cmark_node_get_type(node) {
            case CMARK_NODE_LINK: links.append(node)
            case CMARK_NODE_IMAGE: images.append(node)
            default: break
            }
        }
        for link in links {
            let url = cmark_node_get_url(link).map { String(cString: $0) } ?? ""
            if !Self.isAllowedLink(url) { unwrap(link) }
        }
        for image in images {
            let url = cmark_node_get_url(image).map { String(cString: $0) } ?? ""
            if Self.isInlineImage(url) { continue }
            guard Self.isAllowedLink(url), let link = cmark_node_new(CMARK_NODE_LINK) else {
                unwrap(image)
                continue
            }
            cmark_node_set_url(link, url)
            while let child = cmark_node_first_child(image) {
                cmark_node_unlink(child)
                cmark_node_append_child(link, child)
            }
            cmark_node_replace(image, link)
            cmark_node_free(image)
        }
    }

    /// Replaces `node` by its children.
    private func unwrap(_ node: OpaquePointer) {
        while let child = cmark_node_first_child(node) {
            cmark_node_unlink(child)
            cmark_node_insert_before(node, child)
        }
        cmark_node_unlink(node)
        cmark_node_free(node)
    }

    /// `http:`, `https:`, `mailto:` and in-page `#` links.
    static func isAllowedLink(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:")
            || (lower.hasPrefix("#") && lower.count > 1)
    }

    /// The `data:image/...` URLs cmark's safe mode keeps (png, gif, jpeg, webp).
    static func isInlineImage(_ url: String) -> Bool {
        let lower = url.lowercased()
        return ["png", "gif", "jpeg", "webp"].contains { lower.hasPrefix("data:image/\($0)") }
    }
}
