/// golden.json version 2: named inputs of type double / int64 / string, string class labels — decoded, fed through
/// `CoreMLPredictor` (the Linux stand-in: plumbing only, never Core ML numerics) and checked by the comparison core.
import Foundation
import XCTest
@testable import ModelParity

private typealias F = GoldenFixtures

final class StringGoldenTests: XCTestCase {
    static let input = """
        {"kind": "named", "dtype": "float32", "missing_string": "", "unicode": "NFC",
         "features": [{"name": "city name", "coreml_name": "city_name", "type": "string"},
                      {"name": "rooms", "coreml_name": "rooms", "type": "int64"},
                      {"name": "area", "coreml_name": "area", "type": "double"}]}
        """
    static let outputs = """
        [{"name": "classLabel", "kind": "label", "type": "string"}, {"name": "classProbability", "kind": "probabilities"}]
        """
    static let tolerances = "{\"classProbability\": {\"rtol\": 1e-9, \"atol\": 1e-12}}"

    static func row(_ id: Int, _ inputs: String, label: String, probabilities: String) -> String {
        "{\"id\": \(id), \"probe\": \"string-categories\", \"inputs\": \(inputs), "
            + "\"expected\": {\"classLabel\": \"\(label)\", \"classProbability\": \(probabilities)}}"
    }

    static func golden(rows: [String], input: String = input, version: String = "2") throws -> GoldenFile {
        try F.decode(F.json(formatVersion: version, input: input, outputs: outputs, classLabels: "[\"no\", \"yes\"]",
                            tolerances: tolerances, rows: "[" + rows.joined(separator: ",") + "]"))
    }

    static let rows = [
        row(0, "[\"Zürich\", 3, 71.5]", label: "yes", probabilities: "[0.25, 0.75]"),
        row(1, "[\"\", 1, \"NaN\"]", label: "no", probabilities: "[0.5, 0.5]"),  // missing string + missing number
        row(2, "[\"NaN\", 2, 0.1]", label: "no", probabilities: "[0.9, 0.1]"),  // the three letters, not missing
    ]

    func testDecodesTypedNamedInputs() throws {
        let golden = try Self.golden(rows: Self.rows)
        XCTAssertEqual(golden.formatVersion, 2)
        XCTAssertEqual(golden.input.kind, .named)
        XCTAssertEqual(golden.input.features.map(\.featureType), [.string, .int64, .double])
        XCTAssertEqual(golden.input.features.map(\.coremlName), ["city_name", "rooms", "area"])
        XCTAssertEqual(golden.rows[0].inputs, [.string("Zürich"), .int64(3), .double(71.5)])
        XCTAssertEqual(golden.rows[1].inputs[0], .string(""))
        XCTAssertTrue(try XCTUnwrap(golden.rows[1].inputs[2].doubleValue).isNaN)
        XCTAssertEqual(golden.rows[2].inputs[0], .string("NaN"))
        XCTAssertEqual(golden.classLabels, [.string("no"), .string("yes")])
        XCTAssertEqual(golden.rows[0].expected["classLabel"], .label(.string("yes")))
    }

    func testTypedInputViolationsNameTheField() {
        func rejects(_ rows: [String], input: String = StringGoldenTests.input, version: String = "2",
                     field: String, containing: String, line: UInt = #line) {
            XCTAssertThrowsError(try Self.golden(rows: rows, input: input, version: version), line: line) { error in
                guard let error = error as? GoldenError else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(error.field, field, line: line)
                XCTAssertTrue(error.message.contains(containing), error.description, line: line)
            }
        }
        rejects([Self.row(0, "[3, 3, 1.0]", label: "no", probabilities: "[1, 0]")],
                field: "rows[0].inputs[0]", containing: "expected a string (string feature), got integer")
        rejects([Self.row(0, "[\"a\", 2.5, 1.0]", label: "no", probabilities: "[1, 0]")],
                field: "rows[0].inputs[1]", containing: "expected an integer (int64 feature), got number")
        rejects([Self.row(0, "[\"a\", 2, \"x\"]", label: "no", probabilities: "[1, 0]")],
                field: "rows[0].inputs[2]", containing: "got string \"x\"")
        rejects([], version: "1", field: "input.kind", containing: "needs format_version 2")
        rejects([], input: Self.input.replacingOccurrences(of: ", \"type\": \"int64\"", with: ""),
                field: "input.features[1].type", containing: "required when input.kind is \"named\"")
        rejects([], input: Self.input.replacingOccurrences(of: "\"missing_string\": \"\"",
                                                           with: "\"missing_string\": \"NA\""),
                field: "input.missing_string", containing: "must be \"\"")
        rejects([], input: Self.input.replacingOccurrences(of: "\"kind\": \"named\"", with: "\"kind\": \"multiarray\", "
                                                               + "\"multiarray_name\": \"input\""),
                field: "input.features[0].type", containing: "only kind \"named\" takes \"string\" features")
    }

