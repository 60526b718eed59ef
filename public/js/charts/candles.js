// Candlestick chart in SVG: the last bars that fit (at most `maxVisible` until zoomed), a price
// axis on the right, a time axis below, volume bars along the bottom, the strategies' indicator
// lines and ATR bands, price levels (stop, target, entry), signal and trade markers, and a
// crosshair with an OHLC legend. Live bars update the last candle in place or append one; redraws
// are coalesced per frame, and the candle elements are reused from frame to frame rather than
// rebuilt. Drag, a horizontal wheel or the arrow keys scroll back through the bars held in memory
// (`onNeedOlder` asks for more when the view nears the oldest); End returns to the latest bar. The
// wheel, a pinch, +/− keys or `zoomBy` change how many bars are on screen.

import { svgEl, setAttrs, linearScale, observeSize, frameScheduler, formatTick, niceTicks } from './svg.js';
import { fmtTime } from '../ui.js';
import { drawValueAxis, drawBarTimeAxis } from './axes.js';
import { drawSignalMarkers, drawTradeMarkers, barIndexAt } from './markers.js';
import { computeOverlays } from './indicators.js';
import { drawIndicators, drawVolume, drawLevels } from './overlays.js';

const MARGIN = { top: 26, right: 72, bottom: 26, left: 8 };
const MIN_SLOT_PX = 4;        // unzoomed: bars at least this wide
const ZOOM_MIN_SLOT_PX = 2;   // zoomed out: bars at least this wide
const ZOOM_MIN_BARS = 15;     // zoomed in: at least this many bars
const ZOOM_MAX_BARS = 1000;
const VOLUME_SHARE = 0.15;    // of the plot's height: the volume band under the prices

/**
 * Creates a candlestick chart filling `container` (give the container a height in CSS).
 * @param {HTMLElement} container
 * @param {{maxVisible?: number, keep?: number, label?: string, testid?: string,
 *          onNeedOlder?: () => void, onZoom?: (visible: number) => void}} [options]
 *   `maxVisible` bars on screen at most before zooming (200), `keep` bars held in memory (2000),
 *   `onNeedOlder` called after a draw whose view reaches the oldest quarter of a screen of the
 *   bars held (the caller loads older bars with `prependBars`), `onZoom` after each zoom change
 * @returns {{setBars: Function, upsertBar: Function, prependBars: Function, setSignals: Function,
 *            setTrades: Function, setOverlays: Function, setLevels: Function, zoomBy: Function,
 *            resetZoom: Function, clear: Function, dispose: Function, svg: SVGSVGElement}}
 */
