// swift-tools-version: 6.1
// The benchmarks: a package of their own beside the product, so that `swift build` and
// `swift test` of the root package (what `make test` and CI run) never build ordo-one/benchmark and
// its dependencies. Run them from this folder with `swift package benchmark` (`make bench` does).
import Foundation
import PackageDescription

/// The Bedrock package is the folder above; SwiftPM names a path dependency after its folder.
let bedrockRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let bedrock = bedrockRoot.lastPathComponent.lowercased()

let package = Package(
    name: "BedrockBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: bedrockRoot.path),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Backtests, CSV loading and the optimiser's scaling: pure TradingCore, no I/O but a temp file.
        .executableTarget(
            name: "TradingCoreBenchmarks",
            dependencies: [
                .product(name: "TradingCore", package: bedrock),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "TradingCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The live engine through a real (embedded) redis-server, and JWT verification.
        .executableTarget(
            name: "BedrockBenchmarks",
            dependencies: [
                .product(name: "Bedrock", package: bedrock),
                .product(name: "TradingCore", package: bedrock),
                .product(name: "RedisClient", package: bedrock),
                .product(name: "JWTAuth", package: bedrock),
                .product(name: "GatewayCore", package: bedrock),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "BedrockBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The backtest report PDF: stored report JSON to PDF bytes (ReportPDF, cairo).
        .executableTarget(
            name: "ReportBenchmarks",
            dependencies: [
                .product(name: "ReportPDF", package: bedrock),
                .product(name: "TradingCore", package: bedrock),
                .product(name: "JSONCodec", package: bedrock),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "ReportBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The LLM layer's pure parts: the sentiment cache (LLMCore).
        .executableTarget(
            name: "LLMBenchmarks",
            dependencies: [
                .product(name: "LLMCore", package: bedrock),
                .product(name: "GatewayCore", package: bedrock),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "LLMBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
