internal import Crypto

/// SHA-256 digests as lowercase hex, the form the journal and front matter use.
public enum SHA256Hex {
    /// The digest of `bytes`.
    public static func digest(_ bytes: some Collection<UInt8>) -> String {
        let digest: SHA256.Digest
        if let contiguous = bytes.withContiguousStorageIfAvailable({ SHA256.hash(data: UnsafeRawBufferPointer($0)) }) {
            digest = contiguous
        } else {
            digest = SHA256.hash(data: Array(bytes))
        }
        return hex(digest)
    }

    /// The digest of `text`'s UTF-8 bytes.
    public static func digest(_ text: String) -> String { digest(Array(text.utf8)) }

    /// Whether `hex` is the digest of `first` followed by `second` (a line without its `hash` field).
    public static func matches(_ hex: String, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer)
        -> Bool
    {
        var hasher = SHA256()
        hasher.update(bufferPointer: first)
        hasher.update(bufferPointer: second)
        let digest = hasher.finalize()
        guard hex.utf8.count == 64 else { return false }
        var index = hex.utf8.startIndex
        for byte in digest {
            guard hex.utf8[index] == digits[Int(byte >> 4)] else { return false }
            index = hex.utf8.index(after: index)
            guard hex.utf8[index] == digits[Int(byte & 15)] else { return false }
            index = hex.utf8.index(after: index)
        }
        return true
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ digest: SHA256.Digest) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
