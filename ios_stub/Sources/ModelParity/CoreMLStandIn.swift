/// STAND-IN for Core ML, compiled only where Core ML does not exist (Linux CI), so `CoreMLPredictor` is type-checked
/// there against the same signatures it uses on Apple platforms.
///
/// THIS IS NOT CORE ML. It declares the handful of Core ML types `CoreMLPredictor` touches (MLModel,
/// MLModelConfiguration, MLComputeUnits, MLFeatureProvider, MLDictionaryFeatureProvider, MLFeatureValue,
/// MLFeatureType, MLMultiArray, MLMultiArrayDataType, MLBatchProvider, MLArrayBatchProvider) with the initialisers,
/// properties and methods of Apple's SDK headers, and nothing else. Loading or compiling a model throws
/// `CoreMLStandInError.unavailable`; the only way to "predict" is a closure a test supplies through
/// `MLModel(standInPrediction:)`, which does not exist in real Core ML. A check that runs through this file checks
/// the Swift plumbing around Core ML (input building, output reading), never Core ML's numerics: only a run on an
/// Apple device or simulator does that. `CoreMLPredictor.runtimeDescription` says so in every report.
#if !canImport(CoreML)
import Foundation

/// Errors of the stand-in itself.
public enum CoreMLStandInError: Error, CustomStringConvertible {
    case unavailable(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unavailable(let what):
            return "Core ML is not available on this platform (CoreMLStandIn): cannot \(what); "
                + "run the parity check on an Apple device or simulator"
        case .invalidArgument(let what): return "CoreMLStandIn: \(what)"
        }
    }
}

/// Stand-in for `MLComputeUnits` (same case names as the SDK).
public enum MLComputeUnits: Int {
    case cpuOnly = 0
    case cpuAndGPU = 1
    case all = 2
    case cpuAndNeuralEngine = 3
}

/// Stand-in for `MLModelConfiguration`.
open class MLModelConfiguration {
    public var computeUnits: MLComputeUnits = .all
    public init() {}
}

/// Stand-in for `MLFeatureType` (same case names as the SDK).
public enum MLFeatureType: Int {
    case invalid = 0, int64, double, string, image, multiArray, dictionary, sequence, state
}

/// Stand-in for `MLMultiArrayDataType` (raw values are the SDK's: 0x10000 | bits, as in Core ML's spec enum).
public enum MLMultiArrayDataType: Int {
    case double = 65600
    case float32 = 65568
    case float16 = 65552
    case int32 = 131104
}

/// Stand-in for `MLMultiArray`: dense, row-major (C-contiguous) storage, NSNumber subscripts like the SDK.
open class MLMultiArray {
    public let shape: [NSNumber]
    public let strides: [NSNumber]
    public let dataType: MLMultiArrayDataType
    private var storage: [Double]

    public var count: Int { storage.count }

    public init(shape: [NSNumber], dataType: MLMultiArrayDataType) throws {
        let dims = shape.map(\.intValue)
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw CoreMLStandInError.invalidArgument("negative dimension in shape \(dims)")
        }
        self.shape = shape
        self.dataType = dataType
        var strides = [Int](repeating: 1, count: dims.count)
        for axis in stride(from: dims.count - 2, through: 0, by: -1) {
            strides[axis] = strides[axis + 1] * dims[axis + 1]
        }
        self.strides = strides.map { NSNumber(value: $0) }
        storage = [Double](repeating: 0, count: dims.reduce(1, *))
    }

    /// Linear-index access, like the SDK's `subscript(idx: Int) -> NSNumber`.
    public subscript(index: Int) -> NSNumber {
        get { NSNumber(value: storage[index]) }
        set { storage[index] = newValue.doubleValue }
    }

    /// Multi-index access, like the SDK's `subscript(key: [NSNumber]) -> NSNumber`.
    public subscript(key: [NSNumber]) -> NSNumber {
        get { NSNumber(value: storage[offset(key)]) }
        set { storage[offset(key)] = newValue.doubleValue }
    }

    private func offset(_ key: [NSNumber]) -> Int {
        precondition(key.count == shape.count, "MLMultiArray key rank \(key.count) != shape rank \(shape.count)")
        return zip(key, strides).reduce(0) { $0 + $1.0.intValue * $1.1.intValue }
    }
}

