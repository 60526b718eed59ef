import Transport

/// Hands the service loop's events to its `ServiceLoop`, whose handlers stay internal to Bedrock
/// (a public type conforming to Transport's public protocol would have to make them public).
/// Kept by the gateway's `LWSServer`; every call comes on that loop's service thread.
final class ServiceLoopEvents: LWSServerEvents {
    /// Not retained: the gateway owns the server that keeps this object, and its loop only runs
    /// inside `ServiceLoop.serve()`.
    private unowned(unsafe) let gateway: ServiceLoop

    init(_ gateway: ServiceLoop) { self.gateway = gateway }

    func httpRequest(_ wsi: WSI, path: String) -> Int32 { gateway.httpRequest(wsi, path: path) }
    func httpBody(_ wsi: WSI, chunk: UnsafeRawBufferPointer) -> Int32 { gateway.httpBody(wsi, chunk: chunk) }
    func httpBodyComplete(_ wsi: WSI) -> Int32 { gateway.httpBodyComplete(wsi) }
    func httpWritable(_ wsi: WSI) -> Int32 { gateway.httpWritable(wsi) }
    func httpClosed(_ wsi: WSI) { gateway.httpClosed(wsi) }
    func confirmUpgrade(_ wsi: WSI) -> Int32 { gateway.confirmUpgrade(wsi) }
    func established(_ wsi: WSI) { gateway.established(wsi) }
    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32 {
        gateway.receive(wsi, bytes: bytes, isFinal: isFinal, isBinary: isBinary)
    }
    func writable(_ wsi: WSI) -> Int32 { gateway.writable(wsi) }
    func peerClosing(_ wsi: WSI, code: Int, reason: String) { gateway.peerClosing(wsi, code: code, reason: reason) }
    func closed(_ wsi: WSI) { gateway.closed(wsi) }
    func tunnelRefusal() -> [UInt8] { gateway.tunnelRefusal() }
    func wokenUp() { gateway.wokenUp() }
    func tick() { gateway.tick() }
    func alarm() { gateway.alarm() }
    func accepted(descriptor: Int32) -> Bool { gateway.accepted(descriptor: descriptor) }
}
