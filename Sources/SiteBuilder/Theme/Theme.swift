import ChatModel
import InboxStore
import Mustache

/// The templates, assets and strings a site is built with: the built-in theme, with any file in the
/// workspace's theme folder replacing its built-in namesake (docs/site.md).
///
/// A page whose templates are all built-in is rendered by `CompiledTheme` (Swift, no Mustache); only a
/// page that uses an overridden template goes through Mustache, from the same typed views.
public struct Theme: Sendable {
    /// The compiled templates by name.
    let library: MustacheLibrary
    /// `assets/` files by name.
    let assets: [String: String]
    /// The UI strings.
    let strings: [String: String]
    /// A hash of everything above: when it changes, every page is rebuilt.
    public let fingerprint: String
    /// The names of templates a theme folder overrides.
    let overridden: Set<String>
    /// The tools the theme folder renders itself (`tools/NAME.mustache`), registered as `tools/NAME`.
    let toolTemplates: Set<String>
    /// The built-in templates as Swift; nil renders every page through Mustache (for the tests that
    /// compare the two).
    let compiled: CompiledTheme?

    /// The template that renders a thread page around message sections already rendered.
    static let threadAroundSections = "thread (rendered message sections)"

    /// Whether thread pages are built from message sections rendered one by one (and cached between
    /// builds): only with the built-in `thread`, `message` and `run` templates, whose message sections
    /// read nothing but the message's own context and `strings` (see `MessageSectionCache`).
    var rendersMessageSections: Bool { overridden.isDisjoint(with: ["thread", "message", "run"]) }

