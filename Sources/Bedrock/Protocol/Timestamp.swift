import Foundation
import TradingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// RFC 3339 UTC timestamps with milliseconds, e.g. `2026-11-21T23:10:00.123Z`.
///
/// Formatting is done by hand from the epoch (civil-from-days), with no `DateFormatter` and no
/// locale or time-zone lookups, so it is cheap enough to call per frame on the event loop.
public enum Timestamp {
    /// Milliseconds since the Unix epoch, from the realtime clock.
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Whole seconds since the Unix epoch, from the realtime clock (the JWT clock).
    public static func nowSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// The current time as RFC 3339 UTC with milliseconds.
    public static func now() -> String { rfc3339(millis: nowMillis()) }

    /// `date` as RFC 3339 UTC with milliseconds (truncated toward the past).
    public static func rfc3339(_ date: Date) -> String {
        rfc3339(seconds: date.timeIntervalSince1970)
    }

    /// Epoch seconds (fractional) as RFC 3339 UTC with milliseconds. Non-finite or absurd values
    /// are clamped to years 0000-9999 rather than trapping.
    public static func rfc3339(seconds: Double) -> String {
        let ms = (seconds * 1000).rounded(.down)
        guard ms.isFinite else { return rfc3339(millis: ms > 0 ? maxMillis : minMillis) }
        return rfc3339(millis: Int64(max(Double(minMillis), min(Double(maxMillis), ms))))
    }

    /// 9999-12-31T23:59:59.999Z and 0000-01-01T00:00:00.000Z in epoch milliseconds.
    static let maxMillis: Int64 = 253_402_300_799_999
    static let minMillis: Int64 = -62_167_219_200_000

    /// Epoch milliseconds as RFC 3339 UTC with milliseconds. Values outside years 0000–9999 are
    /// clamped to those bounds.
    public static func rfc3339(millis rawMillis: Int64) -> String {
        let millis = min(max(rawMillis, minMillis), maxMillis)
        var ms = millis % 1000
        var secs = millis / 1000
        if ms < 0 { ms += 1000; secs -= 1 }
        var days = secs / 86400
        var sod = secs % 86400
        if sod < 0 { sod += 86400; days -= 1 }
        let (year, month, day) = CivilDate.date(days: days)
        let y = Int(year), m = Int(month), d = Int(day)
        let hh = Int(sod / 3600), mi = Int((sod % 3600) / 60), ss = Int(sod % 60)
        return String(unsafeUninitializedCapacity: 24) { buf in
            func put2(_ v: Int, _ at: Int) {
                buf[at] = UInt8(48 + v / 10); buf[at + 1] = UInt8(48 + v % 10)
            }
            let yy = max(0, min(9999, y))
            buf[0] = UInt8(48 + yy / 1000); buf[1] = UInt8(48 + (yy / 100) % 10)
            buf[2] = UInt8(48 + (yy / 10) % 10); buf[3] = UInt8(48 + yy % 10)
            buf[4] = UInt8(ascii: "-"); put2(m, 5); buf[7] = UInt8(ascii: "-"); put2(d, 8)
            buf[10] = UInt8(ascii: "T"); put2(hh, 11); buf[13] = UInt8(ascii: ":"); put2(mi, 14)
            buf[16] = UInt8(ascii: ":"); put2(ss, 17); buf[19] = UInt8(ascii: ".")
            let msi = Int(ms)
            buf[20] = UInt8(48 + msi / 100); buf[21] = UInt8(48 + (msi / 10) % 10)
            buf[22] = UInt8(48 + msi % 10); buf[23] = UInt8(ascii: "Z")
            return 24
        }
    }

}
