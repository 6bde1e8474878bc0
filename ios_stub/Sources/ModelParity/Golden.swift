/// First step of the on-device check: decode golden.json (written by parity/golden.py) into validated Swift values.
///
/// The contract is parity/golden.md ("mlexport-golden", format_version 1, 2 and 3). Decoding is `Decodable` with one
/// validation pass on top; every malformed file raises `GoldenError` naming the offending field, e.g.
/// `golden.json: rows[3].inputs[1]: expected a number or one of "NaN", "Infinity", "-Infinity", got string "x"`.
import Foundation

// MARK: - Errors

/// A malformed golden.json. `description` is one line naming the field (dotted path) and what is accepted.
public struct GoldenError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Dotted path of the offending field ("rows[3].inputs[1]"); empty for whole-file problems.
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "golden.json: \(message)" : "golden.json: \(field): \(message)"
    }

    public var errorDescription: String? { description }
}

// MARK: - Scalar pieces

/// A class label exactly as golden.json and Core ML carry it: Int64 (`int64ClassLabels`) or String
/// (`stringClassLabels`). Int 1 and String "1" are different labels.
public enum ClassLabel: Hashable, Sendable, CustomStringConvertible {
    case int64(Int64)
    case string(String)

    public var description: String {
        switch self {
        case .int64(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        }
    }

    /// The label rendered as a JSON object key (how the replay format spells dictionary keys).
    public var keyString: String {
        switch self {
        case .int64(let value): return String(value)
        case .string(let value): return value
        }
    }
}

/// A JSON number that may also be one of the strings "NaN", "Infinity", "-Infinity" (golden.md: non-finite floats
/// are written as those strings everywhere a number may appear).
public struct GoldenDouble: Decodable, Equatable, Sendable {
    public let value: Double

    public init(_ value: Double) { self.value = value }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        if let text = try? container.decode(String.self) {
            guard let nonFinite = GoldenDouble.nonFinite(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected a number or one of \"NaN\", \"Infinity\", \"-Infinity\", "
                        + "got string \"\(text)\"")
            }
            value = nonFinite
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container,
            debugDescription: "expected a number or one of \"NaN\", \"Infinity\", \"-Infinity\", got "
                + GoldenJSONValue.kindName(of: container))
    }

    /// The three spellings golden.md allows for non-finite numbers; nil for anything else.
    public static func nonFinite(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return nil
        }
    }

    /// Inverse of `nonFinite`: how reports and the replay format spell a double.
    public static func render(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "Infinity" }
        if value == -.infinity { return "-Infinity" }
        return "\(value)"
    }
}

/// One input value of a golden row, typed by its feature (golden.md v2 `input.features[].type`): a Double (version 1
/// files hold only these), an Int64, or a String fed verbatim through `MLFeatureValue(string:)` — `""` is the
/// contract's missing string, `"NaN"` is three letters.
public enum InputValue: Sendable, Equatable, CustomStringConvertible, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case double(Double)
    case int64(Int64)
    case string(String)
    /// Version 3: a text column's document and its term counts (what the Core ML model is fed, as a Dictionary);
    /// the app computes the counts from the text with `TextFeatures` and the model's rules file.
    case text(String, counts: [String: Double])

    public init(floatLiteral value: Double) { self = .double(value) }
    /// An integer literal is a Double value (the common case); write `.int64(_)` for an Int64 feature.
    public init(integerLiteral value: Int64) { self = .double(Double(value)) }
    public init(stringLiteral value: String) { self = .string(value) }

    /// The number of a Double or Int64 value; nil for a String.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int64(let value): return Double(value)
        case .string, .text: return nil
        }
    }

    public var description: String {
        switch self {
        case .double(let value): return GoldenDouble.render(value)
        case .int64(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .text(let value, let counts):
            let scalars = value.unicodeScalars
            let shown = scalars.count > 80 ? String(String.UnicodeScalarView(scalars.prefix(80))) + "…" : value
            return "text \"\(shown)\" (\(counts.count) terms)"
        }
    }
}

