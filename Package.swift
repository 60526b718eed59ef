// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Bedrock",
    // macOS 15: the Synchronization module (Mutex, Atomic).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bedrock", targets: ["bedrock"]),
        .library(name: "Bedrock", targets: ["Bedrock"]),
        .library(name: "TradingCore", targets: ["TradingCore"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "JWTAuth", targets: ["JWTAuth"]),
        .library(name: "JSONCodec", targets: ["JSONCodec"]),
        .library(name: "GatewayCore", targets: ["GatewayCore"]),
        .library(name: "HTTPClient", targets: ["HTTPClient"]),
        .library(name: "MarketDataCore", targets: ["MarketDataCore"]),
        .library(name: "Exchanges", targets: ["Exchanges"]),
        .library(name: "Digests", targets: ["Digests"]),
        .library(name: "LLMCore", targets: ["LLMCore"]),
        .library(name: "LLMClient", targets: ["LLMClient"]),
        .library(name: "ReportPDF", targets: ["ReportPDF"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CWebSockets", pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(
            name: "CJansson", pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(
            name: "CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CJWT", pkgConfig: "libjwt",
            providers: [.apt(["libjwt-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]),
        // For the load generator's raw-socket client: epoll, which Glibc does not import.
        .systemLibrary(name: "CEpoll", path: "loadtest/Sources/CEpoll"),
        // The only importer of CJansson: one JSON value type, a Swift encoder, jansson parsing.
        .target(name: "JSONCodec", dependencies: ["CJansson"]),
        .target(name: "TradingCore", dependencies: ["JSONCodec"]),
        // Pure market-data ingest policy, no C, no I/O: unified symbols, kline intervals, exchange
        // payload decoding, bar quality, sequencing, request pacing, reconnect and staleness.
        .target(name: "MarketDataCore", dependencies: ["JSONCodec", "TradingCore"]),
        // The only importer of CHiredis: connections, pipelining, the pool, replies, the embedded
        // redis-server.
        .target(name: "RedisClient", dependencies: ["CHiredis"]),
        // The only importer of CJWT: HS256/RS256/ES256 verification, HS256 signing; CCrypto for
        // public keys (PEM files, JWK members).
        .target(name: "JWTAuth", dependencies: ["CJWT", "CCrypto", "JSONCodec"]),
        // The only importer of CCurl: the blocking outbound HTTP client (exchanges, LLM, webhooks).
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        // The exchange adapters: MarketDataCore's policy around real I/O (REST history pages over
        // HTTPClient, live kline streams over Transport's WebSocket client).
        .target(name: "Exchanges", dependencies: ["MarketDataCore", "HTTPClient", "Transport", "JSONCodec", "GatewayCore"]),
        // Pure LLM policy, no C of its own, no I/O: tasks and prompt templates, strict sentiment
        // parsing, the per-market sentiment book (cache, news coalescing), the outage policy.
        .target(name: "LLMCore", dependencies: ["JSONCodec", "TradingCore", "GatewayCore"]),
        // The OpenAI-compatible chat-completions client (blocking, over HTTPClient); MarketDataCore
        // for its HTTP-date reader (`Retry-After` as a date).
        .target(name: "LLMClient", dependencies: ["HTTPClient", "JSONCodec", "MarketDataCore"]),
        // CCrypto's importers: this one for message digests (SHA-256 of training data), and
        // JWTAuth for public keys.
        .target(name: "Digests", dependencies: ["CCrypto"]),
        // The only importer of CCairo: backtest reports drawn as PDF (summary, charts, trades).
        .target(name: "ReportPDF", dependencies: ["CCairo", "JSONCodec", "TradingCore"]),
        // The only importer of CWebSockets: lws contexts, connections, the WebSocket clients.
        .target(
            name: "Transport",
            dependencies: ["CWebSockets"],
            // libev and OpenSSL are called directly (each context's own libev loop, the TLS
            // context settings); both come with libwebsockets-dev.
            linkerSettings: [.linkedLibrary("ev"), .linkedLibrary("ssl")]
        ),
        // Pure policy, no C: send queues, topic routing, the clock.
        .target(
            name: "GatewayCore",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "Bedrock",
            dependencies: [
                "TradingCore", "MarketDataCore", "Exchanges", "GatewayCore", "JSONCodec", "RedisClient", "JWTAuth",
                "Transport", "Digests", "LLMCore", "LLMClient", "ReportPDF",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Lua")]
        ),
        .executableTarget(
            name: "bedrock",
            dependencies: [
                "Bedrock", "TradingCore", "JSONCodec", "RedisClient", "JWTAuth", "Transport", "MarketDataCore", "Exchanges",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "loadtest",
            dependencies: [
                "Bedrock", "JSONCodec", "RedisClient", "JWTAuth", "Transport", "CEpoll",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "loadtest/Sources/loadtest"
        ),
        .testTarget(name: "JSONCodecTests", dependencies: ["JSONCodec", "CJansson"]),
        .testTarget(name: "DigestsTests", dependencies: ["Digests"]),
        .testTarget(name: "ReportPDFTests", dependencies: ["ReportPDF", "JSONCodec", "TradingCore"]),
        .testTarget(name: "TradingCoreTests", dependencies: ["TradingCore", "JSONCodec"]),
        .testTarget(name: "LLMCoreTests", dependencies: ["LLMCore", "TradingCore", "GatewayCore"]),
        .testTarget(name: "MarketDataCoreTests", dependencies: ["MarketDataCore", "TradingCore", "GatewayCore"]),
        .testTarget(
            name: "BedrockTests",
            dependencies: [
                "Bedrock", "TradingCore", "GatewayCore", "JSONCodec", "RedisClient", "JWTAuth",
                "MarketDataCore",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Against a local server (Resources/fake_server.py, run with python3) on a free port.
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], exclude: ["Resources"]),
        // HistoryClient against tests/integration/fakes (`python -m fakes`), run as a child process.
        .testTarget(
            name: "ExchangesTests", dependencies: ["Exchanges", "MarketDataCore", "GatewayCore", "HTTPClient", "PythonFakes"]),
        // OpenAIChatClient against tests/integration/fakes (`python -m fakes llm`), run as a child process.
        .testTarget(name: "LLMClientTests", dependencies: ["LLMClient", "HTTPClient", "JSONCodec", "PythonFakes"]),
        // Test support (not a product): the fake servers of tests/integration/fakes as child processes.
        .target(name: "PythonFakes", dependencies: ["HTTPClient", "JSONCodec"], path: "Tests/PythonFakes"),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "TSanMutexSupport"]),
        // Linked into the test executable: in a ThreadSanitizer build (make test-tsan) it shows TSan
        // the contended paths of Synchronization.Mutex; in any other build it is empty.
        .target(name: "TSanMutexSupport", path: "Tests/TSanMutexSupport", publicHeadersPath: "."),
    ]
)