    func testCoreMLPredictorFeedsStringInt64AndDoubleFeatures() throws {
        let golden = try Self.golden(rows: Self.rows)
        let nfd = "Zu\u{0308}rich"  // "Zürich" decomposed: an app must NFC-normalise what it feeds
        let provider = try CoreMLPredictor.featureProvider(for: [.string(nfd), .int64(3), .double(71.5)],
                                                           input: golden.input)
        XCTAssertEqual(provider.featureNames, ["city_name", "rooms", "area"])
        let city = try XCTUnwrap(provider.featureValue(for: "city_name"))
        XCTAssertEqual(city.type, .string)
        XCTAssertEqual(Array(city.stringValue.unicodeScalars), Array("Z\u{00FC}rich".unicodeScalars))
        XCTAssertEqual(provider.featureValue(for: "rooms")?.type, .int64)
        XCTAssertEqual(provider.featureValue(for: "rooms")?.int64Value, 3)
        XCTAssertEqual(provider.featureValue(for: "area")?.doubleValue, 71.5)
        XCTAssertThrowsError(try CoreMLPredictor.featureProvider(for: [.double(1), .int64(3), .double(71.5)],
                                                                 input: golden.input))
    }

    /// A column whose name is not a Swift identifier ("city name") reaches Core ML as its sanitised input
    /// (`coreml_name` "city_name"); the report and input errors show both names, unchanged names once.
    func testReportAndInputErrorsShowTrainedAndCoreMLNames() throws {
        let golden = try Self.golden(rows: Self.rows)
        XCTAssertEqual(golden.input.renamedFeatures.map(\.trained), ["city name"])
        XCTAssertEqual(golden.input.renamedFeatures.map(\.coreml), ["city_name"])
        let outputs: [[String: PredictedValue]] = Array(repeating: [
            "classLabel": .label(.string("yes")),
            "classProbability": .probabilities([.string("no"): 0.25, .string("yes"): 0.75])], count: 3)
        let report = ParityCheck.compare(golden, predictions: outputs, runtime: "replay")
        XCTAssertTrue(report.description.contains("(training column -> Core ML input): 'city name' -> city_name"),
                      report.description)
        XCTAssertFalse(report.description.contains("'rooms' ->"), report.description)
        XCTAssertThrowsError(try CoreMLPredictor.featureProvider(for: [.double(1), .int64(3), .double(71.5)],
                                                                 input: golden.input)) { error in
            XCTAssertTrue("\(error)".contains("input 'city name' (Core ML input city_name) is string"), "\(error)")
        }
        XCTAssertThrowsError(try CoreMLPredictor.featureProvider(for: [.string("a"), .string("3"), .double(71.5)],
                                                                 input: golden.input)) { error in
            XCTAssertTrue("\(error)".contains("input \"rooms\" is int64"), "\(error)")
        }
    }