    /// A theme error: a template that does not compile, named with its file.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        public var message: String
        public var description: String { "\(file): \(message)" }
    }

    /// The built-in theme with overrides from `folder` (if any): `NAME.mustache`, `style.css`, `search.js`.
    /// `compiled: false` renders the built-in templates through Mustache too.
    public static func load(overrides folder: String?) throws -> Theme { try load(overrides: folder, compiled: true) }

    static func load(overrides folder: String?, compiled: Bool) throws -> Theme {
        HTML5ContentType.registerOnce()
        var sources = DefaultTemplates.all
        sources["auditRow"] = DefaultTemplates.auditRow
        sources["pager"] = DefaultTemplates.pager
        var assets = ["style.css": DefaultAssets.style, "search.js": DefaultAssets.search]
        let builtIn = sources
        var overridden: Set<String> = []
        if let folder, FileSystem.exists(folder) {
            for entry in try FileSystem.list(folder) where entry.type == .file {
                let text = try TextFile.decode(try FileSystem.readFile(folder + "/" + entry.name, maxBytes: 1 << 20))
                if entry.name.hasSuffix(".mustache") {
                    let name = String(entry.name.dropLast(".mustache".count))
                    guard sources[name] != nil else {
                        throw LoadError(
                            file: folder + "/" + entry.name,
                            message:
                                "no built-in template is called '\(name)' (templates: \(sources.keys.sorted().joined(separator: ", ")))"
                        )
                    }
                    sources[name] = text
                    // A copy of a built-in template is not an override.
                    if text != builtIn[name] { overridden.insert(name) }
                } else if assets[entry.name] != nil {
                    assets[entry.name] = text
                }
            }
        }
        let tools = try Self.toolTemplates(in: folder)
        for (name, text) in tools { sources["tools/" + name] = text }
        var library = MustacheLibrary()
        for (name, source) in sources.sorted(by: { $0.key < $1.key }) {
            do {
                try library.register(source, named: name)
            } catch {
                throw LoadError(
                    file: folder.map { "\($0)/\(name).mustache" } ?? "built-in \(name)", message: "\(error)")
            }
        }
        try library.register(DefaultTemplates.threadAroundSections, named: threadAroundSections)
        let material =
            sources.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }
            + assets.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }
        return Theme(
            library: library, assets: assets, strings: Strings.english,
            fingerprint: SHA256Hex.digest(material.joined(separator: "\u{1}")), overridden: overridden,
            toolTemplates: Set(tools.keys), compiled: compiled ? CompiledTheme(strings: Strings.english) : nil)
    }

    /// `tools/NAME.mustache` in the theme folder: one tool's own template (docs/site.md), by tool name.
    /// Escaping is HTML5 unless the file says otherwise, so a value in `{{…}}` is always escaped.
    static func toolTemplates(in folder: String?) throws -> [String: String] {
        guard let folder, FileSystem.exists(folder + "/tools") else { return [:] }
        var templates: [String: String] = [:]
        for entry in try FileSystem.list(folder + "/tools") where entry.type == .file {
            guard entry.name.hasSuffix(".mustache") else { continue }
            let name = String(entry.name.dropLast(".mustache".count))
            guard !name.isEmpty else { continue }
            let path = folder + "/tools/" + entry.name
            var text = try TextFile.decode(try FileSystem.readFile(path, maxBytes: 1 << 20))
            if !text.hasPrefix("{{%") { text = "{{% CONTENT_TYPE: HTML5}}" + text }
            templates[name] = text
        }
        return templates
    }

    /// `view` with each tool call that has a theme template rendered by it (`ToolCallView.custom`).
    func withToolTemplates(_ view: MessageView) -> MessageView {
        guard !toolTemplates.isEmpty else { return view }
        var view = view
        for run in view.runs.indices {
            for index in view.runs[run].toolCalls.indices {
                let call = view.runs[run].toolCalls[index]
                guard toolTemplates.contains(call.tool) else { continue }
                view.runs[run].toolCalls[index].custom = render(
                    "tools/" + call.tool, call.toolContext(strings: strings))
            }
        }
        return view
    }

    /// Renders template `name` with `context`.
    func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }

    /// The compiled theme, when none of `templates` is overridden.
    private func compiled(_ templates: Set<String>) -> CompiledTheme? {
        overridden.isDisjoint(with: templates) ? compiled : nil
    }

    // MARK: Pages

    func index(_ view: IndexView) -> [UInt8] {
        compiled(["index", "layout"])?.index(view) ?? Array(render("index", view.context(strings: strings)).utf8)
    }

    func indexItem(_ view: IndexItemView) -> String {
        if let compiled = compiled(["indexItem"]) { return String(decoding: compiled.indexItem(view), as: UTF8.self) }
        return render("indexItem", view.context(strings: strings))
    }

    /// One message's section, when thread pages are built from sections (`rendersMessageSections`).
    func messageSection(_ view: MessageView) -> [UInt8] {
        let view = withToolTemplates(view)
        if let compiled = compiled(["message", "run"]) { return compiled.message(view) }
        // The partial would find `strings` further down the context stack.
        return Array(render("message", view.context.merging(["strings": strings]) { own, _ in own }).utf8)
    }

    /// A thread page: around `sections` (one per message, from `messageSection`) when given, else
    /// through the `message` and `run` partials.
    func thread(_ view: ThreadView, sections: [[UInt8]]?) -> [UInt8] {
        guard let sections else {
            var view = view
            view.messages = view.messages.map(withToolTemplates)
            return Array(render("thread", view.context(strings: strings)).utf8)
        }
        if let compiled = compiled(["thread", "layout", "message", "run"]) {
            return compiled.thread(view, sections: sections)
        }
        let messages = zip(view.messages, sections).map { message, html in
            message.context.merging(["html": String(decoding: html, as: UTF8.self)]) { own, _ in own }
        }
        return Array(render(Self.threadAroundSections, view.context(strings: strings, messages: messages)).utf8)
    }

    func audit(_ view: AuditPageView) -> [UInt8] {
        compiled(["audit", "layout", "pager"])?.audit(view)
            ?? Array(render("audit", view.context(strings: strings)).utf8)
    }

    func status(_ view: StatusView) -> [UInt8] {
        compiled(["status", "layout"])?.status(view) ?? Array(render("status", view.context(strings: strings)).utf8)
    }

    func agents(_ view: AgentsView) -> [UInt8] {
        compiled(["agents", "layout"])?.agents(view) ?? Array(render("agents", view.context(strings: strings)).utf8)
    }

    func search(_ view: SearchPageView) -> [UInt8] {
        compiled(["search", "layout"])?.search(view) ?? Array(render("search", view.context(strings: strings)).utf8)
    }

    func feed(_ view: FeedView) -> [UInt8] {
        compiled(["feed"])?.feed(view) ?? Array(render("feed", view.context).utf8)
    }
}

/// HTML escaping on UTF-8 bytes: `& < > " '`, exactly what Mustache's HTML type escapes, without
/// its per-Character dictionary lookups. Templates select it with `{{% CONTENT_TYPE: HTML5}}`.
struct HTML5ContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { HTML.escape(text) }

    /// Registers the type under the name `HTML5`. Registration writes a global table in
    /// swift-mustache, so it happens once, before any rendering.
    static func registerOnce() { _ = registration }
    private static let registration: Void = MustacheContentTypes.register(HTML5ContentType(), named: "HTML5")
}

/// Escaping for text placed in HTML (element content and quoted attributes) and XML.
public enum HTML {
    /// `text` with `& < > " '` replaced by entities.
    public static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 38: out.append(contentsOf: "&amp;".utf8)
            case 60: out.append(contentsOf: "&lt;".utf8)
            case 62: out.append(contentsOf: "&gt;".utf8)
            case 34: out.append(contentsOf: "&quot;".utf8)
            case 39: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
