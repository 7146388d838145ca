import ChatModel
import Foundation
import Yams

/// Validates JSON against the schemas of docs/openapi.yaml: the subset of JSON Schema it uses
/// (`$ref`, `allOf`, `oneOf`, `type` with 'null', `required`, `properties`, `additionalProperties: false`,
/// `items`, `enum`, `pattern`, `minimum`, `minLength`). Returns what is wrong, with a JSON path.
struct SchemaValidator {
    let schemas: [String: Any]

    init(openAPI path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = try Yams.load(yaml: text) as? [String: Any]
        schemas = ((document?["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
    }

    func validate(_ value: JSONValue, against name: String) -> [String] {
        guard let schema = schemas[name] else { return ["no schema \(name)"] }
        var problems: [String] = []
        check(value, schema, path: "$", into: &problems)
        return problems
    }

    private func resolve(_ schema: Any) -> [String: Any] {
        guard let schema = schema as? [String: Any] else { return [:] }
        if let ref = schema["$ref"] as? String, let target = schemas[String(ref.split(separator: "/").last ?? "")] {
            return resolve(target)
        }
        return schema
    }

    private func check(_ value: JSONValue, _ raw: Any, path: String, into problems: inout [String]) {
        let schema = resolve(raw)
        if let all = schema["allOf"] as? [Any] {
            for part in all { check(value, part, path: path, into: &problems) }
        }
        if let one = schema["oneOf"] as? [Any] {
            let matching = one.filter { option in
                var sub: [String] = []
                check(value, option, path: path, into: &sub)
                return sub.isEmpty
            }
            if matching.count != 1 { problems.append("\(path): matches \(matching.count) of oneOf, not 1") }
        }
        if let types = schema["type"] {
            let allowed = (types as? [Any] ?? [types]).compactMap { $0 as? String }
            let actual: [String]
            switch value {
            case .null: actual = ["null"]
            case .bool: actual = ["boolean"]
            case .integer: actual = ["integer", "number"]
            case .number: actual = ["number"]
            case .string: actual = ["string"]
            case .array: actual = ["array"]
            case .object: actual = ["object"]
            }
            if !allowed.contains(where: actual.contains) {
                problems.append("\(path): \(actual[0]) where \(allowed) is allowed")
                return
            }
        }
        if let values = schema["enum"] as? [Any], case let .string(text) = value,
            !values.contains(where: { ($0 as? String) == text })
        {
            problems.append("\(path): '\(text)' is not one of \(values)")
        }
        if case let .string(text) = value {
            if let pattern = schema["pattern"] as? String,
                text.range(of: pattern, options: .regularExpression) == nil
            {
                problems.append("\(path): '\(text)' does not match \(pattern)")
            }
            if let minimum = schema["minLength"] as? Int, text.count < minimum {
                problems.append("\(path): shorter than \(minimum)")
            }
        }
        if case let .integer(number) = value, let minimum = schema["minimum"] as? Int, number < minimum {
            problems.append("\(path): \(number) < \(minimum)")
        }
        if case let .array(items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                check(item, itemSchema, path: "\(path)[\(index)]", into: &problems)
            }
        }
        if case let .object(fields) = value {
            for key in (schema["required"] as? [String]) ?? [] where fields[key] == nil {
                problems.append("\(path): '\(key)' is missing")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (key, field) in fields {
                if let property = properties[key] {
                    check(field, property, path: "\(path).\(key)", into: &problems)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(path): '\(key)' is not allowed")
                }
            }
        }
    }
}
