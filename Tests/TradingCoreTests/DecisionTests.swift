import XCTest

@testable import TradingCore

final class WeightBandsTests: XCTestCase {
    func testBandEdgesAndLinearInterior() {
        let w = WeightBands.weight(forScore:)
        XCTAssertEqual(w(100), 1.0, accuracy: 1e-12)
        XCTAssertEqual(w(85), 0.8, accuracy: 1e-12)
        XCTAssertEqual(w(92.5), 0.9, accuracy: 1e-12)
        XCTAssertEqual(w(84.999), 0.7, accuracy: 1e-3)
        XCTAssertLessThan(w(84.999), 0.7)
        XCTAssertEqual(w(70), 0.5, accuracy: 1e-12)
        XCTAssertEqual(w(77.5), 0.6, accuracy: 1e-12)
        XCTAssertEqual(w(69.999), 0.5, accuracy: 1e-4)
        XCTAssertLessThan(w(69.999), 0.5)
        XCTAssertEqual(w(35), 0.4, accuracy: 1e-12)
        XCTAssertEqual(w(0), 0.3, accuracy: 1e-12)
    }

    func testOutOfRangeScoresAreClamped() {
        XCTAssertEqual(WeightBands.weight(forScore: 150), 1.0, accuracy: 1e-12)
        XCTAssertEqual(WeightBands.weight(forScore: -5), 0.3, accuracy: 1e-12)
    }
}

final class ArbiterTests: XCTestCase {
    func testRuleOnlyWhenMLAndLLMAreMissing() {
        let v = Arbiter.decide(ruleScore: 70, side: .buy, config: ArbiterConfig(threshold: 60))
        XCTAssertEqual(v.combinedScore, 70)
        XCTAssertEqual(v.decision, .approved)
        XCTAssertTrue(v.explanation.contains("not available: ML score, LLM sentiment"), v.explanation)
    }

    func testWeightedMeanOverPresentInputs() {
        // rule 80 × 0.5 + ML 40 × 0.3 = 52 over weight 0.8 → 65
        let v = Arbiter.decide(ruleScore: 80, mlScore: 40, side: .buy)
        XCTAssertEqual(v.combinedScore, 65, accuracy: 1e-12)
        XCTAssertEqual(v.decision, .approved)
        XCTAssertTrue(v.explanation.hasPrefix("approved: combined score 65 reaches the threshold 60"), v.explanation)
    }

    func testSentimentIsMirroredForSells() {
        // Buy: (60 × 0.5 + 100 × 0.2) / 0.7 = 71.43; sell: (60 × 0.5 + 0 × 0.2) / 0.7 = 42.86.
        let buy = Arbiter.decide(ruleScore: 60, sentiment: .positive, side: .buy)
        let sell = Arbiter.decide(ruleScore: 60, sentiment: .positive, side: .sell)
        XCTAssertEqual(buy.combinedScore, 50 / 0.7, accuracy: 1e-9)
        XCTAssertEqual(sell.combinedScore, 30 / 0.7, accuracy: 1e-9)
        XCTAssertEqual(buy.decision, .approved)
        XCTAssertEqual(sell.decision, .rejected)
        XCTAssertEqual(Arbiter.decide(ruleScore: 60, sentiment: .negative, side: .sell).combinedScore, 50 / 0.7, accuracy: 1e-9)
        XCTAssertEqual(LLMSentiment.neutral.score(for: .sell), 50)
    }

    func testAllInputsAndThresholdEdge() {
        // (50 × 0.5 + 70 × 0.3 + 50 × 0.2) / 1.0 = 56
        let config = ArbiterConfig(threshold: 56)
        let v = Arbiter.decide(ruleScore: 50, mlScore: 70, sentiment: .neutral, side: .buy, config: config)
        XCTAssertEqual(v.combinedScore, 56, accuracy: 1e-9)
        XCTAssertEqual(v.decision, .approved, "reaching the threshold approves")
        let below = Arbiter.decide(ruleScore: 50, mlScore: 69, sentiment: .neutral, side: .buy, config: config)
        XCTAssertEqual(below.decision, .rejected)
        XCTAssertTrue(below.explanation.hasPrefix("rejected: combined score"), below.explanation)
    }
}

final class SignalAssessmentTests: XCTestCase {
    func testAssessmentCombinesWeightBandAndArbiter() {
        let signal = EntrySignal(
            signalType: .oopsSell, side: .sell, order: .stop(level: 100), entryPrice: 100,
            stopLoss: 105, profitTarget: 90, score: 85)
        // Sell with NEGATIVE sentiment counts 100: (85 × 0.5 + 100 × 0.2) / 0.7 = 89.29.
        let a = SignalAssessment.assess(signal, sentiment: .negative)
        XCTAssertEqual(a.suggestedPositionWeight, 0.8, accuracy: 1e-12)
        XCTAssertEqual(a.verdict.combinedScore, 62.5 / 0.7, accuracy: 1e-9)
        XCTAssertEqual(a.verdict.decision, .approved)
        XCTAssertEqual(signal.riskUnit, 5)
        XCTAssertEqual(signal.rewardRisk, 2)
    }
}
