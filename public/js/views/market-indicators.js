// The market chart's indicators: which strategies the engine runs on the charted market and with
// which parameters — `engine.get` (the engine's run-time configuration) when the gateway has it,
// else the engine's default strategies (`pullback`, `oops`) with their default parameters from
// GET /v1/strategies — turned into lines and ATR bands (js/charts/indicators.js), with a key that
// says where the parameters came from. Also the open position's price levels.

import { strategyOverlays } from '../charts/indicators.js';
import { el } from '../ui.js';

/** The engine's strategies when its configuration cannot be read (`engine.strategies` default). */
export const DEFAULT_ENGINE_STRATEGIES = ['pullback', 'oops'];

/**
 * The open positions' price levels: entry, stop and target of each (`[{price, kind, label}]`).
 * @param {Array<object>} positions records of `GET /v1/positions?status=OPEN`
 */
export function levelsOf(positions) {
  const out = [];
  for (const p of positions) {
    const id = p.id ?? p.position_id;
    const add = (value, kind, name) => {
      const price = value === null || value === undefined || value === '' ? NaN : Number(value);
      if (isFinite(price)) out.push({ price, kind, label: `${name} #${id}`, id });
    };
    add(p.entry_price, 'entry', 'Entry');
    add(p.stop_loss_price, 'stop', 'Stop');
    if (p.trailing_stop_price !== null && p.trailing_stop_price !== undefined && Number(p.trailing_stop_price) !== Number(p.stop_loss_price)) {
      add(p.trailing_stop_price, 'stop', 'Trailing stop');
    }
    add(p.profit_target_price, 'target', 'Target');
  }
  return out;
}

/**
 * The strategies to draw for `market`, with resolved parameters, and where they came from.
 * @param {object} ctx the view context
 * @param {string} market canonical id
 * @returns {Promise<{strategies: Array<{name: string, params: object}>, source: string}>}
 */
async function liveStrategies(ctx, market) {
  const catalogue = await ctx.api.get('/v1/strategies').then((r) => r.data || []).catch(() => []);
  const defaults = (name) => {
    const entry = catalogue.find((c) => c.name === name);
    return Object.fromEntries(((entry && entry.params) || []).map((p) => [p.name, p.default]));
  };
  let engine = null;
  try {
    engine = await ctx.socket.request('engine.get', {}, { timeoutMs: 5000 });
  } catch {
    engine = null;   // a gateway without the engine configuration route: the defaults below
  }
  if (engine && Array.isArray(engine.strategies)) {
    const runs = engine.strategies.filter((s) => {
      const markets = Array.isArray(s.markets) && s.markets.length ? s.markets : ['*'];
      return markets.includes('*') || markets.includes(market);
    });
    return {
      strategies: runs.map((s) => ({ name: s.name, params: { ...defaults(s.name), ...(s.params || {}) } })),
      source: `engine configuration v${engine.version ?? '?'}${engine.status === 'paused' ? ' (paused)' : ''}`,
    };
  }
  return {
    strategies: DEFAULT_ENGINE_STRATEGIES.map((name) => ({ name, params: defaults(name) })),
    source: 'default parameters (the gateway does not publish its engine configuration)',
  };
}

/**
 * The indicator key under the chart (`indicator-key`, one `indicator-key-item` per line or band,
 * `data-indicator` = its label, and `indicator-source`); `onSpec(overlays)` hands what to draw to
 * the chart. Reloads on `engine.config_changed` (topic `risk`, TRADER+).
 * @param {object} ctx the view context
 * @param {HTMLElement} list the `<ul>`
 * @param {(spec: object) => void} onSpec
 */
export function createIndicatorKey(ctx, list, onSpec) {
  let current = null;   // charted market
  let generation = 0;
  const off = ctx.can.trade
    ? ctx.socket.subscribe('risk', (data) => { if (data && data.event_type === 'engine.config_changed') load(); })
    : () => {};

  async function load() {
    if (!current) return;
    const mine = ++generation;
    const { strategies, source } = await liveStrategies(ctx, current);
    if (mine !== generation) return;
    const spec = strategyOverlays(strategies);
    onSpec(spec);
    const item = (cls, label, who) => el('li', { testid: 'indicator-key-item', dataset: { indicator: label } },
      el('span', { class: `swatch ${cls}` }), `${label} (${who.join(', ')})`);
    list.replaceChildren(
      ...spec.lines.map((l, k) => item(`ind-line line-${k % 4}`, l.label, l.strategies)),
      ...spec.bands.map((b, k) => item(`ind-band band-${k % 3}`, b.label, b.strategies)),
      el('li', { class: 'muted', testid: 'indicator-source', text: strategies.length ? `Parameters: ${source}.` : `No strategy runs on this market (${source}).` }));
  }

  return {
    load,
    /** The charted market changed. */
    market(m) { if (m !== current) { current = m; load(); } },
    dispose() { off(); generation++; },
  };
}
