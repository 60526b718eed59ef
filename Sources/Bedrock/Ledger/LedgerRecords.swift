import JSONCodec
import RedisClient

/// How stored ledger hashes (all values decimal text) become JSON answers: each record kind has
/// an ordered schema of (answer name, stored field, kind). Absent fields answer `null`.
public enum LedgerRecord: Sendable {
    case signal, position, trade

    /// JSON type of a stored field.
    enum Kind { case string, number, integer, bool, json }

    /// The hash key of record `id`.
    func key(prefix: String, id: Int64) -> String {
        switch self {
        case .signal: return "\(prefix)signal:\(id)"
        case .position: return "\(prefix)position:\(id)"
        case .trade: return "\(prefix)trade:\(id)"
        }
    }

    var schema: [(name: String, field: String, kind: Kind)] {
        switch self {
        case .signal:
            return [
                ("id", "id", .integer), ("market", "market", .string), ("interval", "interval", .string),
                ("strategy", "strategy", .string), ("signal_type", "signal_type", .string),
                ("side", "side", .string), ("entry_price", "entry_price", .number),
                ("stop_loss_price", "stop_loss_price", .number),
                ("profit_target_price", "profit_target_price", .number),
                ("risk_unit_r", "risk_unit_r", .number),
                ("suggested_position_weight", "suggested_position_weight", .number),
                ("rule_engine_score", "rule_engine_score", .number),
                ("ml_confidence_score", "ml_confidence_score", .number), ("ml_model", "ml_model", .string),
                ("llm_sentiment", "llm_sentiment", .string), ("final_decision", "final_decision", .string),
                ("explanation", "explanation", .string), ("bar_time", "bar_time", .string),
                ("created_at", "created_at", .string), ("params", "params", .json),
                ("config_version", "config_version", .integer), ("features", "features", .json),
            ]
        case .position:
            return [
                ("id", "id", .integer), ("signal_id", "signal_id", .integer), ("market", "market", .string),
                ("side", "side", .string), ("status", "status", .string),
                ("position_size", "size", .number), ("entry_price", "entry_price", .number),
                ("current_price", "current_price", .number), ("stop_loss_price", "stop_loss_price", .number),
                ("initial_stop_price", "initial_stop_price", .number),
                ("trailing_stop_price", "trailing_stop_price", .number),
                ("trailing_armed", "trailing_armed", .bool), ("trailing_distance", "trailing_distance", .number),
                ("profit_target_price", "profit_target_price", .number),
                ("position_weight_used", "position_weight_used", .number), ("cost", "cost", .number),
                ("unrealized_pnl", "unrealized_pnl", .number), ("realized_pnl", "realized_pnl", .number),
                ("commission", "commission", .number), ("exit_price", "exit_price", .number),
                ("exit_reason", "exit_reason", .string), ("roi", "roi", .number),
                ("trade_id", "trade_id", .integer), ("opened_at", "opened_at", .string),
                ("closed_at", "closed_at", .string), ("duration_s", "duration_s", .integer),
                ("opened_by", "opened_by", .string), ("closed_by", "closed_by", .string),
                ("updated_at", "updated_at", .string),
            ]
        case .trade:
            return [
                ("id", "id", .integer), ("position_id", "position_id", .integer),
                ("signal_id", "signal_id", .integer), ("market", "market", .string), ("side", "side", .string),
                ("size", "size", .number), ("entry_price", "entry_price", .number),
                ("exit_price", "exit_price", .number), ("pnl", "pnl", .number),
                ("gross_pnl", "gross_pnl", .number), ("commission", "commission", .number),
                ("exit_reason", "exit_reason", .string), ("entry_time", "entry_time", .string),
                ("exit_time", "exit_time", .string), ("duration_s", "duration_s", .integer),
            ]
        }
    }

    /// The JSON answer for a stored hash (field → text); nil for an empty hash (no record).
    func json(_ stored: [String: String]) -> JSONObject? {
        guard !stored.isEmpty else { return nil }
        var out = JSONObject()
        for entry in schema {
            guard let text = stored[entry.field], !text.isEmpty else { out[entry.name] = .null; continue }
            switch entry.kind {
            case .string: out[entry.name] = .string(text)
            case .number: out[entry.name] = Double(text).map(JSONValue.double) ?? .null
            case .integer: out[entry.name] = Int64(text).map(JSONValue.int) ?? .null
            case .bool: out[entry.name] = .bool(text == "1")
            case .json: out[entry.name] = (try? JSONCodec.parse(text)) ?? .null
            }
        }
        return out
    }
}

extension RedisReply {
    /// An `HGETALL` reply as a dictionary (empty for a missing key).
    var hash: [String: String] {
        guard let items = array else { return [:] }
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if let k = items[i].string, let v = items[i + 1].string { out[k] = v }
            i += 2
        }
        return out
    }
}
