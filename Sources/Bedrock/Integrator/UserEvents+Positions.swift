import JSONCodec

extension UserEvents {
    /// Posts `position.manual` to `sub`'s stream after a manual position action (`positions.open`,
    /// `positions.close` by hand): `action` ("opened" | "closed"), `position_id`, `market`, and
    /// the stored position's side, size, prices, status and P&L where it has them. Never fails the
    /// call it follows (`post`).
    func postManualPosition(sub: String, action: String, position: JSONObject) {
        var fields: [(String, JSONValue)] = [
            ("action", .string(action)), ("position_id", position["id"] ?? .null),
            ("market", position["market"] ?? .null),
        ]
        let kept = [
            "side", "status", "position_size", "entry_price", "stop_loss_price", "profit_target_price", "exit_price",
            "exit_reason", "realized_pnl",
        ]
        for name in kept {
            if let value = position[name], !value.isNull { fields.append((name, value)) }
        }
        post(sub: sub, eventType: "position.manual", fields: JSONObject(fields))
    }
}
