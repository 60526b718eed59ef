import Foundation
import XCTest

@testable import LLMCore

final class PromptTemplateTests: XCTestCase {
    func testRendersEveryPlaceholderVerbatimWithoutRescanningValues() throws {
        let template = try PromptTemplate(name: "t", text: "{{a}} and {{b}}, again {{a}}.")
        XCTAssertEqual(template.placeholders, ["a", "b"])
        XCTAssertEqual(try template.render(["a": "x", "b": "{{a}}"]), "x and {{a}}, again x.")
    }

    func testMissingValueIsAnErrorNamingThePlaceholder() throws {
        let template = try PromptTemplate(name: "t.txt", text: "Price {{price}} of {{market}}")
        XCTAssertThrowsError(try template.render(["market": "BTC-USDT"])) { error in
            XCTAssertEqual(error as? PromptTemplateError, .missingValue(template: "t.txt", placeholder: "price"))
            XCTAssertEqual("\(error)", "prompt template t.txt: no value for placeholder {{price}}")
        }
    }

    func testValueWithoutPlaceholderIsAnErrorNamingIt() throws {
        let template = try PromptTemplate(name: "t.txt", text: "Price {{price}}")
        XCTAssertThrowsError(try template.render(["price": "1", "pnl": "2"])) { error in
            XCTAssertEqual(error as? PromptTemplateError, .unusedValue(template: "t.txt", name: "pnl"))
        }
    }

    func testMalformedPlaceholdersAreRefused() {
        for text in ["open {{price", "{{Price}}", "{{ price }}", "{{}}", "{{9lives}}", "{{a-b}}"] {
            XCTAssertThrowsError(try PromptTemplate(name: "t", text: text), text) { error in
                guard case .malformedPlaceholder = error as? PromptTemplateError else {
                    return XCTFail("\(text): \(error)")
                }
            }
        }
    }

    func testATaskTemplateMustUseExactlyTheTasksPlaceholders() {
        XCTAssertThrowsError(try PromptTemplate(task: .sentiment, text: "{{market}} {{price}} {{pnl}}")) { error in
            XCTAssertEqual(
                error as? PromptTemplateError,
                .wrongPlaceholders(template: "sentiment.txt", missing: ["headlines"], unknown: ["pnl"]))
        }
    }

    /// The shipped templates load as their task's templates and render with Bedrock's facts.
    func testShippedTemplatesUseExactlyTheirTasksPlaceholders() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/prompts").standardized
        for task in LLMTask.allCases {
            let text = try String(contentsOf: dir.appendingPathComponent(task.templateFileName), encoding: .utf8)
            let template = try PromptTemplate(task: task, text: text)
            let values = Dictionary(uniqueKeysWithValues: task.placeholders.map { ($0, "<\($0)>") })
            let prompt = try template.render(values)
            XCTAssertFalse(prompt.contains("{{"), task.rawValue)
            for name in task.placeholders { XCTAssertTrue(prompt.contains("<\(name)>"), "\(task) \(name)") }
        }
    }

    func testSentimentPromptAsksForTheOneLineForm() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/prompts").standardized
        let text = try String(contentsOf: dir.appendingPathComponent("sentiment.txt"), encoding: .utf8)
        for line in ["POSITIVE: <reason>", "NEUTRAL: <reason>", "NEGATIVE: <reason>", "exactly one line"] {
            XCTAssertTrue(text.contains(line), line)
        }
    }
}
