import ChatModel
import Foundation

/// Small helpers shared by the page models.
enum Page {
    /// A path segment for a page name. Thread and message ids are already `[A-Za-z0-9._-]`, so this
    /// only guards against anything else reaching a URL.
    static func segment(_ id: String) -> String {
        if id.utf8.allSatisfy(isSafe) { return id }
        var safe = String.UnicodeScalarView()
        for scalar in id.unicodeScalars { safe.append(scalar.isASCII && isSafe(UInt8(scalar.value)) ? scalar : "_") }
        return String(safe)
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// The localized label of a delivery state.
    static func label(_ state: DeliveryState, _ strings: [String: String]) -> String {
        strings["state_\(state.name)"] ?? state.name
    }

    /// `1 message`, `12 messages`: the table's `KEY_one`, or `KEY_many` with `{n}` replaced.
    static func count(_ count: Int, _ key: String, _ strings: [String: String]) -> String {
        if count == 1, let one = strings["\(key)_one"] { return one }
        return (strings["\(key)_many"] ?? "{n}").replacingOccurrences(of: "{n}", with: String(count))
    }

    /// The localized label of a run status.
    static func label(_ status: RunStatus, _ strings: [String: String]) -> String {
        strings["run_\(status.rawValue)"] ?? status.rawValue
    }

    /// The policy every page carries in a meta tag: nothing from elsewhere, no inline script or style.
    static let contentSecurityPolicy =
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'"
}

/// A template context with absent values left out, so `{{#key}}` sections skip them.
///
/// Mustache sees an `Optional` boxed in `Any` as a value and prints "nil"; building contexts through
/// this type keeps optionals from ever reaching a template.
struct Context: ExpressibleByDictionaryLiteral {
    var values: [String: Any] = [:]

    init(dictionaryLiteral elements: (String, Any?)...) {
        for (key, value) in elements { if let value { values[key] = value } }
    }
}

/// A `[String: Any]` context from a literal whose absent values are dropped (see `Context`).
func compact(_ literal: Context) -> [String: Any] { literal.values }