/// An untyped JSON value, used where golden.json's type depends on a sibling field (rows[].expected depends on
/// outputs[].kind, class_labels on whether they are ints or strings). Integers are kept apart from doubles so a
/// 64-bit label survives exactly.
public indirect enum GoldenJSONValue: Decodable, Equatable, Sendable {
    case integer(Int64)
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([GoldenJSONValue])
    case object([String: GoldenJSONValue])
    case null

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([GoldenJSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: GoldenJSONValue].self))
        }
    }

    /// "integer", "number", "string", ... for error messages.
    public var kindName: String {
        switch self {
        case .integer: return "integer"
        case .number: return "number"
        case .string(let text): return "string \"\(text)\""
        case .bool: return "boolean"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
    }

    static func kindName(of container: SingleValueDecodingContainer) -> String {
        (try? container.decode(GoldenJSONValue.self))?.kindName ?? "an unreadable value"
    }

    /// This value as a double, accepting integers and the non-finite spellings; nil otherwise.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        case .string(let text): return GoldenDouble.nonFinite(text)
        default: return nil
        }
    }
}

// MARK: - The golden file

/// golden.json, decoded and validated. Build it with `GoldenFile.decode(_:)` or `GoldenFile.load(contentsOf:)`.
public struct GoldenFile: Sendable {
    /// Versions of golden.md this reader implements.
    public static let supportedFormatVersions = [1, 2, 3]
    public static let formatName = "mlexport-golden"

    public struct Model: Decodable, Sendable, Equatable {
        public enum Task: String, Decodable, Sendable, CaseIterable { case classifier, regressor, transformer }
        public let name: String
        /// The .mlmodel file name the golden vectors belong to.
        public let file: String
        public let task: Task
    }

    /// How the .mlmodel takes its input (golden.md `input`).
    public struct Input: Decodable, Sendable, Equatable {
        public enum Kind: String, Decodable, Sendable, CaseIterable {
            /// One Double input feature per column, named `features[i].coreml_name`.
            case namedDoubles = "named_doubles"
            /// One MultiArray (double, shape [n_features]) input named `multiarray_name`.
            case multiarray
            /// Version 2: one feature per column named `features[i].coreml_name`, of type `features[i].type`
            /// (Double, Int64 or String).
            case named
        }

        /// The Core ML type of one named feature (golden.md v2); version 1 features are all Double. `text`
        /// (version 3): a text column, fed to Core ML as its term counts (a Dictionary String -> Double).
        public enum FeatureType: String, Decodable, Sendable, CaseIterable { case double, int64, string, text }

        /// The input-dtype contract: the app feeds values rounded to this precision.
        public enum DType: String, Decodable, Sendable, CaseIterable {
            case float32, float64

            /// Applies the contract to one value: float32 rounds through `Float` (round-to-nearest-even, as numpy's
            /// astype(float32) does); float64 leaves it unchanged. NaN and ±Infinity survive.
            public func apply(_ value: Double) -> Double {
                switch self {
                case .float32: return Double(Float(value))
                case .float64: return value
                }
            }

            /// The contract on one typed input: Double values are rounded as above; Int64 and String values are fed
            /// as they are (strings are NFC already, golden.md v2).
            public func apply(_ value: InputValue) -> InputValue {
                if case .double(let number) = value { return .double(apply(number)) }
                return value
            }
        }

        public struct Feature: Decodable, Sendable, Equatable {
            /// The column name in the user's data (scikit-learn `feature_names_in_`).
            public let name: String
            /// The Core ML input feature name (required for named_doubles and named).
            public let coremlName: String?
            /// Required for kind `named`; nil (Double) in version 1 files.
            public let type: FeatureType?
            /// Type `text` (version 3): the rules file `TextFeatures` reads to compute the counts (NAME.text.json).
            public let rules: String?

            public init(name: String, coremlName: String? = nil, type: FeatureType? = nil, rules: String? = nil) {
                self.name = name
                self.coremlName = coremlName
                self.type = type
                self.rules = rules
            }

            /// The feature's type: `type`, or Double when absent (version 1).
            public var featureType: FeatureType { type ?? .double }

            enum CodingKeys: String, CodingKey {
                case name
                case coremlName = "coreml_name"
                case type
                case rules
            }
        }

        public let kind: Kind
        public let multiarrayName: String?
        public let features: [Feature]
        public let dtype: DType
        /// Version 2 (kind `named`): what a missing string is fed as — always "" (golden.md).
        public let missingString: String?
        /// Version 2 (kind `named`): the Unicode normalisation of every string input — always "NFC".
        public let unicode: String?

        public init(kind: Kind, multiarrayName: String? = nil, features: [Feature], dtype: DType,
                    missingString: String? = nil, unicode: String? = nil) {
            self.kind = kind
            self.multiarrayName = multiarrayName
            self.features = features
            self.dtype = dtype
            self.missingString = missingString
            self.unicode = unicode
        }

