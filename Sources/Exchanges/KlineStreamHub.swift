import Foundation
import GatewayCore
import MarketDataCore
import Synchronization
import Transport

/// The live kline streams of every configured exchange market: ONE thread running one
/// libwebsockets client context (`WebSocketClientLoop`) that holds every exchange connection.
/// Its policy is `KlineStreamCore` (connections, Bybit subscribes and pings, silent-connection
/// drops, reconnect back-off, Binance's 24 h renewal); this class only runs it.
///
/// Events go to the handler on the hub's thread, in order; the handler must be cheap (enqueue
/// and return): while it runs no socket is read. Only closed bars that pass `BarQuality` are
/// delivered; forming updates are dropped and counted (`formingUpdatesDropped`).
public final class KlineStreamHub: WebSocketClientLoopDelegate, @unchecked Sendable {
    // Sound: `core`, `handler` and `loop`'s connections are used only on the hub's thread
    // (inside `loop.run`); `start` sets them before that thread exists, and `stop` touches only
    // the loop's stop flag and the `state` mutex.

    private let settings: KlineStreamSettings
    private let clock: any GatewayClock
    private let loop: WebSocketClientLoop
    private var core: KlineStreamCore?
    private var handler: (@Sendable (KlineStreamEvent) -> Void)?
    private let forming = Atomic<Int>(0)
    private let contextCreated = Atomic<Bool>(false)
    /// Signalled by the hub's thread once its context exists (or could not be created).
    private var ready: DispatchSemaphore?
    private let state = Mutex(Lifecycle())

    private struct Lifecycle {
        var started = false
        var finished: DispatchSemaphore?
    }

    /// A hub with `settings`; `clock` gives `receivedAt` and every deadline (pass the gateway's
    /// clock so `receivedAt` compares with its other monotonic readings).
    public init(settings: KlineStreamSettings = KlineStreamSettings(), clock: any GatewayClock = ContinuousMonotonicClock()) {
        self.settings = settings
        self.clock = clock
        var loopSettings = WebSocketClientLoop.Settings()
        loopSettings.maxMessageBytes = settings.maxMessageBytes
        loopSettings.handshakeTimeoutSeconds = settings.connectTimeout
        loopSettings.allowSelfSigned = settings.allowSelfSignedTLS
        loop = WebSocketClientLoop(settings: loopSettings)
    }

    deinit { stop() }

    /// Forming-bar updates received and dropped so far (any thread).
    public var formingUpdatesDropped: Int { forming.load(ordering: .relaxed) }

    /// Why `start` did not start.
    public enum StartError: Error, Sendable, Equatable, CustomStringConvertible {
        /// An exchange has no klines of a subscription's interval (a configuration error).
        case unsupportedInterval(UnsupportedInterval)
        /// libwebsockets could not create the client context.
        case noContext

        /// The reason, for the log.
        public var description: String {
            switch self {
            case .unsupportedInterval(let e): return e.description
            case .noContext: return "cannot create a libwebsockets client context"
            }
        }
    }

    /// Start the hub's thread and connect every subscription (duplicates ignored); events go to
    /// `handler` on that thread. Once per hub (later calls do nothing). Returns once the thread's
    /// context exists; throws (nothing started) when an exchange has no klines of a
    /// subscription's interval or the context cannot be created.
    public func start(
        _ subscriptions: [KlineSubscription], handler: @escaping @Sendable (KlineStreamEvent) -> Void
    ) throws(StartError) {
        let core: KlineStreamCore
        do {
            core = try KlineStreamCore(subscriptions, settings: settings)
        } catch {
            throw .unsupportedInterval(error)
        }
        let finished: DispatchSemaphore? = state.withLock { s in
            guard !s.started else { return nil }
            s.started = true
            s.finished = DispatchSemaphore(value: 0)
            return s.finished
        }
        guard let finished else { return }
        self.core = core
        self.handler = handler
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            if !loop.run(self) { ready.signal() }
            finished.signal()
        }
        self.ready = ready
        thread.name = "bedrock-kline-streams"
        thread.start()
        ready.wait()
        guard contextCreated.load(ordering: .acquiring) else {
            finished.wait()
            state.withLock { $0.finished = nil }
            throw .noContext
        }
    }

    /// Stop the hub: every connection is dropped and the thread joined before this returns (no
    /// event after it). Any thread but the hub's own (not from the handler).
    public func stop() {
        let finished: DispatchSemaphore? = state.withLock { s in
            defer { s.finished = nil }
            return s.finished
        }
        guard let finished else { return }
        loop.stop()
        finished.wait()
    }

    // MARK: WebSocketClientLoopDelegate (hub thread)

    public func loopStarted() {
        contextCreated.store(true, ordering: .releasing)
        ready?.signal()
        let now = clock.read().monotonic
        perform(core?.start(now: now) ?? [], now: now)
    }

    public func opened(_ tag: Int) {
        let now = clock.read().monotonic
        perform(core?.opened(tag, now: now) ?? [], now: now)
    }

    public func received(_ tag: Int, _ message: String) {
        let now = clock.read().monotonic
        let before = core?.formingUpdates ?? 0
        let actions = core?.received(tag, message, now: now) ?? []
        if let after = core?.formingUpdates, after != before { forming.store(after, ordering: .relaxed) }
        perform(actions, now: now)
    }

    public func ponged(_ tag: Int) {
        core?.ponged(tag, now: clock.read().monotonic)
    }

    public func ended(_ tag: Int, reason: String) {
        let now = clock.read().monotonic
        perform(core?.ended(tag, reason: reason, now: now) ?? [], now: now)
    }

    public func woke() {
        let now = clock.read().monotonic
        perform(core?.woke(now: now) ?? [], now: now)
    }

    private func perform(_ actions: [KlineStreamCore.Action], now: Double) {
        for action in actions {
            switch action {
            case .connect(let tag, let url): loop.connect(tag, url: url)
            case .send(let tag, let text): loop.send(tag, text)
            case .ping(let tag): loop.ping(tag)
            case .close(let tag): loop.close(tag)
            case .drop(let tag, let reason): loop.drop(tag, reason: reason)
            case .emit(let event): handler?(event)
            }
        }
        if let at = core?.nextWake() { loop.wake(afterSeconds: at - now) }
    }
}
