/// A point in time as the journal writes it: RFC 3339, UTC, milliseconds (`2026-11-21T09:30:00.125Z`).
///
/// Stored as milliseconds since 1970 so that comparing and adding is exact; formatting and parsing
/// are pure integer arithmetic, so ChatModel never needs a clock or a locale.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (also accepts a `+00:00` offset). Nil for anything else.
    public init?(_ text: some StringProtocol) {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58 else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        let rest = b[i...]
        guard rest.elementsEqual("Z".utf8) || rest.elementsEqual("z".utf8) || rest.elementsEqual("+00:00".utf8) else {
            return nil
        }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        milliseconds = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffZ`.
    public var description: String {
        if let text = withDescriptionBytes({ String(decoding: $0, as: UTF8.self) }) { return text }
        // Years outside 0...9999 (never parsed from a journal; only from arithmetic) keep the general form.
        let (days, dayMillis) = milliseconds.floorDividedAndRemainder(by: 86_400_000)
        let (year, month, day) = Self.civilFromDays(days)
        let ms = dayMillis % 1000
        let seconds = dayMillis / 1000
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(ms, 3))Z"
    }

    /// Whether `text` is exactly `description` (how the journal's canonical form writes this time),
    /// without building the string.
    public func isDescription(of text: String?) -> Bool {
        guard var text else { return false }
        return text.withUTF8 { written in
            withDescriptionBytes { $0.elementsEqual(written) } ?? (written.elementsEqual(description.utf8))
        }
    }

    /// Calls `body` with the 24 bytes of `description` when the year has four digits; nil otherwise.
    private func withDescriptionBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let (days, dayMillis) = milliseconds.floorDividedAndRemainder(by: 86_400_000)
        let (year, month, day) = Self.civilFromDays(days)
        guard (0...9999).contains(year) else { return nil }
        let seconds = dayMillis / 1000
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            func put(_ value: Int64, at offset: Int, width: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(48 + value % 10)
                    value /= 10
                }
            }
            put(year, at: 0, width: 4)
            buffer[4] = 45
            put(month, at: 5, width: 2)
            buffer[7] = 45
            put(day, at: 8, width: 2)
            buffer[10] = 84
            put(seconds / 3600, at: 11, width: 2)
            buffer[13] = 58
            put(seconds / 60 % 60, at: 14, width: 2)
            buffer[16] = 58
            put(seconds % 60, at: 17, width: 2)
            buffer[19] = 46
            put(dayMillis % 1000, at: 20, width: 3)
            buffer[23] = 90
            return body(UnsafeBufferPointer(buffer))
        }
    }

    /// `YYYY-MM-DD HH:MM UTC`, for pages.
    public var shortDescription: String {
        let text = description
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }

    /// This time plus `milliseconds`.
    public func adding(milliseconds delta: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds + delta) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    private func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func floorDividedAndRemainder(by divisor: Int64) -> (Int64, Int64) {
        let q = self / divisor
        let r = self % divisor
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
