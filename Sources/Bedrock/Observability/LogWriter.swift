import Foundation

/// Writes log lines to a file descriptor from a thread of its own, so a thread that logs (a
/// service loop writing its access lines) only copies the line into a buffer and never waits on
/// the disk or the file's lock. Lines queued while the writer is busy, or in the few
/// milliseconds it pauses after each write, go out in one `write(2)`.
/// Past `limit` bytes waiting, lines are dropped and counted, and the count is logged once the
/// writer catches up.
final class LogWriter: @unchecked Sendable {
    // Sound: `pending`, `writing`, `dropped` and `started` are only touched while holding
    // `condition`; `fd` and `limit` are immutable.
    private let fd: Int32
    private let limit: Int
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var writing = false
    private var dropped = 0
    private var started = false

    /// How long the writer lets lines gather after a write.
    static let gather = 0.005

    /// Standard error, shared by every handler of the process.
    static let standardError = LogWriter(fd: STDERR_FILENO)

    init(fd: Int32, limit: Int = 8 << 20) {
        self.fd = fd
        self.limit = limit
    }

    /// Queue `line` (a whole line, newline included); any thread.
    func append(_ line: [UInt8]) {
        condition.lock()
        if !started { start() }
        if pending.count + line.count > limit {
            dropped += 1
        } else {
            let wasEmpty = pending.isEmpty
            pending.append(contentsOf: line)
            if wasEmpty { condition.signal() }
        }
        condition.unlock()
    }

    /// Wait until every queued line is written (before the process exits).
    func flush() {
        condition.lock()
        while started && (!pending.isEmpty || writing) { condition.wait() }
        condition.unlock()
    }

    /// Start the writer thread (with `condition` held).
    private func start() {
        started = true
        let thread = Thread { [self] in run() }
        thread.name = "bedrock-log"
        thread.start()
    }

    private func run() {
        var batch: [UInt8] = []
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            swap(&batch, &pending)
            let lost = dropped
            dropped = 0
            writing = true
            condition.unlock()
            if lost > 0 { batch += Array("log: \(lost) lines dropped (stderr too slow)\n".utf8) }
            write(batch)
            batch.removeAll(keepingCapacity: true)
            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
            // Let lines gather: a busy process then costs a few writes and wake-ups a second,
            // not one per line.
            Thread.sleep(forTimeInterval: LogWriter.gather)
        }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
