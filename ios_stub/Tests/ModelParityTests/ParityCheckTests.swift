/// Tests for the comparison core: every golden.md rule, at its edges, with hand-computed expectations.
import Foundation
import XCTest
@testable import ModelParity

final class ParityCheckTests: XCTestCase {
    private typealias F = GoldenFixtures

    private func report(_ golden: GoldenFile, _ outputs: [[String: PredictedValue]]) -> ParityReport {
        ParityCheck.compare(golden, predictions: outputs, runtime: "test outputs")
    }

    func testExactMatchPasses() throws {
        let golden = try F.golden(rows: [F.classifierRow()])
        let result = report(golden, [F.matchingOutputs()])
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(result.rowsChecked, 1)
        XCTAssertTrue(result.description.hasPrefix("Parity PASSED"), result.description)
    }

    // MARK: Element rule |g − e| <= atol + rtol·|e|

    func testToleranceEdgeIsInclusiveAndExact() throws {
        // prediction: expected 2.0, atol 0.25, rtol 0.125 → allowed 0.25 + 0.125·2 = 0.5, exactly representable.
        let golden = try F.golden(rows: [F.classifierRow(prediction: "2.0")])
        for inside in [2.5, 1.5, 2.0 + 0.4999] {
            XCTAssertTrue(report(golden, [F.matchingOutputs(prediction: inside)]).passed, "got \(inside)")
        }
        for outside in [(2.5).nextUp, (1.5).nextDown, 3.0, -2.0] {
            let result = report(golden, [F.matchingOutputs(prediction: outside)])
            XCTAssertFalse(result.passed, "got \(outside)")
            XCTAssertEqual(result.failures.map(\.output), ["prediction"])
        }
    }

    func testToleranceUsesExpectedMagnitudeNotGot() throws {
        // rtol scales |expected| only: e = 0 → allowed = atol = 0.25, whatever got is.
        let golden = try F.golden(rows: [F.classifierRow(prediction: "0")])
        XCTAssertTrue(report(golden, [F.matchingOutputs(prediction: 0.25)]).passed)
        XCTAssertFalse(report(golden, [F.matchingOutputs(prediction: (0.25).nextUp)]).passed)
    }

    func testTightProbabilityTolerance() throws {
        // classProbability: rtol 1e-9, atol 1e-12; for e = 0.7 allowed = 1e-12 + 7e-10 = 7.01e-10.
        let golden = try F.golden(rows: [F.classifierRow()])
        let inside = report(golden, [F.matchingOutputs(probabilities: [0.7 + 7.0e-10, 0.2, 0.1])])
        XCTAssertTrue(inside.passed, "\(inside)")
        let outside = report(golden, [F.matchingOutputs(probabilities: [0.7 + 7.1e-10, 0.2, 0.1])])
        XCTAssertFalse(outside.passed)
        let failure = try XCTUnwrap(outside.failures.first)
        XCTAssertEqual(failure.output, "classProbability")
        XCTAssertTrue(failure.reason.hasPrefix("class 0: got 0.7000000007"), failure.reason)
        XCTAssertEqual(failure.tolerance, "atol 1e-12 + rtol 1e-09·|expected| (tree leaves summed in a different order)")
    }

    func testElementRuleDirectly() {
        let tolerance = GoldenFile.Tolerance(rtol: 0.5, atol: 0)
        XCTAssertTrue(ParityCheck.isWithinTolerance(got: 3, expected: 2, tolerance))       // |1| <= 1
        XCTAssertFalse(ParityCheck.isWithinTolerance(got: (3.0).nextUp, expected: 2, tolerance))
        XCTAssertTrue(ParityCheck.isWithinTolerance(got: -3, expected: -2, tolerance))     // |e| for negatives
        XCTAssertFalse(ParityCheck.isWithinTolerance(got: 2, expected: -2, tolerance))
    }

    // MARK: NaN and infinities

    func testNaNMatchesOnlyNaN() throws {
        let golden = try F.golden(rows: [F.classifierRow(probabilities: "[\"NaN\", 0.5, 0.5]", prediction: "\"NaN\"")])
        let bothNaN = report(golden, [F.matchingOutputs(probabilities: [.nan, 0.5, 0.5], prediction: .nan)])
        XCTAssertTrue(bothNaN.passed, "\(bothNaN)")
        let gotNumber = report(golden, [F.matchingOutputs(probabilities: [0.0, 0.5, 0.5], prediction: 0)])
        XCTAssertEqual(Set(gotNumber.failures.map(\.output)), ["classProbability", "prediction"])

        let finite = try F.golden(rows: [F.classifierRow()])
        let gotNaN = report(finite, [F.matchingOutputs(prediction: .nan)])
        XCTAssertEqual(gotNaN.failures.map(\.output), ["prediction"])
        XCTAssertTrue(gotNaN.failures[0].reason.contains("got NaN, expected 2.0"), gotNaN.failures[0].reason)
    }

