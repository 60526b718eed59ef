import Exchanges
import MarketDataCore
import XCTest

final class ExchangeEndpointsTests: XCTestCase {
    func testProductionEndpointsAreTheDocumentedOnes() {
        XCTAssertEqual(ExchangeEndpoints.production(.binance).restURL, "https://api.binance.com")
        XCTAssertEqual(ExchangeEndpoints.production(.binance).wsURL, "wss://stream.binance.com:9443")
        XCTAssertEqual(ExchangeEndpoints.production(.bybit).restURL, "https://api.bybit.com")
        XCTAssertEqual(ExchangeEndpoints.production(.bybit).wsURL, "wss://stream.bybit.com/v5/public/spot")
    }

    func testTrailingSlashesAreDropped() {
        let e = ExchangeEndpoints(restURL: "http://127.0.0.1:8080//", wsURL: "ws://127.0.0.1:8081/")
        XCTAssertEqual(e.restURL, "http://127.0.0.1:8080")
        XCTAssertEqual(e.wsURL, "ws://127.0.0.1:8081")
    }
}
