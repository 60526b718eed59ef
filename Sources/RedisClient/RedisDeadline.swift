/// The instant by which the Redis work of the call running on this thread must be done.
///
/// An API worker binds it for the duration of one call (`bounded(by:_:)`); every connection a
/// `RedisPool` hands out meanwhile carries it, so each command's socket timeout is the time left
/// and a connection to a Redis that stopped answering gives up at the deadline instead of after
/// its own read timeout. Unbound (the default: bridges, replays, job threads, tools), pooled
/// connections keep their own timeouts.
///
/// Threading: a task-local value, which outside a Swift task lives on the current thread; bind
/// it on the thread that makes the Redis calls.
public enum RedisDeadline {
    /// The deadline bound on this thread, if any.
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// Runs `body` with `deadline` bound: pooled Redis commands it makes end by then.
    public static func bounded<R>(by deadline: ContinuousClock.Instant, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(deadline, operation: body)
    }

    /// Seconds from now until `deadline` (negative once it has passed).
    public static func secondsLeft(until deadline: ContinuousClock.Instant) -> Double {
        let left = ContinuousClock.now.duration(to: deadline).components
        return Double(left.seconds) + Double(left.attoseconds) / 1e18
    }
}
