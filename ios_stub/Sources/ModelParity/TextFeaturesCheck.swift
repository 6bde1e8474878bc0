/// Checks `TextFeatures` against scikit-learn on a fixture Python wrote ("mlexport-text-fixture" 1: documents, the
/// character tables once, and per vectorizer config its rules and scikit-learn's `build_analyzer()` term counts).
/// Used by `swift test` (the committed fixture) and by the `text-features-check` tool the Python suite runs.
import Foundation

public struct TextFixtureConfigResult: Codable, Equatable {
    public let name: String
    public let rows: Int
    public let agreeing: Int
    /// The first few disagreeing rows: index, expected and computed terms.
    public let mismatches: [String]
}

public enum TextFeaturesCheck {
    /// One result per config of the fixture at `data`.
    public static func run(fixture data: Data) throws -> [TextFixtureConfigResult] {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              root["format"] as? String == "mlexport-text-fixture", root["format_version"] as? Int == 1,
              let documents = root["documents"] as? [[String: Any]], let tables = root["tables"] as? [String: Any],
              let configs = root["configs"] as? [[String: Any]] else {
            throw TextFeaturesError("fixture: not an mlexport-text-fixture 1 file")
        }
        let texts = try documents.enumerated().map { (i, doc) -> String in
            guard let text = doc["text"] as? String else { throw TextFeaturesError("fixture: documents[\(i)].text") }
            if let points = doc["code_points"] as? [Int], text.unicodeScalars.map({ Int($0.value) }) != points {
                throw TextFeaturesError("fixture: documents[\(i)]: decoded text lost or changed scalars")
            }
            return text
        }
        return try configs.map { config in
            guard let name = config["name"] as? String, var rules = config["rules"] as? [String: Any],
                  let terms = config["terms"] as? [[String]], let counts = config["counts"] as? [[Int]],
                  terms.count == texts.count, counts.count == texts.count else {
                throw TextFeaturesError("fixture: a config lacks name/rules/terms/counts for every document")
            }
            for (key, value) in rules {  // table names -> the shared tables
                if let table = value as? String, key != "format", let shared = tables[table] { rules[key] = shared }
            }
            let features = try TextFeatures(rulesJSON: try JSONSerialization.data(withJSONObject: rules))
            var agreeing = 0
            var mismatches: [String] = []
            for (row, text) in texts.enumerated() {
                var expected: [[UInt32]: Double] = [:]
                for (term, count) in zip(terms[row], counts[row]) {
                    expected[term.unicodeScalars.map(\.value)] = Double(count)
                }
                let computed = features.termCounts(text)
                if computed == expected {
                    agreeing += 1
                } else if mismatches.count < 5 {
                    func show(_ counts: [[UInt32]: Double]) -> String {
                        counts.map { (k, v) in "\(String(String.UnicodeScalarView(k.compactMap(Unicode.Scalar.init)))):\(Int(v))" }
                            .sorted().joined(separator: " ")
                    }
                    mismatches.append("row \(row): expected [\(show(expected))] got [\(show(computed))]")
                }
            }
            return TextFixtureConfigResult(name: name, rows: texts.count, agreeing: agreeing, mismatches: mismatches)
        }
    }

    /// The text rows of a golden file (format_version 3): for every row and text feature, `TextFeatures(rules)
    /// .counts(text)` must equal the recorded counts — what the Core ML model is fed, computed by scikit-learn's own
    /// analyzer when the model was exported. `rules`: Core ML input name -> that column's TextFeatures (from the
    /// feature's `rules` file, NAME.text.json). One message per disagreeing row; empty when every row agrees.
    public static func goldenMismatches(_ golden: GoldenFile, rules: [String: TextFeatures]) throws -> [String] {
        var mismatches: [String] = []
        for (index, feature) in golden.input.features.enumerated() where feature.featureType == .text {
            let name = feature.coremlName ?? feature.name
            guard let features = rules[name] else {
                throw TextFeaturesError("no rules for text input \"\(name)\" (\(feature.rules ?? "NAME.text.json"))")
            }
            for row in golden.rows {
                guard case .text(let text, let expected) = row.inputs[index] else { continue }
                let computed = try features.counts(text)
                if computed != expected {
                    mismatches.append("row \(row.id) (\(row.probe)) input \"\(name)\": expected \(expected.count) "
                                      + "terms, TextFeatures gave \(computed.count) (\(row.inputs[index]))")
                }
            }
        }
        return mismatches
    }
}
