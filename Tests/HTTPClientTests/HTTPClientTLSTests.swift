import Foundation
import HTTPClient
import XCTest

/// TLS verification is always on: a local server with a self-signed certificate is refused
/// unless its certificate is given as the CA file, and even then only under the name it was made
/// for (`localhost`; not `127.0.0.1`).
final class HTTPClientTLSTests: XCTestCase {
    private var directory: URL!
    private var server: FakeHTTPServer!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("httpclient-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("key.pem"), "-out", path("cert.pem"), "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0, "openssl made the certificate")
        server = try FakeHTTPServer(tlsCertificate: path("cert.pem"), tlsKey: path("key.pem"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        server = nil
        try FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func localhost(_ path: String) -> String { "https://localhost:\(server.port)\(path)" }

    func testSelfSignedCertificateIsRefusedByDefault() throws {
        let client = try HTTPClient()
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: localhost("/echo")))) { error in
            guard case .tls(let message) = error as? HTTPClientError else { return XCTFail("expected tls, got \(error)") }
            XCTAssertTrue(message.contains("localhost:\(server.port)"), message)
        }
    }

    func testCertificateGivenAsCAFileIsTrustedUnderItsNameOnly() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(caFile: path("cert.pem")))
        let response = try client.send(HTTPClient.Request(url: localhost("/echo")))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["x-mbx-used-weight-1m"], "12")
        // Same server, same trusted certificate, but a name the certificate does not carry.
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: server.url("/echo", tls: true)))) { error in
            guard case .tls = error as? HTTPClientError else { return XCTFail("expected tls, got \(error)") }
        }
    }

    func testUnreadableCAFileIsATLSError() throws {
        let client = try HTTPClient(configuration: HTTPClientConfiguration(caFile: path("missing.pem")))
        XCTAssertThrowsError(try client.send(HTTPClient.Request(url: localhost("/echo")))) { error in
            guard case .tls = error as? HTTPClientError else { return XCTFail("expected tls, got \(error)") }
        }
    }
}
