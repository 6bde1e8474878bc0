/// Third step of the on-device check: compare predicted outputs with golden.json's expected values, by golden.md's
/// rules, into a `ParityReport` whose `description` is what a failing XCTest prints.
///
/// The rules (identical in the Python core, parity/compare.py):
/// - element: pass iff both NaN, or got == expected, or |got − expected| <= atol + rtol·|expected|;
/// - probabilities: compared per class in class_labels order; a missing class key fails;
/// - label: exact, except a reference tie: allowed when the row has a probabilities output and
///   expected_probs[got] >= max(expected_probs) − tie_tolerance (scikit-learn picks the first of tied classes);
/// - a missing output fails.
import Foundation

/// Problems that stop a check from running at all (as opposed to parity failures, which end up in the report).
public enum ParityCheckError: Error, CustomStringConvertible, LocalizedError {
    case predictor(String)
    case replay(String)

    public var description: String {
        switch self {
        case .predictor(let message): return "predictor: \(message)"
        case .replay(let message): return "replay file: \(message)"
        }
    }

    public var errorDescription: String? { description }
}

/// One output of one row that broke the rules.
public struct ParityFailure: Sendable, Equatable, CustomStringConvertible {
    public let rowID: Int
    public let probe: String
    public let output: String
    /// The golden value, rendered ("0.8", "[0.1, 0.9]", "1", "\"setosa\"").
    public let expected: String
    /// What the predictor produced, rendered the same way ("<missing>" when absent).
    public let got: String
    /// The tolerance that applied, rendered with its reason; nil for labels (exact).
    public let tolerance: String?
    /// Why it failed, naming the element: "class 1: |got − expected| = 1e-05 > allowed 1.1e-09".
    public let reason: String

    public var description: String {
        var text = "row \(rowID) [\(probe)] \(output): \(reason)\n      expected \(expected)\n      got      \(got)"
        if let tolerance { text += "\n      tolerance \(tolerance)" }
        return text
    }
}

/// A label mismatch that the tie rule allowed; listed in the report so it is visible, not silently passed.
public struct AcceptedTie: Sendable, Equatable {
    public let rowID: Int
    public let output: String
    public let expected: ClassLabel
    public let got: ClassLabel
}

/// The verdict over every golden row.
public struct ParityReport: Sendable, CustomStringConvertible {
    public let modelName: String
    public let modelFile: String
    /// What produced the outputs (from `ParityPredictor.runtimeDescription`).
    public let runtime: String
    public let rowsChecked: Int
    public let outputsChecked: [String]
    public let failures: [ParityFailure]
    public let acceptedTies: [AcceptedTie]
    /// Training column -> Core ML input, for the columns whose input name was sanitised (shown in `description`).
    public var renamedInputs: [String] = []

    public var passed: Bool { failures.isEmpty }

    /// How many failures `description` lists before summarising the rest.
    public static let describedFailureLimit = 25

    public var description: String {
        let header = "\(modelFile) (\(modelName)) via \(runtime): \(rowsChecked) rows, outputs "
            + outputsChecked.joined(separator: ", ")
        let ties = acceptedTies.isEmpty ? "" : "; \(acceptedTies.count) label mismatch(es) accepted as reference ties"
        let renamed = renamedInputs.isEmpty ? ""
            : "\n  inputs renamed for Swift (training column -> Core ML input): " + renamedInputs.joined(separator: ", ")
        if passed { return "Parity PASSED — \(header)\(ties)\(renamed)" }
        let failedRows = Set(failures.map(\.rowID)).count
        var lines = ["Parity FAILED — \(header)\(renamed)",
                     "\(failures.count) failure(s) in \(failedRows) of \(rowsChecked) rows\(ties):"]
        lines += failures.prefix(ParityReport.describedFailureLimit).map { "  - \($0)" }
        if failures.count > ParityReport.describedFailureLimit {
            lines.append("  … and \(failures.count - ParityReport.describedFailureLimit) more")
        }
        return lines.joined(separator: "\n")
    }
}

public enum ParityCheck {
    /// Runs every golden row through `predictor` in batches and compares the outputs.
    ///
    /// Inputs are rounded to the input-dtype contract (`input.dtype`) here, once, so every predictor sees what the
    /// app would feed. Predictor errors (e.g. Core ML refusing an input) propagate; parity problems go in the report.
    public static func run(_ golden: GoldenFile, predictor: ParityPredictor, batchSize: Int = 256) throws
        -> ParityReport {
        precondition(batchSize > 0, "batchSize must be positive")
        var predictions: [[String: PredictedValue]] = []
        predictions.reserveCapacity(golden.rows.count)
        var start = 0
        while start < golden.rows.count {
            let end = min(start + batchSize, golden.rows.count)
            let batch = golden.rows[start..<end].map { row in row.inputs.map { golden.input.dtype.apply($0) } }
            let outputs = try predictor.predict(inputs: batch, input: golden.input, outputs: golden.outputs)
            guard outputs.count == batch.count else {
                throw ParityCheckError.predictor(
                    "returned \(outputs.count) results for a batch of \(batch.count) rows")
            }
            predictions += outputs
            start = end
        }
        return compare(golden, predictions: predictions, runtime: predictor.runtimeDescription)
    }

