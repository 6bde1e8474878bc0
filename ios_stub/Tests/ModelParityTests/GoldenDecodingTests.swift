/// Tests for golden.json decoding: the contract's value forms, and one clear error per kind of malformed file.
import Foundation
import XCTest
@testable import ModelParity

final class GoldenDecodingTests: XCTestCase {
    private typealias F = GoldenFixtures

    /// Asserts decoding fails with a GoldenError on `field` whose message contains `fragment`.
    private func assertRejects(_ text: String, field: String, containing fragment: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try F.decode(text), file: file, line: line) { error in
            guard let golden = error as? GoldenError else {
                return XCTFail("expected GoldenError, got \(type(of: error)): \(error)", file: file, line: line)
            }
            XCTAssertEqual(golden.field, field, "\(golden)", file: file, line: line)
            XCTAssertTrue(golden.description.contains(fragment), "\(golden) lacks \(fragment)", file: file, line: line)
            XCTAssertFalse(golden.description.contains("\n"), "one-line message: \(golden)", file: file, line: line)
        }
    }

    func testDecodesValidClassifier() throws {
        let golden = try F.golden(rows: [F.classifierRow(id: 7, probe: "thresholds")])
        XCTAssertEqual(golden.formatVersion, 1)
        XCTAssertEqual(golden.model.name, "iris_classifier")
        XCTAssertEqual(golden.model.task, .classifier)
        XCTAssertEqual(golden.input.kind, .namedDoubles)
        XCTAssertEqual(golden.input.features.map(\.coremlName), ["sepal_length__cm_", "petal_width"])
        XCTAssertEqual(golden.outputs.map(\.kind), [.label(.int64), .probabilities, .scores(width: 1)])
        XCTAssertEqual(golden.classLabels, [.int64(0), .int64(1), .int64(2)])
        XCTAssertEqual(golden.tolerances["classProbability"], .init(rtol: 1e-9, atol: 1e-12,
                                                                    reason: "tree leaves summed in a different order"))
        XCTAssertEqual(golden.tieTolerance, 1e-12)
        XCTAssertEqual(golden.rows.count, 1)
        let row = golden.rows[0]
        XCTAssertEqual(row.id, 7)
        XCTAssertEqual(row.probe, "thresholds")
        XCTAssertEqual(row.inputs, [5.1, 0.2])
        XCTAssertEqual(row.expected["classLabel"], .label(.int64(0)))
        XCTAssertEqual(row.expected["classProbability"], .values([0.7, 0.2, 0.1]))
        XCTAssertEqual(row.expected["prediction"], .values([2.0]))
    }

    func testNonFiniteNumbersAsStrings() throws {
        let golden = try F.golden(rows: [F.classifierRow(
            inputs: "[\"NaN\", \"-Infinity\"]", probabilities: "[\"NaN\", 0.5, 0.5]", prediction: "\"Infinity\"")])
        let row = golden.rows[0]
        XCTAssertTrue(try XCTUnwrap(row.inputs[0].doubleValue).isNaN)
        XCTAssertEqual(row.inputs[1], .double(-.infinity))
        guard case .values(let probabilities)? = row.expected["classProbability"] else { return XCTFail() }
        XCTAssertTrue(probabilities[0].isNaN)
        XCTAssertEqual(row.expected["prediction"], .values([.infinity]))
    }

    func testInt64LabelsKeepFull64BitPrecision() throws {
        // 2^53 + 1 is not representable as a Double: decoding through Double would turn it into 2^53.
        let big: Int64 = 9_007_199_254_740_993
        let golden = try F.golden(rows: [F.classifierRow(label: "\(big)", probabilities: "[0.5, 0.5]")],
                                  classLabels: "[0, \(big)]")
        XCTAssertEqual(golden.classLabels, [.int64(0), .int64(big)])
        XCTAssertEqual(golden.rows[0].expected["classLabel"], .label(.int64(big)))
    }

    func testStringLabels() throws {
        let outputs = """
            [{"name": "species", "kind": "label", "type": "string"},
             {"name": "speciesProbability", "kind": "probabilities"}]
            """
        let golden = try F.golden(
            rows: ["""
                {"id": 0, "probe": "user-data", "inputs": [1, 2],
                 "expected": {"species": "setosa", "speciesProbability": [0.9, 0.1]}}
                """],
            classLabels: "[\"setosa\", \"versicolor\"]", outputs: outputs,
            tolerances: "{\"speciesProbability\": {\"rtol\": 0, \"atol\": 1e-12}}")
        XCTAssertEqual(golden.classLabels, [.string("setosa"), .string("versicolor")])
        XCTAssertEqual(golden.rows[0].expected["species"], .label(.string("setosa")))
        XCTAssertNil(golden.tolerances["speciesProbability"]?.reason)
    }

    func testWidthNScoresAndMultiarrayInput() throws {
        let golden = try F.golden(
            rows: ["""
                {"id": 3, "probe": "extremes", "inputs": [1e308, -1e308],
                 "expected": {"transformed": [1.5, "NaN", -2]}}
                """],
            classLabels: "null",
            outputs: "[{\"name\": \"transformed\", \"kind\": \"scores\", \"width\": 3}]",
            tolerances: "{\"transformed\": {\"rtol\": 1e-12, \"atol\": 0}}",
            input: """
                {"kind": "multiarray", "multiarray_name": "input", "features": [{"name": "a"}, {"name": "b"}],
                 "dtype": "float32"}
                """)
        XCTAssertEqual(golden.input.kind, .multiarray)
        XCTAssertEqual(golden.input.multiarrayName, "input")
        XCTAssertEqual(golden.input.dtype, .float32)
        XCTAssertNil(golden.classLabels)
        guard case .values(let values)? = golden.rows[0].expected["transformed"] else { return XCTFail() }
        XCTAssertEqual(values.count, 3)
        XCTAssertEqual(values[0], 1.5)
        XCTAssertTrue(values[1].isNaN)
        XCTAssertEqual(values[2], -2)
    }

    // MARK: Malformed files

    func testMissingField() {
        let row = """
            {"id": 0, "inputs": [1, 2], "expected": {"classLabel": 0, "classProbability": [1, 0, 0], "prediction": 1}}
            """
        assertRejects(F.json(rows: "[\(row)]"), field: "rows[0].probe", containing: "missing required field")
        let noRows = F.json(rows: "[]").replacingOccurrences(of: "\"rows\": []", with: "\"rowz\": []")
        assertRejects(noRows, field: "rows", containing: "missing required field")
    }

    func testWrongTypes() {
        assertRejects(F.json(rows: "[\(F.classifierRow(inputs: "[5.1, \"abc\"]"))]"),
                      field: "rows[0].inputs[1]", containing: "got string \"abc\"")
        assertRejects(F.json(rows: "[\(F.classifierRow(inputs: "[5.1, null]"))]"),
                      field: "rows[0].inputs[1]", containing: "got null")
        assertRejects(F.json(tieTolerance: "\"small\"", rows: "[]"), field: "tie_tolerance", containing: "\"small\"")
        assertRejects(F.json(rows: "{\"id\": 0}"), field: "rows", containing: "expected an array")
        assertRejects(F.json(rows: "[\(F.classifierRow(label: "\"0\""))]"),
                      field: "rows[0].expected.classLabel", containing: "expected an integer label")
        assertRejects(F.json(rows: "[\(F.classifierRow(prediction: "[1, 2]"))]"),
                      field: "rows[0].expected.prediction", containing: "expected 1 values (output width), got 2")
    }

    func testBadFormatAndVersion() {
        assertRejects(F.json(formatVersion: "4", rows: "[]"), field: "format_version",
                      containing: "unsupported format_version 4; supported: 1, 2, 3")
        assertRejects(F.json(formatVersion: "\"1\"", rows: "[]"), field: "format_version", containing: "integer")
        assertRejects(F.json(format: "\"something-else\"", rows: "[]"), field: "format",
                      containing: "expected \"mlexport-golden\"")
        assertRejects("{\"format\": ", field: "", containing: "not valid JSON")
    }

    func testContractViolationsNameTheField() {
        assertRejects(F.json(outputs: "[{\"name\": \"x\", \"kind\": \"logits\"}]", rows: "[]"),
                      field: "outputs[0].kind", containing: "supported: \"label\", \"probabilities\", \"scores\"")
        assertRejects(F.json(outputs: "[{\"name\": \"x\", \"kind\": \"label\", \"type\": \"float\"}]", rows: "[]"),
                      field: "outputs[0].type", containing: "supported: \"int64\", \"string\"")
        assertRejects(F.json(input: "{\"kind\": \"image\", \"features\": [{\"name\": \"a\"}], \"dtype\": \"float64\"}",
                             rows: "[]"), field: "input.kind", containing: "image")
        assertRejects(F.json(input: "{\"kind\": \"multiarray\", \"features\": [{\"name\": \"a\"}], \"dtype\": \"float64\"}",
                             rows: "[]"), field: "input.multiarray_name", containing: "required")
        assertRejects(F.json(rows: "[\(F.classifierRow(inputs: "[1, 2, 3]"))]"),
                      field: "rows[0].inputs", containing: "has 3 values but input.features lists 2")
        assertRejects(F.json(rows: "[\(F.classifierRow(probabilities: "[0.5, 0.5]"))]"),
                      field: "rows[0].expected.classProbability", containing: "expected 3 probabilities")
        assertRejects(F.json(tolerances: "{\"prediction\": {\"rtol\": 0, \"atol\": 0}}", rows: "[]"),
                      field: "tolerances.classProbability", containing: "missing tolerance")
        assertRejects(F.json(tolerances: "{\"classProbability\": {\"rtol\": -1, \"atol\": 0}, "
                             + "\"prediction\": {\"rtol\": 0, \"atol\": 0}}", rows: "[]"),
                      field: "tolerances.classProbability.rtol", containing: "finite number >= 0")
        assertRejects(F.json(classLabels: "[\"a\", \"b\", \"c\"]", rows: "[]"),
                      field: "class_labels", containing: "type \"int64\" but class_labels are strings")
        assertRejects(F.json(classLabels: "null", rows: "[]"), field: "class_labels", containing: "needs class_labels")
        assertRejects(F.json(rows: "[\(F.classifierRow(id: 4)), \(F.classifierRow(id: 4))]"),
                      field: "rows[1].id", containing: "duplicate row id 4")
        let noPrediction = """
            {"id": 0, "probe": "p", "inputs": [1, 2], "expected": {"classLabel": 0, "classProbability": [1, 0, 0]}}
            """
        assertRejects(F.json(rows: "[\(noPrediction)]"), field: "rows[0].expected.prediction",
                      containing: "missing expected value")
    }

    func testLoadFromMissingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/golden.json")
        XCTAssertThrowsError(try GoldenFile.load(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dir/golden.json"), "\(error)")
        }
    }
}
