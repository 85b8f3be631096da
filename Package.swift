// swift-tools-version:6.3
//
// libalphacore: a Swift core behind a C ABI. The release shared library (static Swift stdlib,
// SONAME, version script) is produced by the Makefile, not by flags here: -static-stdlib in
// linker settings would break `swift test`.
import PackageDescription

let package = Package(
    name: "alphacore",
    products: [
        .library(name: "AlphaCoreC", type: .dynamic, targets: ["CExports"]),  // the Makefile turns it into libalphacore.so.0
        .executable(name: "alphacore", targets: ["alphacore-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CLibURing", path: "Sources/CLibURing"),
        .systemLibrary(name: "CLibNuma", path: "Sources/CLibNuma"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // GNU-only calls and macros Swift cannot see. No logic.
        .target(
            name: "CAlphaCoreShims",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The Swift core, usable from Swift directly. No Foundation.
        .target(
            name: "AlphaCore",
            dependencies: ["CAlphaCoreShims", "CLibURing", "CLibNuma", "CZlib"],
            linkerSettings: [.linkedLibrary(":liburing.a")]
        ),
        // The public header as a Clang module (include/alphacore.h).
        .target(name: "CAlphaCoreABI"),
        // The C ABI: thin @c @implementation functions over AlphaCore.
        .target(
            name: "CExports",
            dependencies: ["AlphaCore", "CAlphaCoreABI"]
        ),
        .executableTarget(
            name: "alphacore-cli",
            dependencies: ["AlphaCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "AlphaCoreTests", dependencies: ["AlphaCore"]),
    ],
    swiftLanguageModes: [.v6]
)
