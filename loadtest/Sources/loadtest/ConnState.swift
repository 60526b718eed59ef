import Foundation
import Transport

/// Where one client connection is in its life.
enum ConnPhase: UInt8 {
    case idle, connecting, open, welcomed, subscribed, failed
    /// Whether the socket was up (an end from here on is a disconnect, not a failed connect).
    var isOpen: Bool { self == .open || self == .welcomed || self == .subscribed }
}

/// The Swift state of one connection: small and flat (lives in a `ContiguousArray`).
struct ConnState {
    static let wantSubscribe: UInt8 = 1
    static let wantPong: UInt8 = 2
    /// Write requests while the `RequestTracker` lets this connection issue one.
    static let wantRequest: UInt8 = 4

    /// Borrowed lws handle (`ClientPool` only), valid while the phase is open; loop thread only.
    var wsi: WSI?
    var phase: ConnPhase = .idle
    /// Frames waiting to be written (bit set of `want*`).
    var pending: UInt8 = 0
    /// Close code the server sent (1006 when none).
    var closeCode: Int32 = 1006
    /// Events received (duplicates included).
    var events: Int = 0
    /// Next bench `seq` expected (publisher numbers events from 0).
    var nextSeq: Int64 = 0
    var lost: Int = 0
    var duplicated: Int = 0
    /// Stream ids that did not increase.
    var outOfOrder: Int = 0
    var lastMs: UInt64 = 0
    var lastIdSeq: UInt64 = 0
    /// Start of an object split across receive buffers (empty, unallocated, almost always).
    var carry: [UInt8] = []

    /// Check one event against order and exactly-once.
    mutating func record(idMs: UInt64, idSeq: UInt64, seq: Int64?) {
        events += 1
        if events > 1 && (idMs < lastMs || (idMs == lastMs && idSeq <= lastIdSeq)) { outOfOrder += 1 }
        lastMs = idMs
        lastIdSeq = idSeq
        guard let seq else { return }
        if seq == nextSeq {
            nextSeq += 1
        } else if seq > nextSeq {
            lost += Int(seq - nextSeq)
            nextSeq = seq + 1
        } else {
            duplicated += 1
        }
    }
}

/// Counters of the whole pool; loop thread only.
final class PoolStats {
    var started = 0
    var welcomed = 0
    var subscribed = 0
    var failed = 0
    var failureSamples: [String] = []
    var unexpectedCloses = 0
    var closeCodes: [Int32: Int] = [:]
    /// WebSocket text frames received (complete frames).
    var frames = 0
    var events = 0
    var pings = 0
    var errorFrames = 0
    var latency = Histogram()
    var firstEventNs: UInt64 = 0
    var lastEventNs: UInt64 = 0
    var lastWelcomeNs: UInt64 = 0
}

/// Clock readings in nanoseconds.
enum ClockNs {
    /// CLOCK_REALTIME (comparable across processes: the publisher stamps events with it).
    static func realtime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CLOCK_MONOTONIC, for durations.
    static func monotonic() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
