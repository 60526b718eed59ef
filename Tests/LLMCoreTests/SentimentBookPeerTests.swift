import GatewayCore
import TradingCore
import XCTest

@testable import LLMCore

/// Gateways sharing one Redis share answers: an ask left to a peer is dropped when the peer's
/// answer covers the same news, kept when news arrived since; answers read back at start are
/// adopted and headlines after them re-open the window; an answer is adopted only when newer,
/// and its TTL runs from when it was made.
final class SentimentBookPeerTests: XCTestCase {
    let clock = ManualClock(monotonic: 1000, wall: 1_800_000_000)
    let open = OutagePolicy()

    func headline(_ n: Int) -> NewsHeadline { NewsHeadline(title: "headline \(n)", source: "wire") }

    func shared(_ s: LLMSentiment, asOf: Double, price: Double? = 100) -> SharedSentiment {
        SharedSentiment(market: "BTCUSDT", answer: SentimentAnswer(sentiment: s, reason: "peer"), asOfWall: asOf, price: price)
    }

    func deferredBook() -> SentimentBook {
        var book = SentimentBook(config: SentimentBookConfig(batchWindow: 1))
        _ = book.newsArrived("BTCUSDT", headline(1), at: clock.read())
        clock.advance(1)
        let ask = book.due(at: clock.read(), outage: open)[0]
        XCTAssertTrue(book.deferredToPeer(ask.id, at: clock.read()))
        return book
    }

    func testAPeersAnswerCoveringTheSameNewsDropsTheReAsk() {
        var book = deferredBook()
        XCTAssertTrue(book.adopt(shared(.positive, asOf: clock.read().wall), at: clock.read()))
        clock.advance(5)
        XCTAssertEqual(book.due(at: clock.read(), outage: open), [], "the peer's answer covers the news")
        let reading = book.lookup("BTCUSDT", price: 101, at: clock.read())
        XCTAssertEqual(reading.sentiment, .positive)
        XCTAssertEqual(reading.reason, "peer")
    }

    func testNewsSinceTheDeferralStillGetsAsked() {
        var book = deferredBook()
        _ = book.newsArrived("BTCUSDT", headline(2), at: clock.read())
        XCTAssertTrue(book.adopt(shared(.positive, asOf: clock.read().wall), at: clock.read()))
        clock.advance(1)
        XCTAssertEqual(book.due(at: clock.read(), outage: open).map(\.market), ["BTCUSDT"])
    }

    func testOnlyNewerAnswersAreAdoptedAndTheirTTLRunsFromWhenTheyWereMade() {
        var book = SentimentBook(config: SentimentBookConfig(cacheTTL: 60, batchWindow: 1))
        let now = clock.read().wall
        XCTAssertFalse(book.adopt(shared(.negative, asOf: now - 61), at: clock.read()), "already expired")
        XCTAssertTrue(book.adopt(shared(.negative, asOf: now - 50), at: clock.read()))
        XCTAssertFalse(book.adopt(shared(.positive, asOf: now - 55), at: clock.read()), "older than the one held")
        XCTAssertFalse(book.adopt(shared(.positive, asOf: now - 50), at: clock.read()), "the same answer again")
        XCTAssertEqual(book.lookup("BTCUSDT", price: nil, at: clock.read()).sentiment, .negative)
        clock.advance(10)
        XCTAssertEqual(book.lookup("BTCUSDT", price: nil, at: clock.read()).source, .fallback, "60 s after it was made")
    }

    func testReplayAtStartAdoptsAndLaterHeadlinesReOpenTheWindow() {
        var book = SentimentBook(config: SentimentBookConfig(batchWindow: 1))
        let now = clock.read().wall
        _ = book.newsArrived("BTCUSDT", headline(1), at: clock.read())
        XCTAssertTrue(book.adopt(shared(.positive, asOf: now - 5), replaying: true, at: clock.read()))
        _ = book.newsArrived("ETHUSDT", headline(2), at: clock.read())
        clock.advance(1)
        XCTAssertEqual(book.due(at: clock.read(), outage: open).map(\.market), ["ETHUSDT"], "BTCUSDT was answered after its news")
        _ = book.newsArrived("BTCUSDT", headline(3), at: clock.read())
        clock.advance(1)
        XCTAssertEqual(book.due(at: clock.read(), outage: open).map(\.market), ["BTCUSDT"])
    }

    func testTheHeldAnswerIsWhatGatewaysShare() {
        var book = SentimentBook(config: SentimentBookConfig(batchWindow: 1))
        book.observe("BTCUSDT", price: 100, at: clock.read())
        _ = book.newsArrived("BTCUSDT", headline(1), at: clock.read())
        clock.advance(1)
        let ask = book.due(at: clock.read(), outage: open)[0]
        XCTAssertNil(book.shared("BTCUSDT"))
        _ = book.answered(ask.id, SentimentAnswer(sentiment: .neutral, reason: "mixed"), at: clock.read())
        XCTAssertEqual(
            book.shared("BTCUSDT"),
            SharedSentiment(
                market: "BTCUSDT", answer: SentimentAnswer(sentiment: .neutral, reason: "mixed"),
                asOfWall: clock.read().wall, price: 100))
    }
}
