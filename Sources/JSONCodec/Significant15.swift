#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `JSONDoubleStyle.significant15`: the bytes jansson wrote for a real with
/// `JSON_REAL_PRECISION(15)`, i.e. C's `%.15g` plus jansson's two fix-ups (`.0` when the text
/// has neither `.` nor `e`; no `+` and no leading zeros in the exponent).
///
/// Fast path (most values): the digits come from Swift's shortest round-trip form. When that
/// form has at most 15 significant digits it *is* the correctly rounded 15-digit value (a
/// normal double lies within 2⁻⁵³ of it, far inside half a unit of the 15th digit). With 16 or
/// 17 digits, rounding the shortest form at the 15th digit is exact unless the dropped digits
/// lie within 0.12 units of the 15th digit of a half (the shortest form can be up to 0.111
/// units away from the exact value); those values, and subnormals, go through `snprintf`.
enum Significant15 {
    static func write(_ value: Double, to out: inout [UInt8]) {
        guard value.magnitude >= Double.leastNormalMagnitude || value == 0 else {
            return writeWithPrintf(value, to: &out)
        }
        var shortest = ShortestText()
        value.write(to: &shortest)
        let done: Bool = shortest.withBytes { text in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
                guard var form = DecimalDigits(text, into: digits) else { return false }
                guard form.roundTo15(digits) else { return false }
                form.write(digits, to: &out)
                return true
            }
        }
        if !done { writeWithPrintf(value, to: &out) }
    }

    /// A double's shortest form (Swift's `description`, at most 24 characters) without a
    /// `String`: the standard library writes it through `_writeASCII` (see `ByteSink`).
    struct ShortestText: TextOutputStream {
        private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        private var count = 0

        mutating func write(_ string: String) {
            var text = string
            text.withUTF8 { _writeASCII($0) }
        }

        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
            let n = min(buffer.count, 32 - count)
            withUnsafeMutableBytes(of: &storage) { raw in
                for i in 0..<n { raw[count + i] = buffer[i] }
            }
            count += n
        }

        func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            withUnsafeBytes(of: storage) { raw in body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[..<count])) }
        }
    }

    /// A decimal as significant digits `d₁d₂…dₖ` (no leading or trailing zeros) and the power
    /// of ten of the first digit: value = d₁.d₂…dₖ × 10^exponent.
    struct DecimalDigits {
        var negative = false
        var count = 0
        var exponent = 0

        /// Reads Swift's `description` of a finite double (`-12.5`, `1e-07`, `1.5e+20`,
        /// `0.0001`); nil for anything else.
        init?(_ text: UnsafeBufferPointer<UInt8>, into digits: UnsafeMutableBufferPointer<UInt8>) {
            var i = 0
            if i < text.count, text[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var pointSeen = false
            var integerDigits = 0
            var leadingZeros = 0
            while i < text.count {
                let c = text[i]
                if c == UInt8(ascii: ".") {
                    pointSeen = true
                } else if c >= 48 && c <= 57 {
                    if !pointSeen { integerDigits += 1 }
                    if count == 0 && c == 48 {
                        leadingZeros += 1
                    } else {
                        guard count < digits.count else { return nil }
                        digits[count] = c - 48
                        count += 1
                    }
                } else {
                    break
                }
                i += 1
            }
            var power = 0
            if i < text.count {
                guard text[i] == UInt8(ascii: "e") else { return nil }
                i += 1
                var sign = 1
                if i < text.count, text[i] == UInt8(ascii: "-") {
                    sign = -1; i += 1
                } else if i < text.count, text[i] == UInt8(ascii: "+") {
                    i += 1
                }
                while i < text.count {
                    let c = text[i]
                    guard c >= 48 && c <= 57 else { return nil }
                    power = power * 10 + Int(c - 48)
                    i += 1
                }
                power *= sign
            }
            while count > 0 && digits[count - 1] == 0 { count -= 1 }
            exponent = integerDigits - leadingZeros - 1 + power
        }

        /// Rounds to at most 15 digits; false when the shortest form is too close to a half for
        /// that to be certain (see `Significant15`).
        mutating func roundTo15(_ digits: UnsafeMutableBufferPointer<UInt8>) -> Bool {
            guard count > 15 else { return true }
            let tail = Int(digits[15]) * 10 + (count > 16 ? Int(digits[16]) : 0)
            guard abs(tail - 50) > 12 else { return false }
            count = 15
            if tail > 50 {
                var i = 14
                while i >= 0 && digits[i] == 9 { digits[i] = 0; i -= 1 }
                if i < 0 {
                    digits[0] = 1
                    count = 1
                    exponent += 1
                } else {
                    digits[i] += 1
                }
            }
            while count > 0 && digits[count - 1] == 0 { count -= 1 }
            return true
        }

        /// `%.15g` with jansson's fix-ups.
        func write(_ digits: UnsafeMutableBufferPointer<UInt8>, to out: inout [UInt8]) {
            if negative { out.append(UInt8(ascii: "-")) }
            guard count > 0 else { return out.append(contentsOf: [48, UInt8(ascii: "."), 48]) }
            if exponent < -4 || exponent >= 15 {
                out.append(digits[0] + 48)
                if count > 1 {
                    out.append(UInt8(ascii: "."))
                    for i in 1..<count { out.append(digits[i] + 48) }
                }
                out.append(UInt8(ascii: "e"))
                if exponent < 0 { out.append(UInt8(ascii: "-")) }
                var e = abs(exponent)
                var reversed: [UInt8] = []
                repeat { reversed.append(UInt8(e % 10) + 48); e /= 10 } while e > 0
                out.append(contentsOf: reversed.reversed())
            } else if exponent >= 0 {
                for i in 0...exponent { out.append(i < count ? digits[i] + 48 : 48) }
                out.append(UInt8(ascii: "."))
                if count > exponent + 1 {
                    for i in (exponent + 1)..<count { out.append(digits[i] + 48) }
                } else {
                    out.append(48)
                }
            } else {
                out.append(48)
                out.append(UInt8(ascii: "."))
                for _ in 0..<(-exponent - 1) { out.append(48) }
                for i in 0..<count { out.append(digits[i] + 48) }
            }
        }
    }

    /// The slow, always exact path: `%.15g` from the C library, then jansson's fix-ups.
    static func writeWithPrintf(_ value: Double, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { buffer in
            let n = Int(withVaList([value]) { vsnprintf(buffer.baseAddress!, 40, "%.15g", $0) })
            let text = UnsafeRawBufferPointer(start: buffer.baseAddress!, count: n).bindMemory(to: UInt8.self)
            guard let e = text.firstIndex(of: UInt8(ascii: "e")) else {
                out.append(contentsOf: text)
                if !text.contains(UInt8(ascii: ".")) { out.append(contentsOf: [UInt8(ascii: "."), 48]) }
                return
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[...e]))
            var i = e + 1
            if text[i] == UInt8(ascii: "-") {
                out.append(UInt8(ascii: "-")); i += 1
            } else if text[i] == UInt8(ascii: "+") {
                i += 1
            }
            while i < n - 1 && text[i] == 48 { i += 1 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[i...]))
        }
    }
}