    func testInfinityPassesOnlyByEquality() throws {
        // Read literally with rtol > 0, |g − ∞| <= atol + rtol·∞ is ∞ <= ∞: it would pass any finite g.
        let golden = try F.golden(rows: [F.classifierRow(prediction: "\"Infinity\"")])
        XCTAssertTrue(report(golden, [F.matchingOutputs(prediction: .infinity)]).passed)
        XCTAssertFalse(report(golden, [F.matchingOutputs(prediction: 1e308)]).passed)
        XCTAssertFalse(report(golden, [F.matchingOutputs(prediction: -.infinity)]).passed)
        let finite = try F.golden(rows: [F.classifierRow(prediction: "1e308")])
        XCTAssertFalse(report(finite, [F.matchingOutputs(prediction: .infinity)]).passed)
    }

    // MARK: Labels

    func testReferenceTieAllowsTheOtherLabel() throws {
        // scikit-learn picks the first of tied classes (0); Core ML may pick 1. Probabilities 0.5/0.5: a tie.
        let golden = try F.golden(rows: [F.classifierRow(label: "0", probabilities: "[0.5, 0.5, 0.0]")])
        let result = report(golden, [F.matchingOutputs(label: 1, probabilities: [0.5, 0.5, 0.0])])
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(result.acceptedTies, [AcceptedTie(rowID: 0, output: "classLabel", expected: .int64(0),
                                                         got: .int64(1))])
        XCTAssertTrue(result.description.contains("1 label mismatch(es) accepted as reference ties"))
    }

    func testTieToleranceBoundary() throws {
        // tie_tolerance 1e-12: a gap of 5e-13 is a tie, a gap of 1e-11 is not.
        let nearTie = try F.golden(rows: [F.classifierRow(label: "0", probabilities: "[0.5, 0.4999999999995, 0.0]")])
        XCTAssertTrue(report(nearTie, [F.matchingOutputs(label: 1, probabilities: [0.5, 0.4999999999995, 0])]).passed)
        let apart = try F.golden(rows: [F.classifierRow(label: "0", probabilities: "[0.5, 0.49999999999, 0.0]")])
        XCTAssertFalse(report(apart, [F.matchingOutputs(label: 1, probabilities: [0.5, 0.49999999999, 0])]).passed)
    }

    func testTieIsJudgedOnExpectedNotGotProbabilities() throws {
        // The reference is not tied; a model whose own probabilities tie still fails on the label.
        let golden = try F.golden(rows: [F.classifierRow(label: "0", probabilities: "[0.6, 0.4, 0.0]")])
        let result = report(golden, [F.matchingOutputs(label: 1, probabilities: [0.6, 0.4, 0.0])])
        XCTAssertEqual(result.failures.map(\.output), ["classLabel"])
        let reason = result.failures[0].reason
        XCTAssertTrue(reason.contains("expected classProbability of 1 is 0.4, top is 0.6"), reason)
        XCTAssertEqual(result.failures[0].expected, "0")
        XCTAssertEqual(result.failures[0].got, "1")
        XCTAssertNil(result.failures[0].tolerance)
    }

    func testLabelNotInClassLabelsFails() throws {
        let golden = try F.golden(rows: [F.classifierRow(label: "0", probabilities: "[0.5, 0.5, 0.0]")])
        let result = report(golden, [F.matchingOutputs(label: 7, probabilities: [0.5, 0.5, 0.0])])
        XCTAssertTrue(result.failures.first?.reason.contains("not one of class_labels") ?? false, "\(result)")
    }

    func testLabelsAreExactWithoutProbabilitiesOutput() throws {
        let golden = try F.golden(
            rows: ["{\"id\": 0, \"probe\": \"p\", \"inputs\": [1, 2], \"expected\": {\"classLabel\": 0}}"],
            outputs: "[{\"name\": \"classLabel\", \"kind\": \"label\", \"type\": \"int64\"}]", tolerances: "{}")
        XCTAssertTrue(report(golden, [["classLabel": .label(.int64(0))]]).passed)
        let result = report(golden, [["classLabel": .label(.int64(1))]])
        XCTAssertTrue(result.failures.first?.reason.contains("labels are exact") ?? false, "\(result)")
    }

