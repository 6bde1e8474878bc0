/// The on-device predictor: feeds golden rows to the exported model through Core ML and reads its outputs back.
///
/// On Apple platforms this is real Core ML. Elsewhere it compiles against CoreMLStandIn.swift (same signatures, no
/// Core ML inside), and `runtimeDescription` says so — a report produced that way is never a Core ML check.
import Foundation
#if canImport(CoreML)
import CoreML
#endif

public final class CoreMLPredictor: ParityPredictor {
    /// True only when built against Apple's Core ML framework (not the Linux stand-in).
    public static var isRealCoreML: Bool {
        #if canImport(CoreML)
        return true
        #else
        return false
        #endif
    }

    public let model: MLModel
    /// What the model was loaded from, for reports.
    public let modelLabel: String

    /// Wraps an already loaded model (e.g. the `.model` of an Xcode-generated model class).
    public init(model: MLModel, label: String = "in-memory model") {
        self.model = model
        modelLabel = label
    }

    /// Loads `url`: a compiled `.mlmodelc` directly (what Xcode puts in a bundle when the .mlmodel is in
    /// "Compile Sources"), or a `.mlmodel` compiled first with `MLModel.compileModel(at:)`.
    /// Compute units default to `.cpuOnly` so neural-network layers run in FP32 rather than FP16 on the GPU/ANE,
    /// which the golden tolerances (derived for double/float32 CPU math) assume.
    public convenience init(contentsOf url: URL, computeUnits: MLComputeUnits = .cpuOnly) throws {
        let compiledURL = url.pathExtension == "mlmodelc" ? url : try MLModel.compileModel(at: url)
        let configuration = MLModelConfiguration()
        configuration.computeUnits = computeUnits
        let model = try MLModel(contentsOf: compiledURL, configuration: configuration)
        self.init(model: model, label: "\(url.lastPathComponent) (\(CoreMLPredictor.describe(computeUnits)))")
    }

    public var runtimeDescription: String {
        CoreMLPredictor.isRealCoreML
            ? "Core ML \(modelLabel)"
            : "CoreMLStandIn \(modelLabel) — NOT Core ML: built without the CoreML framework, "
                + "this does not check the model"
    }

    public func predict(inputs: [[InputValue]], input: GoldenFile.Input,
                        outputs: [GoldenFile.Output]) throws -> [[String: PredictedValue]] {
        let providers = try inputs.map { try CoreMLPredictor.featureProvider(for: $0, input: input) }
        let results = try model.predictions(fromBatch: MLArrayBatchProvider(array: providers))
        guard results.count == inputs.count else {
            throw ParityCheckError.predictor("Core ML returned \(results.count) results for \(inputs.count) rows")
        }
        return (0..<results.count).map { CoreMLPredictor.read(results.features(at: $0), outputs: outputs) }
    }

    // MARK: Inputs

    /// One row as the model's input features, as golden.json's `input.kind` says: one Double feature per column
    /// (named by `coreml_name`), one MultiArray (double, shape [n_features]) named `multiarray_name`, or (version 2)
    /// one feature per column of its own type — Double, Int64, or String through `MLFeatureValue(string:)`.
    public static func featureProvider(for row: [InputValue], input: GoldenFile.Input) throws -> MLFeatureProvider {
        switch input.kind {
        case .namedDoubles, .named:
            var features: [String: Any] = [:]
            for (feature, value) in zip(input.features, row) {
                features[feature.coremlName ?? feature.name] = try featureValue(value, as: feature)
            }
            return try MLDictionaryFeatureProvider(dictionary: features)
        case .multiarray:
            let array = try MLMultiArray(shape: [NSNumber(value: row.count)], dataType: .double)
            for (index, value) in row.enumerated() {
                guard let number = value.doubleValue else {
                    throw ParityCheckError.predictor("a MultiArray input cannot take the string \(value)")
                }
                array[[NSNumber(value: index)]] = NSNumber(value: number)
            }
            let name = input.multiarrayName ?? "input"
            return try MLDictionaryFeatureProvider(dictionary: [name: MLFeatureValue(multiArray: array)])
        }
    }