export function createCandleChart(container, options = {}) {
  const maxVisible = options.maxVisible || 200;
  const keep = Math.max(maxVisible, options.keep || 2000);
  const parts = buildCandleSvg(options);
  const { svg } = parts;
  container.appendChild(svg);

  let bars = [];            // ascending by time, at most `keep`
  let signals = [];
  let trades = [];
  let width = 0, height = 0;
  let hover = -1;           // visible index under the pointer, -1 for none
  let view = null;          // what the last full draw used
  let pendingFull = true;   // false: only the last candle changed
  let offset = 0;           // bars hidden to the right (scrolled back in time), 0 = latest
  let drag = null;          // {x, offset} while dragging
  let zoom = 0;             // bars on screen asked for by zooming; 0 = the default fit
  let overlays = null;      // strategyOverlays(): what indicators to draw
  let computed = null;      // their values over `bars`, recomputed when bars change
  let levels = [];          // [{price, kind, label}]
  const pointers = new Map(); // pointerId → x, for a two-finger pinch
  let pinch = null;         // {distance, slots} when a pinch started

  const scheduler = frameScheduler(draw);
  const stopObserving = observeSize(container, (w, h) => {
    width = w; height = h; pendingFull = true; draw();
  });

  const slots = () => slotCount(width, maxVisible, zoom);
  const barsChanged = () => { computed = null; };

  function draw() {
    if (width <= 0 || height <= 0) return;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const capacity = slots();
    offset = Math.max(0, Math.min(offset, bars.length - capacity));
    if (overlays && !computed) computed = computeOverlays(bars, overlays);
    const v = candleView(bars, offset, capacity, width, height, levels);
    const lastOnly = !pendingFull && offset === 0 && view && v.bars.length > 0 && view.bars.length === v.bars.length &&
      view.lo === v.lo && view.hi === v.hi && view.times[0] === v.times[0];
    pendingFull = false;
    view = v;
    setAttrs(parts.empty, { x: width / 2, y: height / 2, visibility: v.bars.length ? 'hidden' : 'visible' });
    parts.empty.textContent = 'Waiting for bars…';
    if (lastOnly) {
      const i = v.bars.length - 1;
      placeCandle(parts.candleLayer.childNodes[i], v.bars[i], i, v);
    } else {
      const right = width - MARGIN.right;
      drawValueAxis(parts.gridY, { min: v.lo, max: v.hi, y: v.y, left: MARGIN.left, right });
      drawBarTimeAxis(parts.gridX, { times: v.times, x: v.x, slot: v.slot, top: MARGIN.top, bottom: height - MARGIN.bottom,
        left: MARGIN.left, right });
      drawCandles(parts.candleLayer, v);
      drawSignalMarkers(parts.signalLayer, signals, v);
      drawTradeMarkers(parts.tradeLayer, trades, v);
      drawLevels(parts.levelLayer, levels, v, { left: MARGIN.left, right, axisWidth: MARGIN.right,
        step: niceTicks(v.lo, v.hi, 5).step });
    }
    drawIndicators(parts.indicatorLayer, computed, v);
    drawVolume(parts.volumeLayer, v, height - MARGIN.bottom, v.volumeHeight);
    drawLastPrice(parts, v, width, offset > 0);
    parts.legend.textContent = legendText(v, hover, offset > 0);
    setAttrs(svg, { 'data-bars': bars.length, 'data-visible': v.bars.length, 'data-offset': offset });
    if (options.onNeedOlder && bars.length && offset + capacity >= bars.length - Math.floor(capacity / 4)) {
      options.onNeedOlder();
    }
  }

  /** Shows `next` bars (clamped to what fits), keeping the right edge where it is. */
  function zoomTo(next) {
    const before = slots();
    zoom = Math.max(ZOOM_MIN_BARS, Math.round(next));
    const after = slots();
    zoom = after;
    if (after === before) return false;
    pendingFull = true;
    draw();
    if (options.onZoom) options.onZoom(after);
    return true;
  }

  function scrollTo(next) {
    const before = offset;
    offset = Math.max(0, Math.round(next));
    pendingFull = true;
    draw();
    return offset !== before;
  }

  /** Back to the default number of bars for the width. */
  function resetZoom() {
    zoom = 0;
    pendingFull = true;
    scheduler.request();
    if (options.onZoom) options.onZoom(0);
  }

  /** Crosshair and legend follow the pointer; a drag scrolls through time, two fingers zoom. */
  function onPointer(event) {
    if (!view || !view.bars.length) return;
    const box = svg.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    if (pointers.has(event.pointerId)) pointers.set(event.pointerId, event.clientX);
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const distance = Math.max(10, Math.abs(a - b));
      zoomTo(pinch.slots * (pinch.distance / distance));
      return;
    }
    if (drag) scrollTo(drag.offset + (px - drag.x) / view.slot);
    const i = Math.floor((px - MARGIN.left) / view.slot);
    if (i < 0 || i >= view.bars.length || py < MARGIN.top || py > height - MARGIN.bottom) return onLeave();
    hover = i;
    const x = Math.round(view.x(i)) + 0.5;
    setAttrs(parts.crossV, { x1: x, x2: x, y1: MARGIN.top, y2: height - MARGIN.bottom });
    setAttrs(parts.crossH, { x1: MARGIN.left, x2: width - MARGIN.right, y1: Math.round(py) + 0.5, y2: Math.round(py) + 0.5 });
    setAttrs(parts.cross, { visibility: 'visible' });
    parts.legend.textContent = legendText(view, hover, offset > 0);
  }
  function onLeave() {
    hover = -1;
    setAttrs(parts.cross, { visibility: 'hidden' });
    if (view) parts.legend.textContent = legendText(view, hover, offset > 0);
  }
  svg.addEventListener('pointermove', onPointer);
  svg.addEventListener('pointerleave', onLeave);
  svg.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    pointers.set(event.pointerId, event.clientX);
    svg.setPointerCapture(event.pointerId);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.max(10, Math.abs(a - b)), slots: slots() };
      drag = null;
    } else {
      drag = { x: event.clientX - svg.getBoundingClientRect().left, offset };
    }
  });
  const endDrag = (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    drag = null;
  };
  svg.addEventListener('pointerup', endDrag);
  svg.addEventListener('pointercancel', endDrag);
  svg.addEventListener('wheel', (event) => {
    // Horizontal wheel (or shift + wheel) scrolls through time; a vertical wheel (a trackpad pinch
    // arrives as ctrl + wheel) zooms: up shows fewer, wider bars.
    const horizontal = Math.abs(event.deltaX) > Math.abs(event.deltaY);
    if (horizontal || event.shiftKey) {
      const delta = horizontal ? event.deltaX : event.deltaY;
      if (delta && scrollTo(offset + Math.sign(delta) * Math.max(1, Math.round(slots() / 10)))) event.preventDefault();
      return;
    }
    if (!event.deltaY) return;
    event.preventDefault();
    const factor = Math.min(1.5, Math.pow(1.0015, Math.abs(event.deltaY)));
    zoomTo(event.deltaY < 0 ? slots() / factor : slots() * factor);
  }, { passive: false });
  svg.addEventListener('keydown', (event) => {
    const page = Math.max(1, Math.round(slots() / 5));
    const moves = { ArrowLeft: offset + page, ArrowRight: offset - page, End: 0, Home: bars.length };
    const zooms = { '+': 1.25, '=': 1.25, '-': 0.8, _: 0.8 };
    if (event.key in zooms) {
      event.preventDefault();
      zoomTo(slots() / zooms[event.key]);
      return;
    }
    if (event.key === '0') { event.preventDefault(); resetZoom(); return; }
    if (!(event.key in moves)) return;
    event.preventDefault();
    scrollTo(moves[event.key]);
  });

  return {
    svg,
    /** Replaces every bar (ascending `time` in ms; open, high, low, close, volume). */
    setBars(list) {
      bars = list.slice(-keep).sort((a, b) => a.time - b.time);
      barsChanged();
      pendingFull = true;
      scheduler.request();
    },
    /**
     * Adds bars older than the oldest held (a page of history); keeps at most `keep` bars in all,
     * so a full chart takes no more. The view stays on the bars it showed.
     * @returns {number} how many bars were added (0 when full or nothing was older)
     */
    prependBars(list) {
      const oldest = bars.length ? bars[0].time : Infinity;
      const older = list.filter((b) => b.time < oldest).sort((a, b) => a.time - b.time);
      const room = Math.max(0, keep - bars.length);
      const added = older.slice(Math.max(0, older.length - room));
      if (!added.length) return 0;
      bars = added.concat(bars);
      barsChanged();
      pendingFull = true;
      scheduler.request();
      return added.length;
    },
    /** True when `keep` bars are held: no older page will be added. */
    full: () => bars.length >= keep,
    /** Adds a bar, or replaces the bar with the same open time (a live update of the last bar). */
    upsertBar(bar) {
      const last = bars[bars.length - 1];
      if (!last || bar.time > last.time) {
        bars.push(bar);
        if (offset > 0) offset += 1;  // keep a scrolled-back view where it is
        if (bars.length > keep + 256) bars.splice(0, bars.length - keep);  // trim in chunks
        pendingFull = true;
      } else if (bar.time === last.time) {
        bars[bars.length - 1] = bar;
      } else {
        const i = barIndexAt(bars.map((b) => b.time), bar.time);
        if (i >= 0 && bars[i].time === bar.time) bars[i] = bar; else bars.splice(i + 1, 0, bar);
        pendingFull = true;
      }
      barsChanged();
      scheduler.request();
    },
    /** The indicators to draw (`strategyOverlays()`), or null for none. */
    setOverlays(spec) { overlays = spec; computed = null; pendingFull = true; scheduler.request(); },
    /** Horizontal price levels: `[{price, kind: "entry"|"stop"|"target", label}]`; kept in the price range. */
    setLevels(list) { levels = list; pendingFull = true; scheduler.request(); },
    /** Zooms in (`factor` > 1: fewer, wider bars) or out around the right edge. */
    zoomBy(factor) { return zoomTo(slots() / factor); },
    /** Back to the default number of bars for the width. */
    resetZoom,
    /** Signal markers: `[{time, side: "BUY"|"SELL", id?, label?, approved?}]`. */
    setSignals(list) { signals = list; pendingFull = true; scheduler.request(); },
    /** Trade markers: `[{entryTime, entryPrice, exitTime?, exitPrice?, side?, pnl?, id?, label?}]`. */
    setTrades(list) { trades = list; pendingFull = true; scheduler.request(); },
    /** Removes bars and markers. */
    clear() {
      bars = []; signals = []; trades = []; levels = []; offset = 0; barsChanged();
      pendingFull = true; scheduler.request();
    },
    /** The bars held (newest last); for callers that need the latest close. */
    bars: () => bars,
    /** Stops observing and removes the SVG. */
    dispose() {
      scheduler.cancel();
      stopObserving();
      svg.remove();
    },
  };
}

