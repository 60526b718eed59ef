import MarketDataCore
import XCTest

/// One market's ingest policy, driven by hand: backfill, follow, repair after a reconnect, holes
/// the exchange cannot fill, staleness, the lease.
final class MarketFeedTests: XCTestCase {
    private let minute: Int64 = 60_000
    /// A minute boundary: bar n opens at t0 + n minutes.
    private let t0: Int64 = 1_700_000_040_000

    private func bar(_ n: Int64) -> ExchangeKline {
        ExchangeKline(
            symbol: "BTCUSDT", interval: .oneMinute, openTime: t0 + n * minute, open: 1, high: 2, low: 0.5, close: 1.5,
            volume: 3, closed: true)
    }

    private func bars(_ range: ClosedRange<Int64>) -> [ExchangeKline] { range.map(bar) }

    /// Wall time 10 s into bar n's minute.
    private func at(_ n: Int64) -> Int64 { t0 + n * minute + 10_000 }

    private func feed(backfillBars: Int = 5, pageLimit: Int = 3, staleAfterIntervals: Int = 10) -> MarketFeed {
        MarketFeed(
            interval: .oneMinute, backfillBars: backfillBars, staleAfterIntervals: staleAfterIntervals, nowMillis: at(10),
            pageLimit: pageLimit)
    }

    private func fetches(_ actions: [MarketFeed.Action]) -> [BackfillCursor.Page] {
        actions.compactMap { if case .fetch(let p) = $0 { return p } else { return nil } }
    }

    private func appended(_ actions: [MarketFeed.Action]) -> [(Int64, Bool)] {
        actions.flatMap { action -> [(Int64, Bool)] in
            guard case .append(let list) = action else { return [] }
            return list.map { (($0.kline.openTime - t0) / minute, $0.backfill) }
        }
    }

    private func statuses(_ actions: [MarketFeed.Action]) -> [MarketFeed.Status] {
        actions.compactMap { if case .status(let s) = $0 { return s } else { return nil } }
    }

    /// Answers every fetch from `exchange` (bars the exchange has) until none is left.
    private func serve(
        _ f: inout MarketFeed, _ first: [MarketFeed.Action], exchange: [ExchangeKline], now: Int64
    ) -> [MarketFeed.Action] {
        var all = first
        var pending = fetches(first)
        while let page = pending.first {
            let answer = exchange.filter { $0.openTime >= page.startTime && $0.openTime <= page.endTime }
            let next = f.handle(.page(page, bars: Array(answer.prefix(page.limit)).reversed()), nowMillis: now)
            all += next
            pending = fetches(next)
        }
        return all
    }

    func testAnEmptyStreamBackfillsThenFollowsLive() {
        var f = feed()
        _ = f.handle(.streamConnected, nowMillis: at(10))
        let start = f.handle(.leaseAcquired(lastOpenTime: nil), nowMillis: at(10))
        XCTAssertEqual(statuses(start), [.backfilling])
        XCTAssertEqual(fetches(start).first?.startTime, t0 + 5 * minute, "backfill_bars closed bars back")
        let done = serve(&f, start, exchange: bars(0...9), now: at(10))
        // Bars 5...9 are closed; 9 is the latest closed bar (not history), the rest is.
        XCTAssertEqual(appended(done).map(\.0), [5, 6, 7, 8, 9])
        XCTAssertEqual(appended(done).map(\.1), [true, true, true, true, false])
        XCTAssertEqual(statuses(done).last, .live)
        let live = f.handle(.liveBar(bar(10)), nowMillis: at(11))
        XCTAssertEqual(appended(live).map(\.0), [10])
        XCTAssertEqual(appended(live).map(\.1), [false])
        XCTAssertEqual(f.handle(.liveBar(bar(10)), nowMillis: at(11)), [.drop(.duplicate)])
        XCTAssertEqual(f.handle(.liveBar(bar(8)), nowMillis: at(11)), [.drop(.outOfOrder)])
    }

