// Market view: a candlestick chart of one market and interval: its latest bars from GET /v1/klines,
// then live bars from the `klines:{MARKET}:{INTERVAL}` topic, older pages loaded as the view
// scrolls back (up to MAX_BARS held), with the market's signals (REST page + `signals` topic) as
// buy/sell triangles, its positions (REST + `portfolio` topic, TRADER+) as entry and exit markers,
// the open position's entry, stop and target as price levels, volume, and the indicators of the
// strategies the engine runs (views/market-indicators.js). Markets and their intervals come from
// GET /v1/markets, listed above the chart with each feed's status and the age of its last bar
// (js/markets.js), and each market's news sentiment from the LLM (views/market-sentiment.js).

import { createCandleChart } from '../charts/candles.js';
import { toMillis } from '../charts/svg.js';
import { createFeedPill, marketLabel, marketOptions } from '../markets.js';
import { el, fmtNum, fmtPrice } from '../ui.js';
import { createIndicatorKey, levelsOf } from './market-indicators.js';
import { createSentimentPanel } from './market-sentiment.js';

const STORAGE_KEY = 'bedrock.market';
const REFRESH_MS = 15000;   // GET /v1/markets again while the view is shown
const HISTORY_BARS = 1000;  // the first page of bars
const OLDER_PAGE = 500;     // each page loaded when scrolling back
const MAX_BARS = 3000;      // bars held at most (memory stays bounded however far one scrolls)
const MAX_PAGES = 5;        // markers: the newest 500 signals and positions of the market

/** A `kline.closed` event (or a GET /v1/klines row) as a chart bar, or null when it is not one. */
function barFromEvent(data) {
  if (!data || (data.event_type && data.event_type !== 'kline.closed')) return null;
  const time = toMillis(data.open_time);
  const bar = { time, open: +data.open, high: +data.high, low: +data.low, close: +data.close, volume: +data.volume };
  return isFinite(time) && isFinite(bar.open) && isFinite(bar.close) ? bar : null;
}

/** A signal record or `signal.created` event as a chart marker. */
function signalMarker(s) {
  const score = s.rule_engine_score === null || s.rule_engine_score === undefined ? '' : `, score ${Math.round(s.rule_engine_score)}`;
  return {
    id: s.id ?? s.signal_id, time: toMillis(s.bar_time || s.created_at), side: s.side,
    approved: s.final_decision ? s.final_decision === 'APPROVED' : undefined,
    label: `${s.signal_type || s.side} #${s.id ?? ''} at ${fmtPrice(s.entry_price)} (${s.final_decision || '?'}${score})`,
  };
}

/** A position record as a trade marker (entry, and exit once closed). */
function tradeMarker(p) {
  return {
    id: p.id, side: p.side, entryTime: toMillis(p.opened_at), entryPrice: +p.entry_price,
    exitTime: p.closed_at ? toMillis(p.closed_at) : NaN, exitPrice: p.exit_price === null ? NaN : +p.exit_price,
    pnl: p.realized_pnl ?? undefined, label: `Position #${p.id} ${p.side || ''}`,
  };
}

