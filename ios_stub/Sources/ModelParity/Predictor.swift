/// Second step of the on-device check: run golden rows through something that predicts (Core ML, or a replay).
import Foundation

/// One output value as a predictor produced it, before comparison.
public enum PredictedValue: Sendable, Equatable, CustomStringConvertible {
    /// A classifier's `predictedFeatureName` (Core ML Int64 or String feature).
    case label(ClassLabel)
    /// A classifier's `predictedProbabilitiesName` (Core ML Dictionary feature), keyed by class label.
    case probabilities([ClassLabel: Double])
    /// A Double feature (one value) or the flattened elements of a MultiArray feature.
    case scores([Double])
    /// The output exists but is not of a kind the golden file expects (e.g. a Double where a label belongs);
    /// the text says what was found. Always a parity failure, never an error, so one bad output does not hide others.
    case unreadable(String)

    public var description: String {
        switch self {
        case .label(let label): return label.description
        case .probabilities(let byClass):
            let entries = byClass.sorted { $0.key.keyString < $1.key.keyString }
                .map { "\($0.key): \(GoldenDouble.render($0.value))" }
            return "{" + entries.joined(separator: ", ") + "}"
        case .scores(let values):
            return values.count == 1
                ? GoldenDouble.render(values[0])
                : "[" + values.map(GoldenDouble.render).joined(separator: ", ") + "]"
        case .unreadable(let what): return "<\(what)>"
        }
    }
}

/// Something that turns golden input rows into output values: the Core ML model on device, or recorded outputs.
///
/// `ParityCheck.run` calls `predict` with batches of rows. The rows are already rounded to the golden file's
/// input-dtype contract (`input.dtype`) and are in `input.features` order, each value typed by its feature (Double,
/// Int64 or String; a missing string is ""). The result has one dictionary per row,
/// keyed by Core ML output name; an output the model did not produce is simply absent (reported as missing).
public protocol ParityPredictor {
    /// Says what actually ran, e.g. "Core ML 'iris.mlmodelc' (cpuOnly)"; printed in every report.
    var runtimeDescription: String { get }

    func predict(inputs: [[InputValue]], input: GoldenFile.Input,
                 outputs: [GoldenFile.Output]) throws -> [[String: PredictedValue]]
}

/// Returns recorded outputs in row order; no model runs. Used on Linux to test the comparison core, and by the
/// `parity-check` tool that cross-checks this core against the Python one.
public final class ReplayPredictor: ParityPredictor {
    public let recordedOutputs: [[String: PredictedValue]]
    /// Every batch of inputs received, exactly as passed in (lets tests check the dtype contract was applied).
    public private(set) var receivedInputs: [[InputValue]] = []
    private var cursor = 0

    public init(recordedOutputs: [[String: PredictedValue]]) {
        self.recordedOutputs = recordedOutputs
    }

    public var runtimeDescription: String { "replayed outputs (no model was run)" }

    public func predict(inputs: [[InputValue]], input: GoldenFile.Input,
                        outputs: [GoldenFile.Output]) throws -> [[String: PredictedValue]] {
        guard cursor + inputs.count <= recordedOutputs.count else {
            throw ParityCheckError.predictor(
                "replay has \(recordedOutputs.count) recorded rows, asked for row \(cursor + inputs.count)")
        }
        receivedInputs.append(contentsOf: inputs)
        let batch = Array(recordedOutputs[cursor..<(cursor + inputs.count)])
        cursor += inputs.count
        return batch
    }
}