/**
 * The chart's `<svg>` and its layers, bottom to top: grid, volume, indicator bands and lines,
 * candles, price levels, trades, signals, last price, crosshair, legend.
 */
function buildCandleSvg(options) {
  const svg = svgEl('svg', {
    class: 'chart-svg candle-chart', 'data-testid': options.testid || 'candle-chart',
    role: 'img', tabindex: 0,
    'aria-label': `${options.label || 'Candlestick chart'}; arrow keys scroll through time, End shows the latest bar, ` +
      'plus and minus zoom, 0 resets the zoom',
  });
  const gridY = svgEl('g', { class: 'chart-axis' }, svg);
  const gridX = svgEl('g', { class: 'chart-axis' }, svg);
  const volumeLayer = svgEl('g', { class: 'volume' }, svg);
  const indicatorLayer = svgEl('g', { class: 'indicators' }, svg);
  const candleLayer = svgEl('g', { class: 'candles' }, svg);
  const levelLayer = svgEl('g', { class: 'price-levels' }, svg);
  const tradeLayer = svgEl('g', { class: 'trade-markers' }, svg);
  const signalLayer = svgEl('g', { class: 'signal-markers' }, svg);
  const lastLine = svgEl('line', { class: 'last-price-line' }, svg);
  const lastTag = svgEl('g', { class: 'last-price' }, svg);
  const lastTagBox = svgEl('rect', { class: 'last-price-box', rx: 2 }, lastTag);
  const lastTagText = svgEl('text', { class: 'last-price-text' }, lastTag);
  const cross = svgEl('g', { class: 'crosshair', visibility: 'hidden' }, svg);
  const crossV = svgEl('line', {}, cross);
  const crossH = svgEl('line', {}, cross);
  const legend = svgEl('text', { class: 'chart-legend', x: MARGIN.left + 4, y: 17 }, svg);
  const empty = svgEl('text', { class: 'chart-empty', 'text-anchor': 'middle' }, svg);
  return { svg, gridY, gridX, volumeLayer, indicatorLayer, candleLayer, levelLayer, tradeLayer, signalLayer, lastLine, lastTag, lastTagBox, lastTagText,
    cross, crossV, crossH, legend, empty };
}