/**
 * Mounts the market view into its section.
 * @param {HTMLElement} root the view's section
 * @param {object} ctx the view context of docs/DASHBOARD.md
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const page = buildMarketPage(root);
  const { marketSelect, intervalSelect } = page;
  const chart = createCandleChart(page.chartBox, {
    label: 'Candlestick chart of the selected market', maxVisible: 200, keep: MAX_BARS,
    onNeedOlder: () => { if (following) following.loadOlder(); },
  });
  page.zoomIn.addEventListener('click', () => chart.zoomBy(1.5));
  page.zoomOut.addEventListener('click', () => chart.zoomBy(1 / 1.5));
  page.zoomReset.addEventListener('click', () => chart.resetZoom());
  const indicators = createIndicatorKey(ctx, page.indicatorKey, (spec) => chart.setOverlays(spec));
  const sentiment = createSentimentPanel(ctx);
  root.append(sentiment.panel);
  let markets = [];          // GET /v1/markets data: [{market, symbol, status, intervals:[{interval, topic, status, last_bar_time, bars}]}]
  let following = null;      // the selection on the chart: { stop() }
  let refreshTimer = 0;
  const feeds = createFeedList(page.feedList, (market, interval) => {
    fillSelect(marketSelect, marketOptions(markets), market);
    fillIntervals(interval);
    select();
  }, () => (ctx.feeds ? ctx.feeds.feeds() : []));
  // Each bar the page sees (any feed) moves its pill; the cadence learned makes a stop show at once.
  const offFlow = ctx.feeds ? ctx.feeds.onChange(() => feeds.syncFlow(ctx.feeds.feeds())) : () => {};

  /** GET /v1/markets: the feed list and the pickers; the chart is (re)started only when its selection changed. */
  async function loadMarkets() {
    try {
      markets = (await ctx.markets(true)).filter((m) => (m.intervals || []).length);
    } catch (err) {
      page.setStatus(`Could not load markets: ${err.message || err}`);
      return;
    }
    feeds.show(markets, following && following.current);
    if (!markets.length) {
      fillSelect(marketSelect, [], null); fillSelect(intervalSelect, [], null);
      page.setStatus('No market has bars yet (configure market_data.markets, run `bedrock replay` or `make sample-data`).');
      return;
    }
    if (following) {
      fillSelect(marketSelect, marketOptions(markets), following.current.market);
      fillIntervals(following.current.interval);
      following.refresh();
      return;
    }
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || '{}'); } catch { /* ignore */ }
    fillSelect(marketSelect, marketOptions(markets), saved.market);
    fillIntervals(saved.interval);
    select();
  }

  function fillIntervals(preferred) {
    const m = markets.find((x) => x.market === marketSelect.value) || markets[0];
    fillSelect(intervalSelect, m.intervals.map((i) => [i.interval, i.interval]), preferred);
  }

  /** Shows the chosen market and interval (remembered for the next visit). */
  function select() {
    const m = markets.find((x) => x.market === marketSelect.value);
    const iv = m && m.intervals.find((i) => i.interval === intervalSelect.value);
    if (!m || !iv) return;
    if (following) following.stop();
    const current = {
      market: m.market, label: marketLabel(m), interval: iv.interval,
      topic: iv.topic || `klines:${m.market}:${iv.interval}`,
    };
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify({ market: current.market, interval: current.interval })); } catch { /* ignore */ }
    following = followSelection(ctx, chart, current, page, (bar) => feeds.barClosed(current.market, current.interval, bar));
    indicators.market(current.market);
    feeds.show(markets, current);
  }

  marketSelect.addEventListener('change', () => { fillIntervals(intervalSelect.value); select(); });
  intervalSelect.addEventListener('change', select);

  return {
    show() {
      loadMarkets();
      clearInterval(refreshTimer);
      refreshTimer = setInterval(loadMarkets, REFRESH_MS); // statuses change: backfilling → live, a feed stops
      sentiment.show();
      indicators.load();
    },
    hide() { clearInterval(refreshTimer); refreshTimer = 0; sentiment.hide(); },
    dispose() {
      clearInterval(refreshTimer);
      if (following) following.stop();
      following = null;
      offFlow();
      indicators.dispose();
      chart.dispose();
      sentiment.dispose();
    },
  };
}

/**
 * The feeds list above the chart: one row per market and interval with its label, exchange and
 * status pill (`feed-row`, `data-market`, `data-interval`; the chart's one `aria-pressed`);
 * choosing a row shows it on the chart.
 * @param {HTMLElement} list the `<ul>`
 * @param {(market: string, interval: string) => void} onChoose
 * @param {() => Array<object>} flows the feed monitor's feeds (arrivals and cadences seen here)
 */