        enum CodingKeys: String, CodingKey {
            case kind
            case multiarrayName = "multiarray_name"
            case features
            case dtype
            case missingString = "missing_string"
            case unicode
        }
    }

    /// One output to check, by its Core ML name.
    public struct Output: Decodable, Sendable, Equatable {
        public enum LabelType: String, Decodable, Sendable, CaseIterable { case int64, string }

        public enum Kind: Sendable, Equatable {
            /// `predictedFeatureName` of a classifier: Int64 or String.
            case label(LabelType)
            /// `predictedProbabilitiesName`: a Core ML dictionary label -> Double, compared per class.
            case probabilities
            /// A Double (width 1) or MultiArray (width n) of scores / regression values / transformed features.
            case scores(width: Int)
        }

        public let name: String
        public let kind: Kind

        enum CodingKeys: String, CodingKey { case name, kind, type, width }

        static let kindNames = ["label", "probabilities", "scores"]

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            let kindName = try container.decode(String.self, forKey: .kind)
            switch kindName {
            case "label":
                let typeName = try container.decode(String.self, forKey: .type)
                guard let type = LabelType(rawValue: typeName) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .type, in: container,
                        debugDescription: "unknown label type \"\(typeName)\"; supported: "
                            + LabelType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
                }
                kind = .label(type)
            case "probabilities":
                kind = .probabilities
            case "scores":
                let width = try container.decode(Int.self, forKey: .width)
                guard width >= 1 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .width, in: container, debugDescription: "width must be >= 1, got \(width)")
                }
                kind = .scores(width: width)
            default:
                throw DecodingError.dataCorruptedError(
                    forKey: .kind, in: container,
                    debugDescription: "unknown output kind \"\(kindName)\"; supported: "
                        + Output.kindNames.map { "\"\($0)\"" }.joined(separator: ", "))
            }
        }
    }

    /// Per-output tolerance; the element rule is |got − expected| <= atol + rtol·|expected|.
    public struct Tolerance: Decodable, Sendable, Equatable {
        public let rtol: Double
        public let atol: Double
        /// Why this tolerance (e.g. "float32 thresholds vs double inputs"); shown in failure reports.
        public let reason: String?

        public init(rtol: Double, atol: Double, reason: String? = nil) {
            self.rtol = rtol
            self.atol = atol
            self.reason = reason
        }
    }

    /// The reference value for one output of one row, already interpreted by the output's kind.
    public enum Expected: Sendable, Equatable {
        case label(ClassLabel)
        /// Probabilities in `class_labels` order, or the `width` score values.
        case values([Double])
    }

    public struct Row: Sendable, Equatable {
        public let id: Int
        /// Which probe generated the row: "user-data", "thresholds", "float32-neighbours", "nan", "extremes", ...
        public let probe: String
        /// One value per `input.features` entry, in that order, typed by the feature (doubles not yet rounded to
        /// the dtype contract).
        public let inputs: [InputValue]
        /// Keyed by output name.
        public let expected: [String: Expected]
    }

    public let formatVersion: Int
    public let model: Model
    public let input: Input
    public let outputs: [Output]
    public let classLabels: [ClassLabel]?
    public let tolerances: [String: Tolerance]
    public let tieTolerance: Double
    public let rows: [Row]

    /// The first probabilities output, which the label tie rule consults.
    public var probabilitiesOutput: Output? {
        outputs.first { $0.kind == .probabilities }
    }

    // MARK: Loading

    public static func load(contentsOf url: URL) throws -> GoldenFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw GoldenError(field: "", "cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode(data)
    }

    /// Decodes and validates golden.json; any problem is a `GoldenError` naming the field.
    public static func decode(_ data: Data) throws -> GoldenFile {
        let raw: RawGolden
        do {
            raw = try JSONDecoder().decode(RawGolden.self, from: data)
        } catch let error as DecodingError {
            throw GoldenError(decodingError: error)
        }
        return try GoldenFile(validating: raw)
    }
}

// MARK: - Raw decoding + validation

/// golden.json as JSON types, before cross-field validation (format, version, expected vs outputs, ...).
struct RawGolden: Decodable {
    struct RawRow: Decodable {
        let id: Int
        let probe: String
        let inputs: [GoldenJSONValue]
        let expected: [String: GoldenJSONValue]
    }