    func testRunThroughStandInModelWithStringLabels() throws {
        let golden = try Self.golden(rows: Self.rows)
        // A fake "model" that reads the String feature: "yes" only for Zürich; probabilities from the same rule.
        let model = MLModel(standInPrediction: { features in
            let city = features.featureValue(for: "city_name")?.stringValue ?? "?"
            let yes = city == "Zürich"
            let p: [AnyHashable: NSNumber] = yes ? ["no": 0.25, "yes": 0.75]
                : city.isEmpty ? ["no": 0.5, "yes": 0.5] : ["no": 0.9, "yes": 0.1]
            return try MLDictionaryFeatureProvider(dictionary: [
                "classLabel": MLFeatureValue(string: yes ? "yes" : "no"),
                "classProbability": try MLFeatureValue(dictionary: p)])
        })
        let report = try ParityCheck.run(golden, predictor: CoreMLPredictor(model: model, label: "stand-in"))
        XCTAssertTrue(report.passed, "\(report)")
    }

    func testReplayReceivesTypedRowsWithDoublesOnTheContract() throws {
        let golden = try Self.golden(rows: Self.rows)
        let outputs: [[String: PredictedValue]] = [
            ["classLabel": .label(.string("yes")), "classProbability": .probabilities([.string("no"): 0.25,
                                                                                       .string("yes"): 0.75])],
            ["classLabel": .label(.string("yes")), "classProbability": .probabilities([.string("no"): 0.5,
                                                                                       .string("yes"): 0.5])],
            ["classLabel": .label(.string("yes")), "classProbability": .probabilities([.string("no"): 0.9,
                                                                                       .string("yes"): 0.1])],
        ]
        let replay = ReplayPredictor(recordedOutputs: outputs)
        let report = try ParityCheck.run(golden, predictor: replay)
        XCTAssertEqual(replay.receivedInputs[0], [.string("Zürich"), .int64(3), .double(71.5)])
        XCTAssertEqual(replay.receivedInputs[2][2], .double(Double(Float(0.1))), "float32 contract on doubles only")
        // Row 1 is a tie (0.5/0.5): "yes" is excused; row 2's "yes" is a real mismatch.
        XCTAssertFalse(report.passed)
        XCTAssertEqual(Set(report.failures.map(\.rowID)), [2])
    }

    /// The string-input golden file parity writes for a real churn model (tests/string_artifacts.py
    /// `write_churn_golden`): decoded, and its own expected values replayed through the core must pass.
    func testRealStringGoldenFileFromParity() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/churn_golden.json")
        let golden = try GoldenFile.load(contentsOf: url)
        XCTAssertEqual(golden.formatVersion, 2)
        XCTAssertEqual(golden.input.features.filter { $0.featureType == .string }.count, 3)
        XCTAssertTrue(golden.rows.contains { $0.inputs.contains(.string("")) }, "missing-string probe rows")
        XCTAssertTrue(golden.rows.contains { $0.probe == "string-categories" })
        let labels = try XCTUnwrap(golden.classLabels)
        XCTAssertEqual(labels, [.string("No"), .string("Yes")])
        let probabilities = try XCTUnwrap(golden.probabilitiesOutput)
        let replay = golden.rows.map { row in
            row.expected.mapValues { expected -> PredictedValue in
                switch expected {
                case .label(let label): return .label(label)
                case .values(let values):
                    return .probabilities(Dictionary(uniqueKeysWithValues: zip(labels, values)))
                }
            }
        }
        let predictor = ReplayPredictor(recordedOutputs: replay)
        XCTAssertTrue(try ParityCheck.run(golden, predictor: predictor).passed)
        XCTAssertEqual(predictor.receivedInputs.count, golden.rows.count)
        XCTAssertEqual(probabilities.name, "probs")
        // Flip one label: the core must notice (labels are exact unless the probabilities tie).
        var flipped = replay
        let row = try XCTUnwrap(golden.rows.firstIndex { row in
            guard case .values(let p)? = row.expected[probabilities.name] else { return false }
            return abs(p[0] - p[1]) > 0.1
        })
        guard case .label(.string(let label))? = flipped[row]["label"] else { return XCTFail("no label") }
        flipped[row]["label"] = .label(.string(label == "No" ? "Yes" : "No"))
        XCTAssertFalse(ParityCheck.compare(golden, predictions: flipped, runtime: "flipped").passed)
    }
}
