/// Tests against files outside the package: the repo's demo golden.json, and the built `parity-check` tool.
import Foundation
import XCTest
@testable import ModelParity

final class RepoArtifactsTests: XCTestCase {
    /// ios_stub/ (this file is ios_stub/Tests/ModelParityTests/RepoArtifactsTests.swift).
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testDecodesRepoDemoGoldenFile() throws {
        let url = Self.packageRoot.deletingLastPathComponent().appendingPathComponent("artifacts/demo/golden.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(url.path) does not exist yet (written by `mlexport demo`); demo golden file NOT checked")
        }
        let golden = try GoldenFile.load(contentsOf: url)
        XCTAssertFalse(golden.rows.isEmpty, "demo golden file has no rows")
        XCTAssertFalse(golden.outputs.isEmpty)
        XCTAssertTrue(golden.model.file.hasSuffix(".mlmodel"), golden.model.file)
        // The golden expected values replayed as predictions must pass: the core agrees with itself on real data.
        let replay = golden.rows.map { row in
            row.expected.mapValues { expected -> PredictedValue in
                switch expected {
                case .label(let label): return .label(label)
                case .values(let values):
                    if let probabilities = golden.probabilitiesOutput,
                       row.expected[probabilities.name] == expected, let labels = golden.classLabels {
                        return .probabilities(Dictionary(uniqueKeysWithValues: zip(labels, values)))
                    }
                    return .scores(values)
                }
            }
        }
        let report = ParityCheck.compare(golden, predictions: replay, runtime: "golden replayed against itself")
        XCTAssertTrue(report.passed, "\(report)")
    }

    /// Runs the `parity-check` executable built next to the test bundle.
    private func runParityCheck(golden: String, replay: String) throws -> (status: Int32, stdout: String, stderr: String) {
        // macOS: the bundle is .build/debug/X.xctest (a directory); Linux: the bundle URL is .build/debug itself.
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("parity-check") }
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("parity-check not built in \(candidates.map(\.path)) (run `swift build` first); CLI NOT checked")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let goldenURL = directory.appendingPathComponent("golden.json")
        let replayURL = directory.appendingPathComponent("replay.json")
        try Data(golden.utf8).write(to: goldenURL)
        try Data(replay.utf8).write(to: replayURL)
        let process = Process()
        process.executableURL = tool
        process.arguments = [goldenURL.path, replayURL.path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func testParityCheckToolVerdicts() throws {
        let golden = GoldenFixtures.json(rows: "[" + GoldenFixtures.classifierRow(id: 0) + ","
                                         + GoldenFixtures.classifierRow(id: 5, prediction: "\"NaN\"") + "]")
        let passing = """
            {"rows": [{"id": 0, "outputs": {"classLabel": 0, "classProbability": {"0": 0.7, "1": 0.2, "2": 0.1},
                                            "prediction": 2.0}},
                      {"id": 5, "outputs": {"classLabel": 0, "classProbability": {"0": 0.7, "1": 0.2, "2": 0.1},
                                            "prediction": "NaN"}}]}
            """
        let passed = try runParityCheck(golden: golden, replay: passing)
        XCTAssertEqual(passed.status, 0, passed.stderr)
        let passedVerdict = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(passed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(passedVerdict["passed"] as? Bool, true)
        XCTAssertEqual((passedVerdict["failures"] as? [Any])?.count, 0)

        // Row 5 absent: all its outputs missing; row 0 loses class "2".
        let failing = """
            {"rows": [{"id": 0, "outputs": {"classLabel": 0, "classProbability": {"0": 0.7, "1": 0.2},
                                            "prediction": 2.0}}]}
            """
        let failed = try runParityCheck(golden: golden, replay: failing)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        let verdict = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(verdict["passed"] as? Bool, false)
        let failures = try XCTUnwrap(verdict["failures"] as? [[String: Any]])
        let pairs = failures.map { "\($0["row"] as? Int ?? -1):\($0["output"] as? String ?? "")" }
        XCTAssertEqual(pairs, ["0:classProbability", "5:classLabel", "5:classProbability", "5:prediction"])
        XCTAssertEqual(failures[0]["reason"] as? String, "missing class 2 in classProbability")

        let malformed = try runParityCheck(golden: golden, replay: "{\"rows\": [{\"id\": 99, \"outputs\": {}}]}")
        XCTAssertEqual(malformed.status, 2)
        XCTAssertTrue(malformed.stderr.contains("row id 99 is not in golden.json"), malformed.stderr)
        let badGolden = try runParityCheck(golden: "{}", replay: passing)
        XCTAssertEqual(badGolden.status, 2)
        XCTAssertTrue(badGolden.stderr.contains("golden.json: format: missing required field"), badGolden.stderr)
    }
}