/**
 * How many bar slots fit in `width`: at most `maxVisible` (bars ≥ 4 px) unzoomed, else `zoom`
 * bars between ZOOM_MIN_BARS and what fits at 2 px a bar (and ZOOM_MAX_BARS); at least 10.
 */
function slotCount(width, maxVisible, zoom) {
  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  if (!zoom) return Math.max(10, Math.min(maxVisible, Math.floor(plotW / MIN_SLOT_PX)));
  const most = Math.min(ZOOM_MAX_BARS, Math.floor(plotW / ZOOM_MIN_SLOT_PX));
  return Math.max(10, Math.min(most, Math.max(ZOOM_MIN_BARS, zoom)));
}

/**
 * What one frame shows: the `capacity` bars ending `offset` bars before the latest (`start` is
 * the first one's index in `bars`), their price range (padded, widened to hold the price
 * `levels`), the slot width, the x/y scales and the volume bars' height. Prices use the plot
 * above the volume band.
 */
function candleView(bars, offset, capacity, width, height, levels) {
  const end = bars.length - offset;
  const start = Math.max(0, end - capacity);
  const shown = bars.slice(start, end);
  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  const slot = plotW / Math.max(capacity, 1);
  const volumeHeight = Math.max(16, (height - MARGIN.top - MARGIN.bottom) * VOLUME_SHARE);
  let lo = Infinity, hi = -Infinity;
  for (const b of shown) { if (b.low < lo) lo = b.low; if (b.high > hi) hi = b.high; }
  if (shown.length) {
    for (const l of levels) if (isFinite(l.price)) { lo = Math.min(lo, l.price); hi = Math.max(hi, l.price); }
  }
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.01 || 1;
  const times = shown.map((b) => b.time);
  const span = times.length > 1 ? times[times.length - 1] - times[times.length - 2] : 36e5;
  return {
    bars: shown, start, times, slot, lo: lo - pad, hi: hi + pad, volumeHeight,
    lastEnd: times.length ? times[times.length - 1] + span : 0,
    size: Math.max(6, Math.min(9, slot * 0.9)),
    x: (i) => MARGIN.left + (i + 0.5) * slot,
    y: linearScale(lo - pad, hi + pad, height - MARGIN.bottom - volumeHeight - 4, MARGIN.top),
  };
}

