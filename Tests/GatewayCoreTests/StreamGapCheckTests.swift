import GatewayCore
import XCTest

/// A model of a Redis stream's bookkeeping: ids `n-0` in order of addition, trimming from the head,
/// `XDEL` anywhere, and the `XINFO STREAM` fields the gap check reads.
private struct ModelStream {
    var added: UInt64 = 0
    var existing: [UInt64] = []
    var maxDeleted: UInt64 = 0

    mutating func add(_ n: Int) {
        for _ in 0..<n {
            added += 1
            existing.append(added)
        }
    }

    /// `XADD … MAXLEN` keeping the newest `keep`.
    mutating func trim(keep: Int) {
        if existing.count > keep { existing.removeFirst(existing.count - keep) }
    }

    mutating func delete(_ n: UInt64) {
        guard let i = existing.firstIndex(of: n) else { return }
        existing.remove(at: i)
        maxDeleted = max(maxDeleted, n)
    }

    /// `XREAD COUNT count STREAMS key after`.
    func read(after: UInt64, count: Int) -> [UInt64] { Array(existing.filter { $0 > after }.prefix(count)) }

    var snapshot: StreamGapCheck.Snapshot {
        StreamGapCheck.Snapshot(
            entriesAdded: added, length: UInt64(existing.count), firstID: existing.first.map(id),
            lastGeneratedID: id(added), maxDeletedID: id(maxDeleted))
    }
}

private func id(_ n: UInt64) -> StreamID { StreamID(ms: n, seq: 0) }

final class StreamGapCheckTests: XCTestCase {
    private func check(_ cursor: StreamGapCheck.Cursor, _ batch: [UInt64], _ s: ModelStream) -> StreamGapCheck.Verdict {
        StreamGapCheck.check(cursor: cursor, batch: batch.map(id), snapshot: s.snapshot)
    }

    func testContiguousReadIsNoGap() {
        var s = ModelStream()
        s.add(10)
        let v = check(.init(lastID: id(4), ordinal: 4), s.read(after: 4, count: 100), s)
        XCTAssertNil(v.gap)
        XCTAssertEqual(v.cursor, .init(lastID: id(10), ordinal: 10))
    }

    func testTrimmedPastTheCursorIsAGapWithItsCount() {
        var s = ModelStream()
        s.add(100)
        s.trim(keep: 20)  // 1…80 gone; the reader stood at 50
        let v = check(.init(lastID: id(50), ordinal: 50), s.read(after: 50, count: 5), s)
        XCTAssertEqual(v.gap, .init(after: id(50), next: id(81), missed: 30))
        XCTAssertEqual(v.cursor, .init(lastID: id(85), ordinal: 85))
    }

    func testTrimmedOnlyUpToTheCursorIsNoGap() {
        var s = ModelStream()
        s.add(100)
        s.trim(keep: 50)  // 1…50 gone, the reader read 50 before
        let v = check(.init(lastID: id(50), ordinal: 50), s.read(after: 50, count: 10), s)
        XCTAssertNil(v.gap)
        XCTAssertEqual(v.cursor.ordinal, 60)
    }

    func testFirstEntriesOfANewStreamAreNoGap() {
        var s = ModelStream()
        s.add(3)
        s.trim(keep: 3)
        XCTAssertNil(check(.init(lastID: .zero, ordinal: 0), s.read(after: 0, count: 10), s).gap)
    }

    func testDeletingADeliveredEntryIsNoGap() {
        var s = ModelStream()
        s.add(10)
        s.delete(7)  // an operator removes an entry the reader already delivered
        s.add(2)
        let v = check(.init(lastID: id(10), ordinal: 10), s.read(after: 10, count: 10), s)
        XCTAssertNil(v.gap)
        XCTAssertEqual(v.cursor, .init(lastID: id(12), ordinal: 12))
    }

    func testDeletingAnUnreadEntryBeforeTheReadIsAGap() {
        var s = ModelStream()
        s.add(10)
        s.delete(6)
        let v = check(.init(lastID: id(5), ordinal: 5), s.read(after: 5, count: 10), s)
        XCTAssertEqual(v.gap?.after, id(5))
        XCTAssertEqual(v.gap?.next, id(7))
    }

