import Exchanges
import Foundation
import MarketDataCore
import XCTest

/// `wss://` exchange connections verify the server's certificate: a self-signed one is refused
/// (and retried with back-off, never connected) unless the test-only switch allows it.
final class KlineStreamTLSTests: XCTestCase {
    private var directory: URL!
    private var fake: FakeExchangeProcess!
    private var hub: KlineStreamHub?

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kline-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("key.pem"), "-out", path("cert.pem"), "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0, "openssl made the certificate")
        fake = try FakeExchangeProcess("binance", arguments: ["--tls", path("cert.pem"), path("key.pem")])
    }

    override func tearDownWithError() throws {
        hub?.stop()
        fake?.stop()
        try FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func start(allowSelfSigned: Bool, log: KlineEventLog) throws {
        XCTAssertTrue(fake.wsURL.hasPrefix("wss://"), fake.wsURL)
        var settings = KlineStreamSettings()
        settings.backoff = ReconnectBackoff(base: 0.05, cap: 0.2, jitter: 0)
        settings.allowSelfSignedTLS = allowSelfSigned
        let hub = KlineStreamHub(settings: settings)
        let subscription = KlineSubscription(
            exchange: .binance, endpoints: ExchangeEndpoints(restURL: fake.httpURL, wsURL: fake.wsURL),
            symbol: MarketSymbol("BTCUSDT")!, interval: .oneMinute)
        try hub.start([subscription]) { log.append($0) }
        self.hub = hub
    }

    func testASelfSignedCertificateIsRefused() throws {
        let log = KlineEventLog()
        try start(allowSelfSigned: false, log: log)
        log.wait("three refused attempts") { $0.filter(isReconnecting).count >= 3 }
        XCTAssertEqual(log.count(isConnected), 0)
        guard case .reconnecting(_, _, _, let reason)? = log.all.first else { return XCTFail("expected a refusal first") }
        // lws 4.1 with OpenSSL 3 words it "connect SSL err 1: ..."; the only difference from the
        // test below is the certificate check.
        XCTAssertTrue(reason.contains("SSL"), reason)
    }

    func testTheTestOnlySwitchAcceptsIt() throws {
        let log = KlineEventLog()
        try start(allowSelfSigned: true, log: log)
        log.wait("connected over TLS") { $0.contains(where: isConnected) }
    }
}
