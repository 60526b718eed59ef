/// One outbound WebSocket text frame, encoded once and shared by every subscriber that receives
/// it (fan-out appends a reference, never a copy). The buffer keeps `WSI.headroom` bytes in front
/// of the payload for lws to write the frame header into; that scratch area is only touched on the
/// service thread, and lws writes the same header bytes for every recipient of the same frame.
public final class SharedFrame: @unchecked Sendable {
    // Sound: the payload is written once in `init` and only read afterwards; the headroom is
    // scratch for lws on one service thread (each loop makes frames of its own).
    /// Headroom + payload; owned by this object, freed in `deinit`.
    public let storage: UnsafeMutableRawPointer
    /// Payload length in bytes (without headroom).
    public let count: Int

    /// Copies `payload` behind fresh headroom.
    public init(payload: UnsafeRawBufferPointer) {
        count = payload.count
        storage = UnsafeMutableRawPointer.allocate(byteCount: WSI.headroom + max(count, 1), alignment: 16)
        if let base = payload.baseAddress, count > 0 {
            storage.advanced(by: WSI.headroom).copyMemory(from: base, byteCount: count)
        }
    }

    /// A frame holding these bytes.
    public init(_ bytes: [UInt8]) {
        count = bytes.count
        storage = UnsafeMutableRawPointer.allocate(byteCount: WSI.headroom + max(count, 1), alignment: 16)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, count > 0 {
                storage.advanced(by: WSI.headroom).copyMemory(from: base, byteCount: count)
            }
        }
    }

    /// The payload bytes (valid while the frame lives).
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.advanced(by: WSI.headroom), count: count)
    }

    deinit { storage.deallocate() }
}