    /// The Core ML value of one typed input. Strings are NFC-normalised, as the export contract asks of every app
    /// (scikit-learn and ONNX compare code points; golden strings are NFC already, so this is what an app must do
    /// with its own user input, shown where it happens).
    static func featureValue(_ value: InputValue, as feature: GoldenFile.Input.Feature) throws -> MLFeatureValue {
        switch (feature.featureType, value) {
        case (.double, .double(let number)): return MLFeatureValue(double: number)
        case (.double, .int64(let number)): return MLFeatureValue(double: Double(number))
        case (.int64, .int64(let number)): return MLFeatureValue(int64: number)
        case (.string, .string(let text)): return MLFeatureValue(string: text.precomposedStringWithCanonicalMapping)
        case (.text, .text(_, let counts)):
            // The model's DictVectorizer input: TextFeatures(rules).counts(text) in an app (golden rows hold both)
            return try MLFeatureValue(dictionary: counts.mapValues { NSNumber(value: $0) } as [AnyHashable: NSNumber])
        default:
            throw ParityCheckError.predictor(
                "input \"\(feature.name)\" is \(feature.featureType.rawValue) but the row holds \(value)")
        }
    }

    // MARK: Outputs

    /// Reads the golden outputs from one Core ML result; absent outputs are left out (reported as missing).
    public static func read(_ provider: MLFeatureProvider, outputs: [GoldenFile.Output]) -> [String: PredictedValue] {
        var values: [String: PredictedValue] = [:]
        for output in outputs {
            guard let feature = provider.featureValue(for: output.name), !feature.isUndefined else { continue }
            values[output.name] = read(feature, as: output.kind)
        }
        return values
    }

    static func read(_ feature: MLFeatureValue, as kind: GoldenFile.Output.Kind) -> PredictedValue {
        switch kind {
        case .label:
            switch feature.type {
            case .int64: return .label(.int64(feature.int64Value))
            case .string: return .label(.string(feature.stringValue))
            default: return .unreadable("Core ML feature of type \(describe(feature.type)), expected Int64 or String")
            }
        case .probabilities:
            guard feature.type == .dictionary else {
                return .unreadable("Core ML feature of type \(describe(feature.type)), expected Dictionary")
            }
            var byClass: [ClassLabel: Double] = [:]
            for (key, probability) in feature.dictionaryValue {
                guard let label = classLabel(key) else {
                    return .unreadable("Dictionary key \(key) is neither Int64 nor String")
                }
                byClass[label] = probability.doubleValue
            }
            return .probabilities(byClass)
        case .scores:
            switch feature.type {
            case .double: return .scores([feature.doubleValue])
            case .int64: return .scores([Double(feature.int64Value)])
            case .multiArray:
                guard let array = feature.multiArrayValue else { return .unreadable("MultiArray feature without value") }
                return .scores(elements(of: array))
            default:
                return .unreadable("Core ML feature of type \(describe(feature.type)), expected Double or MultiArray")
            }
        }
    }

    /// Dictionary keys arrive as NSNumber (int64KeyType) or String (stringKeyType), bridged to AnyHashable.
    static func classLabel(_ key: AnyHashable) -> ClassLabel? {
        if let text = key.base as? String { return .string(text) }
        if let integer = key.base as? Int64 { return .int64(integer) }
        if let integer = key.base as? Int { return .int64(Int64(integer)) }
        if let number = key.base as? NSNumber { return .int64(number.int64Value) }
        return nil
    }

    /// All elements in logical row-major order. Indexes by [NSNumber] so the array's strides are respected
    /// (Core ML may return padded / non-contiguous arrays, where a linear index would read the wrong element).
    static func elements(of array: MLMultiArray) -> [Double] {
        let shape = array.shape.map(\.intValue)
        let count = shape.reduce(1, *)
        guard count > 0 else { return [] }
        var values: [Double] = []
        values.reserveCapacity(count)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<count {
            values.append(array[index.map { NSNumber(value: $0) }].doubleValue)
            // Advance the multi-index, last axis fastest.
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return values
    }

    static func describe(_ type: MLFeatureType) -> String {
        switch type {
        case .int64: return "Int64"
        case .double: return "Double"
        case .string: return "String"
        case .multiArray: return "MultiArray"
        case .dictionary: return "Dictionary"
        case .invalid: return "invalid"
        default: return "raw type \(type.rawValue)"
        }
    }

    static func describe(_ units: MLComputeUnits) -> String {
        switch units {
        case .cpuOnly: return "cpuOnly"
        case .cpuAndGPU: return "cpuAndGPU"
        case .all: return "all"
        default: return "computeUnits \(units.rawValue)"
        }
    }
}
