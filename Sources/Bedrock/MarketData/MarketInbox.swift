import DequeModule
import Dispatch
import MarketDataCore
import Synchronization

/// What other threads tell one market's worker: lease changes (the lease keeper) and live-stream
/// news (the exchange stream hub). Bounded: past `capacity`, the oldest live bar is dropped — the
/// hole it leaves is repaired over REST like any other.
final class MarketInbox: Sendable {
    /// One message.
    enum Item: Sendable, Equatable {
        /// This gateway now holds the market's lease.
        case leaseGranted
        /// It does not any more.
        case leaseLost
        /// Live-stream news for the feed.
        case feed(MarketFeed.Input)
        /// The gateway is stopping.
        case stop
    }

    private struct State {
        var items: Deque<Item> = []
        var dropped = 0
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    /// Most items held.
    let capacity: Int

    /// An empty inbox holding at most `capacity` items.
    init(capacity: Int = 10_000) { self.capacity = max(1, capacity) }

    /// Adds `item` and wakes the worker.
    func post(_ item: Item) {
        state.withLock { s in
            if s.items.count >= capacity,
                let i = s.items.firstIndex(where: { if case .feed(.liveBar) = $0 { true } else { false } })
            {
                s.items.remove(at: i)
                s.dropped += 1
            }
            s.items.append(item)
        }
        wakeup.signal()
    }

    /// Everything posted so far, oldest first, and how many live bars were dropped meanwhile.
    func drain() -> (items: [Item], dropped: Int) {
        state.withLock { s in
            defer { s.items.removeAll(); s.dropped = 0 }
            return (Array(s.items), s.dropped)
        }
    }

    /// Waits until something is posted or `seconds` pass.
    func wait(seconds: Double) {
        guard seconds > 0 else { return }
        _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(min(seconds, 3_600) * 1e9)))
    }
}
