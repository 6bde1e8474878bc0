// swift-tools-version:5.9
// ModelParity: decode an mlexport golden.json, run the exported .mlmodel, and compare with the stated tolerances.
import PackageDescription

let package = Package(
    name: "ModelParity",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "ModelParity", targets: ["ModelParity"]),
        // Replay checker used by the Python suite to cross-check the Swift comparison core (see README).
        .executable(name: "parity-check", targets: ["ParityCheckCLI"]),
        // TextFeatures vs scikit-learn's analyzer on a fixture the Python suite writes (tests/test_text_swift.py).
        .executable(name: "text-features-check", targets: ["TextFeaturesCheckCLI"]),
    ],
    targets: [
        .target(name: "ModelParity"),
        .executableTarget(name: "ParityCheckCLI", dependencies: ["ModelParity"]),
        .executableTarget(name: "TextFeaturesCheckCLI", dependencies: ["ModelParity"]),
        .testTarget(name: "ModelParityTests", dependencies: ["ModelParity"], exclude: ["Fixtures"]),
    ]
)
