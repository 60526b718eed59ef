// markets.js — what the views show about markets from GET /v1/markets: a market's label (its
// symbol, e.g. BTC/USDT, when the gateway knows it; the canonical id is always what is sent), the
// options of market pickers, and each feed's status with the age of its last bar in a pill whose
// age ticks in the page. The pill is green ("live") only while the ingest says live AND the last
// bar is fresh: a feed that stopped delivering shows "stale" whatever the server last said.

import { el } from './ui.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds of each kline interval (`1M` taken as 30 days). */
export const INTERVAL_MS = {
  '1m': MINUTE, '3m': 3 * MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '30m': 30 * MINUTE,
  '1h': HOUR, '2h': 2 * HOUR, '4h': 4 * HOUR, '6h': 6 * HOUR, '8h': 8 * HOUR, '12h': 12 * HOUR,
  '1d': DAY, '3d': 3 * DAY, '1w': 7 * DAY, '1M': 30 * DAY,
};

/** A live feed is fresh while its last bar closed at most this many intervals ago, plus `SLACK_MS`. */
export const FRESH_INTERVALS = 2;
const SLACK_MS = MINUTE;

/** What a person reads for a market: its symbol when known (`BTC/USDT`), else its id. */
export function marketLabel(m) {
  return (m && m.symbol) || (m && m.market) || '';
}

/** `[value, label]` pairs for a market `<select>`: the canonical id as value, the label as text. */
export function marketOptions(markets) {
  return markets.map((m) => [m.market, marketLabel(m)]);
}

/** The markets with their intervals that hold bars (what a backtest or signal run can read). */
export function withBars(markets) {
  return markets
    .map((m) => ({ ...m, intervals: (m.intervals || []).filter((i) => i.bars === undefined || i.bars > 0) }))
    .filter((m) => m.intervals.length);
}

/** `12 s`, `5 min`, `3 h`, `4 d`: an age in words, rounded down. */
export function fmtAge(ms) {
  if (!isFinite(ms) || ms < 0) return '–';
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < 2 * DAY) return `${Math.floor(ms / HOUR)} h`;
  return `${Math.floor(ms / DAY)} d`;
}

/**
 * A feed's state now, from one interval entry of GET /v1/markets: `state` is `live`, `stale`,
 * `backfilling` or `replay` (the server's status, except that `live` with no bar within
 * `FRESH_INTERVALS` intervals + 1 min reads `stale`); `age` counts from when the last bar reached
 * the gateway (`received_at`, the stream entry's time) — or, without it, from the last bar's close
 * (open time + interval) — null without bars; `text` is what the pill says. The arrival time is
 * what matters: the built-in sample exchange stamps its bars on a compressed clock of its own.
 * With `cadence_ms` (how often bars arrive, learned by js/feed-monitor.js from the bars the page
 * saw) a live feed is stale after `FRESH_INTERVALS` cadences + 1 s instead: a sample feed of 1h
 * bars every 2 s reads stale seconds after it stops, not hours.
 * @param {{interval: string, status?: string, last_bar_time?: string|null, received_at?: string|null,
 *          cadence_ms?: number}} iv
 * @param {number} [now] epoch ms
 * @returns {{state: string, age: number|null, text: string}}
 */
export function feedState(iv, now = Date.now()) {
  const step = INTERVAL_MS[iv.interval] || HOUR;
  const received = iv.received_at ? Date.parse(iv.received_at) : NaN;
  const open = iv.last_bar_time ? Date.parse(iv.last_bar_time) : NaN;
  const since = isFinite(received) ? received : open + step;
  const age = isFinite(since) ? Math.max(0, now - since) : null;
  const fresh = iv.cadence_ms > 0 ? FRESH_INTERVALS * Math.min(iv.cadence_ms, step) + SECOND : FRESH_INTERVALS * step + SLACK_MS;
  let state = iv.status || 'replay';
  if (state === 'live' && (age === null || age > fresh)) state = 'stale';
  const when = age === null ? 'no bars yet' : `${fmtAge(age)} ago`;
  return { state, age, text: `${state} · ${when}` };
}

// Every pill on the page, re-rendered once a second by one timer (started with the first pill,
// stopped when none is left in the document).
const pills = new Set();
let ticker = 0;

function tick() {
  const now = Date.now();
  for (const pill of pills) {
    if (pill.node.isConnected) pill.render(now);
    else pills.delete(pill);
  }
  if (!pills.size) { clearInterval(ticker); ticker = 0; }
}

/**
 * A status pill (`data-testid="feed-pill"`, `data-state` = the state) for one feed; its age ticks
 * every second. `set(iv)` shows another interval entry (or the same one with a newer
 * `last_bar_time`, e.g. after a `kline.closed` event).
 * @param {object} [iv] an interval entry of GET /v1/markets
 * @returns {{node: HTMLElement, set: (iv: object) => void}}
 */
export function createFeedPill(iv) {
  const text = el('span', { class: 'feed-text' });
  const node = el('span', { class: 'feed-pill', testid: 'feed-pill' }, el('span', { class: 'feed-dot', 'aria-hidden': 'true' }), text);
  const pill = {
    node,
    entry: null,
    render(now) {
      if (!this.entry) { node.hidden = true; return; }
      const s = feedState(this.entry, now);
      node.hidden = false;
      node.dataset.state = s.state;
      text.textContent = s.text;
      node.title = this.entry.last_bar_time
        ? `Last bar opened ${this.entry.last_bar_time}; ${this.entry.bars ?? '?'} bars`
        : 'No bars yet';
    },
    set(entry) { this.entry = entry || null; this.render(Date.now()); },
  };
  pills.add(pill);
  if (!ticker) ticker = setInterval(tick, SECOND);
  pill.set(iv);
  return { node, set: (entry) => pill.set(entry) };
}
