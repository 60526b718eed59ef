import Foundation

/// Resources/fake_server.py run as a child process on a free port of 127.0.0.1 (plain HTTP, or
/// TLS with the given certificate); stopped when this object goes away.
final class FakeHTTPServer {
    let port: Int
    private let process: Process

    /// Starts the server and waits for its "PORT <n>" line.
    init(tlsCertificate: String? = nil, tlsKey: String? = nil) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources/fake_server.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + (tlsCertificate.map { ["--tls", $0, tlsKey!] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, words[0] == "PORT", let port = Int(words[1]) else {
            process.terminate()
            throw StartFailure(message: "fake_server.py did not print its port (is python3 installed?)")
        }
        self.port = port
    }

    /// `http://127.0.0.1:<port><path>` (or https).
    func url(_ path: String, tls: Bool = false) -> String {
        "\(tls ? "https" : "http")://127.0.0.1:\(port)\(path)"
    }

    /// Stops the server and waits until its port is closed.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    struct StartFailure: Error { let message: String }
}
