/// Checks tool arguments against the JSON Schema a runtime gave for them (docs/format.md §6.4).
///
/// The keywords tool schemas use are checked: `type` (one or a list), `properties`, `required`,
/// `additionalProperties` (false, or a schema), `items`, `enum`, `const`, `minimum`, `maximum`,
/// `minLength`, `maxLength`, `minItems`, `maxItems`, `anyOf`, `oneOf`. Other keywords (`$ref`,
/// `pattern`, `format`, ...) are not checked: the runtime still validates what it receives.
public enum ArgumentSchema {
    /// The first few problems of `value` against `schema`, each naming the path (`$.host`); empty when it fits.
    public static func problems(_ value: JSONValue, schema: JSONValue, limit: Int = 5) -> [String] {
        var found: [String] = []
        check(value, schema, path: "$", into: &found, limit: limit)
        return found
    }

    private static func check(
        _ value: JSONValue, _ schema: JSONValue, path: String, into found: inout [String], limit: Int
    ) {
        guard found.count < limit, case let .object(rules) = schema else { return }
        if let types = rules["type"] {
            let names: [String] =
                switch types {
                case let .string(name): [name]
                case let .array(list): list.compactMap { if case let .string(name) = $0 { name } else { nil } }
                default: []
                }
            let actual = value.typeName
            let fits = names.isEmpty || names.contains(actual) || (actual == "integer" && names.contains("number"))
            if !fits {
                found.append("\(path) is \(article(actual)), not \(names.map(article).joined(separator: " or "))")
                return
            }
        }
        if let allowed = rules["enum"], case let .array(options) = allowed,
            !options.contains(where: { same($0, value) })
        {
            found.append("\(path) must be one of \(options.map(\.jsonText).joined(separator: ", "))")
        }
        if let constant = rules["const"], !same(constant, value) {
            found.append("\(path) must be \(constant.jsonText)")
        }
        for keyword in ["anyOf", "oneOf"] {
            guard case let .array(choices)? = rules[keyword] else { continue }
            let fitting = choices.filter { problems(value, schema: $0, limit: 1).isEmpty }.count
            if keyword == "anyOf" ? fitting == 0 : fitting != 1 {
                found.append("\(path) matches \(fitting) of the \(choices.count) choices of \(keyword)")
            }
        }
        switch value {
        case let .object(members):
            let properties: [String: JSONValue] =
                if case let .object(properties)? = rules["properties"] { properties } else { [:] }
            if case let .array(required)? = rules["required"] {
                for case let .string(name) in required where members[name] == nil {
                    found.append("\(path).\(name) is required")
                }
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let rule = properties[name] {
                    check(member, rule, path: "\(path).\(name)", into: &found, limit: limit)
                } else if let extra = rules["additionalProperties"] {
                    if case .bool(false) = extra {
                        found.append("\(path).\(name) is not an argument of this tool")
                    } else {
                        check(member, extra, path: "\(path).\(name)", into: &found, limit: limit)
                    }
                }
            }
        case let .array(items):
            if case let .integer(least)? = rules["minItems"], items.count < least {
                found.append("\(path) needs at least \(least) items")
            }
            if case let .integer(most)? = rules["maxItems"], items.count > most {
                found.append("\(path) takes at most \(most) items")
            }
            if let rule = rules["items"] {
                for (index, item) in items.enumerated() {
                    check(item, rule, path: "\(path)[\(index)]", into: &found, limit: limit)
                }
            }
        case let .string(text):
            if case let .integer(least)? = rules["minLength"], text.count < least {
                found.append("\(path) needs at least \(least) characters")
            }
            if case let .integer(most)? = rules["maxLength"], text.count > most {
                found.append("\(path) takes at most \(most) characters")
            }
        case .integer, .number:
            let number = numeric(value) ?? 0
            if let least = rules["minimum"].flatMap(numeric), number < least {
                found.append("\(path) must be at least \(rules["minimum"]?.jsonText ?? "")")
            }
            if let most = rules["maximum"].flatMap(numeric), number > most {
                found.append("\(path) must be at most \(rules["maximum"]?.jsonText ?? "")")
            }
        case .null, .bool:
            break
        }
    }

    private static func numeric(_ value: JSONValue) -> Double? {
        switch value {
        case let .integer(number): Double(number)
        case let .number(number): number
        default: nil
        }
    }

    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = numeric(a), let y = numeric(b) { return x == y }
        return a == b
    }

    private static func article(_ type: String) -> String {
        switch type {
        case "null": "null"
        case "integer", "object", "array": "an \(type)"
        default: "a \(type)"
        }
    }
}
