/// golden.json version 4: a DictVectorizer model's rows hold the dict and what Core ML is fed for it — decoded, fed
/// as a Dictionary (the Linux stand-in: plumbing only), and refused in older versions.
import Foundation
import XCTest
@testable import ModelParity

private typealias F = GoldenFixtures

final class DictionaryGoldenTests: XCTestCase {
    static let input = """
        {"kind": "named", "dtype": "float64", "missing_string": "", "unicode": "NFC",
         "features": [{"name": "features", "coreml_name": "features", "type": "dictionary"}]}
        """
    static let outputs = "[{\"name\": \"classLabel\", \"kind\": \"label\", \"type\": \"string\"}]"
    static let rows = """
        [{"id": 0, "probe": "user-data", "inputs": [{"dictionary": {"age": 37.5, "owner": "yes", "unseen": 2},
                                                       "features": {"age": 37.5, "owner=yes": 1.0}}],
          "expected": {"classLabel": "yes"}},
         {"id": 1, "probe": "dictionaries", "inputs": [{"dictionary": {}, "features": {}}],
          "expected": {"classLabel": "no"}}]
        """

    static func golden(_ rows: String = rows, version: String = "4") throws -> GoldenFile {
        try F.decode(F.json(formatVersion: version, input: input, outputs: outputs, classLabels: "[\"no\", \"yes\"]",
                            tolerances: "{}", rows: rows))
    }

    func testDecodesDictionaryInputsAndFeedsTheKnownFeatures() throws {
        let golden = try Self.golden()
        XCTAssertEqual(golden.input.features.map(\.featureType), [.dictionary])
        XCTAssertEqual(golden.rows[0].inputs[0], .dictionary(["age": 37.5, "owner=yes": 1]))
        XCTAssertEqual(golden.rows[1].inputs[0], .dictionary([:]))
        let provider = try CoreMLPredictor.featureProvider(for: golden.rows[0].inputs, input: golden.input)
        let value = try XCTUnwrap(provider.featureValue(for: "features"))
        XCTAssertEqual(value.type, .dictionary)
        XCTAssertEqual(value.dictionaryValue as? [String: NSNumber], ["age": 37.5, "owner=yes": 1])
    }

    func testDictionaryNeedsVersion4AndAnObjectWithFeatures() throws {
        XCTAssertThrowsError(try Self.golden(version: "3")) { error in
            XCTAssertTrue("\(error)".contains("\"dictionary\" needs format_version 4"), "\(error)")
        }
        let flat = Self.rows.replacingOccurrences(of: "\"features\": {}", with: "\"features\": 3")
        XCTAssertThrowsError(try Self.golden(flat)) { error in
            XCTAssertTrue("\(error)".contains("rows[1].inputs[0]"), "\(error)")
        }
    }
}
