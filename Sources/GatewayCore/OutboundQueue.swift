import DequeModule

/// Where a connection's writes stand.
public enum WriteState: Sendable, Equatable {
    /// Nothing asked of the transport.
    case idle
    /// Listed by fan-out for a direct write once the whole bridge batch is queued.
    case staged
    /// A writable callback has been requested and not yet served.
    case awaitingWritable
}

/// A close decided but not yet sent: it goes out at a writable callback, not before `notBefore`
/// (0: at once). A flooding client gets a moment to stop sending, so closing does not reset the
/// TCP connection under the frames still on their way to it.
public struct PendingClose: Sendable, Equatable {
    /// The close code.
    public var code: CloseCode
    /// The reason text of the close frame.
    public var reason: String
    /// Earliest time (the owner's clock) to send the close frame; 0 for at once.
    public var notBefore: Double
}

/// One connection's bounded send queue and the slow-consumer policy of SPEC §5, as a state
/// machine: frames and clock readings in, decisions out. It never touches a socket: its owner
/// (a service loop) carries out each decision with the transport. Confined to one loop thread.
///
/// Memory stays bounded: past `hardLimit` frames (plus room granted for a replay) the queue is
/// emptied and the connection must be closed; a queue that stays over `softLimit` for `warnAfter`
/// earns one "lagged" warning, and for `closeAfter` a close. Bursts that drain quickly pass.
public struct OutboundQueue<Frame: OutboundFrame> {
    /// The thresholds.
    public let policy: OutboundPolicy
    /// Frames waiting for the socket, oldest first.
    @usableFromInline var frames = Deque<Frame>()
    /// Where the writes stand.
    public private(set) var writeState = WriteState.idle
    /// The close to send, once decided; nothing more is queued from then on.
    public private(set) var closing: PendingClose?
    /// True once `writable` has handed out the close: the transport is then finishing the closing
    /// handshake (waiting for the client's close frame while it reads and drops what still comes),
    /// and a second close from the owner would cut the socket short, close frame unsent.
    public private(set) var closeSent = false
    /// A write outside the writable callback failed: the next writable callback hangs up.
    public private(set) var failed = false
    /// Extra room granted for a replay just queued; shrinks as frames are written, so live events
    /// after a big replay do not trip the limits.
    @usableFromInline var replayAllowance = 0
    /// When the queue first went over `softLimit` in the current episode of lag.
    private var laggingSince: Double?
    /// True once the client has been told it lags, until its queue drains.
    private var warnedLagging = false

    /// An empty queue under `policy`.
    public init(policy: OutboundPolicy) { self.policy = policy }

    /// Frames waiting.
    public var count: Int { frames.count }
    /// True when no frame waits.
    public var isEmpty: Bool { frames.isEmpty }

    /// What `enqueue` decided.
    public enum Admission: Sendable, Equatable {
        /// Queued behind a write already on its way: nothing to do.
        case queued
        /// Queued: ask the transport for a writable callback.
        case armWritable
        /// Queued: list the connection for a direct write after the current bridge batch.
        case stage
        /// Over the hard limit: the queue was emptied; close the connection (4429).
        case overflow
        /// The connection is closing: the frame was dropped.
        case dropped
    }

    /// Append `frame`. `staging` (fan-out only): an idle connection is not armed for a writable
    /// callback but staged, and written once the whole bridge batch is queued.
    @inlinable
    public mutating func enqueue(_ frame: Frame, staging: Bool = false) -> Admission {
        guard closing == nil else { return .dropped }
        if frames.count >= policy.hardLimit + replayAllowance {
            frames.removeAll()
            return .overflow
        }
        frames.append(frame)
        return arm(staging: staging)
    }

    @usableFromInline
    mutating func arm(staging: Bool) -> Admission {
        if writeState != .idle { return .queued }
        writeState = staging ? .staged : .awaitingWritable
        return staging ? .stage : .armWritable
    }

    /// Room for `frames` replayed frames on top of the limits, given back as they are written.
    public mutating func grantReplayAllowance(_ frames: Int) { replayAllowance += frames }

    /// What to do with a staged connection once the bridge batch is queued.
    public enum StagedFlush: Sendable, Equatable {
        /// Nothing to write (or a writable callback is already due).
        case skip
        /// The socket takes a write now: write (`nextWrite`), then report with `wroteDirectly`.
        case writeNow
        /// The socket is backed up: ask for a writable callback (the client gets batches).
        case armWritable
    }

    /// Leave the staged list. `choked`: the transport would not take a write now.
    public mutating func unstage(choked: Bool) -> StagedFlush {
        if writeState == .staged { writeState = .idle }
        guard closing == nil, writeState == .idle, !frames.isEmpty else { return .skip }
        if !choked { return .writeNow }
        writeState = .awaitingWritable
        return .armWritable
    }