    func testAStreamThatComesUpMidBackfillGetsASecondPassAndLiveBarsWait() {
        var f = feed()
        let start = f.handle(.leaseAcquired(lastOpenTime: t0 + 4 * minute), nowMillis: at(10))
        var page = fetches(start)[0]
        _ = f.handle(.streamConnected, nowMillis: at(10))
        // Bar 10 closes and arrives live while the first pass still runs: it waits.
        XCTAssertEqual(appended(f.handle(.liveBar(bar(10)), nowMillis: at(11))).count, 0)
        var actions = f.handle(.page(page, bars: bars(5...7)), nowMillis: at(11))
        XCTAssertEqual(appended(actions).map(\.0), [5, 6, 7])
        page = fetches(actions)[0]
        actions = f.handle(.page(page, bars: bars(8...9)), nowMillis: at(11))
        // The pass began before the stream was up: another pass covers what closed meanwhile.
        let second = fetches(actions)
        XCTAssertEqual(second.map(\.startTime), [t0 + 10 * minute])
        actions = f.handle(.page(second[0], bars: bars(10...10)), nowMillis: at(11))
        XCTAssertEqual(appended(actions).map(\.0), [10])
        XCTAssertEqual(statuses(actions), [.live])
        XCTAssertEqual(appended(f.handle(.liveBar(bar(11)), nowMillis: at(12))).map(\.0), [11])
    }

    func testAReconnectRepairsOverRESTBeforeResuming() {
        var f = feed()
        _ = f.handle(.streamConnected, nowMillis: at(10))
        _ = serve(&f, f.handle(.leaseAcquired(lastOpenTime: t0 + 9 * minute), nowMillis: at(10)), exchange: [], now: at(10))
        XCTAssertEqual(f.lastOpenTime, t0 + 9 * minute)
        // Socket dropped mid-bar 10; bars 10...12 close while it is down.
        _ = f.handle(.streamDisconnected, nowMillis: at(10))
        let back = f.handle(.streamConnected, nowMillis: at(13))
        XCTAssertEqual(statuses(back), [.backfilling])
        XCTAssertEqual(fetches(back).first?.startTime, t0 + 10 * minute)
        // Bar 13 closes live during the repair.
        XCTAssertEqual(appended(f.handle(.liveBar(bar(13)), nowMillis: at(14))).count, 0)
        let done = serve(&f, back, exchange: bars(0...12), now: at(14))
        XCTAssertEqual(appended(done).map(\.0), [10, 11, 12, 13], "no gap, no duplicate")
        XCTAssertEqual(statuses(done).last, .live)
        XCTAssertFalse(done.contains { if case .gap = $0 { return true } else { return false } })
    }

    func testAHoleTheExchangeCannotFillRaisesOneGapAndMovesOn() {
        var f = feed()
        _ = f.handle(.streamConnected, nowMillis: at(10))
        _ = serve(&f, f.handle(.leaseAcquired(lastOpenTime: t0 + 9 * minute), nowMillis: at(10)), exchange: [], now: at(10))
        // Bar 13 arrives live: 10...12 are missing; the exchange has none of them.
        let hole = f.handle(.liveBar(bar(13)), nowMillis: at(14))
        XCTAssertEqual(statuses(hole), [.backfilling])
        let done = serve(&f, hole, exchange: [bar(13)], now: at(14))
        XCTAssertEqual(
            done.filter { if case .gap = $0 { return true } else { return false } },
            [
                .gap(from: t0 + 10 * minute, to: t0 + 13 * minute, missed: 3)
            ])
        XCTAssertEqual(appended(done).map(\.0), [13])
        XCTAssertEqual(f.lastOpenTime, t0 + 13 * minute)
    }

