/// Decides whether entries of a Redis stream were removed (trimmed by `XADD … MAXLEN`, or
/// deleted with `XDEL`) between a reader's cursor and the first entry its next read returned:
/// a hole the reader can no longer deliver. Pure: the caller reads, asks `XINFO STREAM` and feeds
/// both in.
///
/// The check counts entries. Redis numbers every entry ever added (`entries-added`); the reader
/// keeps the number of the entry at its cursor (its *ordinal*). A read returns the entries that
/// still exist after the cursor, in order; if the first of them is not the next number, the ones
/// in between were removed before they could be read.
///
/// - No hole, without counting: the stream's first entry is at or before the cursor (trimming
///   removes a prefix, so nothing after the cursor was trimmed) and `max-deleted-entry-id` is at
///   or before it (nothing after it was deleted). An `XDEL` of an entry already delivered never
///   announces a gap.
/// - Counting: when nothing after the read's first entry was deleted, the entries that exist are
///   the numbers `entries-added − length + 1 … entries-added`, so the ordinal of any entry of the
///   read that is still the first is known, and with it the read's first and last ordinals.
/// - When neither applies (the reader's ordinal is unknown, or entries after the read were
///   deleted with `XDEL`), the check errs towards announcing: a gap whenever the stream was
///   trimmed past the cursor or an entry after the cursor and before the read was deleted.
/// - A stream deleted and made anew (`entries-added` below the cursor's ordinal) is counted from
///   its own first entry: a gap only if some of its own entries were removed unread. What was
///   lost with the old stream (a Redis restart without persistence) cannot be known.
///
/// The snapshot may be taken atomically with the read (`MULTI`) or after it (entries added
/// later only have larger ids); an atomic one always allows counting.
public enum StreamGapCheck {
    /// The `XINFO STREAM` fields the check uses.
    public struct Snapshot: Sendable, Equatable {
        /// `entries-added`: entries ever added to the stream.
        public var entriesAdded: UInt64
        /// `length`: entries that exist now.
        public var length: UInt64
        /// `first-entry`'s id (or `recorded-first-entry-id`); nil when the stream is empty.
        public var firstID: StreamID?
        /// `last-generated-id`: the newest id ever added.
        public var lastGeneratedID: StreamID
        /// `max-deleted-entry-id`: the largest id ever removed with `XDEL` (`0-0` when none).
        public var maxDeletedID: StreamID

        /// A snapshot with the given fields.
        public init(
            entriesAdded: UInt64, length: UInt64, firstID: StreamID?, lastGeneratedID: StreamID,
            maxDeletedID: StreamID
        ) {
            self.entriesAdded = entriesAdded
            self.length = length
            self.firstID = firstID
            self.lastGeneratedID = lastGeneratedID
            self.maxDeletedID = maxDeletedID
        }
    }

    /// Where a reader stands in a stream.
    public struct Cursor: Sendable, Equatable {
        /// The last id read (`0-0` before the first entry).
        public var lastID: StreamID
        /// How many entries had been added up to and including `lastID`; nil when unknown.
        public var ordinal: UInt64?

        /// A cursor at `lastID` with its ordinal, if known.
        public init(lastID: StreamID, ordinal: UInt64?) {
            self.lastID = lastID
            self.ordinal = ordinal
        }

        /// The cursor at the newest entry of a stream (`last-generated-id`, ordinal
        /// `entries-added`): where a reader that starts live stands.
        public init(newestOf snapshot: Snapshot) {
            self.init(lastID: snapshot.lastGeneratedID, ordinal: snapshot.entriesAdded)
        }
    }

    /// Entries removed before they were read: every id strictly between `after` and `next`.
    public struct Gap: Sendable, Equatable {
        /// The last id read before the hole.
        public var after: StreamID
        /// The first id read after it.
        public var next: StreamID
        /// How many entries were lost, when the count is known.
        public var missed: UInt64?

        /// A gap between `after` and `next`.
        public init(after: StreamID, next: StreamID, missed: UInt64?) {
            self.after = after
            self.next = next
            self.missed = missed
        }
    }

    /// The outcome of one read.
    public struct Verdict: Sendable, Equatable {
        /// The hole before the read's first entry, if any.
        public var gap: Gap?
        /// The cursor after the read (at its last entry).
        public var cursor: Cursor
    }

    /// Checks one non-empty read.
    /// - Parameters:
    ///   - cursor: where the reader stood before the read.
    ///   - batch: the ids the read returned, ascending, all after `cursor.lastID`; every entry
    ///     that existed in (cursor, last] at the time of the read.
    ///   - snapshot: `XINFO STREAM` taken with the read or after it.
    public static func check(cursor: Cursor, batch: [StreamID], snapshot s: Snapshot) -> Verdict {
        guard let first = batch.first, let last = batch.last else { return Verdict(gap: nil, cursor: cursor) }
        let c = cursor.lastID
        let count = UInt64(batch.count)
        let untouched = (s.firstID.map { $0 <= c } ?? false) && s.maxDeletedID <= c
        // The ordinal of the read's first entry, when it can be counted.
        var firstOrdinal: UInt64?
        if untouched, let k = cursor.ordinal {
            firstOrdinal = k + 1
        } else if s.maxDeletedID < first, let head = s.firstID, head >= first, head <= last,
            let index = batch.firstIndex(of: head), s.entriesAdded + 1 >= s.length + UInt64(index)
        {
            firstOrdinal = s.entriesAdded + 1 - s.length - UInt64(index)
        } else if s.maxDeletedID < first, s.lastGeneratedID == last, s.entriesAdded + 1 >= count {
            firstOrdinal = s.entriesAdded + 1 - count
        }
        let next = Cursor(lastID: last, ordinal: firstOrdinal.map { $0 + count - 1 })
        if untouched { return Verdict(gap: nil, cursor: next) }
        if let k = cursor.ordinal, let f = firstOrdinal {
            // Not past the cursor's ordinal: the stream was deleted and made anew (a Redis restart
            // without persistence, a DEL), and counts from its own first entry again.
            let expected = f > k ? k + 1 : 1
            if f == expected { return Verdict(gap: nil, cursor: next) }
            return Verdict(gap: Gap(after: c, next: first, missed: f - expected), cursor: next)
        }
        let trimmedPast = s.firstID.map { $0 > c } ?? true
        let deletedBefore = s.maxDeletedID > c && s.maxDeletedID < first
        let gap = trimmedPast || deletedBefore ? Gap(after: c, next: first, missed: nil) : nil
        return Verdict(gap: gap, cursor: next)
    }
}
