/// Reads recorded outputs ("replay" JSON) into per-row `PredictedValue`s, aligned with a golden file's rows — the
/// input of the `parity-check` tool that cross-checks this comparison core against the Python one.
///
/// Format: `{"rows": [{"id": 0, "outputs": {"classLabel": 1, "classProbability": {"0": 0.2, "1": 0.8},
/// "prediction": 3.2}}]}` — labels are numbers or strings, probability dictionaries are keyed by the label rendered
/// as a string, scores are a number or an array; non-finite numbers as "NaN", "Infinity", "-Infinity".
/// A golden row absent from the replay has all its outputs missing; a replay row whose id is not in the golden file
/// is an error.
import Foundation

public enum ReplayFile {
    /// One dictionary per golden row (in golden row order), ready for `ParityCheck.compare` or `ReplayPredictor`.
    public static func decode(_ data: Data, for golden: GoldenFile) throws -> [[String: PredictedValue]] {
        let root: GoldenJSONValue
        do {
            root = try JSONDecoder().decode(GoldenJSONValue.self, from: data)
        } catch {
            throw ParityCheckError.replay("not valid JSON")
        }
        guard case .object(let top) = root, case .array(let rows)? = top["rows"] else {
            throw ParityCheckError.replay("expected an object with a \"rows\" array")
        }
        let rowIndexByID = Dictionary(uniqueKeysWithValues: golden.rows.enumerated().map { ($1.id, $0) })
        var byRow = [[String: PredictedValue]](repeating: [:], count: golden.rows.count)
        var seen = Set<Int>()
        for (position, rowValue) in rows.enumerated() {
            let field = "rows[\(position)]"
            guard case .object(let row) = rowValue, case .integer(let rawID)? = row["id"],
                  case .object(let outputs)? = row["outputs"] else {
                throw ParityCheckError.replay("\(field): expected {\"id\": integer, \"outputs\": object}")
            }
            let id = Int(rawID)
            guard let rowIndex = rowIndexByID[id] else {
                throw ParityCheckError.replay("\(field).id: row id \(id) is not in golden.json")
            }
            guard seen.insert(id).inserted else {
                throw ParityCheckError.replay("\(field).id: duplicate row id \(id)")
            }
            for output in golden.outputs {
                guard let value = outputs[output.name] else { continue }  // missing: a parity failure, not an error
                byRow[rowIndex][output.name] = try predicted(
                    value, kind: output.kind, classLabels: golden.classLabels,
                    field: "\(field).outputs.\(output.name)")
            }
        }
        return byRow
    }

    static func predicted(_ value: GoldenJSONValue, kind: GoldenFile.Output.Kind, classLabels: [ClassLabel]?,
                          field: String) throws -> PredictedValue {
        switch (kind, value) {
        case (.label, .integer(let label)): return .label(.int64(label))
        case (.label, .string(let label)): return .label(.string(label))
        case (.label, _):
            throw ParityCheckError.replay("\(field): expected an integer or string label, got \(value.kindName)")
        case (.probabilities, .object(let entries)):
            // Keys are labels rendered as strings; read them back as the golden file's label kind.
            let intLabels = classLabels?.first.map { if case .int64 = $0 { return true } else { return false } } ?? false
            var byClass: [ClassLabel: Double] = [:]
            for (key, entry) in entries {
                guard let probability = entry.doubleValue else {
                    throw ParityCheckError.replay("\(field).\(key): expected a number, got \(entry.kindName)")
                }
                if intLabels {
                    guard let label = Int64(key) else {
                        throw ParityCheckError.replay("\(field): key \"\(key)\" is not an integer label")
                    }
                    byClass[.int64(label)] = probability
                } else {
                    byClass[.string(key)] = probability
                }
            }
            return .probabilities(byClass)
        case (.probabilities, _):
            throw ParityCheckError.replay("\(field): expected an object of label -> probability, got \(value.kindName)")
        case (.scores, .array(let elements)):
            return .scores(try elements.enumerated().map { index, element in
                guard let number = element.doubleValue else {
                    throw ParityCheckError.replay("\(field)[\(index)]: expected a number, got \(element.kindName)")
                }
                return number
            })
        case (.scores, _):
            guard let number = value.doubleValue else {
                throw ParityCheckError.replay("\(field): expected a number or an array, got \(value.kindName)")
            }
            return .scores([number])
        }
    }
}
