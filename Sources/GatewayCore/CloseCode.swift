/// WebSocket close codes of SPEC §5. Every close carries a reason text written where the
/// connection is closed (what happened, with its numbers), ASCII and under the 123-byte limit of a
/// close frame payload.
///
/// | code | case               | when                                                        |
/// |------|--------------------|-------------------------------------------------------------|
/// | 1001 | `goingAway`        | server shutting down                                        |
/// | 1009 | `tooLarge`         | frame larger than `server.max_frame_bytes`                  |
/// | 4401 | `unauthenticated`  | no valid token in time, the token expired or was revoked    |
/// | 4403 | `forbidden`        | an administrator disconnected the user (`admin.disconnect`) |
/// | 4408 | `heartbeatTimeout` | nothing heard for the heartbeat timeout                     |
/// | 4429 | `rateLimited`      | message rate exceeded, the client lags too far behind, or   |
/// |      |                    | first-frame auth beyond `server.max_connections_per_user`   |
/// | 4503 | `atCapacity`       | first-frame auth while the authenticated budget is full     |
///
/// An upgrade over a connection budget is refused with HTTP 503 before the socket opens; 4503 closes a socket
/// that authenticates with its first frame when `server.max_connections` sessions are open.
public enum CloseCode: UInt16, Sendable, CaseIterable {
    case goingAway = 1001
    case tooLarge = 1009
    case unauthenticated = 4401
    case forbidden = 4403
    case heartbeatTimeout = 4408
    case rateLimited = 4429
    case atCapacity = 4503
}
