import Foundation
import Synchronization
import XCTest

/// A `Mutex` that several threads fight over. Under ThreadSanitizer (`make test-tsan`) this run
/// must stay free of reports: the contended lock is handed over inside the Swift runtime, which
/// TSan cannot see unless Tests/TSanMutexSupport tells it (without it TSan reports a race on the
/// guarded value every time).
final class ContendedMutexTests: XCTestCase {
    final class Shared: Sendable { let values = Mutex<[Int]>([]) }

    func testContendedMutexKeepsEveryAppend() {
        let shared = Shared()
        let finished = Atomic<Int>(0)
        for _ in 0..<3 {
            Thread {
                for i in 0..<20_000 { shared.values.withLock { $0.append(i) } }
                finished.add(1, ordering: .releasing)
            }.start()
        }
        for i in 0..<20_000 { shared.values.withLock { $0.append(i) } }
        let deadline = Date().addingTimeInterval(60)
        while finished.load(ordering: .acquiring) < 3, Date() < deadline { usleep(1000) }
        XCTAssertEqual(shared.values.withLock { $0.count }, 80_000)
    }
}
