/// The settings of one `HTTPClient`, fixed for its lifetime. The defaults are safe for talking to
/// an exchange's REST API; per-call timeouts are on each `HTTPClient.Request`.
public struct HTTPClientConfiguration: Sendable, Equatable {
    /// The `User-Agent` sent when a request does not set one: `bedrock/<version>`.
    public static let defaultUserAgent = "bedrock/0.1.0"

    /// A PEM bundle of the certificate authorities to trust instead of the system store (a test
    /// CA, a corporate proxy). `nil`: the system's trust store. Peer and host name verification
    /// are always on, whatever this says.
    public var caFile: String?
    /// The largest response body accepted, in bytes (after content decoding). A larger body, or a
    /// `Content-Length` announcing one, ends the call with `HTTPClientError.tooLarge`: a hostile
    /// or broken server cannot grow our memory.
    public var maxResponseBytes: Int
    /// The largest total size of the response's header lines, in bytes; beyond it, `.tooLarge`.
    public var maxHeaderBytes: Int
    /// How many redirects to follow; 0 (the default) returns a 3xx as it is.
    public var maxRedirects: Int
    /// Sent as `User-Agent` unless the request has its own.
    public var userAgent: String
    /// A transfer that moves fewer than this many bytes per second for `lowSpeedSeconds` is
    /// aborted as a timeout, even before the request's total timeout. libcurl averages the speed
    /// over its last few seconds, so a server that stops dead is cut after `lowSpeedSeconds`, one
    /// that stops after a burst up to about 5 s later.
    public var lowSpeedBytesPerSecond: Int
    /// See `lowSpeedBytesPerSecond`.
    public var lowSpeedSeconds: Int

    /// The defaults: system CAs, 16 MiB bodies, 64 KiB of headers, no redirects, aborted below
    /// 1 byte/s for 15 s.
    public init(
        caFile: String? = nil,
        maxResponseBytes: Int = 16 << 20,
        maxHeaderBytes: Int = 64 << 10,
        maxRedirects: Int = 0,
        userAgent: String = HTTPClientConfiguration.defaultUserAgent,
        lowSpeedBytesPerSecond: Int = 1,
        lowSpeedSeconds: Int = 15
    ) {
        self.caFile = caFile
        self.maxResponseBytes = maxResponseBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRedirects = maxRedirects
        self.userAgent = userAgent
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedSeconds = lowSpeedSeconds
    }
}
