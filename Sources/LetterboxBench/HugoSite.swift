import ChatModel
import Foundation
import InboxStore

/// The synthetic inbox converted to a Hugo site with an equivalent thread page: one section per
/// thread, one content file per message (operator message or reply) with its author, time, state and
/// Markdown body, and a thread template that renders every message's Markdown in its own section,
/// as Letterbox's thread page does. Message pages themselves are not rendered (`_build.render: never`),
/// so both tools write one page per thread plus an index.
struct HugoSite {
    var inbox: String
    var destination: String

    func write() throws {
        try? FileManager.default.removeItem(atPath: destination)
        try FileSystem.createDirectory(destination + "/content/threads")
        try FileSystem.createDirectory(destination + "/layouts/_default")
        try write("config.toml", Self.config)
        try write("layouts/index.html", Self.home)
        try write("layouts/_default/list.html", Self.thread)
        try write("layouts/_default/single.html", Self.single)
        try write("content/threads/_index.md", "---\ntitle: Threads\n---\n")
        let workspace = try Workspace.locate(from: Workspace.absolute("..", base: inbox))
        for entry in try FileSystem.listTypes(inbox) where entry.type == .directory {
            let snapshot = try InboxReader.readThread(entry.name, in: workspace)
            let folder = "content/threads/\(entry.name)"
            try FileSystem.createDirectory(destination + "/" + folder)
            try write(folder + "/_index.md", "---\ntitle: \(CanonicalJSON.quoted(snapshot.title))\n---\n")
            var weight = 0
            for message in snapshot.state.messages {
                weight += 1
                try page(
                    folder, file: message.file, author: "operator", at: message.detectedAt,
                    state: message.delivery.name, weight: weight)
                for run in snapshot.state.runs(of: message) {
                    weight += 1
                    try page(
                        folder, file: run.file, author: run.agent, at: run.startedAt, state: run.status.rawValue,
                        weight: weight)
                }
            }
        }
    }

    /// One message as a content file; its body is the Markdown of the inbox file without front matter.
    private func page(_ folder: String, file: String, author: String, at: Timestamp, state: String, weight: Int)
        throws
    {
        let bytes = try FileSystem.readFile(
            inbox + "/" + folder.dropFirst("content/threads/".count) + "/" + file, maxBytes: 16 << 20)
        let text = try TextFile.decode(bytes)
        let body = (try? FrontMatter.split(text).body).map(String.init) ?? text
        let front = """
            ---
            title: \(CanonicalJSON.quoted(file))
            date: \(at.description)
            author: \(CanonicalJSON.quoted(author))
            file: \(CanonicalJSON.quoted(file))
            state: \(state)
            weight: \(weight)
            _build:
              render: never
              list: always
            ---

            """
        try write(folder + "/" + file.replacingOccurrences(of: ".", with: "-").dropLast(3) + ".md", front + body)
    }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: destination + "/" + path))
    }

    static let config = """
        baseURL = "/"
        title = "Synthetic inbox"
        disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
        [markup.goldmark.renderer]
        unsafe = false
        [markup.goldmark.extensions]
        table = true
        strikethrough = true
        linkify = true
        taskList = true

        """

    static let home = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{ .Site.Title }}</title></head>
        <body><main><h1>Threads</h1><ol>
        {{ with .Site.GetPage "/threads" }}{{ range .Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> · {{ len .Pages }} messages</li>
        {{ end }}{{ end }}</ol></main></body></html>

        """

    /// The thread page: every message in order, each rendered on its own, with its header.
    static let thread = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{ .Title }} · {{ .Site.Title }}</title></head>
        <body><main><article class="thread"><h1>{{ .Title }}</h1>
        {{ range .Pages.ByWeight }}<section class="message" id="m-{{ .File.ContentBaseName }}">
        <header><h2><span class="author">{{ .Params.author }}</span> <a class="permalink" href="#m-{{ .File.ContentBaseName }}"><code>{{ .Params.file }}</code></a></h2>
        <p class="meta"><time datetime="{{ .Date.Format "2006-01-02T15:04:05.000Z" }}">{{ .Date.Format "2006-01-02 15:04 UTC" }}</time> · <span class="state state-{{ .Params.state }}">{{ .Params.state }}</span></p></header>
        <div class="prose">{{ .Content }}</div>
        </section>
        {{ end }}</article></main></body></html>

        """

    static let single = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>{{ .Content }}</body></html>

        """
}
