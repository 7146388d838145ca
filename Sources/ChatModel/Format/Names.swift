/// The name rules of format v1 (docs/format.md §3.1, §4.1).
public enum Names {
    /// The longest thread folder name.
    public static let maxThreadNameLength = 80
    /// The longest message id.
    public static let maxMessageIDLength = 120

    /// Whether `name` is a valid thread folder name: `[A-Za-z0-9][A-Za-z0-9._-]{0,79}`, not ending in `.`.
    public static func isValidThreadName(_ name: String) -> Bool {
        isSafeIdentifier(name, maxLength: maxThreadNameLength)
    }

    /// Whether `id` is a valid message id: `[A-Za-z0-9][A-Za-z0-9._-]{0,119}`, not ending in `.`.
    public static func isValidMessageID(_ id: String) -> Bool {
        isSafeIdentifier(id, maxLength: maxMessageIDLength)
    }

    /// The reason given for a bad thread folder name.
    public static let threadNameRule =
        "thread folder names use letters, digits, '.', '-' and '_', start with a letter or digit and are at most 80 characters; rename the folder"

    /// The reason given for a bad message file name.
    public static let messageNameRule =
        "message file names use letters, digits, '.', '-' and '_', start with a letter or digit, end in .md and are at most 120 characters before .md; rename the file"

    /// Makes a safe message id out of any text (a runtime's id, a title), or nil if nothing is left.
    ///
    /// Letters and digits are kept, runs of anything else become one `-`.
    public static func slug(_ text: String, maxLength: Int = 60) -> String? {
        var out: [UInt8] = []
        var pendingDash = false
        for byte in text.utf8 {
            if isAlphanumeric(byte) || byte == UInt8(ascii: "_") {
                if pendingDash && !out.isEmpty { out.append(UInt8(ascii: "-")) }
                pendingDash = false
                out.append(byte)
                if out.count >= maxLength { break }
            } else {
                pendingDash = true
            }
        }
        guard let first = out.first, isAlphanumeric(first) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    static func isSafeIdentifier(_ name: String, maxLength: Int) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= maxLength, isAlphanumeric(first) else { return false }
        guard bytes.last != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

extension String {
    /// Whether `self` sorts before `other` by UTF-8 bytes: the order of names in every listing, page
    /// and journal field. The same as `utf8.lexicographicallyPrecedes(other.utf8)`, compared over the
    /// bytes in place (a listing of 100,000 names spent a tenth of its time in the generic comparison).
    public func utf8Precedes(_ other: String) -> Bool {
        let fast = utf8.withContiguousStorageIfAvailable { a in
            other.utf8.withContiguousStorageIfAvailable { b -> Bool in
                let common = Swift.min(a.count, b.count)
                if common > 0, let x = a.baseAddress, let y = b.baseAddress {
                    for offset in 0..<common where x[offset] != y[offset] { return x[offset] < y[offset] }
                }
                return a.count < b.count
            }
        }
        if let fast, let result = fast { return result }
        return utf8.lexicographicallyPrecedes(other.utf8)
    }
}
