/// Test fixtures: golden.json text assembled from hand-written pieces, so each test states exactly what it feeds in.
import Foundation
@testable import ModelParity

enum GoldenFixtures {
    /// A classifier with int labels [0, 1, 2], a probabilities output, and a width-1 score output "prediction".
    static let classifierOutputs = """
        [{"name": "classLabel", "kind": "label", "type": "int64"},
         {"name": "classProbability", "kind": "probabilities"},
         {"name": "prediction", "kind": "scores", "width": 1}]
        """

    static let classifierTolerances = """
        {"classProbability": {"rtol": 1e-9, "atol": 1e-12, "reason": "tree leaves summed in a different order"},
         "prediction": {"rtol": 0.125, "atol": 0.25, "reason": "exactly representable edge"}}
        """

    /// golden.json text with the given pieces; everything else is a valid two-feature named_doubles classifier.
    static func json(
        format: String = "\"mlexport-golden\"",
        formatVersion: String = "1",
        input: String = """
            {"kind": "named_doubles", "features": [{"name": "sepal length (cm)", "coreml_name": "sepal_length__cm_"},
             {"name": "petal width", "coreml_name": "petal_width"}], "dtype": "float64"}
            """,
        outputs: String = classifierOutputs,
        classLabels: String = "[0, 1, 2]",
        tolerances: String = classifierTolerances,
        tieTolerance: String = "1e-12",
        rows: String
    ) -> String {
        """
        {"format": \(format), "format_version": \(formatVersion),
         "model": {"name": "iris_classifier", "file": "iris_classifier.mlmodel", "task": "classifier"},
         "input": \(input),
         "outputs": \(outputs),
         "class_labels": \(classLabels),
         "tolerances": \(tolerances),
         "tie_tolerance": \(tieTolerance),
         "rows": \(rows)}
        """
    }

    /// One classifier row: label, probabilities, prediction.
    static func classifierRow(id: Int = 0, probe: String = "user-data", inputs: String = "[5.1, 0.2]",
                              label: String = "0", probabilities: String = "[0.7, 0.2, 0.1]",
                              prediction: String = "2.0") -> String {
        """
        {"id": \(id), "probe": "\(probe)", "inputs": \(inputs),
         "expected": {"classLabel": \(label), "classProbability": \(probabilities), "prediction": \(prediction)}}
        """
    }

    static func decode(_ text: String) throws -> GoldenFile {
        try GoldenFile.decode(Data(text.utf8))
    }

    /// Decodes a fixture that must be valid (a failure here is a broken test, reported with the decoder's message).
    static func golden(rows: [String], classLabels: String = "[0, 1, 2]", outputs: String = classifierOutputs,
                       tolerances: String = classifierTolerances, input: String? = nil) throws -> GoldenFile {
        let rowsText = "[" + rows.joined(separator: ",\n") + "]"
        if let input {
            return try decode(json(input: input, outputs: outputs, classLabels: classLabels, tolerances: tolerances,
                                   rows: rowsText))
        }
        return try decode(json(outputs: outputs, classLabels: classLabels, tolerances: tolerances, rows: rowsText))
    }

    /// Outputs matching `classifierRow()`'s defaults exactly.
    static func matchingOutputs(label: Int64 = 0, probabilities: [Double] = [0.7, 0.2, 0.1],
                                prediction: Double = 2.0) -> [String: PredictedValue] {
        var byClass: [ClassLabel: Double] = [:]
        for (index, probability) in probabilities.enumerated() { byClass[.int64(Int64(index))] = probability }
        return ["classLabel": .label(.int64(label)), "classProbability": .probabilities(byClass),
                "prediction": .scores([prediction])]
    }
}
