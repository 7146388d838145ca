/// Turns a file's bytes into text, or says clearly why it is not text (docs/format.md §4.3).
public enum TextFile {
    /// The default largest message, in bytes.
    public static let defaultMaxBytes = 1 << 20

    /// Decodes `bytes` as UTF-8 text of at most `maxBytes` bytes. A leading byte-order mark is dropped.
    public static func decode(_ bytes: [UInt8], maxBytes: Int = defaultMaxBytes) throws(FormatError) -> String {
        guard bytes.count <= maxBytes else {
            throw FormatError(
                .tooLarge,
                "the file is \(bytes.count) bytes, over the limit of \(maxBytes); split it into smaller messages")
        }
        var content = bytes[...]
        if content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }
        if let nul = content.firstIndex(of: 0) {
            throw FormatError(
                .binary,
                "this is a binary file (it holds a NUL byte); only UTF-8 Markdown text can be sent: "
                    + "save it as text, or move it out of the inbox",
                line: lineNumber(of: nul, in: content))
        }
        guard let text = String(validating: content, as: UTF8.self) else {
            let offset = firstInvalidUTF8(content)
            throw FormatError(
                .invalidEncoding,
                "the file is not valid UTF-8 (bad byte at offset \(offset - content.startIndex)); save it as UTF-8",
                line: lineNumber(of: offset, in: content))
        }
        return text
    }

    static func lineNumber(of offset: Int, in bytes: ArraySlice<UInt8>) -> Int {
        bytes[bytes.startIndex..<offset].reduce(1) { $1 == 10 ? $0 + 1 : $0 }
    }

    /// The index of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            let length: Int
            switch b {
            case 0..<0x80: length = 1
            case 0xC2..<0xE0: length = 2
            case 0xE0..<0xF0: length = 3
            case 0xF0..<0xF5: length = 4
            default: return i
            }
            guard i + length <= bytes.endIndex else { return i }
            if length > 1, String(validating: bytes[i..<i + length], as: UTF8.self) == nil { return i }
            i += length
        }
        return i
    }
}
