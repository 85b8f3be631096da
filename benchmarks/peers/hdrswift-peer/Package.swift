// swift-tools-version:5.9
//
// The benchmark peer for bench_hist.c: hdrhistogram-swift 0.2.0 behind four C entry points, in
// its own package (never a dependency of libalphacore). Build: benchmarks/peers/build.sh.
import PackageDescription

let package = Package(
    name: "hdrswift-peer",
    products: [.library(name: "HdrSwiftPeer", type: .dynamic, targets: ["HdrSwiftPeer"])],
    dependencies: [.package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0")],
    targets: [.target(name: "HdrSwiftPeer", dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")])]
)
