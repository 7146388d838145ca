import Testing

@testable import ChatModel

@Suite("JSON values: one reading of numbers for approvals, the site and the runtime protocols")
struct JSONValueTests {
    @Test(
        "A whole number within Int64 is an integer however it is written; anything else is a double",
        arguments: [
            ("3", JSONValue.integer(3)), ("3.0", .integer(3)), ("1e2", .integer(100)), ("-0", .integer(0)),
            ("-9223372036854775808", .integer(.min)), ("9223372036854775807", .integer(.max)),
            ("2.5", .number(2.5)), ("18446744073709551615", .number(18_446_744_073_709_551_615)),
            ("1e300", .number(1e300)), ("true", .bool(true)), ("0", .integer(0)),
        ])
    func numbers(text: String, value: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == value)
    }

    @Test("An integer written as 3.0 fits `integer`, and a keyword written as 2.0 still applies")
    func schemaIntegers() throws {
        let schema = try JSONValue(
            parsing:
                #"{"type":"object","properties":{"retries":{"type":"integer","minimum":1},"hosts":{"type":"array","minItems":2.0}}}"#
        )
        #expect(
            ArgumentSchema.problems(try JSONValue(parsing: #"{"retries":3.0,"hosts":["a","b"]}"#), schema: schema)
                .isEmpty)
        #expect(
            ArgumentSchema.problems(try JSONValue(parsing: #"{"retries":3,"hosts":["a"]}"#), schema: schema)
                == ["$.hosts needs at least 2 items"])
    }
}
