/// The features CSV that `bedrock features` writes and `bedrock train --features` and
/// `bedrock predict` read: header `time,market,signal_type,label,` then `MLFeatures.names`; `time`
/// RFC 3339 UTC (the signal's bar open time); feature values as shortest round-trip decimal text;
/// a missing value (NaN) as an empty field. docs/ML_FEATURES.md describes the columns.
public enum FeatureCSV {
    /// The header line, newline included.
    public static var header: String {
        (["time", "market", "signal_type", "label"] + MLFeatures.names).joined(separator: ",") + "\n"
    }

    /// Appends the line of `signal` (newline included) to `out`. `market` must not contain a comma,
    /// a quote or a line break (market names never do).
    public static func append(_ signal: LabeledSignal, market: String, to out: inout String) {
        out += RFC3339.format(milliseconds: signal.time)
        out += ","
        out += market
        out += ","
        out += signal.signalType.rawValue
        out += signal.label == 1 ? ",1" : ",0"
        for value in signal.features {
            out += ","
            if !value.isNaN { out += value.description }
        }
        out += "\n"
    }

    /// The whole file: the header, then one line per signal in order.
    public static func text(_ signals: [LabeledSignal], market: String) -> String {
        var out = header
        out.reserveCapacity(out.utf8.count + signals.count * 256)
        for signal in signals { append(signal, market: market, to: &out) }
        return out
    }
}