function createFeedList(list, onChoose, flows) {
  const pills = new Map();   // "MARKET:INTERVAL" → { pill, entry }
  const self = {
    /** Renders `markets`, marking `current` ({market, interval}) as the chart's. */
    show(markets, current) {
      pills.clear();
      list.replaceChildren(...markets.flatMap((m) => m.intervals.map((iv) => {
        const pill = createFeedPill(iv);
        pills.set(`${m.market}:${iv.interval}`, { pill, entry: iv });
        const chosen = !!current && current.market === m.market && current.interval === iv.interval;
        const button = el('button', {
          type: 'button', class: 'feed-row', testid: 'feed-row', 'aria-pressed': String(chosen),
          dataset: { market: m.market, interval: iv.interval },
          onclick: () => onChoose(m.market, iv.interval),
        },
        el('span', { class: 'feed-name', text: `${marketLabel(m)} ${iv.interval}` }),
        el('span', { class: 'feed-source muted', text: iv.exchange || m.exchange || 'no exchange' }),
        pill.node);
        return el('li', {}, button);
      })));
      list.hidden = !markets.length;
      self.syncFlow(flows());
    },
    /**
     * The feed monitor's view (`ctx.feeds.feeds()`): each row takes the newest arrival the page
     * saw and the cadence it learned.
     */
    syncFlow(list) {
      for (const f of list) {
        const row = pills.get(`${f.market}:${f.interval}`);
        if (!row || f.arrivedAt === null) continue;
        const known = Date.parse(row.entry.received_at || '');
        const cadence = f.flow.learned ? f.flow.cadence : undefined;
        if ((isFinite(known) && f.arrivedAt <= known) && cadence === row.entry.cadence_ms) continue;
        const newer = Date.parse(f.last_bar_time || '') > Date.parse(row.entry.last_bar_time || '') || !row.entry.last_bar_time;
        row.entry = { ...row.entry, received_at: new Date(Math.max(f.arrivedAt, isFinite(known) ? known : 0)).toISOString(),
          last_bar_time: newer ? f.last_bar_time : row.entry.last_bar_time, cadence_ms: cadence };
        row.pill.set(row.entry);
      }
    },
    /** A bar of the chart's topic arrived: its pill counts from that bar on. */
    barClosed(market, interval, bar) {
      const row = pills.get(`${market}:${interval}`);
      if (!row || !isFinite(bar.time)) return;
      const known = row.entry.last_bar_time ? Date.parse(row.entry.last_bar_time) : -Infinity;
      if (bar.time <= known) return;
      row.entry = {
        ...row.entry, last_bar_time: new Date(bar.time).toISOString(), received_at: new Date().toISOString(),
        bars: (row.entry.bars || 0) + 1,
      };
      row.pill.set(row.entry);
    },
  };
  return self;
}

/**
 * The view's markup: heading, market and interval selects, latest close, status, the feeds list,
 * the chart's box and its key.
 * @returns {{marketSelect: HTMLSelectElement, intervalSelect: HTMLSelectElement, chartBox: HTMLElement,
 *            feedList: HTMLElement, setStatus: (text: string) => void, setLastPrice: (text: string) => void}}
 */
function buildMarketPage(root) {
  const marketSelect = el('select', { id: 'market-select', testid: 'market-select', disabled: true });
  const intervalSelect = el('select', { id: 'market-interval', testid: 'market-interval', disabled: true });
  const status = el('span', { class: 'market-status muted', role: 'status', 'aria-live': 'polite', text: 'Loading markets…' });
  const lastPrice = el('strong', { class: 'market-last', testid: 'market-last' });
  const feedList = el('ul', { class: 'feed-list', testid: 'market-feeds', 'aria-label': 'Market feeds', hidden: true });
  const chartBox = el('div', { class: 'chart market-chart' });
  const zoomIn = el('button', { type: 'button', class: 'btn icon', testid: 'chart-zoom-in', 'aria-label': 'Zoom in (fewer bars)', title: 'Zoom in (+)', text: '+' });
  const zoomOut = el('button', { type: 'button', class: 'btn icon', testid: 'chart-zoom-out', 'aria-label': 'Zoom out (more bars)', title: 'Zoom out (−)', text: '−' });
  const zoomReset = el('button', { type: 'button', class: 'btn', testid: 'chart-zoom-reset', title: 'Default zoom (0)', text: 'Reset' });
  const indicatorKey = el('ul', { class: 'chart-key indicator-key', testid: 'indicator-key', 'aria-label': 'Indicators' });
  const key = el('ul', { class: 'chart-key', 'aria-label': 'Chart key' },
    el('li', {}, el('span', { class: 'swatch buy' }), 'buy signal'),
    el('li', {}, el('span', { class: 'swatch sell' }), 'sell signal'),
    el('li', {}, el('span', { class: 'swatch entry' }), 'position entry'),
    el('li', {}, el('span', { class: 'swatch exit' }), 'position exit'),
    el('li', {}, el('span', { class: 'swatch level-stop' }), 'stop'),
    el('li', {}, el('span', { class: 'swatch level-target' }), 'target'));
  root.replaceChildren(
    el('div', { class: 'view-head market-head' },
      el('h2', { text: 'Market' }),
      el('span', { class: 'inline-field' }, el('label', { for: 'market-select', text: 'Market' }), marketSelect),
      el('span', { class: 'inline-field' }, el('label', { for: 'market-interval', text: 'Interval' }), intervalSelect),
      lastPrice, status),
    feedList,
    el('div', { class: 'chart-tools', role: 'group', 'aria-label': 'Chart zoom' }, zoomOut, zoomIn, zoomReset,
      el('span', { class: 'muted chart-hint', text: 'Wheel or pinch to zoom; drag or ←/→ to scroll back.' })),
    chartBox, indicatorKey, key);
  return {
    marketSelect, intervalSelect, chartBox, feedList, indicatorKey, zoomIn, zoomOut, zoomReset,
    setStatus(text) { status.textContent = text; },
    setLastPrice(text) { lastPrice.textContent = text; },
  };
}

