/// Term counts for a text model's Core ML dictionary input, computed the way scikit-learn's word analyzer does.
///
/// A Core ML text model exported by mlexport takes a `[String: Double]` of term counts (its DictVectorizer holds the
/// vocabulary). `TextFeatures` turns a String into those counts exactly as scikit-learn's `build_analyzer()` does:
///
///     lower() -> strip_accents -> maximal runs of \w (>= min_token_chars) -> drop stop words -> word n-grams
///
/// It does not use Swift's own Unicode tables or `lowercased()`: those differ from CPython's (`\w` membership, the
/// final-sigma rule, Unicode versions). Every character fact comes from the rules file mlexport writes next to the
/// model (`NAME.text.json`, format "mlexport-text-rules" 1), generated from the exporting Python's own `str.lower()`,
/// `re` and scikit-learn's `strip_accents_*`. Text is processed as Unicode scalars, which is what a Python `str` is.
///
/// Swift `String` equality is canonical equivalence ("Å" U+212B == "Å" U+00C5); Python's is code point equality. If
/// one text yields two terms that differ in scalars but are equal as Swift Strings, `counts(_:)` throws instead of
/// merging them silently (`termCounts(_:)` keeps them apart).
import Foundation

public struct TextFeaturesError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "text rules: \(message)" }
    public var errorDescription: String? { description }
}

/// The analyzer settings and character tables (decoded from `NAME.text.json`).
public struct TextRules: Decodable, Sendable {
    public let format: String
    public let formatVersion: Int
    public let unicodeVersion: String
    public let lowercase: Bool
    public let stripAccents: String?
    public let minTokenChars: Int
    public let ngramRange: [Int]
    public let stopWords: [String]
    public let binary: Bool
    /// Inclusive code point runs Python's `re` matches with `\w`.
    public let wordRanges: [[UInt32]]
    /// code point (decimal string) -> `str.lower()` of it, where it differs. CAPITAL SIGMA maps to 'σ' here.
    public let lowercaseMap: [String: [UInt32]]?
    /// Final-sigma rule classes: case-ignorable runs, and cased (not case-ignorable) runs.
    public let sigmaSkipped: [[UInt32]]?
    public let sigmaCased: [[UInt32]]?
    /// code point -> strip_accents_<mode> of it, where it differs from the default (itself; for 'ascii', '' when
    /// non-ASCII).
    public let accentMap: [String: [UInt32]]?
    /// Precomposed Hangul syllables decompose by the Unicode algorithm (not listed in accent_map).
    public let accentHangulSyllables: Bool?
    /// The Core ML model's DictVectorizer terms: `counts(_:)` keeps only these (Core ML requires every key to be
    /// known; scikit-learn ignores unknown terms).
    public let vocabulary: [String]?

    enum CodingKeys: String, CodingKey {
        case format, lowercase, binary
        case formatVersion = "format_version", unicodeVersion = "unicode_version", stripAccents = "strip_accents"
        case minTokenChars = "min_token_chars", ngramRange = "ngram_range", stopWords = "stop_words"
        case wordRanges = "word_ranges", lowercaseMap = "lowercase_map", sigmaSkipped = "sigma_skipped"
        case sigmaCased = "sigma_cased", accentMap = "accent_map", accentHangulSyllables = "accent_hangul_syllables"
        case vocabulary
    }
}

/// Sorted inclusive code point runs with binary-search membership.
struct ScalarSet: Sendable {
    private let firsts: [UInt32]
    private let lasts: [UInt32]

    init(_ runs: [[UInt32]], field: String) throws {
        var firsts: [UInt32] = [], lasts: [UInt32] = []
        for (i, run) in runs.enumerated() {
            guard run.count == 2, run[0] <= run[1], i == 0 || run[0] > lasts[i - 1] else {
                throw TextFeaturesError("\(field)[\(i)]: expected sorted, disjoint [first, last] runs")
            }
            firsts.append(run[0]); lasts.append(run[1])
        }
        self.firsts = firsts
        self.lasts = lasts
    }

