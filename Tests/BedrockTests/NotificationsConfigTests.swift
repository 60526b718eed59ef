import XCTest

@testable import Bedrock

/// `notifications.*`: defaults, webhooks and Telegram from the file and the environment,
/// canonical topic names, refusals naming the entry, and no secret in any text.
final class NotificationsConfigTests: ConfigFileTestCase {
    let hookSecret = "whsec-SECRET-0123456789"
    let token = "123456:TOKEN-abcdefghij"

    func testDefaultsHaveNoTarget() throws {
        let n = try load("{}").notifications
        XCTAssertFalse(n.enabled)
        XCTAssertEqual(n.retryWindowS, 86_400)
        XCTAssertEqual(n.concurrency, 8)
        XCTAssertEqual(n.claimIdleS, 30)
    }

    func testWebhooksFromTheFileAndTelegramFromTheEnvironment() throws {
        let c = try load(
            #"{"notifications":{"webhooks":[{"url":"https://a.example/h","topics":["signals","klines:btc/usdt:1m","user:bob"],"secret":"\#(hookSecret)"},{"name":"ops","url":"http://127.0.0.1:9/x","topics":["risk"],"secret":"\#(hookSecret)"}],"retry_window_s":60}}"#,
            env: [
                "BEDROCK_NOTIFICATIONS_TELEGRAM":
                    #"{"bot_token":"\#(token)","chat_id":"@alerts","api_url":"http://127.0.0.1:1/","topics":["risk"]}"#
            ])
        let n = c.notifications
        XCTAssertEqual(n.webhooks.map(\.name), ["webhook-1", "ops"])
        XCTAssertEqual(n.webhooks[0].topics, ["signals", "klines:BTCUSDT:1m", "user:bob"])
        XCTAssertEqual(n.retryWindowS, 60)
        XCTAssertEqual(n.telegram?.apiURL, "http://127.0.0.1:1")
        XCTAssertEqual(n.telegram?.chatID, .string("@alerts"))
        for text in [
            "\(n)", String(reflecting: n),
            {
                var s = ""; dump(n, to: &s); return s
            }(),
        ] {
            XCTAssertFalse(text.contains(hookSecret) || text.contains(token), text)
        }
    }

    func testBadEntriesAreRefusedByNameWithoutTheirSecrets() {
        let hook = #""url":"http://h/x","topics":["signals"],"secret":"\#(hookSecret)""#
        let cases: [(String, String)] = [
            (
                #"{"notifications":{"webhooks":[{\#(hook)},{"url":"ftp://h","topics":["signals"],"secret":"\#(hookSecret)"}]}}"#,
                "notifications.webhooks[1]: (webhook-2) url must be an http:// or https:// URL"
            ),
            (
                #"{"notifications":{"webhooks":[{"url":"http://h","topics":["signals"],"secret":"short"}]}}"#,
                "secret is required: a string of at least 16 characters"
            ),
            (
                #"{"notifications":{"webhooks":[{"url":"http://h","topics":["user"],"secret":"\#(hookSecret)"}]}}"#,
                "unknown topic \"user\""
            ),
            (#"{"notifications":{"webhooks":[{\#(hook)},{"name":"webhook-1",\#(hook)}]}}"#, "is used twice"),
            (#"{"notifications":{"webhooks":[{"name":"telegram",\#(hook)}]}}"#, "not \"telegram\""),
            (#"{"notifications":{"webhooks":[{\#(hook),"extra":1}]}}"#, "unknown key \"extra\""),
            (
                #"{"notifications":{"telegram":{"bot_token":"\#(token)","chat_id":1,"topics":[]}}}"#,
                "notifications.telegram: topics must be a non-empty array"
            ),
            (#"{"notifications":{"telegram":{"bot_token":"a/b","chat_id":1,"topics":["risk"]}}}"#, "bot_token"),
            (#"{"notifications":{"concurrency":0}}"#, "notifications.concurrency"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try load(json), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(json): \(error)")
                XCTAssertFalse("\(error)".contains(hookSecret) || "\(error)".contains(token), "\(error)")
            }
        }
    }
}