    func testAStreamMadeAnewCountsFromItsOwnFirstEntry() {
        var s = ModelStream()
        s.add(3)  // the old stream had 100 entries: the reader's ordinal is from before the DEL
        let whole = check(.init(lastID: .zero, ordinal: 100), s.read(after: 0, count: 10), s)
        XCTAssertNil(whole.gap)
        XCTAssertEqual(whole.cursor.ordinal, 3)
        s.add(27)
        s.trim(keep: 10)  // the new stream lost its own entries 1…20
        let trimmed = check(.init(lastID: .zero, ordinal: 100), s.read(after: 0, count: 10), s)
        XCTAssertEqual(trimmed.gap, .init(after: .zero, next: id(21), missed: 20))
    }

    func testUnknownOrdinalIsLearnedFromAnAtomicSnapshot() {
        var s = ModelStream()
        s.add(40)
        s.trim(keep: 10)
        let v = check(.init(lastID: id(35), ordinal: nil), s.read(after: 35, count: 10), s)
        XCTAssertNil(v.gap)  // the stream still holds 31…40: nothing after 35 was trimmed
        XCTAssertEqual(v.cursor, .init(lastID: id(40), ordinal: 40))
    }

    func testSnapshotAfterTheWholeReadWasTrimmedAnnouncesConservatively() {
        var s = ModelStream()
        s.add(20)
        let batch = s.read(after: 20, count: 10)
        XCTAssertEqual(batch, [])
        s.add(10)
        let read = s.read(after: 20, count: 10)  // 21…30, all of them
        s.add(100)
        s.trim(keep: 50)  // before XINFO: 21…80 gone
        let v = check(.init(lastID: id(20), ordinal: 20), read, s)
        XCTAssertEqual(v.gap, .init(after: id(20), next: id(21), missed: nil))
        XCTAssertNil(v.cursor.ordinal)
    }

    /// Producers, trimmers, deleters and a reader at random: every entry ever added is either read
    /// or strictly inside an announced gap; with an atomic snapshot and no `XDEL`, each announced
    /// gap really lost that many entries.
    func testRandomInterleavingsLeaveNoSilentHoleAndNoFalseGap() {
        var rng = SplitMix(seed: 7)
        for round in 0..<300 {
            var s = ModelStream()
            let deletes = round % 3 == 0
            var cursor = StreamGapCheck.Cursor(lastID: .zero, ordinal: 0)
            var seen = Set<UInt64>()
            var covered: [(UInt64, UInt64)] = []
            for _ in 0..<200 {
                s.add(Int(rng.next() % 40))
                if rng.next() % 2 == 0 { s.trim(keep: Int(10 + rng.next() % 30)) }
                if deletes, rng.next() % 4 == 0, s.added > 0 { s.delete(1 + rng.next() % s.added) }
                let batch = s.read(after: cursor.lastID.ms, count: Int(1 + rng.next() % 25))
                guard !batch.isEmpty else { continue }
                let v = StreamGapCheck.check(cursor: cursor, batch: batch.map(id), snapshot: s.snapshot)
                if let gap = v.gap {
                    XCTAssertEqual(gap.after, cursor.lastID)
                    XCTAssertEqual(gap.next, id(batch[0]))
                    covered.append((gap.after.ms, gap.next.ms))
                    if !deletes, let missed = gap.missed { XCTAssertEqual(missed, batch[0] - cursor.lastID.ms - 1) }
                    if !deletes { XCTAssertGreaterThan(batch[0], cursor.lastID.ms + 1, "a gap with nothing lost") }
                } else if !deletes {
                    XCTAssertEqual(batch[0], cursor.lastID.ms + 1, "a silent hole")
                }
                seen.formUnion(batch)
                cursor = v.cursor
            }
            for n in 1...max(1, cursor.lastID.ms) where !seen.contains(n) {
                let announced = covered.contains { $0.0 < n && n < $0.1 }
                XCTAssert(announced || (deletes && s.maxDeleted >= n), "entry \(n) lost silently (round \(round))")
                if !announced && !deletes { return }
            }
        }
    }
}

/// A small deterministic generator for the randomised test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