    func contains(_ value: UInt32) -> Bool {
        var low = 0, high = firsts.count
        while low < high {  // first run whose start is > value
            let mid = (low + high) / 2
            if firsts[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low > 0 && value <= lasts[low - 1]
    }
}

public struct TextFeatures: Sendable {
    public let rules: TextRules
    private let word: ScalarSet
    private let lower: [UInt32: [UInt32]]
    private let sigmaSkipped: ScalarSet?
    private let sigmaCased: ScalarSet?
    private let accents: [UInt32: [UInt32]]
    private let stopWords: Set<[UInt32]>
    private let vocabulary: Set<[UInt32]>?
    private static let capitalSigma: UInt32 = 0x3A3

    public init(rulesJSON data: Data) throws {
        let rules: TextRules
        do {
            rules = try JSONDecoder().decode(TextRules.self, from: data)
        } catch {
            throw TextFeaturesError("not a valid mlexport-text-rules file: \(error)")
        }
        try self.init(rules: rules)
    }

    public init(rules: TextRules) throws {
        guard rules.format == "mlexport-text-rules", rules.formatVersion == 1 else {
            throw TextFeaturesError("format \(rules.format) \(rules.formatVersion); supported: mlexport-text-rules 1")
        }
        guard rules.minTokenChars >= 1 else { throw TextFeaturesError("min_token_chars must be >= 1") }
        guard rules.ngramRange.count == 2, rules.ngramRange[0] >= 1, rules.ngramRange[0] <= rules.ngramRange[1] else {
            throw TextFeaturesError("ngram_range must be [min_n, max_n] with 1 <= min_n <= max_n")
        }
        guard [nil, "ascii", "unicode"].contains(rules.stripAccents) else {
            throw TextFeaturesError("strip_accents \(rules.stripAccents ?? ""); supported: null, ascii, unicode")
        }
        self.rules = rules
        word = try ScalarSet(rules.wordRanges, field: "word_ranges")
        func scalarMap(_ map: [String: [UInt32]]?, _ field: String) throws -> [UInt32: [UInt32]] {
            var result: [UInt32: [UInt32]] = [:]
            for (key, value) in map ?? [:] {
                guard let code = UInt32(key) else { throw TextFeaturesError("\(field): key \(key) is not a code point") }
                result[code] = value
            }
            return result
        }
        if rules.lowercase {
            guard rules.lowercaseMap != nil, let skipped = rules.sigmaSkipped, let cased = rules.sigmaCased else {
                throw TextFeaturesError("lowercase needs lowercase_map, sigma_skipped and sigma_cased")
            }
            sigmaSkipped = try ScalarSet(skipped, field: "sigma_skipped")
            sigmaCased = try ScalarSet(cased, field: "sigma_cased")
        } else {
            sigmaSkipped = nil
            sigmaCased = nil
        }
        lower = try scalarMap(rules.lowercaseMap, "lowercase_map")
        if rules.stripAccents != nil && rules.accentMap == nil {
            throw TextFeaturesError("strip_accents needs accent_map")
        }
        accents = try scalarMap(rules.accentMap, "accent_map")
        stopWords = Set(rules.stopWords.map { $0.unicodeScalars.map(\.value) })
        vocabulary = rules.vocabulary.map { Set($0.map { $0.unicodeScalars.map(\.value) }) }
    }

    /// CPython's str.lower(): per code point, except CAPITAL SIGMA -> final 'ς' when the previous non-case-ignorable
    /// character is cased and the next non-case-ignorable one is not (or there is none).
    private func lowercased(_ text: [UInt32]) -> [UInt32] {
        guard let skipped = sigmaSkipped, let cased = sigmaCased else { return text }
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        for (i, c) in text.enumerated() {
            if c == Self.capitalSigma {
                var j = i - 1
                while j >= 0 && skipped.contains(text[j]) { j -= 1 }
                var final = j >= 0 && cased.contains(text[j])
                if final {
                    var k = i + 1
                    while k < text.count && skipped.contains(text[k]) { k += 1 }
                    final = k == text.count || !cased.contains(text[k])
                }
                out.append(final ? 0x3C2 : 0x3C3)
            } else if let mapped = lower[c] {
                out.append(contentsOf: mapped)
            } else {
                out.append(c)
            }
        }
        return out
    }

    private func strippedAccents(_ text: [UInt32]) -> [UInt32] {
        guard let mode = rules.stripAccents else { return text }
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        let hangul = rules.accentHangulSyllables ?? false
        for c in text {
            if hangul && (0xAC00...0xD7A3).contains(c) {  // Unicode 3.12: lead, vowel, optional trailing jamo
                let index = c - 0xAC00
                out.append(0x1100 + index / 588)
                out.append(0x1161 + (index % 588) / 28)
                if index % 28 != 0 { out.append(0x11A7 + index % 28) }
            } else if let mapped = accents[c] {
                out.append(contentsOf: mapped)
            } else if mode == "unicode" || c <= 0x7F {
                out.append(c)
            }  // 'ascii': any other non-ASCII scalar is dropped (NFKD then encode('ascii', 'ignore'))
        }
        return out
    }

    /// scikit-learn's tokens: maximal runs of `\w` scalars at least `min_token_chars` long (the accepted
    /// token_patterns `\b\w\w+\b` / `\b\w+\b` match exactly these), stop words removed.
    public func tokens(_ text: String) -> [[UInt32]] {
        var scalars = text.unicodeScalars.map(\.value)
        if rules.lowercase { scalars = lowercased(scalars) }
        scalars = strippedAccents(scalars)
        var tokens: [[UInt32]] = []
        var start = 0
        while start < scalars.count {
            guard word.contains(scalars[start]) else { start += 1; continue }
            var end = start + 1
            while end < scalars.count && word.contains(scalars[end]) { end += 1 }
            if end - start >= rules.minTokenChars {
                let token = Array(scalars[start..<end])
                if !stopWords.contains(token) { tokens.append(token) }
            }
            start = end
        }
        return tokens
    }

    /// Every term scikit-learn's analyzer yields for `text` (as scalar sequences) and its count (1 if `binary`).
    public func termCounts(_ text: String) -> [[UInt32]: Double] {
        let tokens = tokens(text)
        var counts: [[UInt32]: Double] = [:]
        let space: [UInt32] = [0x20]
        for n in rules.ngramRange[0]...rules.ngramRange[1] where n <= tokens.count {
            for i in 0...(tokens.count - n) {
                var term = tokens[i]
                for token in tokens[(i + 1)..<(i + n)] { term += space + token }
                counts[term, default: 0] += 1
            }
        }
        if rules.binary { for key in counts.keys { counts[key] = 1 } }
        return counts
    }

    /// The Core ML dictionary input: term -> count, only vocabulary terms when the rules list them. Throws if two
    /// distinct terms of this text are canonically equivalent (one Swift String key), which Python keeps apart.
    public func counts(_ text: String) throws -> [String: Double] {
        var result: [String: Double] = [:]
        var scalarsOf: [String: [UInt32]] = [:]
        for (scalars, count) in termCounts(text) where vocabulary?.contains(scalars) ?? true {
            var key = ""
            key.unicodeScalars.append(contentsOf: scalars.compactMap(Unicode.Scalar.init))
            if let other = scalarsOf[key], other != scalars {
                throw TextFeaturesError("terms \(other) and \(scalars) are distinct in Python but one Swift String")
            }
            scalarsOf[key] = scalars
            result[key] = count
        }
        return result
    }
}
