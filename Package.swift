// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Bedrock",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bedrock", targets: ["bedrock"]),
        .library(name: "Bedrock", targets: ["Bedrock"]),
        .library(name: "TradingCore", targets: ["TradingCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
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
        .target(
            name: "Bedrock",
            dependencies: [
                "TradingCore", "CWebSockets", "CJansson", "CHiredis", "CJWT",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            resources: [.copy("Lua")],
            // libev and OpenSSL are called directly (the loops' own libev loops, the TLS context
            // settings); both come with libwebsockets-dev.
            linkerSettings: [.linkedLibrary("ev"), .linkedLibrary("ssl")]
        ),
        .executableTarget(
            name: "bedrock",
            dependencies: [
                "Bedrock", "TradingCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "loadtest",
            dependencies: [
                "Bedrock", "CWebSockets", "CHiredis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "loadtest/Sources/loadtest"
        ),
        .testTarget(name: "TradingCoreTests", dependencies: ["TradingCore"]),
        .testTarget(name: "BedrockTests", dependencies: ["Bedrock", "TradingCore"]),
    ]
)
