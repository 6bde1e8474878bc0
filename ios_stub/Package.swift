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
    ],
    targets: [
        .target(name: "ModelParity"),
        .executableTarget(name: "ParityCheckCLI", dependencies: ["ModelParity"]),
        .testTarget(name: "ModelParityTests", dependencies: ["ModelParity"]),
    ]
)
