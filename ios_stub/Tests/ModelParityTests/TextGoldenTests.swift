/// golden.json version 3: a text column's rows hold the document and its term counts — decoded, fed to Core ML as a
/// Dictionary (the Linux stand-in: plumbing only), and checked against TextFeatures with the model's rules.
import Foundation
import XCTest
@testable import ModelParity

private typealias F = GoldenFixtures

final class TextGoldenTests: XCTestCase {
    static let input = """
        {"kind": "named", "dtype": "float64", "missing_string": "", "unicode": "NFC",
         "features": [{"name": "title", "coreml_name": "title", "type": "text", "rules": "m.text.json"},
                      {"name": "year", "coreml_name": "year", "type": "double"}]}
        """
    static let outputs = "[{\"name\": \"classLabel\", \"kind\": \"label\", \"type\": \"string\"}]"

    static func golden(_ rows: String, version: String = "3") throws -> GoldenFile {
        try F.decode(F.json(formatVersion: version, input: input, outputs: outputs, classLabels: "[\"a\", \"b\"]",
                            tolerances: "{}", rows: rows))
    }

    static let rows = """
        [{"id": 0, "probe": "text", "inputs": [{"text": "Ab ab cd", "counts": {"ab": 2, "cd": 1}}, 1990],
          "expected": {"classLabel": "a"}},
         {"id": 1, "probe": "text", "inputs": [{"text": "", "counts": {}}, 1991], "expected": {"classLabel": "b"}}]
        """

    /// Rules for lowercase 2+-character \w runs, built from the committed tokenizer fixture's tables.
    static func rules() throws -> TextFeatures {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/text_features.json")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: try Data(contentsOf: fixture)) as? [String: Any])
        let tables = try XCTUnwrap(root["tables"] as? [String: Any])
        var rules: [String: Any] = [
            "format": "mlexport-text-rules", "format_version": 1, "unicode_version": "test", "lowercase": true,
            "min_token_chars": 2, "ngram_range": [1, 1], "stop_words": [String](), "binary": false,
        ]
        for key in ["word_ranges", "lowercase_map", "sigma_skipped", "sigma_cased"] { rules[key] = tables[key]! }
        return try TextFeatures(rulesJSON: try JSONSerialization.data(withJSONObject: rules))
    }

    func testDecodesTextInputsAndFeedsTheCounts() throws {
        let golden = try Self.golden(Self.rows)
        XCTAssertEqual(golden.input.features.map(\.featureType), [.text, .double])
        XCTAssertEqual(golden.input.features[0].rules, "m.text.json")
        XCTAssertEqual(golden.rows[0].inputs[0], .text("Ab ab cd", counts: ["ab": 2, "cd": 1]))
        let provider = try CoreMLPredictor.featureProvider(for: golden.rows[0].inputs, input: golden.input)
        let counts = try XCTUnwrap(provider.featureValue(for: "title"))
        XCTAssertEqual(counts.type, .dictionary)
        XCTAssertEqual(counts.dictionaryValue as? [String: NSNumber], ["ab": 2, "cd": 1])
    }

    func testTextFeaturesAgreeWithTheRecordedCounts() throws {
        let golden = try Self.golden(Self.rows)
        XCTAssertEqual(try TextFeaturesCheck.goldenMismatches(golden, rules: ["title": try Self.rules()]), [])
        let wrong = try Self.golden(Self.rows.replacingOccurrences(of: "\"ab\": 2", with: "\"ab\": 1"))
        let mismatches = try TextFeaturesCheck.goldenMismatches(wrong, rules: ["title": try Self.rules()])
        XCTAssertEqual(mismatches.count, 1)
        XCTAssertTrue(mismatches[0].hasPrefix("row 0 (text) input \"title\""), mismatches[0])
        XCTAssertThrowsError(try TextFeaturesCheck.goldenMismatches(golden, rules: [:]))
    }

    func testTextNeedsVersionThreeAndAnObject() {
        XCTAssertThrowsError(try Self.golden(Self.rows, version: "2")) { error in
            XCTAssertEqual((error as? GoldenError)?.field, "input.features[0].type", "\(error)")
        }
        let plain = "[{\"id\": 0, \"probe\": \"text\", \"inputs\": [\"Ab\", 1990], \"expected\": {\"classLabel\": \"a\"}}]"
        XCTAssertThrowsError(try Self.golden(plain)) { error in
            XCTAssertEqual((error as? GoldenError)?.field, "rows[0].inputs[0]", "\(error)")
        }
    }
}