/** Places one candle group (wick line, body rect) for visible bar `i`. */
function placeCandle(g, bar, i, v) {
  const [wick, body] = g.childNodes;
  const x = v.x(i);
  const up = bar.close >= bar.open;
  const bodyW = Math.max(1, Math.floor(v.slot * 0.7));
  const top = v.y(Math.max(bar.open, bar.close));
  const bottom = v.y(Math.min(bar.open, bar.close));
  setAttrs(g, { class: up ? 'candle up' : 'candle down', 'data-time': bar.time });
  setAttrs(wick, { x1: Math.round(x) + 0.5, x2: Math.round(x) + 0.5, y1: v.y(bar.high), y2: v.y(bar.low) });
  setAttrs(body, { x: Math.round(x - bodyW / 2), width: bodyW, y: top, height: Math.max(1, bottom - top) });
}

/** One candle group per visible bar, reusing the groups of the last frame. */
function drawCandles(layer, v) {
  const nodes = layer.childNodes;
  while (nodes.length > v.bars.length) layer.lastChild.remove();
  while (nodes.length < v.bars.length) {
    const g = svgEl('g', { 'data-testid': 'candle' }, layer);
    svgEl('line', { class: 'candle-wick' }, g);
    svgEl('rect', { class: 'candle-body' }, g);
  }
  v.bars.forEach((bar, i) => placeCandle(nodes[i], bar, i, v));
}

/** The latest close as a line across the plot and a tag on the price axis; hidden when scrolled back. */
function drawLastPrice(parts, v, width, scrolledBack) {
  const { lastLine, lastTag, lastTagBox, lastTagText } = parts;
  const last = v.bars[v.bars.length - 1];
  const hidden = !last || scrolledBack;   // the latest price only, not a scrolled-back bar's
  setAttrs(lastLine, { visibility: hidden ? 'hidden' : 'visible' });
  setAttrs(lastTag, { visibility: hidden ? 'hidden' : 'visible' });
  if (hidden) return;
  const y = Math.round(v.y(last.close)) + 0.5;
  const right = width - MARGIN.right;
  const up = last.close >= last.open;
  setAttrs(lastLine, { x1: MARGIN.left, x2: right, y1: y, y2: y, class: `last-price-line ${up ? 'up' : 'down'}` });
  setAttrs(lastTagBox, { x: right + 1, y: y - 9, width: MARGIN.right - 3, height: 18, class: `last-price-box ${up ? 'up' : 'down'}` });
  setAttrs(lastTagText, { x: right + 5, y: y + 4 });
  const { step } = niceTicks(v.lo, v.hi, 5);
  lastTagText.textContent = formatTick(last.close, step / 10);
}

/** The OHLC legend of the hovered bar (the latest when none): time, prices, change in %. */
function legendText(v, hover, scrolledBack) {
  const i = hover >= 0 && hover < v.bars.length ? hover : v.bars.length - 1;
  const b = v.bars[i];
  if (!b) return '';
  const { step } = niceTicks(v.lo, v.hi, 5);
  const f = (n) => formatTick(n, step / 10);
  const change = b.open ? ((b.close - b.open) / b.open) * 100 : 0;
  return `${fmtTime(b.time, 'plain')}  O ${f(b.open)}  H ${f(b.high)}  L ${f(b.low)}  C ${f(b.close)}  ` +
    `${change >= 0 ? '+' : ''}${change.toFixed(2)}%${scrolledBack ? '   ◀ history (End: latest)' : ''}`;
}