/** Replaces a select's options with `[value, label]` pairs, choosing `chosen` when present; disabled when empty. */
function fillSelect(select, options, chosen) {
  select.replaceChildren(...options.map(([value, text]) => el('option', { value, text })));
  if (options.some(([value]) => value === chosen)) select.value = chosen;
  select.disabled = options.length === 0;
}

/**
 * Shows one market and interval on the chart until `stop()`: the latest bars (GET /v1/klines),
 * then the topic's live bars; the market's signals and positions as markers, refreshed on
 * `signals` and `portfolio` (TRADER+) events. After `stop()` late answers are dropped.
 * @param {object} ctx the view context
 * @param {object} chart the candle chart
 * @param {{market: string, label: string, interval: string, topic: string}} current
 * @param {{setStatus: Function, setLastPrice: Function}} page
 * @param {(bar: object) => void} onBar each bar of the topic as it arrives
 * @returns {{current: object, stop: () => void, refresh: () => void, loadOlder: () => void}}
 */
function followSelection(ctx, chart, current, page, onBar) {
  let stopped = false;
  let positionTimer = 0;
  const offs = [];
  const signalMap = new Map();
  const older = { loading: false, exhausted: false };
  // The feed's status is its pill in the list; this line says what the chart holds.
  const barsStatus = (count) => page.setStatus(`${current.label} ${current.interval} · ${fmtNum(count, 0)} bars on the chart` +
    (chart.full() ? ' (the most kept; older history not loaded)' : older.exhausted ? ' (all history)' : ''));

  /** Follows the klines topic live; bars that arrive before the history are held, then merged. */
  function followKlines() {
    const feed = { ready: false, early: [] };
    offs.push(ctx.socket.subscribe(current.topic, (data) => {
      if (stopped) return;
      const bar = barFromEvent(data);
      if (!bar) return;
      onBar(bar);
      if (feed.ready) showBar(bar); else feed.early.push(bar);
    }, { onReset: () => { if (!stopped) loadHistory(feed); } }));
    loadHistory(feed);
  }

  /** GET /v1/klines: the latest bars (a shared live subscription cannot replay them for us). */
  async function loadHistory(feed) {
    feed.ready = false;
    try {
      const answer = await ctx.api.get('/v1/klines', { market: current.market, interval: current.interval, limit: HISTORY_BARS });
      if (stopped) return;
      const data = answer.data || [];
      older.exhausted = data.length < HISTORY_BARS;
      chart.setBars(data.map(barFromEvent).filter(Boolean));
    } catch (err) {
      if (stopped) return;
      ctx.toast(`Bars: ${err.message || err}`, 'error');
    }
    feed.ready = true;
    for (const bar of feed.early.splice(0)) chart.upsertBar(bar);
    const bars = chart.bars();
    if (bars.length) page.setLastPrice(fmtPrice(bars[bars.length - 1].close));
    barsStatus(bars.length);
  }

  /** GET /v1/klines with `end` = just before the oldest bar held: the page before it. */
  async function loadOlder() {
    const bars = chart.bars();
    if (older.loading || older.exhausted || stopped || !bars.length || chart.full()) return;
    older.loading = true;
    try {
      const answer = await ctx.api.get('/v1/klines', {
        market: current.market, interval: current.interval, end: bars[0].time - 1, limit: OLDER_PAGE,
      });
      if (stopped) return;
      const data = answer.data || [];
      if (data.length < OLDER_PAGE) older.exhausted = true;
      chart.prependBars(data.map(barFromEvent).filter(Boolean));
      barsStatus(chart.bars().length);
    } catch (err) {
      if (!stopped) ctx.toast(`Older bars: ${err.message || err}`, 'error');
      older.exhausted = true;   // no retry loop on every draw; choosing the market again retries
    } finally {
      older.loading = false;
    }
  }

  /** The open position's entry, stop and target as price levels (`GET /v1/positions?status=OPEN`). */
  async function loadLevels() {
    try {
      const answer = await ctx.api.get('/v1/positions', { status: 'OPEN', market: current.market, limit: 100 });
      if (stopped) return;
      chart.setLevels(levelsOf((answer.data || []).filter((p) => p.market === current.market)));
    } catch (err) {
      if (!stopped) ctx.toast(`Open position: ${err.message || err}`, 'error');
    }
  }

  function showBar(bar) {
    chart.upsertBar(bar);
    page.setLastPrice(fmtPrice(bar.close));
    barsStatus(chart.bars().length);
  }

  async function loadSignals() {
    try {
      const list = await fetchPages(ctx, '/v1/signals', { market: current.market });
      if (stopped) return;
      for (const s of list) addSignal(s, false);
      chart.setSignals([...signalMap.values()]);
    } catch (err) {
      if (!stopped) ctx.toast(`Signals: ${err.message || err}`, 'error');
    }
  }

  function addSignal(s, redraw = true) {
    if (s.market !== current.market || (s.interval && s.interval !== current.interval)) return;
    const marker = signalMarker(s);
    if (!isFinite(marker.time)) return;
    signalMap.set(String(marker.id ?? `${marker.time}-${marker.side}`), marker);
    if (redraw) chart.setSignals([...signalMap.values()]);
  }

  async function loadPositions() {
    try {
      const list = await fetchPages(ctx, '/v1/positions', { market: current.market });
      if (stopped) return;
      chart.setTrades(list.map(tradeMarker).filter((t) => isFinite(t.entryTime)));
    } catch (err) {
      if (!stopped) ctx.toast(`Positions: ${err.message || err}`, 'error');
    }
  }

  chart.clear();
  page.setLastPrice('');
  page.setStatus(`${current.label} ${current.interval} · loading bars…`);
  followKlines();
  offs.push(ctx.socket.subscribe('signals', (data) => {
    if (!stopped && data && data.event_type === 'signal.created') addSignal(data);
  }, { onReset: () => { if (!stopped) loadSignals(); } }));
  loadSignals();
  if (ctx.can.trade) {
    offs.push(ctx.socket.subscribe('portfolio', (data) => {
      if (stopped || !data || data.market !== current.market) return;
      clearTimeout(positionTimer);
      positionTimer = setTimeout(() => { loadPositions(); loadLevels(); }, 300);
    }, { onReset: () => { if (!stopped) { loadPositions(); loadLevels(); } } }));
  }
  loadPositions();
  loadLevels();

  return {
    current,
    loadOlder,
    /** The periodic refresh: a VIEWER gets no portfolio stream, so the levels are asked for again. */
    refresh() { if (!ctx.can.trade) loadLevels(); },
    stop() {
      stopped = true;
      for (const off of offs.splice(0)) off();
      clearTimeout(positionTimer);
    },
  };
}

/** Up to `MAX_PAGES` pages of 100 of a list route, newest first, as one array. */
async function fetchPages(ctx, path, query) {
  const out = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await ctx.api.get(path, { ...query, limit: 100, offset: page * 100 });
    out.push(...(answer.data || []));
    if ((answer.data || []).length < 100 || out.length >= (answer.total ?? Infinity)) break;
  }
  return out;
}
