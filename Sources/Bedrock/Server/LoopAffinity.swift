import Foundation

/// Which thread a service loop runs on, so debug builds can assert that loop-only code (the
/// connection table, send queues, the topic router) is never entered from another thread. Set
/// once, by the loop's own thread when it starts serving; release builds check nothing.
final class LoopAffinity: @unchecked Sendable {
    // Sound: `owner` is written once, by the loop thread before it serves, and only read by that
    // thread afterwards (a read from another thread is exactly the bug the assertion reports).
    private var owner: pthread_t?

    /// The calling thread is the loop's from now on.
    func claim() { owner = pthread_self() }

    /// Debug builds: stop when called off the loop's thread once it serves.
    func assertOnLoop(_ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        assert(
            owner.map { pthread_equal($0, pthread_self()) != 0 } ?? true,
            "\(what()) must run on its service loop's thread", file: file, line: line)
    }
}
