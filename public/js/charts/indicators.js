// Indicators of the live strategies, computed in the page from the bars on the chart, the same
// way TradingCore computes them (so a line sits where the engine's value is): SMA, EMA seeded with
// the SMA of its first `period` values, ATR with Wilder's smoothing seeded with the mean true range.
// `strategyOverlays` turns the strategies the engine runs (name + params) into what to draw.

/**
 * Simple moving average; `null` until `period` values were seen.
 * @param {number[]} values
 * @param {number} period
 * @returns {Array<number|null>}
 */
export function sma(values, period) {
  const out = new Array(values.length).fill(null);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= period) sum -= values[i - period];
    if (i >= period - 1) out[i] = sum / period;
  }
  return out;
}

/**
 * Exponential moving average (alpha 2 / (period + 1)), seeded with the SMA of the first `period` values.
 * @param {number[]} values
 * @param {number} period
 * @returns {Array<number|null>}
 */
export function ema(values, period) {
  const out = new Array(values.length).fill(null);
  const alpha = 2 / (period + 1);
  let value = null, seed = 0;
  for (let i = 0; i < values.length; i++) {
    if (value === null) {
      seed += values[i];
      if (i === period - 1) value = seed / period;
    } else {
      value += alpha * (values[i] - value);
    }
    out[i] = value;
  }
  return out;
}

/**
 * Average true range, Wilder's smoothing, seeded with the mean of the first `period` true ranges.
 * @param {Array<{high: number, low: number, close: number}>} bars
 * @param {number} period
 * @returns {Array<number|null>}
 */
export function atr(bars, period) {
  const out = new Array(bars.length).fill(null);
  let value = null, seed = 0, prevClose = null;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    const tr = prevClose === null ? b.high - b.low
      : Math.max(b.high - b.low, Math.abs(b.high - prevClose), Math.abs(b.low - prevClose));
    prevClose = b.close;
    if (value === null) {
      seed += tr;
      if (i === period - 1) value = seed / period;
    } else {
      value = (value * (period - 1) + tr) / period;
    }
    out[i] = value;
  }
  return out;
}

const whole = (v, fallback) => {
  const n = Math.round(Number(v));
  return Number.isFinite(n) && n >= 1 ? n : fallback;
};

/**
 * What to draw for the strategies the engine runs: moving-average lines and ATR bands, one of
 * each distinct kind and period (two strategies with SMA 50 share one line).
 * - `pullback`: SMA(`trend_period`), EMA(`ema_period`), and the EMA ± `trail_atr` × ATR(`atr_period`) band;
 * - `oops`: SMA(`trend_period`) and the SMA ± `trail_atr` × ATR(`atr_period`) band;
 * - `sma_cross`: SMA(`fast`) and SMA(`slow`).
 * @param {Array<{name: string, params: Object<string, number>}>} strategies with their resolved params
 * @returns {{lines: Array<{key: string, kind: string, period: number, label: string, strategies: string[]}>,
 *            bands: Array<{key: string, kind: string, period: number, atrPeriod: number, mult: number, label: string, strategies: string[]}>}}
 */
export function strategyOverlays(strategies) {
  const lines = new Map();
  const bands = new Map();
  const line = (kind, period, who) => {
    const key = `${kind}-${period}`;
    if (!lines.has(key)) lines.set(key, { key, kind, period, label: `${kind.toUpperCase()} ${period}`, strategies: [] });
    lines.get(key).strategies.push(who);
  };
  const band = (kind, period, atrPeriod, mult, who) => {
    const key = `${kind}-${period}-atr-${atrPeriod}-${mult}`;
    if (!bands.has(key)) {
      bands.set(key, { key, kind, period, atrPeriod, mult,
        label: `${kind.toUpperCase()} ${period} ± ${mult} ATR ${atrPeriod}`, strategies: [] });
    }
    bands.get(key).strategies.push(who);
  };
  for (const s of strategies) {
    const p = s.params || {};
    const mult = Number(p.trail_atr) > 0 ? Number(p.trail_atr) : 2;
    if (s.name === 'pullback') {
      line('sma', whole(p.trend_period, 50), s.name);
      line('ema', whole(p.ema_period, 20), s.name);
      band('ema', whole(p.ema_period, 20), whole(p.atr_period, 14), mult, s.name);
    } else if (s.name === 'oops') {
      line('sma', whole(p.trend_period, 50), s.name);
      band('sma', whole(p.trend_period, 50), whole(p.atr_period, 14), mult, s.name);
    } else if (s.name === 'sma_cross') {
      line('sma', whole(p.fast, 10), s.name);
      line('sma', whole(p.slow, 20), s.name);
    }
  }
  return { lines: [...lines.values()], bands: [...bands.values()] };
}

/**
 * The overlay values for `bars` (ascending): each line's values and each band's upper and lower
 * values, index for index with `bars` (`null` while warming up).
 * @param {Array<{high: number, low: number, close: number}>} bars
 * @param {ReturnType<typeof strategyOverlays>} overlays
 */
export function computeOverlays(bars, overlays) {
  const closes = bars.map((b) => b.close);
  const cache = new Map();
  const average = (kind, period) => {
    const key = `${kind}-${period}`;
    if (!cache.has(key)) cache.set(key, kind === 'ema' ? ema(closes, period) : sma(closes, period));
    return cache.get(key);
  };
  const lines = overlays.lines.map((l) => ({ ...l, values: average(l.kind, l.period) }));
  const bands = overlays.bands.map((b) => {
    const mid = average(b.kind, b.period);
    const range = atr(bars, b.atrPeriod);
    const upper = mid.map((m, i) => (m === null || range[i] === null ? null : m + b.mult * range[i]));
    const lower = mid.map((m, i) => (m === null || range[i] === null ? null : m - b.mult * range[i]));
    return { ...b, upper, lower };
  });
  return { lines, bands };
}
