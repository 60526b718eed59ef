import Foundation
import JSONCodec

/// The plain-text Telegram message for one event, or nil for events nobody needs on a phone
/// (marks of open positions, klines, …). Pure: the event in, the text out.
///
/// | event | message |
/// |---|---|
/// | `signal.created` | side, market and interval; entry, stop, target; suggested weight; strategy and ML confidence |
/// | `portfolio.updated` with `action` `POSITION_OPENED` | the fill: side, size, market, entry price, stop, target, weight |
/// | `position.closed` | the market, the exit reason in words (stop-out, target hit, …), exit price, P&L and ROI |
/// | `risk.alert` | kill switch engaged or released (by whom, why); an entry refused (the reasons); other alerts |
/// | `job.completed` | the job's kind and id, finished or failed (with the error) |
/// | `notice` | the message and who sent it |
public enum TelegramText {
    /// Telegram's limit on a message's length (characters).
    public static let maxLength = 4096

    /// The message for `event` (the stream entry's JSON) of `topic`, or nil when it is not sent.
    public static func message(topic: String, event: JSONValue) -> String? {
        guard let e = event.objectValue, let type = e["event_type"]?.stringValue else { return nil }
        let text: String?
        switch type {
        case "signal.created": text = signal(e)
        case "portfolio.updated": text = e["action"]?.stringValue == "POSITION_OPENED" ? fill(e) : nil
        case "position.closed": text = closed(e)
        case "risk.alert": text = risk(e)
        case "job.completed": text = job(e, topic: topic)
        case "notice": text = notice(e)
        default: text = nil
        }
        guard let text else { return nil }
        return text.count > maxLength ? String(text.prefix(maxLength - 1)) + "…" : text
    }

    private static func signal(_ e: JSONObject) -> String {
        let market = str(e["market"]) ?? "?"
        var lines = ["Signal: \(str(e["side"]) ?? "?") \(market)" + (str(e["interval"]).map { " (\($0))" } ?? "")]
        var prices = ["entry \(num(e["entry_price"]) ?? "?")"]
        if let stop = num(e["stop_loss_price"]) { prices.append("stop \(stop)") }
        if let target = num(e["profit_target_price"]) { prices.append("target \(target)") }
        lines.append(capitalized(prices.joined(separator: ", ")))
        if let weight = percent(e["suggested_position_weight"], fraction: true) { lines.append("Suggested weight \(weight)") }
        var strategy = "Strategy \(str(e["strategy"]) ?? "?")"
        if let confidence = num(e["ml_confidence_score"]) { strategy += ", ML confidence \(confidence)" }
        lines.append(strategy)
        return lines.joined(separator: "\n")
    }

    private static func fill(_ e: JSONObject) -> String {
        let market = str(e["market"]) ?? "?"
        var lines = [
            "Position opened: \(str(e["side"]) ?? "?") \(num(e["position_size"]) ?? "?") \(market) at \(num(e["entry_price"]) ?? "?")"
        ]
        var levels: [String] = []
        if let stop = num(e["stop_loss_price"]) { levels.append("stop \(stop)") }
        if let target = num(e["profit_target_price"]) { levels.append("target \(target)") }
        if let weight = percent(e["position_weight_used"], fraction: true) { levels.append("weight \(weight)") }
        if !levels.isEmpty { lines.append(capitalized(levels.joined(separator: ", "))) }
        if let id = str(e["position_id"]) { lines.append("Position #\(id)") }
        return lines.joined(separator: "\n")
    }

    private static func closed(_ e: JSONObject) -> String {
        let market = str(e["market"]) ?? "?"
        let reason = str(e["exit_reason"]) ?? "MANUAL"
        var lines = ["Position closed: \(market) \(exitWords(reason)) (\(reason)) at \(num(e["exit_price"]) ?? "?")"]
        var result: [String] = []
        if let pnl = num(e["realized_pnl"]) { result.append("P&L \(signed(pnl))") }
        if let roi = percent(e["roi"], fraction: false) { result.append("ROI \(signed(roi))") }
        if !result.isEmpty { lines.append(result.joined(separator: ", ")) }
        if let id = str(e["position_id"]) { lines.append("Position #\(id)") }
        return lines.joined(separator: "\n")
    }

    private static func risk(_ e: JSONObject) -> String {
        let action = str(e["action"]) ?? "ALERT"
        let messages = (e["reasons"]?.arrayValue ?? []).compactMap { r -> String? in
            guard let o = r.objectValue else { return nil }
            let code = str(o["code"]) ?? "?"
            return str(o["message"]).map { "\(code): \($0)" } ?? code
        }
        switch action {
        case "KILL_SWITCH_ENGAGED":
            let head = "KILL SWITCH ENGAGED by \(str(e["by"]) ?? "?"): new entries are refused"
            return ([head] + messages.map { "- \($0)" }).joined(separator: "\n")
        case "KILL_SWITCH_RELEASED":
            return "Kill switch released by \(str(e["by"]) ?? "?"): entries allowed again"
        case "ENTRY_REFUSED":
            return (["Risk: entry refused for \(str(e["market"]) ?? "?")"] + messages.map { "- \($0)" }).joined(separator: "\n")
        default:
            let head = "Risk alert: \(action)" + (str(e["market"]).map { " (\($0))" } ?? "")
            return ([head] + messages.map { "- \($0)" }).joined(separator: "\n")
        }
    }

    private static func job(_ e: JSONObject, topic: String) -> String {
        let kind = str(e["kind"]) ?? "job"
        let id = str(e["task_id"]).map { " \($0)" } ?? ""
        let status = str(e["status"]) ?? "done"
        var text = "Job done: \(kind)\(id) \(status)"
        if let error = str(e["error"]) { text += "\nError: \(error)" }
        if topic.hasPrefix("user:") { text += "\nFor \(topic.dropFirst(5))" }
        return text
    }

    private static func notice(_ e: JSONObject) -> String? {
        guard let message = str(e["message"]) else { return nil }
        return "Notice" + (str(e["from"]).map { " from \($0)" } ?? "") + ": " + message
    }

    /// Exit reasons (`ExitReason` raw values) in words.
    static func exitWords(_ reason: String) -> String {
        switch reason {
        case "STOP_LOSS": return "stop-out"
        case "TRAILING_STOP": return "trailing stop-out"
        case "PROFIT_TARGET": return "target hit"
        case "SIGNAL": return "strategy exit"
        case "MANUAL": return "closed manually"
        case "END_OF_DATA": return "end of data"
        default: return "closed"
        }
    }

    private static func str(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        if let s = v.stringValue { return s.isEmpty ? nil : s }
        if case .int(let i) = v { return String(i) }
        return nil
    }

    /// A number as a person writes it: at most 8 significant decimals, no trailing zeros.
    private static func num(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        let d: Double?
        if let s = v.stringValue { d = Double(s) } else { d = v.doubleValue }
        guard let d, d.isFinite else { return nil }
        return format(d)
    }

    static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        var text = String(format: "%.8f", d)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A percentage: `fraction` values (0..1) are multiplied by 100.
    private static func percent(_ v: JSONValue?, fraction: Bool) -> String? {
        guard let v else { return nil }
        let d: Double?
        if let s = v.stringValue { d = Double(s) } else { d = v.doubleValue }
        guard let d, d.isFinite else { return nil }
        let scaled = fraction ? d * 100 : d
        return format((scaled * 100).rounded() / 100) + "%"
    }

    private static func signed(_ text: String) -> String { text.hasPrefix("-") ? text : "+" + text }

    private static func capitalized(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }
}