    let format: String
    let formatVersion: Int
    let model: GoldenFile.Model
    let input: GoldenFile.Input
    let outputs: [GoldenFile.Output]
    let classLabels: [GoldenJSONValue]?
    let tolerances: [String: RawTolerance]
    let tieTolerance: GoldenDouble
    let rows: [RawRow]

    struct RawTolerance: Decodable {
        let rtol: GoldenDouble
        let atol: GoldenDouble
        let reason: String?
    }

    enum CodingKeys: String, CodingKey {
        case format
        case formatVersion = "format_version"
        case model, input, outputs
        case classLabels = "class_labels"
        case tolerances
        case tieTolerance = "tie_tolerance"
        case rows
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Check the header first so a future-format file fails on its version, not on some renamed field.
        format = try container.decode(String.self, forKey: .format)
        guard format == GoldenFile.formatName else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: container,
                debugDescription: "expected \"\(GoldenFile.formatName)\", got \"\(format)\"")
        }
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        guard GoldenFile.supportedFormatVersions.contains(formatVersion) else {
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: container,
                debugDescription: "unsupported format_version \(formatVersion); supported: "
                    + GoldenFile.supportedFormatVersions.map(String.init).joined(separator: ", "))
        }
        model = try container.decode(GoldenFile.Model.self, forKey: .model)
        input = try container.decode(GoldenFile.Input.self, forKey: .input)
        outputs = try container.decode([GoldenFile.Output].self, forKey: .outputs)
        classLabels = try container.decodeIfPresent([GoldenJSONValue].self, forKey: .classLabels)
        tolerances = try container.decode([String: RawTolerance].self, forKey: .tolerances)
        tieTolerance = try container.decode(GoldenDouble.self, forKey: .tieTolerance)
        rows = try container.decode([RawRow].self, forKey: .rows)
    }
}

extension GoldenError {
    /// Turns Foundation's DecodingError into one line naming the field by its JSON path.
    init(decodingError: DecodingError) {
        switch decodingError {
        case .keyNotFound(let key, let context):
            let path = GoldenError.path(context.codingPath + [key])
            self.init(field: path, "missing required field")
        case .typeMismatch(let type, let context):
            self.init(field: GoldenError.path(context.codingPath), "expected \(GoldenError.jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            self.init(field: GoldenError.path(context.codingPath),
                      "is null, expected \(GoldenError.jsonTypeName(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = (context.underlyingError as NSError?)?.localizedDescription
                self.init(field: "", "not valid JSON (\(underlying ?? context.debugDescription))")
            } else {
                self.init(field: GoldenError.path(context.codingPath), context.debugDescription)
            }
        @unknown default:
            self.init(field: "", "\(decodingError)")
        }
    }

    /// JSON path of coding keys: `rows[3].expected.classLabel`.
    static func path(_ keys: [CodingKey]) -> String {
        var path = ""
        for key in keys {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is GoldenDouble.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object (\(name))"
        }
    }
}

