// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Bedrock",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bedrock", targets: ["bedrock"]),
        .library(name: "Bedrock", targets: ["Bedrock"]),
        .library(name: "TradingCore", targets: ["TradingCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CWebSockets", pkgConfig: "libwebsockets",
                       providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CJWT", pkgConfig: "libjwt",
                       providers: [.apt(["libjwt-dev"])]),
        .target(name: "TradingCore"),
        // The only importer of CHiredis: connections, pipelining, the pool, replies, the embedded
        // redis-server.
        .target(name: "RedisClient", dependencies: ["CHiredis"]),
        // The only importer of CJWT: HS256 verification and signing.
        .target(name: "JWTAuth", dependencies: ["CJWT"]),
        .target(
            name: "GatewayCore",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "Bedrock",
            dependencies: [
                "TradingCore", "GatewayCore", "RedisClient", "JWTAuth", "CWebSockets", "CJansson",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Lua")],
            // libev and OpenSSL are called directly (the loops' own libev loops, the TLS context
            // settings); both come with libwebsockets-dev.
            linkerSettings: [.linkedLibrary("ev"), .linkedLibrary("ssl")]
        ),
        .executableTarget(
            name: "bedrock",
            dependencies: [
                "Bedrock", "TradingCore", "RedisClient", "JWTAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "loadtest",
            dependencies: ["Bedrock", "RedisClient", "JWTAuth", "CWebSockets"],
            path: "loadtest/Sources/loadtest"
        ),
        .executableTarget(name: "bench", dependencies: ["TradingCore", "Bedrock"]),
        .testTarget(name: "TradingCoreTests", dependencies: ["TradingCore"]),
        .testTarget(name: "BedrockTests", dependencies: ["Bedrock", "TradingCore", "GatewayCore", "RedisClient", "JWTAuth",
                                                        .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore"]),
    ]
)
