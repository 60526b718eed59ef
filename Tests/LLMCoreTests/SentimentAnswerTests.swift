import TradingCore
import XCTest

@testable import LLMCore

final class SentimentAnswerTests: XCTestCase {
    func testAcceptedAnswers() {
        let accepted: [(String, LLMSentiment, String)] = [
            ("POSITIVE: ETF inflows beat estimates", .positive, "ETF inflows beat estimates"),
            ("NEUTRAL: mixed headlines\n", .neutral, "mixed headlines"),
            ("NEGATIVE: exchange hack reported\r\n", .negative, "exchange hack reported"),
            ("  NEGATIVE :  spaces trimmed  ", .negative, "spaces trimmed"),
            ("POSITIVE: reason: with a colon", .positive, "reason: with a colon"),
            (#"{"sentiment": "POSITIVE", "reason": "upgrade"}"#, .positive, "upgrade"),
            (#"{"reason": " order free ", "sentiment": "NEUTRAL"}"# + "\n", .neutral, "order free"),
            ("\n{\n  \"sentiment\": \"NEGATIVE\",\n  \"reason\": \"pretty-printed\"\n}\n", .negative, "pretty-printed"),
        ]
        for (text, sentiment, reason) in accepted {
            XCTAssertEqual(
                try SentimentAnswer.parse(text).get(), SentimentAnswer(sentiment: sentiment, reason: reason), text)
        }
    }

    func testRefusedAnswersSayWhy() {
        let refused: [(String, SentimentParseFailure)] = [
            ("", .empty),
            ("   \n", .empty),
            ("POSITIVE", .missingReason),
            ("POSITIVE:", .missingReason),
            ("POSITIVE:   ", .missingReason),
            ("positive: lower case is refused", .notUpperCase("positive")),
            ("Negative: mixed case too", .notUpperCase("Negative")),
            ("MOSTLY POSITIVE: hedged", .unknownWord("MOSTLY POSITIVE")),
            ("BULLISH: synonym", .unknownWord("BULLISH")),
            ("`POSITIVE: in backticks`", .unknownWord("`POSITIVE")),
            ("**POSITIVE**: bold", .unknownWord("**POSITIVE**")),
            ("POSITIVE: first\nNEGATIVE: second", .multipleLines),
            ("POSITIVE: reason\n\n", .multipleLines),
            ("Sure! Here is the answer:\nPOSITIVE: x", .multipleLines),
            ("```\nPOSITIVE: fenced\n```", .multipleLines),
            ("POSITIVE: tab\u{7}bell", .controlCharacter),
            ("POSITIVE: " + String(repeating: "x", count: 501), .reasonTooLong(501)),
            ("{not json", .invalidJSON),
            ("[1]", .missingReason),
            (#"{"sentiment": "POSITIVE"}"#, .wrongMembers(["sentiment"])),
            (#"{"sentiment": "POSITIVE", "reason": "x", "score": 1}"#, .wrongMembers(["reason", "score", "sentiment"])),
            (#"{"sentiment": 1, "reason": "x"}"#, .memberNotString),
            (#"{"sentiment": "positive", "reason": "x"}"#, .notUpperCase("positive")),
            (#"{"sentiment": "POSITIVE", "reason": ""}"#, .missingReason),
            (#"{"sentiment": "POSITIVE", "reason": "a\nb"}"#, .multipleLines),
            (#"{"sentiment": "POSITIVE", "sentiment": "NEGATIVE", "reason": "dup"}"#, .invalidJSON),
        ]
        for (text, failure) in refused {
            XCTAssertEqual(SentimentAnswer.parse(text), .failure(failure), text)
            XCTAssertFalse("\(failure)".isEmpty)
        }
    }

    func testFailureDescriptionQuotesAtMostFortyCharactersOfTheWord() {
        let word = String(repeating: "W", count: 100)
        guard case .failure(let failure) = SentimentAnswer.parse(word + ": x") else { return XCTFail() }
        XCTAssertEqual(failure, .unknownWord(String(repeating: "W", count: 40)))
    }
}
