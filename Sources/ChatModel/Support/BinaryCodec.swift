/// A compact binary encoding for machine-local files (the site builder's manifest and thread cache,
/// worker results): varint integers and length-prefixed UTF-8 strings, written and read in a fixed order.
///
/// Not an interchange format: the files it writes are machine-local and carry a version, and a file
/// that does not decode is ignored (and rebuilt), never trusted. JSONDecoder spent most of a
/// no-change build reading the manifest (docs/benchmarks.md); this reads it in a few milliseconds.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func int(_ value: Int) { uint(UInt64(bitPattern: Int64(value))) }

    public mutating func int64(_ value: Int64) { uint(UInt64(bitPattern: value)) }

    public mutating func uint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { buffer in
            uint(UInt64(buffer.count))
            bytes.append(contentsOf: buffer)
        }
    }

    public mutating func data(_ value: [UInt8]) {
        uint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func optional<T>(_ value: T?, _ write: (inout ByteWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }

    public mutating func array<T>(_ values: [T], _ write: (inout ByteWriter, T) -> Void) {
        uint(UInt64(values.count))
        for value in values { write(&self, value) }
    }

    public mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }
}

/// Reads what `ByteWriter` wrote; any inconsistency throws `ByteReader.Malformed`.
public struct ByteReader {
    public struct Malformed: Error, CustomStringConvertible {
        public init() {}

        public var description: String { "a builder file is damaged or from another version" }
    }

    public let bytes: [UInt8]
    public var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func uint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw Malformed() }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    public mutating func int() throws(Malformed) -> Int { Int(Int64(bitPattern: try uint())) }

    public mutating func int64() throws(Malformed) -> Int64 { Int64(bitPattern: try uint()) }

    public mutating func bool() throws(Malformed) -> Bool {
        guard offset < bytes.count, bytes[offset] <= 1 else { throw Malformed() }
        offset += 1
        return bytes[offset - 1] == 1
    }

    public mutating func count() throws(Malformed) -> Int {
        let count = try uint()
        guard count <= UInt64(bytes.count - offset) else { throw Malformed() }
        return Int(count)
    }

    public mutating func string() throws(Malformed) -> String {
        let count = try count()
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }

    public mutating func data() throws(Malformed) -> [UInt8] {
        let count = try count()
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    public mutating func optional<T>(_ read: (inout ByteReader) throws(Malformed) -> T) throws(Malformed) -> T? {
        try bool() ? try read(&self) : nil
    }

    public mutating func array<T>(_ read: (inout ByteReader) throws(Malformed) -> T) throws(Malformed) -> [T] {
        // Every element takes at least one byte, which bounds the count before anything is allocated.
        let count = try count()
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }

    public mutating func strings() throws(Malformed) -> [String] { try array { r throws(Malformed) in try r.string() } }
}