    func testAHoleIsRepairedEvenWhenTheExchangeClockRunsAhead() {
        var f = feed()
        _ = f.handle(.streamConnected, nowMillis: at(10))
        _ = serve(&f, f.handle(.leaseAcquired(lastOpenTime: t0 + 9 * minute), nowMillis: at(10)), exchange: [], now: at(10))
        // Our clock still says minute 10; the exchange has closed bars 10...14 already.
        let hole = f.handle(.liveBar(bar(14)), nowMillis: at(10))
        let done = serve(&f, hole, exchange: bars(0...14), now: at(10))
        XCTAssertEqual(appended(done).map(\.0), [10, 11, 12, 13, 14])
        XCTAssertFalse(done.contains { if case .gap = $0 { return true } else { return false } })
    }

    func testStaleOnceAfterTheConfiguredIntervalsThenLiveAgain() {
        var f = feed(staleAfterIntervals: 2)
        _ = f.handle(.streamConnected, nowMillis: at(10))
        _ = serve(&f, f.handle(.leaseAcquired(lastOpenTime: t0 + 9 * minute), nowMillis: at(10)), exchange: [], now: at(10))
        // Bar 10 was due at the end of minute 10; two intervals later the market is stale.
        XCTAssertEqual(f.nextCheckAt, t0 + 13 * minute)
        XCTAssertEqual(f.handle(.tick, nowMillis: t0 + 13 * minute - 1), [])
        let stale = f.handle(.tick, nowMillis: t0 + 13 * minute)
        XCTAssertEqual(stale, [.stale(lastOpenTime: t0 + 9 * minute, dueAt: t0 + 11 * minute), .status(.stale)])
        XCTAssertTrue(f.isStale)
        XCTAssertEqual(f.handle(.tick, nowMillis: t0 + 13 * minute + 500), [], "raised once")
        let back = f.handle(.liveBar(bar(10)), nowMillis: t0 + 13 * minute + 1_000)
        XCTAssertEqual(statuses(back), [.live])
        XCTAssertFalse(f.isStale)
    }

    func testABacklogAfterAnOutageStaysStaleWithoutANewAlertPerBar() {
        var f = feed(staleAfterIntervals: 2)
        _ = f.handle(.streamConnected, nowMillis: at(10))
        _ = serve(&f, f.handle(.leaseAcquired(lastOpenTime: t0 + 9 * minute), nowMillis: at(10)), exchange: [], now: at(10))
        XCTAssertEqual(statuses(f.handle(.tick, nowMillis: at(20))), [.stale])
        // Bars 10, 11, 12 arrive late, one message each: still past due, no alert, still stale.
        for n in Int64(10)...12 {
            let actions = f.handle(.liveBar(bar(n)), nowMillis: at(20))
            XCTAssertEqual(appended(actions).map(\.0), [n])
            XCTAssertFalse(actions.contains { if case .stale = $0 { return true } else { return false } })
            XCTAssertEqual(statuses(actions), [])
        }
        XCTAssertTrue(f.isStale)
        // Caught up: bar 19 (after a repair of 13...18) makes it fresh.
        let hole = f.handle(.liveBar(bar(19)), nowMillis: at(20))
        let done = serve(&f, hole, exchange: bars(0...19), now: at(20))
        XCTAssertEqual(statuses(done).last, .live)
        XCTAssertFalse(f.isStale)
    }

    func testWithoutTheLeaseNothingIsAppendedAndAFailedPageIsRetriedWithBackoff() {
        var f = feed()
        XCTAssertEqual(f.handle(.liveBar(bar(10)), nowMillis: at(11)), [])
        let start = f.handle(.leaseAcquired(lastOpenTime: t0 + 4 * minute), nowMillis: at(10))
        let page = fetches(start)[0]
        XCTAssertEqual(f.handle(.pageFailed(page), nowMillis: at(10)), [.fetchLater(page, seconds: 1)])
        XCTAssertEqual(f.handle(.pageFailed(page), nowMillis: at(10)), [.fetchLater(page, seconds: 2)])
        _ = f.handle(.leaseLost, nowMillis: at(10))
        XCTAssertFalse(f.isActive)
        XCTAssertEqual(f.handle(.page(page, bars: bars(5...7)), nowMillis: at(10)), [], "a late answer is ignored")
        XCTAssertNil(f.nextCheckAt)
    }
}
