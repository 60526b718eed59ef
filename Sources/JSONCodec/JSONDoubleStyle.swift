/// How `JSONCodec` writes a `.double`. Integers (`.int`) print the same in both styles, and
/// non-finite doubles print as `null` (JSON has no NaN or infinity).
public enum JSONDoubleStyle: Sendable {
    /// 15 significant digits, exactly as jansson printed reals with `JSON_REAL_PRECISION(15)`
    /// before the encoder was Swift: C's `%.15g`, then `.0` added when there is neither a point
    /// nor an exponent, and exponents without `+` or leading zeros. Prices print as written
    /// (`29717.13`), arithmetic noise disappears (0.1 + 0.2 → `0.3`), whole doubles keep a
    /// fraction (`30000.0`), tiny and huge values use exponents (`1e-7`, `1e20`). The format
    /// of every frame and API answer.
    case significant15
    /// The shortest text that reads back as the very same double (Swift's `description`:
    /// `0.30000000000000004`, `30000.0`, `1e-07`, `1e+20`). Reports written by the command
    /// line use it, so no bit of a result is lost.
    case shortest
}
