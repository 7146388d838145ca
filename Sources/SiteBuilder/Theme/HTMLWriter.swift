/// One output buffer that the compiled theme writes a page into: markup as it is, values escaped.
///
/// Escaping is the same as the `HTML5` content type's (`& < > " '`), done on bytes as they are
/// copied, so a page is built without intermediate strings.
struct HTMLWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// Markup written as it is.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Already-rendered HTML (cmark's output, a cached section), written as it is.
    mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    /// A value, escaped for element content and quoted attributes.
    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { Self.appendEscaped($0, to: &bytes) }
    }

    /// A whole number, as Mustache prints it.
    mutating func number(_ value: Int) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(48 + value))
        } else {
            raw(String(value))
        }
    }

    /// `source` with `& < > " '` replaced by entities, appended to `out`.
    static func appendEscaped(_ source: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var start = 0
        for index in 0..<source.count {
            let entity: StaticString
            switch source[index] {
            case 38: entity = "&amp;"
            case 60: entity = "&lt;"
            case 62: entity = "&gt;"
            case 34: entity = "&quot;"
            case 39: entity = "&#39;"
            default: continue
            }
            if index > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[start..<index])) }
            entity.withUTF8Buffer { out.append(contentsOf: $0) }
            start = index + 1
        }
        if start < source.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[start...])) }
    }
}