/// Stand-in for `MLFeatureValue`.
open class MLFeatureValue {
    public let type: MLFeatureType
    public let int64Value: Int64
    public let doubleValue: Double
    public let stringValue: String
    public let multiArrayValue: MLMultiArray?
    public let dictionaryValue: [AnyHashable: NSNumber]
    public var isUndefined: Bool { type == .invalid }

    private init(type: MLFeatureType, int64: Int64 = 0, double: Double = 0, string: String = "",
                 multiArray: MLMultiArray? = nil, dictionary: [AnyHashable: NSNumber] = [:]) {
        self.type = type
        int64Value = int64
        doubleValue = double
        stringValue = string
        multiArrayValue = multiArray
        dictionaryValue = dictionary
    }

    public convenience init(int64 value: Int64) { self.init(type: .int64, int64: value, double: Double(value)) }
    public convenience init(double value: Double) { self.init(type: .double, double: value) }
    public convenience init(string value: String) { self.init(type: .string, string: value) }
    public convenience init(multiArray value: MLMultiArray) { self.init(type: .multiArray, multiArray: value) }
    public convenience init(dictionary value: [AnyHashable: NSNumber]) throws {
        self.init(type: .dictionary, dictionary: value)
    }
}

/// Stand-in for the `MLFeatureProvider` protocol.
public protocol MLFeatureProvider {
    var featureNames: Set<String> { get }
    func featureValue(for featureName: String) -> MLFeatureValue?
}

/// Stand-in for `MLDictionaryFeatureProvider`: values may be MLFeatureValue, NSNumber, Int64, Double, String or
/// MLMultiArray, as the SDK converts them.
open class MLDictionaryFeatureProvider: MLFeatureProvider {
    public let dictionary: [String: MLFeatureValue]

    public init(dictionary: [String: Any]) throws {
        var converted: [String: MLFeatureValue] = [:]
        for (name, value) in dictionary {
            switch value {
            case let feature as MLFeatureValue: converted[name] = feature
            case let array as MLMultiArray: converted[name] = MLFeatureValue(multiArray: array)
            case let text as String: converted[name] = MLFeatureValue(string: text)
            case let integer as Int64: converted[name] = MLFeatureValue(int64: integer)
            case let number as Double: converted[name] = MLFeatureValue(double: number)
            case let number as NSNumber: converted[name] = MLFeatureValue(double: number.doubleValue)
            default:
                throw CoreMLStandInError.invalidArgument("unsupported feature value \(type(of: value)) for \(name)")
            }
        }
        self.dictionary = converted
    }

    public var featureNames: Set<String> { Set(dictionary.keys) }

    public func featureValue(for featureName: String) -> MLFeatureValue? { dictionary[featureName] }
}

/// Stand-in for the `MLBatchProvider` protocol.
public protocol MLBatchProvider {
    var count: Int { get }
    func features(at index: Int) -> MLFeatureProvider
}

/// Stand-in for `MLArrayBatchProvider`.
open class MLArrayBatchProvider: MLBatchProvider {
    public let array: [MLFeatureProvider]
    public init(array: [MLFeatureProvider]) { self.array = array }
    public var count: Int { array.count }
    public func features(at index: Int) -> MLFeatureProvider { array[index] }
}

/// Stand-in for `MLModel`. Compiling and loading throw `CoreMLStandInError.unavailable`.
open class MLModel {
    private let standInPrediction: (MLFeatureProvider) throws -> MLFeatureProvider

    /// NOT in Core ML: a test-only model whose "prediction" is `prediction`. Lets Linux tests exercise how
    /// `CoreMLPredictor` builds inputs and reads outputs. Nothing produced this way is a Core ML result.
    public init(standInPrediction prediction: @escaping (MLFeatureProvider) throws -> MLFeatureProvider) {
        standInPrediction = prediction
    }

    public convenience init(contentsOf url: URL, configuration: MLModelConfiguration) throws {
        throw CoreMLStandInError.unavailable("load \(url.lastPathComponent)")
    }

    open class func compileModel(at modelURL: URL) throws -> URL {
        throw CoreMLStandInError.unavailable("compile \(modelURL.lastPathComponent)")
    }

    open func prediction(from input: MLFeatureProvider) throws -> MLFeatureProvider {
        try standInPrediction(input)
    }

    open func predictions(fromBatch inputBatch: MLBatchProvider) throws -> MLBatchProvider {
        MLArrayBatchProvider(array: try (0..<inputBatch.count).map { try standInPrediction(inputBatch.features(at: $0)) })
    }
}
#endif
