import Foundation
import Synchronization
import Transport
import XCTest

/// `wake()` from other threads while the service loop stops and destroys its lws context, as
/// when the signal thread, the Redis reader or a worker posts to a loop that is shutting down.
/// The ThreadSanitizer run (`make test-tsan`) fails if `wake()` touches the context without
/// the lock that orders it with the destruction.
final class LWSServerWakeTests: XCTestCase {
    /// Events of a loop that never gets a connection.
    final class NoEvents: LWSServerEvents {
        func httpRequest(_ wsi: WSI, path: String) -> Int32 { -1 }
        func httpBody(_ wsi: WSI, chunk: UnsafeRawBufferPointer) -> Int32 { -1 }
        func httpBodyComplete(_ wsi: WSI) -> Int32 { -1 }
        func httpWritable(_ wsi: WSI) -> Int32 { -1 }
        func httpClosed(_ wsi: WSI) {}
        func peerClosing(_ wsi: WSI, code: Int, reason: String) {}
        func confirmUpgrade(_ wsi: WSI) -> Int32 { -1 }
        func established(_ wsi: WSI) {}
        func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32 { -1 }
        func writable(_ wsi: WSI) -> Int32 { -1 }
        func closed(_ wsi: WSI) {}
        func tunnelRefusal() -> [UInt8] { [] }
        func wokenUp() {}
        func tick() {}
        func alarm() {}
        func accepted(descriptor: Int32) -> Bool { false }
    }

    /// What the threads of one round report.
    final class Progress: Sendable {
        /// `run()` has returned: the context is gone.
        let loopEnded = Atomic<Bool>(false)
        /// Waker threads that saw the loop end and stopped.
        let wakersDone = Atomic<Int>(0)
    }

    func testWakesFromOtherThreadsWhileTheLoopDestroysItsContext() throws {
        for _ in 0..<5 {
            var settings = LWSServerSettings(
                host: "127.0.0.1", port: 0, tlsCertPath: nil, tlsKeyPath: nil, maxConnections: 16, useLibev: false)
            settings.listens = false
            let server = LWSServer(settings: settings)
            let events = NoEvents()
            server.events = events
            try server.bind()
            let progress = Progress()
            Thread {
                server.run()
                progress.loopEnded.store(true, ordering: .releasing)
            }.start()
            for _ in 0..<2 {
                Thread {
                    while !progress.loopEnded.load(ordering: .acquiring) { server.wake() }
                    progress.wakersDone.add(1, ordering: .releasing)
                }.start()
            }
            usleep(20_000)
            server.stop()
            let deadline = Date().addingTimeInterval(10)
            while progress.wakersDone.load(ordering: .acquiring) < 2, Date() < deadline { usleep(1000) }
            XCTAssertTrue(progress.loopEnded.load(ordering: .acquiring), "the loop did not stop within 10 s")
            // A wake after the context is gone does nothing.
            server.wake()
        }
    }
}
