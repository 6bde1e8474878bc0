import Foundation
import XCTest
@testable import ModelParity

/// TextFeatures against scikit-learn's build_analyzer() term counts (Fixtures/text_features.json, written by
/// tests/text_corpus.py: 600 Tate titles + Unicode edge cases, six vectorizer configs).
final class TextFeaturesTests: XCTestCase {
    private static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/text_features.json")

    func testEveryRowAgreesWithScikitLearn() throws {
        let results = try TextFeaturesCheck.run(fixture: try Data(contentsOf: Self.fixture))
        XCTAssertEqual(results.count, 6)
        for result in results {
            XCTAssertEqual(result.agreeing, result.rows, "\(result.name): \(result.mismatches.joined(separator: "; "))")
        }
    }

    func testCanonicallyEquivalentTermsAreNotMerged() throws {
        let data = try Data(contentsOf: Self.fixture)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tables = try XCTUnwrap(root["tables"] as? [String: Any])
        let rules: [String: Any] = [
            "format": "mlexport-text-rules", "format_version": 1, "unicode_version": "test", "lowercase": false,
            "min_token_chars": 1, "ngram_range": [1, 1], "stop_words": [String](), "binary": false,
            "word_ranges": tables["word_ranges"]!,
        ]
        let features = try TextFeatures(rulesJSON: try JSONSerialization.data(withJSONObject: rules))
        // ANGSTROM SIGN and LATIN CAPITAL A WITH RING are two terms in Python, one Swift String.
        XCTAssertEqual(features.termCounts("\u{212B} \u{00C5}").count, 2)
        XCTAssertThrowsError(try features.counts("\u{212B} \u{00C5}"))
        XCTAssertEqual(try features.counts("ab ab cd"), ["ab": 2, "cd": 1])
    }

    func testMalformedRulesAreRefused() {
        XCTAssertThrowsError(try TextFeatures(rulesJSON: Data("{}".utf8))) { error in
            XCTAssertTrue("\(error)".hasPrefix("text rules: not a valid mlexport-text-rules file"))
        }
    }
}