    /// Compares predictions (one dictionary per golden row, in row order) with the expected values.
    public static func compare(_ golden: GoldenFile, predictions: [[String: PredictedValue]],
                               runtime: String) -> ParityReport {
        precondition(predictions.count == golden.rows.count, "one prediction per golden row")
        var failures: [ParityFailure] = []
        var ties: [AcceptedTie] = []
        for (row, got) in zip(golden.rows, predictions) {
            let verdict = compare(row: row, got: got, golden: golden)
            failures += verdict.failures
            ties += verdict.acceptedTies
        }
        return ParityReport(modelName: golden.model.name, modelFile: golden.model.file, runtime: runtime,
                            rowsChecked: golden.rows.count, outputsChecked: golden.outputs.map(\.name),
                            failures: failures, acceptedTies: ties,
                            renamedInputs: golden.input.renamedFeatures.map { "'\($0.trained)' -> \($0.coreml)" })
    }

    /// The element rule: both NaN, or equal, or |got − expected| <= atol + rtol·|expected|.
    ///
    /// Non-finite values pass only by equality (or both NaN): read literally, the formula would accept any finite got
    /// for expected = ±Infinity whenever rtol > 0 (inf <= inf), and even −Infinity for +Infinity. numpy.isclose
    /// treats infinities the same way.
    public static func isWithinTolerance(got: Double, expected: Double, _ tolerance: GoldenFile.Tolerance) -> Bool {
        if got.isNaN && expected.isNaN { return true }
        if got == expected { return true }
        guard got.isFinite && expected.isFinite else { return false }
        return abs(got - expected) <= tolerance.atol + tolerance.rtol * abs(expected)
    }

    /// Failures and accepted ties of one row.
    public static func compare(row: GoldenFile.Row, got: [String: PredictedValue], golden: GoldenFile)
        -> (failures: [ParityFailure], acceptedTies: [AcceptedTie]) {
        var failures: [ParityFailure] = []
        var ties: [AcceptedTie] = []
        for output in golden.outputs {
            guard let expected = row.expected[output.name] else { continue }  // validated on decode: never nil
            let tolerance = golden.tolerances[output.name]
            func fail(_ reason: String, got gotText: String) {
                failures.append(ParityFailure(
                    rowID: row.id, probe: row.probe, output: output.name,
                    expected: render(expected, kind: output.kind, classLabels: golden.classLabels),
                    got: gotText, tolerance: tolerance.map(render), reason: reason))
            }
            guard let value = got[output.name] else {
                fail("missing output \(output.name)", got: "<missing>")
                continue
            }
            if case .unreadable(let what) = value {
                fail("unreadable output: \(what)", got: value.description)
                continue
            }
            switch (output.kind, expected) {
            case (.label, .label(let expectedLabel)):
                guard case .label(let gotLabel) = value else {
                    fail("expected a class label, got \(kindName(value))", got: value.description)
                    continue
                }
                if gotLabel == expectedLabel { continue }
                if let tie = tieAllowance(row: row, gotLabel: gotLabel, golden: golden) {
                    if tie.allowed {
                        ties.append(AcceptedTie(rowID: row.id, output: output.name, expected: expectedLabel,
                                                got: gotLabel))
                    } else {
                        fail("label mismatch: \(tie.explanation)", got: value.description)
                    }
                } else {
                    fail("label mismatch (labels are exact: no probabilities output to check a reference tie)",
                         got: value.description)
                }
            case (.probabilities, .values(let expectedValues)):
                guard case .probabilities(let byClass) = value else {
                    fail("expected a class-probability dictionary, got \(kindName(value))", got: value.description)
                    continue
                }
                guard let tolerance, let labels = golden.classLabels else { continue }  // validated on decode
                var problems: [String] = []
                for (label, expectedValue) in zip(labels, expectedValues) {
                    guard let gotValue = byClass[label] else {
                        problems.append("missing class \(label.keyString) in \(output.name)")
                        continue
                    }
                    if !isWithinTolerance(got: gotValue, expected: expectedValue, tolerance) {
                        problems.append("class \(label): " + elementProblem(gotValue, expectedValue, tolerance))
                    }
                }
                if !problems.isEmpty {
                    fail(problems.joined(separator: "; "), got: render(byClass, classLabels: labels))
                }
            case (.scores(let width), .values(let expectedValues)):
                guard case .scores(let gotValues) = value else {
                    fail("expected \(width == 1 ? "a Double" : "a MultiArray of \(width) values"), got "
                         + kindName(value), got: value.description)
                    continue
                }
                guard gotValues.count == expectedValues.count else {
                    fail("expected \(expectedValues.count) value(s), got \(gotValues.count)", got: value.description)
                    continue
                }
                guard let tolerance else { continue }  // validated on decode
                var problems: [String] = []
                for (index, (gotValue, expectedValue)) in zip(gotValues, expectedValues).enumerated()
                where !isWithinTolerance(got: gotValue, expected: expectedValue, tolerance) {
                    let element = width == 1 ? "" : "[\(index)] "
                    problems.append(element + elementProblem(gotValue, expectedValue, tolerance))
                }
                if !problems.isEmpty { fail(problems.joined(separator: "; "), got: value.description) }
            default:
                // Decoding builds `expected` from `output.kind`, so kinds always match.
                fail("internal: expected value does not match output kind", got: value.description)
            }
        }
        return (failures, ties)
    }