    func testStringLabels() throws {
        let golden = try F.golden(
            rows: ["""
                {"id": 0, "probe": "user-data", "inputs": [1, 2],
                 "expected": {"species": "setosa", "p": [0.9, 0.1]}}
                """],
            classLabels: "[\"setosa\", \"versicolor\"]",
            outputs: "[{\"name\": \"species\", \"kind\": \"label\", \"type\": \"string\"}, "
                + "{\"name\": \"p\", \"kind\": \"probabilities\"}]",
            tolerances: "{\"p\": {\"rtol\": 0, \"atol\": 1e-12}}")
        let probabilities = PredictedValue.probabilities([.string("setosa"): 0.9, .string("versicolor"): 0.1])
        XCTAssertTrue(report(golden, [["species": .label(.string("setosa")), "p": probabilities]]).passed)
        let wrong = report(golden, [["species": .label(.string("versicolor")), "p": probabilities]])
        XCTAssertEqual(wrong.failures.map(\.output), ["species"])
        XCTAssertEqual(wrong.failures[0].expected, "\"setosa\"")
        // Int 0 is not the string label "setosa", nor is "0" the int label 0: kinds never convert.
        XCTAssertFalse(report(golden, [["species": .label(.int64(0)), "p": probabilities]]).passed)
        let intKeyed = PredictedValue.probabilities([.int64(0): 0.9, .int64(1): 0.1])
        let keyMismatch = report(golden, [["species": .label(.string("setosa")), "p": intKeyed]])
        XCTAssertTrue(keyMismatch.failures.first?.reason.contains("missing class setosa in p") ?? false,
                      "\(keyMismatch)")
    }

    // MARK: Missing and malformed outputs

    func testMissingOutputFails() throws {
        let golden = try F.golden(rows: [F.classifierRow()])
        var outputs = F.matchingOutputs()
        outputs["prediction"] = nil
        let result = report(golden, [outputs])
        XCTAssertEqual(result.failures.count, 1)
        XCTAssertEqual(result.failures[0].reason, "missing output prediction")
        XCTAssertEqual(result.failures[0].got, "<missing>")
    }

    func testMissingClassKeyFails() throws {
        let golden = try F.golden(rows: [F.classifierRow()])
        var outputs = F.matchingOutputs()
        outputs["classProbability"] = .probabilities([.int64(0): 0.7, .int64(1): 0.2])
        let result = report(golden, [outputs])
        XCTAssertEqual(result.failures.map(\.reason), ["missing class 2 in classProbability"])
        XCTAssertEqual(result.failures[0].got, "{0: 0.7, 1: 0.2, 2: <missing>}")
        XCTAssertEqual(result.failures[0].expected, "{0: 0.7, 1: 0.2, 2: 0.1}")
    }

    func testWrongOutputKindFails() throws {
        let golden = try F.golden(rows: [F.classifierRow()])
        var outputs = F.matchingOutputs()
        outputs["classLabel"] = .scores([0])
        outputs["prediction"] = .unreadable("Core ML feature of type String, expected Double or MultiArray")
        let result = report(golden, [outputs])
        XCTAssertEqual(result.failures.map(\.output), ["classLabel", "prediction"])
        XCTAssertTrue(result.failures[0].reason.contains("expected a class label, got a Double"))
        XCTAssertTrue(result.failures[1].reason.contains("expected Double or MultiArray"))
    }

    func testWidthNScores() throws {
        let golden = try F.golden(
            rows: ["{\"id\": 0, \"probe\": \"p\", \"inputs\": [1, 2], \"expected\": {\"t\": [1.0, 2.0, 3.0]}}"],
            classLabels: "null", outputs: "[{\"name\": \"t\", \"kind\": \"scores\", \"width\": 3}]",
            tolerances: "{\"t\": {\"rtol\": 0, \"atol\": 0.5}}")
        XCTAssertTrue(report(golden, [["t": .scores([1.5, 2.0, 2.5])]]).passed)
        let oneOff = report(golden, [["t": .scores([1.0, 2.0, (3.5).nextUp])]])
        XCTAssertEqual(oneOff.failures.count, 1)
        XCTAssertTrue(oneOff.failures[0].reason.hasPrefix("[2] got 3.5000000000000004, expected 3.0"),
                      oneOff.failures[0].reason)
        let short = report(golden, [["t": .scores([1.0, 2.0])]])
        XCTAssertEqual(short.failures.first?.reason, "expected 3 value(s), got 2")
    }

    // MARK: Running a predictor

