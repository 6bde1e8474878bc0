/// Copy into your app's test target: runs the exported model with Core ML on this device or simulator and checks
/// every golden row against golden.json, within the tolerances mlexport wrote there.
///
/// Needs, as members of the test target: YourModel.mlmodel (Xcode compiles it to YourModel.mlmodelc) and
/// golden.json from the same export (a text model: its NAME.text.json rules too); plus ModelParity, either as a
/// package dependency or its sources copied in.
import Foundation
import XCTest
#if canImport(CoreML)
import CoreML
#endif
#if canImport(ModelParity)
import ModelParity  // present when the ModelParity package is a dependency; absent when its sources are copied in
#endif

final class ModelParityExampleTests: XCTestCase {
    /// The exported model's file name without extension.
    static let modelName = "YourModel"

    func testModelMatchesGoldenVectors() throws {
        guard CoreMLPredictor.isRealCoreML else {
            throw XCTSkip("built without Core ML: the parity check runs only on an Apple device or simulator")
        }
        let bundle = Bundle(for: Self.self)
        // Xcode compiles a .mlmodel in "Compile Sources" to .mlmodelc; one in "Copy Bundle Resources" stays .mlmodel.
        let modelURL = try XCTUnwrap(
            bundle.url(forResource: Self.modelName, withExtension: "mlmodelc")
                ?? bundle.url(forResource: Self.modelName, withExtension: "mlmodel"),
            "\(Self.modelName).mlmodel is not in the test bundle: add it to this test target (Target Membership)")
        let goldenURL = try XCTUnwrap(
            bundle.url(forResource: "golden", withExtension: "json"),
            "golden.json is not in the test bundle: add it to this test target's Copy Bundle Resources")

        let golden = try GoldenFile.load(contentsOf: goldenURL)
        XCTAssertEqual(golden.model.file, "\(Self.modelName).mlmodel",
                       "golden.json was written for \(golden.model.file), not \(Self.modelName).mlmodel")

        // cpuOnly: keeps neural-network math in FP32, which the golden tolerances assume.
        let predictor = try CoreMLPredictor(contentsOf: modelURL, computeUnits: .cpuOnly)
        let report = try ParityCheck.run(golden, predictor: predictor)
        print(report)  // in the test log whether it passes or fails
        XCTAssertTrue(report.passed, report.description)
    }

    /// A text model's Core ML input is each text column's term counts: the app computes them with TextFeatures and
    /// the rules file written next to the model (NAME.text.json, in this test target too). This checks TextFeatures
    /// on this device against the counts scikit-learn's analyzer gave for every golden row — the same call an app
    /// makes before predicting:
    ///
    ///     let features = try TextFeatures(rulesJSON: Data(contentsOf: rulesURL))
    ///     let counts = try features.counts(text)   // [String: Double], the model's Dictionary input
    func testTextFeaturesMatchGoldenCounts() throws {
        let bundle = Bundle(for: Self.self)
        let goldenURL = try XCTUnwrap(bundle.url(forResource: "golden", withExtension: "json"),
                                      "golden.json is not in the test bundle")
        let golden = try GoldenFile.load(contentsOf: goldenURL)
        let text = golden.input.features.filter { $0.featureType == .text }
        if text.isEmpty { throw XCTSkip("no text inputs in this model") }
        var rules: [String: TextFeatures] = [:]
        for feature in text {
            let file = feature.rules ?? "\(Self.modelName).text.json"
            let url = try XCTUnwrap(bundle.url(forResource: (file as NSString).deletingPathExtension, withExtension: "json"),
                                    "\(file) is not in the test bundle: add it to Copy Bundle Resources")
            rules[feature.coremlName ?? feature.name] = try TextFeatures(rulesJSON: try Data(contentsOf: url))
        }
        let mismatches = try TextFeaturesCheck.goldenMismatches(golden, rules: rules)
        XCTAssertTrue(mismatches.isEmpty, mismatches.prefix(5).joined(separator: "\n"))
    }
}