    /// The reference-tie rule for a label mismatch; nil when the golden file has no probabilities output.
    static func tieAllowance(row: GoldenFile.Row, gotLabel: ClassLabel, golden: GoldenFile)
        -> (allowed: Bool, explanation: String)? {
        guard let probabilities = golden.probabilitiesOutput,
              case .values(let expectedProbs)? = row.expected[probabilities.name],
              let labels = golden.classLabels else { return nil }
        guard let index = labels.firstIndex(of: gotLabel) else {
            return (false, "got label \(gotLabel) is not one of class_labels")
        }
        // A NaN reference probability means there is no well-defined top class, so no tie can be claimed.
        guard !expectedProbs.contains(where: \.isNaN), let top = expectedProbs.max() else {
            return (false, "expected \(probabilities.name) contains NaN, so no reference tie applies")
        }
        let gotProb = expectedProbs[index]
        let allowed = gotProb >= top - golden.tieTolerance
        let explanation = "expected \(probabilities.name) of \(gotLabel) is \(GoldenDouble.render(gotProb)), "
            + "top is \(GoldenDouble.render(top)); not a reference tie within tie_tolerance "
            + GoldenDouble.render(golden.tieTolerance)
        return (allowed, explanation)
    }

    static func elementProblem(_ got: Double, _ expected: Double, _ tolerance: GoldenFile.Tolerance) -> String {
        let allowed = tolerance.atol + tolerance.rtol * abs(expected)
        if got.isNaN || expected.isNaN || !got.isFinite || !expected.isFinite {
            return "got \(GoldenDouble.render(got)), expected \(GoldenDouble.render(expected)) "
                + "(non-finite values must match exactly)"
        }
        return "got \(GoldenDouble.render(got)), expected \(GoldenDouble.render(expected)): "
            + "|got − expected| = \(GoldenDouble.render(abs(got - expected))) > allowed "
            + GoldenDouble.render(allowed)
    }

    static func kindName(_ value: PredictedValue) -> String {
        switch value {
        case .label: return "a class label"
        case .probabilities: return "a class-probability dictionary"
        case .scores(let values): return values.count == 1 ? "a Double" : "\(values.count) values"
        case .unreadable(let what): return what
        }
    }

    static func render(_ expected: GoldenFile.Expected, kind: GoldenFile.Output.Kind,
                       classLabels: [ClassLabel]?) -> String {
        switch expected {
        case .label(let label): return label.description
        case .values(let values) where kind == .probabilities && classLabels?.count == values.count:
            let labels = classLabels ?? []
            return "{" + zip(labels, values).map { "\($0): \(GoldenDouble.render($1))" }.joined(separator: ", ") + "}"
        case .values(let values):
            return values.count == 1
                ? GoldenDouble.render(values[0])
                : "[" + values.map(GoldenDouble.render).joined(separator: ", ") + "]"
        }
    }

    /// Got probabilities in class_labels order first, then any extra keys.
    static func render(_ byClass: [ClassLabel: Double], classLabels: [ClassLabel]) -> String {
        let known = classLabels.map { label in
            "\(label): " + (byClass[label].map(GoldenDouble.render) ?? "<missing>")
        }
        let extra = byClass.keys.filter { !classLabels.contains($0) }.sorted { $0.keyString < $1.keyString }
            .map { "\($0): \(GoldenDouble.render(byClass[$0] ?? .nan))" }
        return "{" + (known + extra).joined(separator: ", ") + "}"
    }

    static func render(_ tolerance: GoldenFile.Tolerance) -> String {
        var text = "atol \(GoldenDouble.render(tolerance.atol)) + rtol \(GoldenDouble.render(tolerance.rtol))·|expected|"
        if let reason = tolerance.reason, !reason.isEmpty { text += " (\(reason))" }
        return text
    }
}
