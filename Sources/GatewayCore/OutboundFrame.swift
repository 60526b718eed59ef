/// What an `OutboundQueue` holds: an encoded frame of which the policy only needs the size. The
/// transport's shared frame buffer conforms; tests use plain values.
public protocol OutboundFrame {
    /// Payload length in bytes.
    var count: Int { get }
}