extension GoldenFile {
    /// Cross-field checks golden.md implies but JSON types cannot express.
    init(validating raw: RawGolden) throws {
        formatVersion = raw.formatVersion
        model = raw.model
        input = raw.input
        outputs = raw.outputs
        try GoldenFile.validateInput(raw.input, formatVersion: raw.formatVersion)
        try GoldenFile.validateOutputs(raw.outputs)

        classLabels = try raw.classLabels.map(GoldenFile.classLabels(from:))
        let labelTypes = Set(raw.outputs.compactMap { output -> Output.LabelType? in
            if case .label(let type) = output.kind { return type }
            return nil
        })
        if let labels = classLabels, let labelType = labelTypes.first {
            let labelsAreInt = labels.allSatisfy { if case .int64 = $0 { return true } else { return false } }
            if labelsAreInt != (labelType == .int64) {
                throw GoldenError(field: "class_labels",
                                  "label output has type \"\(labelType.rawValue)\" but class_labels are "
                                      + (labelsAreInt ? "integers" : "strings"))
            }
        }
        if raw.outputs.contains(where: { $0.kind == .probabilities }) && (classLabels ?? []).isEmpty {
            throw GoldenError(field: "class_labels",
                              "a probabilities output needs class_labels (the per-class comparison order)")
        }

        var tolerances: [String: Tolerance] = [:]
        for (name, rawTolerance) in raw.tolerances {
            let field = "tolerances.\(name)"
            for (key, value) in [("rtol", rawTolerance.rtol.value), ("atol", rawTolerance.atol.value)]
            where !(value.isFinite && value >= 0) {
                throw GoldenError(field: "\(field).\(key)",
                                  "must be a finite number >= 0, got \(GoldenDouble.render(value))")
            }
            tolerances[name] = Tolerance(rtol: rawTolerance.rtol.value, atol: rawTolerance.atol.value,
                                         reason: rawTolerance.reason)
        }
        for output in raw.outputs where tolerances[output.name] == nil {
            if case .label = output.kind { continue }  // labels are exact: no tolerance entry
            throw GoldenError(field: "tolerances.\(output.name)",
                              "missing tolerance for output \"\(output.name)\" (every non-label output needs one)")
        }
        self.tolerances = tolerances

        let tie = raw.tieTolerance.value
        guard tie.isFinite && tie >= 0 else {
            throw GoldenError(field: "tie_tolerance", "must be a finite number >= 0, got \(GoldenDouble.render(tie))")
        }
        tieTolerance = tie

        var seenIDs = Set<Int>()
        var rows: [Row] = []
        rows.reserveCapacity(raw.rows.count)
        for (index, rawRow) in raw.rows.enumerated() {
            let field = "rows[\(index)]"
            guard seenIDs.insert(rawRow.id).inserted else {
                throw GoldenError(field: "\(field).id", "duplicate row id \(rawRow.id)")
            }
            guard rawRow.inputs.count == raw.input.features.count else {
                throw GoldenError(field: "\(field).inputs",
                                  "has \(rawRow.inputs.count) values but input.features lists "
                                      + "\(raw.input.features.count)")
            }
            var expected: [String: Expected] = [:]
            for output in raw.outputs {
                guard let value = rawRow.expected[output.name] else {
                    throw GoldenError(field: "\(field).expected.\(output.name)",
                                      "missing expected value for output \"\(output.name)\"")
                }
                expected[output.name] = try GoldenFile.expected(
                    value, for: output, classCount: classLabels?.count, field: "\(field).expected.\(output.name)")
            }
            let inputs = try zip(raw.input.features, rawRow.inputs).enumerated().map { position, pair in
                try GoldenFile.inputValue(pair.1, type: pair.0.featureType, field: "\(field).inputs[\(position)]")
            }
            rows.append(Row(id: rawRow.id, probe: rawRow.probe, inputs: inputs, expected: expected))
        }
        self.rows = rows
    }

    static func validateInput(_ input: Input, formatVersion: Int) throws {
        guard !input.features.isEmpty else {
            throw GoldenError(field: "input.features", "must list at least one feature")
        }
        if formatVersion < 2 {
            if input.kind == .named {
                throw GoldenError(field: "input.kind", "\"named\" needs format_version 2")
            }
            for (index, feature) in input.features.enumerated() where feature.type != nil {
                throw GoldenError(field: "input.features[\(index)].type", "needs format_version 2")
            }
        }
        if formatVersion < 3 {
            for (index, feature) in input.features.enumerated() where feature.featureType == .text {
                throw GoldenError(field: "input.features[\(index)].type", "\"text\" needs format_version 3")
            }
        }
        if input.kind != .named {
            for (index, feature) in input.features.enumerated() where feature.featureType != .double {
                throw GoldenError(field: "input.features[\(index)].type",
                                  "only kind \"named\" takes \"\(feature.featureType.rawValue)\" features")
            }
        }
        switch input.kind {
        case .multiarray:
            if (input.multiarrayName ?? "").isEmpty {
                throw GoldenError(field: "input.multiarray_name", "required when input.kind is \"multiarray\"")
            }
        case .namedDoubles:
            for (index, feature) in input.features.enumerated() where (feature.coremlName ?? "").isEmpty {
                throw GoldenError(field: "input.features[\(index)].coreml_name",
                                  "required when input.kind is \"named_doubles\"")
            }
        case .named:
            for (index, feature) in input.features.enumerated() {
                if (feature.coremlName ?? "").isEmpty {
                    throw GoldenError(field: "input.features[\(index)].coreml_name",
                                      "required when input.kind is \"named\"")
                }
                if feature.type == nil {
                    throw GoldenError(field: "input.features[\(index)].type",
                                      "required when input.kind is \"named\" (one of "
                                          + Input.FeatureType.allCases.map { "\"\($0.rawValue)\"" }
                                              .joined(separator: ", ") + ")")
                }
            }
            if input.missingString != "" {
                throw GoldenError(field: "input.missing_string", "must be \"\" (the contract's missing string)")
            }
            if input.unicode != "NFC" {
                throw GoldenError(field: "input.unicode", "must be \"NFC\"")
            }
        }
    }

