/// Tests of CoreMLPredictor's plumbing (input building, output reading) against CoreMLStandIn — Linux only.
///
/// These run a closure in place of a model: they check that rows become the features golden.json's input.kind
/// names and that Core ML-shaped outputs are read back correctly. They say nothing about Core ML's numerics; that
/// check runs only on an Apple device or simulator (Example/ModelParityExampleTests.swift).
#if !canImport(CoreML)
import Foundation
import XCTest
@testable import ModelParity

final class CoreMLPredictorStandInTests: XCTestCase {
    private typealias F = GoldenFixtures

    func testNamedDoublesInputUsesCoreMLNames() throws {
        let golden = try F.golden(rows: [F.classifierRow()])
        let provider = try CoreMLPredictor.featureProvider(for: [5.1, 0.2], input: golden.input)
        XCTAssertEqual(provider.featureNames, ["sepal_length__cm_", "petal_width"])
        let sepal = try XCTUnwrap(provider.featureValue(for: "sepal_length__cm_"))
        XCTAssertEqual(sepal.type, .double)
        XCTAssertEqual(sepal.doubleValue, 5.1)
        XCTAssertEqual(provider.featureValue(for: "petal_width")?.doubleValue, 0.2)
    }

    func testMultiarrayInputIsDoubleVectorOfFeatureCount() throws {
        let input = GoldenFile.Input(kind: .multiarray, multiarrayName: "input",
                                     features: [.init(name: "a", coremlName: nil), .init(name: "b", coremlName: nil),
                                                .init(name: "c", coremlName: nil)],
                                     dtype: .float64)
        let provider = try CoreMLPredictor.featureProvider(for: [1.5, .double(.nan), .double(-.infinity)],
                                                           input: input)
        XCTAssertEqual(provider.featureNames, ["input"])
        let array = try XCTUnwrap(provider.featureValue(for: "input")?.multiArrayValue)
        XCTAssertEqual(array.shape, [3])
        XCTAssertEqual(array.dataType, .double)
        XCTAssertEqual(array[0].doubleValue, 1.5)
        XCTAssertTrue(array[1].doubleValue.isNaN)
        XCTAssertEqual(array[2].doubleValue, -.infinity)
    }

    func testReadsCoreMLShapedOutputs() throws {
        let scores = try MLMultiArray(shape: [1, 3], dataType: .double)
        for (index, value) in [0.25, -1.0, 4.0].enumerated() { scores[[0, NSNumber(value: index)]] = NSNumber(value: value) }
        let provider = try MLDictionaryFeatureProvider(dictionary: [
            "classLabel": MLFeatureValue(int64: 2),
            // Core ML hands int64-keyed dictionaries back with NSNumber keys.
            "classProbability": try MLFeatureValue(dictionary: [NSNumber(value: 0): 0.1, NSNumber(value: 2): 0.9]),
            "transformed": MLFeatureValue(multiArray: scores),
            "prediction": MLFeatureValue(double: 3.5),
        ])
        let outputs: [GoldenFile.Output] = [
            .init(name: "classLabel", kind: .label(.int64)), .init(name: "classProbability", kind: .probabilities),
            .init(name: "transformed", kind: .scores(width: 3)), .init(name: "prediction", kind: .scores(width: 1)),
            .init(name: "absent", kind: .scores(width: 1)),
        ]
        let read = CoreMLPredictor.read(provider, outputs: outputs)
        XCTAssertEqual(read["classLabel"], .label(.int64(2)))
        XCTAssertEqual(read["classProbability"], .probabilities([.int64(0): 0.1, .int64(2): 0.9]))
        XCTAssertEqual(read["transformed"], .scores([0.25, -1.0, 4.0]))
        XCTAssertEqual(read["prediction"], .scores([3.5]))
        XCTAssertNil(read["absent"], "a missing output is left out, so the comparison reports it missing")
    }

    func testReadsStringLabelsAndFlagsWrongTypes() throws {
        let provider = try MLDictionaryFeatureProvider(dictionary: [
            "species": MLFeatureValue(string: "setosa"),
            "speciesProbability": try MLFeatureValue(dictionary: ["setosa": 0.75, "virginica": 0.25]),
            "prediction": MLFeatureValue(string: "oops"),
        ])
        let read = CoreMLPredictor.read(provider, outputs: [
            .init(name: "species", kind: .label(.string)), .init(name: "speciesProbability", kind: .probabilities),
            .init(name: "prediction", kind: .scores(width: 1)),
        ])
        XCTAssertEqual(read["species"], .label(.string("setosa")))
        XCTAssertEqual(read["speciesProbability"], .probabilities([.string("setosa"): 0.75, .string("virginica"): 0.25]))
        XCTAssertEqual(read["prediction"], .unreadable("Core ML feature of type String, expected Double or MultiArray"))
    }

    func testEndToEndThroughStandInModel() throws {
        // A fake "model": label = 1 if petal_width > 1 else 0; echoes inputs into the probabilities.
        let model = MLModel(standInPrediction: { features in
            let width = features.featureValue(for: "petal_width")?.doubleValue ?? .nan
            return try MLDictionaryFeatureProvider(dictionary: [
                "classLabel": MLFeatureValue(int64: width > 1 ? 1 : 0),
                "classProbability": try MLFeatureValue(dictionary: [
                    NSNumber(value: 0): 0.7, NSNumber(value: 1): 0.2, NSNumber(value: 2): 0.1]),
                "prediction": MLFeatureValue(double: 2.0),
            ])
        })
        let golden = try F.golden(rows: [F.classifierRow(id: 0, inputs: "[5.1, 0.2]"),
                                         F.classifierRow(id: 1, inputs: "[5.1, 1.8]")])
        let predictor = CoreMLPredictor(model: model, label: "fake")
        let result = try ParityCheck.run(golden, predictor: predictor)
        XCTAssertEqual(result.failures.map(\.rowID), [1])
        XCTAssertEqual(result.failures.map(\.output), ["classLabel"])
        XCTAssertFalse(CoreMLPredictor.isRealCoreML)
        XCTAssertTrue(result.description.contains("NOT Core ML"), "a stand-in run must never read as a Core ML check")
    }

    func testLoadingARealModelFailsClearlyWithoutCoreML() {
        XCTAssertThrowsError(try CoreMLPredictor(contentsOf: URL(fileURLWithPath: "/tmp/iris.mlmodel"))) { error in
            XCTAssertTrue("\(error)".contains("Core ML is not available on this platform"), "\(error)")
            XCTAssertTrue("\(error)".contains("iris.mlmodel"), "\(error)")
        }
    }
}
#endif
