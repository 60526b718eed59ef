/// Writes RFC 4180 CSV into one byte buffer: fields separated by commas, records ended by CRLF;
/// a field holding a comma, a double quote, CR or LF (or starting or ending with a space) is
/// quoted, its quotes doubled. Absent fields (nil) are empty.
struct CSVWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []
    /// No field written yet in the current record.
    private var recordStart = true

    /// A writer with room for about `capacity` bytes.
    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends one whole record.
    mutating func row(_ fields: [String?]) {
        for field in fields { self.field(field) }
        endRecord()
    }

    /// Appends one text field to the current record.
    mutating func field(_ text: String?) {
        guard var text else { return field(UnsafeRawBufferPointer(start: nil, count: 0)) }
        text.withUTF8 { field(UnsafeRawBufferPointer($0)) }
    }

    /// Appends one field, given as UTF-8 bytes, to the current record.
    mutating func field(_ utf8: UnsafeRawBufferPointer) {
        if !recordStart { bytes.append(UInt8(ascii: ",")) }
        recordStart = false
        var quote = false
        for c in utf8 where c == 44 || c == 34 || c == 10 || c == 13 {
            quote = true
            break
        }
        if let first = utf8.first, let last = utf8.last, first == 32 || last == 32 { quote = true }
        guard quote else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(34)
        for c in utf8 {
            if c == 34 { bytes.append(34) }
            bytes.append(c)
        }
        bytes.append(34)
    }

    /// Ends the current record (CRLF).
    mutating func endRecord() {
        bytes.append(13)
        bytes.append(10)
        recordStart = true
    }
}
