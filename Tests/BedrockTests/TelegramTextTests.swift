import JSONCodec
import XCTest

@testable import Bedrock

/// The Telegram messages, from the events as the ledger scripts and emitters write them.
final class TelegramTextTests: XCTestCase {
    private func message(_ topic: String, _ json: String) -> String? {
        TelegramText.message(topic: topic, event: try! JSONCodec.parse(json))
    }

    func testSignalNamesMarketSideLevelsWeightStrategyAndConfidence() {
        let text = message(
            "signals",
            #"{"event_type":"signal.created","market":"ETHUSDT","interval":"4h","strategy":"rsi_reversal","side":"SELL","entry_price":3120.25,"stop_loss_price":3200,"profit_target_price":2950.5,"suggested_position_weight":0.35,"ml_confidence_score":0.61}"#
        )
        XCTAssertEqual(
            text,
            "Signal: SELL ETHUSDT (4h)\nEntry 3120.25, stop 3200, target 2950.5\nSuggested weight 35%\nStrategy rsi_reversal, ML confidence 0.61"
        )
    }

    func testSignalWithoutOptionalFieldsStaysReadable() {
        XCTAssertEqual(
            message(
                "signals", #"{"event_type":"signal.created","market":"BTCUSDT","side":"BUY","entry_price":"100","strategy":"x"}"#),
            "Signal: BUY BTCUSDT\nEntry 100\nStrategy x")
    }

    func testFillIsAnOpenedPositionOnlyMarksAreNot() {
        let opened =
            #"{"event_type":"portfolio.updated","position_id":7,"market":"BTCUSDT","action":"POSITION_OPENED","side":"BUY","position_size":0.0125,"entry_price":64000,"stop_loss_price":62000,"profit_target_price":70000,"position_weight_used":0.8}"#
        XCTAssertEqual(
            message("portfolio", opened),
            "Position opened: BUY 0.0125 BTCUSDT at 64000\nStop 62000, target 70000, weight 80%\nPosition #7")
        XCTAssertNil(message("portfolio", opened.replacingOccurrences(of: "POSITION_OPENED", with: "POSITION_UPDATED")))
    }

    func testCloseSaysTheExitReasonInWordsWithPnLAndROI() {
        XCTAssertEqual(
            message(
                "portfolio",
                #"{"event_type":"position.closed","position_id":7,"market":"BTCUSDT","exit_price":62000,"exit_reason":"STOP_LOSS","realized_pnl":-25.5,"roi":-3.125}"#
            ), "Position closed: BTCUSDT stop-out (STOP_LOSS) at 62000\nP&L -25.5, ROI -3.13%\nPosition #7")
        XCTAssertEqual(
            message(
                "portfolio",
                #"{"event_type":"position.closed","market":"ETHUSDT","exit_price":40,"exit_reason":"PROFIT_TARGET","realized_pnl":12,"roi":20}"#
            ), "Position closed: ETHUSDT target hit (PROFIT_TARGET) at 40\nP&L +12, ROI +20%")
    }

    func testKillSwitchAndOtherRiskAlerts() {
        XCTAssertEqual(
            message(
                "risk",
                #"{"event_type":"risk.alert","action":"KILL_SWITCH_ENGAGED","kill_switch":true,"by":"ops","reasons":[{"code":"KILL_SWITCH","message":"kill switch engaged by ops: drawdown","value":1,"limit":0}]}"#
            ), "KILL SWITCH ENGAGED by ops: new entries are refused\n- KILL_SWITCH: kill switch engaged by ops: drawdown")
        XCTAssertEqual(
            message("risk", #"{"event_type":"risk.alert","action":"KILL_SWITCH_RELEASED","by":"ops","reasons":[]}"#),
            "Kill switch released by ops: entries allowed again")
        XCTAssertEqual(
            message(
                "risk",
                #"{"event_type":"risk.alert","action":"ENGINE_CONFIG_UNREADABLE","message":"bad","reasons":[{"code":"ENGINE_CONFIG_UNREADABLE","message":"bad"}]}"#
            ), "Risk alert: ENGINE_CONFIG_UNREADABLE\n- ENGINE_CONFIG_UNREADABLE: bad")
    }

    func testJobDoneAndNotice() {
        XCTAssertEqual(
            message(
                "user:bob", #"{"event_type":"job.completed","task_id":"t-9","kind":"optimize","status":"COMPLETED"}"#),
            "Job done: optimize t-9 COMPLETED\nFor bob")
        XCTAssertEqual(
            message("user:bob", #"{"event_type":"notice","message":"maintenance at 18:00","from":"admin"}"#),
            "Notice from admin: maintenance at 18:00")
    }

    func testOtherEventsAndNonObjectsMakeNoMessage() {
        XCTAssertNil(message("klines:BTCUSDT:1m", #"{"event_type":"kline.closed","market":"BTCUSDT"}"#))
        XCTAssertNil(message("user:bob", #"{"event_type":"job.progress","progress":0.5}"#))
        XCTAssertNil(TelegramText.message(topic: "signals", event: .string("not json")))
    }

    func testLongTextIsCutToTelegramsLimit() {
        let long = String(repeating: "x", count: 5000)
        let text = message("user:bob", #"{"event_type":"notice","message":"\#(long)"}"#)!
        XCTAssertEqual(text.count, TelegramText.maxLength)
        XCTAssertTrue(text.hasSuffix("…"))
    }
}
