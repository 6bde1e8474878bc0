// text-features-check FIXTURE: runs TextFeatures on an mlexport-text-fixture and prints one JSON line per config
// ({"name", "rows", "agreeing", "mismatches"}); exit 0 when every row of every config agrees, 1 otherwise, 2 on a
// bad file. The Python suite (tests/test_text_swift.py) runs it on the whole corpus.
import Foundation
import ModelParity

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write("usage: text-features-check FIXTURE.json\n".data(using: .utf8)!)
    exit(2)
}
do {
    let results = try TextFeaturesCheck.run(fixture: try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    for result in results {
        print(String(data: try encoder.encode(result), encoding: .utf8)!)
    }
    exit(results.allSatisfy { $0.agreeing == $0.rows } ? 0 : 1)
} catch {
    FileHandle.standardError.write("text-features-check: \(error)\n".data(using: .utf8)!)
    exit(2)
}