    /// After a direct write (`unstage` said `writeNow`): true when a writable callback must be
    /// requested (frames left, or the write failed and the callback must hang up).
    public mutating func wroteDirectly(ok: Bool) -> Bool {
        if !ok { failed = true }
        if frames.isEmpty && !failed { return false }
        writeState = .awaitingWritable
        return true
    }

    /// What the writable callback must do.
    public enum WritableStep: Sendable, Equatable {
        /// Nothing waits.
        case nothing
        /// An earlier write failed: drop the connection.
        case hangUp
        /// Write (`nextWrite`), then call `wrote()`.
        case write
        /// Closing with frames left (e.g. the lagged warning): write them (`nextWrite`), call
        /// `dropAll()`, and ask for another writable callback for the close itself.
        case lastWords
        /// Closing, but not before the linger ends (the clock tick asks again).
        case waitForLinger
        /// Send this close now.
        case close(CloseCode, String)
    }

    /// A writable callback came (the owner's clock reads `now`).
    public mutating func writable(now: Double) -> WritableStep {
        if writeState == .awaitingWritable { writeState = .idle }
        if failed { return .hangUp }
        if let closing {
            if closeSent { return .nothing }
            if !frames.isEmpty { return .lastWords }
            if closing.notBefore > 0 && now < closing.notBefore { return .waitForLinger }
            closeSent = true
            return .close(closing.code, closing.reason)
        }
        return frames.isEmpty ? .nothing : .write
    }

    /// After the write of a `.write` step: true when another writable callback must be requested.
    public mutating func wrote() -> Bool {
        guard !frames.isEmpty else { return false }
        writeState = .awaitingWritable
        return true
    }

    /// The next write from the head of the queue.
    public enum NextWrite {
        /// Nothing waits.
        case none
        /// This frame alone (already taken off the queue), straight from its buffer.
        case single(Frame)
        /// Several frames in one batch: take them with `takeBatch`.
        case batch
    }

    /// The shape of the next write: the first frame alone when it is the only one or as large as
    /// a batch, else a batch.
    @inlinable
    public mutating func nextWrite() -> NextWrite {
        guard let first = frames.first else { return .none }
        if frames.count == 1 || first.count >= policy.batchBytes { return .single(takeFirst()) }
        return .batch
    }

    @usableFromInline
    mutating func takeFirst() -> Frame {
        if replayAllowance > 0 { replayAllowance -= 1 }
        return frames.removeFirst()
    }

    /// Take frames from the head while they fit in one batch of `policy.batchBytes` (payloads plus
    /// a `\n` between them), handing each to `body` in order with the byte offset it starts at
    /// in the batch. Returns the number of frames and the batch length.
    @inlinable
    public mutating func takeBatch(_ body: (Frame, _ offset: Int) -> Void) -> (frames: Int, bytes: Int) {
        var length = 0
        var taken = 0
        while let frame = frames.first, length + frame.count + 1 <= policy.batchBytes {
            if taken > 0 { length += 1 }
            body(frame, length)
            length += frame.count
            taken += 1
            frames.removeFirst()
        }
        replayAllowance = max(0, replayAllowance - taken)
        return (taken, length)
    }

    /// Forget every queued frame (closing, or cut off).
    public mutating func dropAll() { frames.removeAll() }

    /// The clock's verdict on a slow consumer.
    public enum LagVerdict: Sendable, Equatable {
        /// Within the policy.
        case fine
        /// Over `softLimit` for `warnAfter`: tell the client (`appendWarning`) with this many
        /// frames waiting.
        case warn(waiting: Int)
        /// Over `softLimit` for `closeAfter`: the queue was emptied; close the connection (4429).
        case cut
    }

    /// The slow-consumer policy on a clock tick (`now`, the owner's monotonic clock).
    public mutating func checkLag(now: Double) -> LagVerdict {
        guard closing == nil, !frames.isEmpty || laggingSince != nil else { return .fine }
        guard frames.count > policy.softLimit + replayAllowance else {
            laggingSince = nil
            warnedLagging = false
            return .fine
        }
        guard let since = laggingSince else {
            laggingSince = now
            return .fine
        }
        if now - since >= policy.closeAfter {
            frames.removeAll()
            return .cut
        }
        if now - since >= policy.warnAfter && !warnedLagging {
            warnedLagging = true
            return .warn(waiting: frames.count)
        }
        return .fine
    }

    /// Queue the lagged warning past the limits (it must reach the client).
    public mutating func appendWarning(_ frame: Frame) { frames.append(frame) }

    /// Decide to close; false when a close was already decided (the first one stands).
    public mutating func beginClose(_ code: CloseCode, _ reason: String, notBefore: Double) -> Bool {
        guard closing == nil else { return false }
        closing = PendingClose(code: code, reason: reason, notBefore: notBefore)
        return true
    }

    /// True when a lingering close is due at `now` (the owner then asks for a writable callback).
    public func closeDue(now: Double) -> Bool {
        guard let closing, closing.notBefore > 0, !closeSent else { return false }
        return now >= closing.notBefore
    }
}
