// text-features-check FIXTURE: runs TextFeatures on an mlexport-text-fixture and prints one JSON line per config
// ({"name", "rows", "agreeing", "mismatches"}); exit 0 when every row of every config agrees, 1 otherwise, 2 on a
// bad file. The Python suite (tests/test_text_swift.py) runs it on the whole corpus.
// text-features-check --counts RULES DOCUMENTS: prints TextFeatures(RULES).counts(d) for each string of the JSON
// array DOCUMENTS, as one JSON array of [[term, count], ...] (tests/test_text_coreml.py feeds them to Core ML).
// text-features-check --golden GOLDEN DIR: checks every text row of a golden.json (format_version 3) against
// TextFeatures with the rules files the golden names, found in DIR; prints one JSON object {"rows", "mismatches"};
// exit 0 when all agree, 1 otherwise.
import Foundation
import ModelParity

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("text-features-check: \(message)\n".data(using: .utf8)!)
    exit(2)
}

let arguments = CommandLine.arguments
do {
    if arguments.count == 4 && arguments[1] == "--counts" {
        let features = try TextFeatures(rulesJSON: try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
        let documents = try JSONDecoder().decode([String].self,
                                                 from: try Data(contentsOf: URL(fileURLWithPath: arguments[3])))
        var rows: [[[String: Double]]] = []
        for document in documents {
            // One {term: count} object per term, so canonically equivalent keys could never merge in the output.
            rows.append(try features.counts(document).sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
                .map { [$0.key: $0.value] })
        }
        print(String(data: try JSONEncoder().encode(rows), encoding: .utf8)!)
        exit(0)
    }
    if arguments.count == 4 && arguments[1] == "--golden" {
        let golden = try GoldenFile.load(contentsOf: URL(fileURLWithPath: arguments[2]))
        var rules: [String: TextFeatures] = [:]
        for feature in golden.input.features where feature.featureType == .text {
            let url = URL(fileURLWithPath: arguments[3]).appendingPathComponent(feature.rules ?? "")
            rules[feature.coremlName ?? feature.name] = try TextFeatures(rulesJSON: try Data(contentsOf: url))
        }
        let mismatches = try TextFeaturesCheck.goldenMismatches(golden, rules: rules)
        let result: [String: Any] = ["rows": golden.rows.count, "mismatches": mismatches]
        print(String(data: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), encoding: .utf8)!)
        exit(mismatches.isEmpty ? 0 : 1)
    }
    guard arguments.count == 2 else { fail("usage: text-features-check FIXTURE.json | --counts RULES.json DOCS.json") }
    let results = try TextFeaturesCheck.run(fixture: try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    for result in results {
        print(String(data: try encoder.encode(result), encoding: .utf8)!)
    }
    exit(results.allSatisfy { $0.agreeing == $0.rows } ? 0 : 1)
} catch {
    fail("\(error)")
}