    func testRunRoundsInputsToFloat32Contract() throws {
        let input = """
            {"kind": "multiarray", "multiarray_name": "input", "features": [{"name": "a"}, {"name": "b"},
             {"name": "c"}, {"name": "d"}], "dtype": "float32"}
            """
        let row = """
            {"id": 0, "probe": "float32-neighbours", "inputs": [0.1, 16777217, "NaN", 1e39],
             "expected": {"t": 0}}
            """
        let golden = try F.golden(rows: [row], classLabels: "null",
                                  outputs: "[{\"name\": \"t\", \"kind\": \"scores\", \"width\": 1}]",
                                  tolerances: "{\"t\": {\"rtol\": 0, \"atol\": 0}}", input: input)
        let replay = ReplayPredictor(recordedOutputs: [["t": .scores([0])]])
        XCTAssertTrue(try ParityCheck.run(golden, predictor: replay).passed)
        let fed = try XCTUnwrap(replay.receivedInputs.first).map { $0.doubleValue ?? 0 }
        // float32(0.1) = 0x3DCCCCCD = 13421773·2^-27; 2^24+1 ties to even 2^24; 1e39 > FLT_MAX overflows to +inf.
        XCTAssertEqual(fed[0], 13_421_773.0 / 134_217_728.0)
        XCTAssertEqual(fed[0], 0.100000001490116119384765625)
        XCTAssertEqual(fed[1], 16_777_216)
        XCTAssertTrue(fed[2].isNaN)
        XCTAssertEqual(fed[3], .infinity)
        XCTAssertEqual(golden.rows[0].inputs[0], 0.1, "the golden row itself keeps the written value")
    }

    func testRunKeepsFloat64InputsUnchanged() throws {
        let golden = try F.golden(rows: [F.classifierRow(inputs: "[0.1, 16777217]")])
        let replay = ReplayPredictor(recordedOutputs: [F.matchingOutputs()])
        XCTAssertTrue(try ParityCheck.run(golden, predictor: replay).passed)
        XCTAssertEqual(replay.receivedInputs, [[0.1, 16_777_217]])
    }

    func testRunBatchesRowsInOrder() throws {
        let rows = (0..<5).map { F.classifierRow(id: 10 + $0, inputs: "[\($0), 0]") }
        let golden = try F.golden(rows: rows)
        var outputs = Array(repeating: F.matchingOutputs(), count: 5)
        outputs[3]["prediction"] = .scores([100])
        let replay = ReplayPredictor(recordedOutputs: outputs)
        let result = try ParityCheck.run(golden, predictor: replay, batchSize: 2)
        XCTAssertEqual(replay.receivedInputs.map { $0[0] }, [0, 1, 2, 3, 4])
        XCTAssertEqual(result.failures.map(\.rowID), [13])
        XCTAssertTrue(result.description.contains("via replayed outputs (no model was run)"))
    }

    func testRunRejectsPredictorReturningWrongRowCount() throws {
        struct ShortPredictor: ParityPredictor {
            var runtimeDescription: String { "short" }
            func predict(inputs: [[InputValue]], input: GoldenFile.Input,
                         outputs: [GoldenFile.Output]) throws -> [[String: PredictedValue]] { [] }
        }
        let golden = try F.golden(rows: [F.classifierRow()])
        XCTAssertThrowsError(try ParityCheck.run(golden, predictor: ShortPredictor())) { error in
            XCTAssertTrue("\(error)".contains("returned 0 results for a batch of 1 rows"), "\(error)")
        }
    }

    // MARK: The report an iOS developer reads

    func testFailureDescriptionIsReadable() throws {
        let golden = try F.golden(rows: [F.classifierRow(id: 17, probe: "thresholds"),
                                         F.classifierRow(id: 18, label: "0", probabilities: "[0.6, 0.4, 0.0]")])
        var first = F.matchingOutputs(probabilities: [0.7 + 1e-6, 0.2, 0.1 - 1e-6])
        first["prediction"] = nil
        let second = F.matchingOutputs(label: 1, probabilities: [0.6, 0.4, 0.0])
        let result = report(golden, [first, second])
        XCTAssertFalse(result.passed)
        let text = result.description
        print(text)  // Pasted into ios_stub/README.md ("What a failure looks like").
        XCTAssertTrue(text.hasPrefix("Parity FAILED — iris_classifier.mlmodel (iris_classifier) via test outputs: "
                                     + "2 rows, outputs classLabel, classProbability, prediction"), text)
        XCTAssertTrue(text.contains("3 failure(s) in 2 of 2 rows"), text)
        XCTAssertTrue(text.contains("row 17 [thresholds] classProbability: class 0: got 0.70000"), text)
        XCTAssertTrue(text.contains("row 17 [thresholds] prediction: missing output prediction"), text)
        XCTAssertTrue(text.contains("row 18 [user-data] classLabel: label mismatch"), text)
    }

    func testDescriptionSummarisesManyFailures() throws {
        let count = ParityReport.describedFailureLimit + 5
        let golden = try F.golden(rows: (0..<count).map { F.classifierRow(id: $0) })
        let result = report(golden, Array(repeating: F.matchingOutputs(prediction: 99), count: count))
        XCTAssertEqual(result.failures.count, count)
        XCTAssertTrue(result.description.hasSuffix("… and 5 more"), result.description)
    }
}
