// feed-monitor.js — whether market data is actually flowing into this page, not merely whether the
// socket is open: one listener per feed (`klines:{MARKET}:{INTERVAL}` topics of GET /v1/markets,
// at most MAX_FEEDS) notes when each `kline.closed` event arrives. A feed is `live` while its last
// bar arrived within FLOW_FACTOR × its cadence (+ SLACK_MS), `stale` after that; its cadence is the
// median gap between the bars this page saw (a built-in sample exchange publishes 1h bars every
// few seconds), capped at the interval, or the interval until two gaps were seen. Before any bar
// arrived here, the gateway's `received_at` (when the last bar reached it) counts as the arrival.
// Feeds the gateway calls `replay` or `backfilling` and that sent nothing here are not counted.

import { INTERVAL_MS } from './markets.js';

/** A feed is stale once no bar arrived for this many cadences (+ SLACK_MS). */
export const FLOW_FACTOR = 2;
const SLACK_MS = 1000;
const MAX_FEEDS = 32;          // topics this page follows for the indicator (the socket allows 256)
const GAPS_KEPT = 8;
const MIN_CADENCE_MS = 250;
const REFRESH_MS = 15000;      // the list of markets again (new feeds, server statuses)
const TICK_MS = 1000;

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * One feed's flow now.
 * @param {{interval: string, status?: string, arrivedAt: number|null, gaps: number[]}} feed
 * @param {number} now epoch ms
 * @returns {{state: string, age: number|null, cadence: number, learned: boolean}} `state`: `live`, `stale`,
 *   `waiting` (a live feed with no bar yet), or the gateway's status (`replay`, `backfilling`) when
 *   nothing arrived here; `learned` once the cadence comes from bars seen here
 */
export function flowState(feed, now) {
  const interval = INTERVAL_MS[feed.interval] || 36e5;
  const cadence = feed.gaps.length >= 2 ? Math.min(interval, Math.max(MIN_CADENCE_MS, median(feed.gaps))) : interval;
  const age = feed.arrivedAt === null ? null : Math.max(0, now - feed.arrivedAt);
  let state;
  if (age === null) state = feed.status === 'live' ? 'waiting' : (feed.status || 'replay');
  else if (!feed.seen && feed.status !== 'live') state = feed.status || 'replay';
  else state = age <= FLOW_FACTOR * cadence + SLACK_MS ? 'live' : 'stale';
  return { state, age, cadence, learned: feed.gaps.length >= 2 };
}

/**
 * Starts following every feed's bars for the session.
 * @param {object} ctx the view context (socket, markets)
 * @returns {{feeds: () => Array<object>, summary: () => {state: string, text: string, stale: string[]},
 *            onChange: (fn: Function) => () => void, refresh: () => Promise<void>, stop: () => void}}
 *   `feeds()`: each feed's interval entry of GET /v1/markets plus `market`, `symbol`, `exchange`,
 *   `arrivedAt`, and its `flow` (`flowState`) now
 */
export function createFeedMonitor(ctx) {
  const feeds = new Map();      // "MARKET:INTERVAL" → { market, symbol, interval, entry, status, arrivedAt, seen, gaps, off }
  const listeners = new Set();
  let last = '';
  let stopped = false;

  function arrived(feed, data) {
    if (!data || data.event_type !== 'kline.closed') return;
    const now = Date.now();
    if (feed.seen && feed.arrivedAt !== null) {
      feed.gaps.push(now - feed.arrivedAt);
      if (feed.gaps.length > GAPS_KEPT) feed.gaps.shift();
    }
    feed.arrivedAt = now;
    feed.seen = true;
    if (data.open_time) feed.entry = { ...feed.entry, last_bar_time: data.open_time, received_at: new Date(now).toISOString(),
      bars: (feed.entry.bars || 0) + 1 };
    notify(true);
  }

  async function refresh() {
    let markets;
    try {
      markets = await ctx.markets();
    } catch {
      return;   // the indicator keeps what it knows; the next refresh tries again
    }
    if (stopped) return;
    for (const m of markets) {
      for (const iv of m.intervals || []) {
        const key = `${m.market}:${iv.interval}`;
        let feed = feeds.get(key);
        if (!feed) {
          if (feeds.size >= MAX_FEEDS) continue;
          feed = { market: m.market, symbol: m.symbol || null, exchange: iv.exchange || m.exchange || null,
            interval: iv.interval, entry: iv, status: iv.status, arrivedAt: null, seen: false, gaps: [], off: null };
          feeds.set(key, feed);
          const f = feed;
          feed.off = ctx.socket.subscribe(iv.topic || `klines:${m.market}:${iv.interval}`, (data) => arrived(f, data));
        }
        feed.status = iv.status;
        if (!feed.seen) {
          feed.entry = iv;
          const received = Date.parse(iv.received_at || '');
          feed.arrivedAt = isFinite(received) ? received : null;
        }
      }
    }
    notify(true);
  }

  function feedList(now = Date.now()) {
    return [...feeds.values()].map((f) => ({ ...f.entry, market: f.market, symbol: f.symbol, exchange: f.exchange,
      interval: f.interval, status: f.status, arrivedAt: f.arrivedAt, flow: flowState(f, now) }));
  }

  /** The page-wide state: `live`, `stale` (some live feed stopped), `waiting` or `idle` (no live feed). */
  function summary(now = Date.now()) {
    const counted = feedList(now).filter((f) => ['live', 'stale', 'waiting'].includes(f.flow.state));
    const stale = counted.filter((f) => f.flow.state === 'stale').map((f) => `${f.symbol || f.market} ${f.interval}`);
    if (!counted.length) return { state: 'idle', text: 'no live feed', stale };
    if (stale.length) return { state: 'stale', text: stale.length === 1 ? `stale · ${stale[0]}` : `stale · ${stale.length} feeds`, stale };
    if (counted.every((f) => f.flow.state === 'waiting')) return { state: 'waiting', text: 'waiting for bars', stale };
    return { state: 'live', text: counted.length === 1 ? 'live · 1 feed' : `live · ${counted.length} feeds`, stale };
  }

  function notify(force) {
    const s = summary();
    const key = `${s.state}|${s.text}`;
    if (!force && key === last) return;
    last = key;
    for (const fn of listeners) fn(s);
  }

  refresh();
  const refreshTimer = setInterval(refresh, REFRESH_MS);
  const tickTimer = setInterval(() => notify(false), TICK_MS);

  return {
    feeds: feedList,
    summary,
    refresh,
    /** `fn(summary)` on every bar and whenever the summary changes; returns `off`. */
    onChange(fn) { listeners.add(fn); fn(summary()); return () => listeners.delete(fn); },
    stop() {
      stopped = true;
      clearInterval(refreshTimer);
      clearInterval(tickTimer);
      for (const f of feeds.values()) if (f.off) f.off();
      feeds.clear();
      listeners.clear();
    },
  };
}
