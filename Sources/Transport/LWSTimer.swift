internal import CWebSockets

/// The C function an armed `LWSTimer` calls (on the context's service thread).
typealias LWSTimerFired = @convention(c) (UnsafeMutablePointer<lws_sorted_usec_list_t>?) -> Void

/// One lws timer (`lws_sorted_usec_list_t`) followed by a pointer to its Swift owner, so the
/// non-capturing C function it fires can find that owner (`owner(of:)`). Owned by that owner;
/// armed and fired on the service thread of the context it is armed on, which must be destroyed
/// (or the timer cancelled) before the owner lets go of it.
final class LWSTimer {
    private static let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
    private let storage: UnsafeMutableRawPointer

    init() {
        let bytes = LWSTimer.sulSize + MemoryLayout<UnsafeRawPointer>.stride
        storage = .allocate(byteCount: bytes, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    deinit { storage.deallocate() }

    private var sul: UnsafeMutablePointer<lws_sorted_usec_list_t> {
        storage.assumingMemoryBound(to: lws_sorted_usec_list_t.self)
    }

    /// Call `fire` once, `micros` µs from now, on the service thread of `context`; `owner` is
    /// what `owner(of:)` returns there (not retained: it must outlive the armed timer).
    func arm(on context: OpaquePointer, owner: AnyObject, afterMicros micros: Int64, _ fire: LWSTimerFired) {
        storage.advanced(by: LWSTimer.sulSize)
            .storeBytes(of: Unmanaged.passUnretained(owner).toOpaque(), as: UnsafeMutableRawPointer.self)
        lws_sul_schedule(context, 0, sul, fire, lws_usec_t(micros))
    }

    /// Disarm (service thread of `context`).
    func cancel(on context: OpaquePointer) {
        lws_sul_schedule(context, 0, sul, nil, lws_usec_t(-1))  // LWS_SET_TIMER_USEC_CANCEL
    }

    /// The owner given to `arm` for the timer that fired with `sul`.
    static func owner<Owner: AnyObject>(of sul: UnsafeMutablePointer<lws_sorted_usec_list_t>, as _: Owner.Type) -> Owner {
        let owner = UnsafeMutableRawPointer(sul).advanced(by: sulSize).load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<Owner>.fromOpaque(owner).takeUnretainedValue()
    }
}
