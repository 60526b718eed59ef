// swift-tools-version: 6.0
// The fuzz targets (libFuzzer): a package of their own beside the product, so that `swift build`
// and `swift test` of the root package never build them. Each executable is one libFuzzer target
// whose `main.swift` hands its check to libFuzzer's driver (`FuzzDriver.runFuzzer`). Build them
// with the whole graph instrumented, as `make fuzz` does:
//   swift build -c release --package-path Tests/Fuzz --scratch-path .build/fuzz \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
// (`-enable-testing` lets the targets reach internal types with `@testable import`).
import Foundation
import PackageDescription

/// The Bedrock package is two folders up; SwiftPM names a path dependency after its folder.
let bedrockRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let bedrock = bedrockRoot.lastPathComponent.lowercased()

let package = Package(
    name: "BedrockFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: bedrockRoot.path),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libFuzzer's LLVMFuzzerRunDriver, declared for Swift (the fuzzer runtime defines it).
        .systemLibrary(name: "CFuzzerDriver", path: "CFuzzerDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzerDriver"], path: "FuzzDriver"),
        // Socket frames into a SessionMachine (authentication, subscriptions, requests, ticks).
        .executableTarget(
            name: "FuzzSession",
            dependencies: [
                "FuzzDriver",
                .product(name: "Bedrock", package: bedrock),
                .product(name: "GatewayCore", package: bedrock),
                .product(name: "JSONCodec", package: bedrock),
                .product(name: "JWTAuth", package: bedrock),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "FuzzSession"
        ),
        // JSONCodec: parse, re-encode, re-parse.
        .executableTarget(
            name: "FuzzJSON", dependencies: ["FuzzDriver", .product(name: "JSONCodec", package: bedrock)], path: "FuzzJSON"),
        // MarketData's CSV loader, from bytes.
        .executableTarget(
            name: "FuzzCSV", dependencies: ["FuzzDriver", .product(name: "TradingCore", package: bedrock)], path: "FuzzCSV"),
        // The configuration loader: a JSON document and BEDROCK_* variables, no file system.
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "FuzzDriver",
                .product(name: "Bedrock", package: bedrock),
                .product(name: "JSONCodec", package: bedrock),
            ],
            path: "FuzzConfig"
        ),
        // The HTTP request head's pure pieces: route matching, static file resolution, bearer
        // token and X-Request-ID handling.
        .executableTarget(
            name: "FuzzHTTP",
            dependencies: ["FuzzDriver", .product(name: "Bedrock", package: bedrock)],
            path: "FuzzHTTP"
        ),
    ]
)
