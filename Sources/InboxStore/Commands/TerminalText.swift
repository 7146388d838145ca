/// Text from files (names, reasons, journal fields) made safe to print on a terminal: control
/// characters, escape sequences and bidirectional overrides are shown as `\x1b`, `\u{202E}`, never
/// sent raw, so a file name cannot move the cursor, ring the bell, recolour the screen or reorder text.
public enum TerminalText {
    /// `text` with every character a terminal would act on written out instead.
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isActive) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isActive(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex.uppercased())}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the bidirectional formatting characters (and line separators).
    static func isActive(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
            return true
        default:
            return false
        }
    }
}
