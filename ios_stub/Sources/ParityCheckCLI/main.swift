/// `parity-check GOLDEN.json REPLAY.json`: the Swift comparison core as a command, so the Python suite can check that
/// both cores give the same verdict on shared cases. Prints a JSON verdict on stdout; exit 0 passed, 1 failed,
/// 2 malformed input or usage error (message on stderr).
import Foundation
import ModelParity

func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    writeStandardError("usage: parity-check GOLDEN.json REPLAY.json  (replay format: see ios_stub/README.md)")
    exit(2)
}

do {
    let golden = try GoldenFile.load(contentsOf: URL(fileURLWithPath: arguments[1]))
    let replayURL = URL(fileURLWithPath: arguments[2])
    guard let replayData = FileManager.default.contents(atPath: replayURL.path) else {
        throw ParityCheckError.replay("cannot read \(replayURL.path)")
    }
    let predictions = try ReplayFile.decode(replayData, for: golden)
    let report = ParityCheck.compare(golden, predictions: predictions, runtime: "replay \(replayURL.lastPathComponent)")
    let verdict: [String: Any] = [
        "passed": report.passed,
        "failures": report.failures.map { failure -> [String: Any] in
            ["row": failure.rowID, "output": failure.output, "reason": failure.reason, "probe": failure.probe,
             "expected": failure.expected, "got": failure.got]
        },
        "accepted_ties": report.acceptedTies.map { tie -> [String: Any] in
            ["row": tie.rowID, "output": tie.output, "expected": tie.expected.keyString, "got": tie.got.keyString]
        },
    ]
    let json = try JSONSerialization.data(withJSONObject: verdict, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
    exit(report.passed ? 0 : 1)
} catch {
    writeStandardError("parity-check: \(error)")
    exit(2)
}
