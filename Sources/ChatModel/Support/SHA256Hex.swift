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