    /// One row input read as its feature's type.
    static func inputValue(_ value: GoldenJSONValue, type: Input.FeatureType, field: String) throws -> InputValue {
        switch type {
        case .double:
            guard let number = value.doubleValue else {
                throw GoldenError(field: field, "expected a number or one of \"NaN\", \"Infinity\", \"-Infinity\", "
                                      + "got \(value.kindName)")
            }
            return .double(number)
        case .int64:
            guard case .integer(let integer) = value else {
                throw GoldenError(field: field, "expected an integer (int64 feature), got \(value.kindName)")
            }
            return .int64(integer)
        case .string:
            guard case .string(let text) = value else {
                throw GoldenError(field: field, "expected a string (string feature), got \(value.kindName)")
            }
            return .string(text)
        case .text:
            guard case .object(let fields) = value, case .string(let text)? = fields["text"],
                  case .object(let rawCounts)? = fields["counts"] else {
                throw GoldenError(field: field, "expected {\"text\": string, \"counts\": {term: number}} (text "
                                      + "feature), got \(value.kindName)")
            }
            var counts: [String: Double] = [:]
            for (term, count) in rawCounts {
                guard let number = count.doubleValue, number.isFinite else {
                    throw GoldenError(field: "\(field).counts[\"\(term)\"]",
                                      "expected a finite number, got \(count.kindName)")
                }
                counts[term] = number
            }
            return .text(text, counts: counts)
        }
    }

    static func validateOutputs(_ outputs: [Output]) throws {
        guard !outputs.isEmpty else { throw GoldenError(field: "outputs", "must list at least one output") }
        var seen = Set<String>()
        for (index, output) in outputs.enumerated() where !seen.insert(output.name).inserted {
            throw GoldenError(field: "outputs[\(index)].name", "duplicate output name \"\(output.name)\"")
        }
    }

    static func classLabels(from values: [GoldenJSONValue]) throws -> [ClassLabel] {
        var labels: [ClassLabel] = []
        for (index, value) in values.enumerated() {
            switch value {
            case .integer(let label): labels.append(.int64(label))
            case .string(let label): labels.append(.string(label))
            default:
                throw GoldenError(field: "class_labels[\(index)]",
                                  "expected an integer or a string label, got \(value.kindName)")
            }
        }
        let isInt = labels.map { if case .int64 = $0 { return true } else { return false } }
        if Set(isInt).count > 1 {
            throw GoldenError(field: "class_labels", "mixes integer and string labels; Core ML allows one kind")
        }
        if Set(labels).count != labels.count {
            throw GoldenError(field: "class_labels", "contains a duplicate label")
        }
        return labels
    }

    static func expected(_ value: GoldenJSONValue, for output: Output, classCount: Int?,
                         field: String) throws -> Expected {
        switch output.kind {
        case .label(.int64):
            guard case .integer(let label) = value else {
                throw GoldenError(field: field, "expected an integer label (type \"int64\"), got \(value.kindName)")
            }
            return .label(.int64(label))
        case .label(.string):
            guard case .string(let label) = value else {
                throw GoldenError(field: field, "expected a string label (type \"string\"), got \(value.kindName)")
            }
            return .label(.string(label))
        case .probabilities:
            let values = try numbers(value, field: field)
            let count = classCount ?? 0
            guard values.count == count else {
                throw GoldenError(field: field,
                                  "expected \(count) probabilities (one per class_labels entry), got \(values.count)")
            }
            return .values(values)
        case .scores(let width):
            // Width 1 is a Core ML Double and is written as a bare number; [x] is accepted too.
            if width == 1, let single = value.doubleValue { return .values([single]) }
            let values = try numbers(value, field: field)
            guard values.count == width else {
                throw GoldenError(field: field, "expected \(width) values (output width), got \(values.count)")
            }
            return .values(values)
        }
    }

    static func numbers(_ value: GoldenJSONValue, field: String) throws -> [Double] {
        guard case .array(let elements) = value else {
            throw GoldenError(field: field, "expected an array of numbers, got \(value.kindName)")
        }
        return try elements.enumerated().map { index, element in
            guard let number = element.doubleValue else {
                throw GoldenError(field: "\(field)[\(index)]",
                                  "expected a number or one of \"NaN\", \"Infinity\", \"-Infinity\", "
                                      + "got \(element.kindName)")
            }
            return number
        }
    }
}
