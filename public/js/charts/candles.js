// Candlestick chart in SVG: the last bars that fit (at most `maxVisible`), a price axis on the
// right, a time axis below, signal and trade markers, and a crosshair with an OHLC legend.
// Live bars update the last candle in place or append one; redraws are coalesced per frame, and
// the candle elements are reused from frame to frame rather than rebuilt. Drag, a horizontal wheel
// or the arrow keys scroll back through the bars held in memory; End returns to the latest bar.

import { svgEl, setAttrs, linearScale, observeSize, frameScheduler, formatTick, niceTicks } from './svg.js';
import { fmtTime } from '../ui.js';
import { drawValueAxis, drawBarTimeAxis } from './axes.js';
import { drawSignalMarkers, drawTradeMarkers, barIndexAt } from './markers.js';

const MARGIN = { top: 26, right: 72, bottom: 26, left: 8 };
const MIN_SLOT_PX = 4;

/**
 * Creates a candlestick chart filling `container` (give the container a height in CSS).
 * @param {HTMLElement} container
 * @param {{maxVisible?: number, keep?: number, label?: string, testid?: string}} [options]
 *   `maxVisible` bars on screen at most (200), `keep` bars held in memory (2000)
 * @returns {{setBars: Function, upsertBar: Function, setSignals: Function, setTrades: Function,
 *            clear: Function, dispose: Function, svg: SVGSVGElement}}
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

  const scheduler = frameScheduler(draw);
  const stopObserving = observeSize(container, (w, h) => {
    width = w; height = h; pendingFull = true; draw();
  });

  const slots = () => slotCount(width, maxVisible);

  function draw() {
    if (width <= 0 || height <= 0) return;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const capacity = slots();
    offset = Math.max(0, Math.min(offset, bars.length - capacity));
    const v = candleView(bars, offset, capacity, width, height);
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
    }
    drawLastPrice(parts, v, width, offset > 0);
    parts.legend.textContent = legendText(v, hover, offset > 0);
  }

  function scrollTo(next) {
    const before = offset;
    offset = Math.max(0, Math.round(next));
    pendingFull = true;
    draw();
    return offset !== before;
  }

  /** Crosshair and legend follow the pointer; a drag scrolls through time. */
  function onPointer(event) {
    if (!view || !view.bars.length) return;
    const box = svg.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
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
    drag = { x: event.clientX - svg.getBoundingClientRect().left, offset };
    svg.setPointerCapture(event.pointerId);
  });
  const endDrag = () => { drag = null; };
  svg.addEventListener('pointerup', endDrag);
  svg.addEventListener('pointercancel', endDrag);
  svg.addEventListener('wheel', (event) => {
    // Horizontal wheel (or shift + wheel) scrolls through time; a plain vertical wheel scrolls the page.
    const delta = Math.abs(event.deltaX) > Math.abs(event.deltaY) ? event.deltaX : event.shiftKey ? event.deltaY : 0;
    if (delta && scrollTo(offset + Math.sign(delta) * Math.max(1, Math.round(slots() / 10)))) event.preventDefault();
  }, { passive: false });
  svg.addEventListener('keydown', (event) => {
    const page = Math.max(1, Math.round(slots() / 5));
    const moves = { ArrowLeft: offset + page, ArrowRight: offset - page, End: 0, Home: bars.length };
    if (!(event.key in moves)) return;
    event.preventDefault();
    scrollTo(moves[event.key]);
  });

  return {
    svg,
    /** Replaces every bar (ascending `time` in ms; open, high, low, close, volume). */
    setBars(list) {
      bars = list.slice(-keep).sort((a, b) => a.time - b.time);
      pendingFull = true;
      scheduler.request();
    },
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
      scheduler.request();
    },
    /** Signal markers: `[{time, side: "BUY"|"SELL", id?, label?, approved?}]`. */
    setSignals(list) { signals = list; pendingFull = true; scheduler.request(); },
    /** Trade markers: `[{entryTime, entryPrice, exitTime?, exitPrice?, side?, pnl?, id?, label?}]`. */
    setTrades(list) { trades = list; pendingFull = true; scheduler.request(); },
    /** Removes bars and markers. */
    clear() { bars = []; signals = []; trades = []; offset = 0; pendingFull = true; scheduler.request(); },
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

/** The chart's `<svg>` and its layers, bottom to top: grid, candles, trades, signals, last price, crosshair, legend. */
function buildCandleSvg(options) {
  const svg = svgEl('svg', {
    class: 'chart-svg candle-chart', 'data-testid': options.testid || 'candle-chart',
    role: 'img', tabindex: 0,
    'aria-label': `${options.label || 'Candlestick chart'}; arrow keys scroll through time, End shows the latest bar`,
  });
  const gridY = svgEl('g', { class: 'chart-axis' }, svg);
  const gridX = svgEl('g', { class: 'chart-axis' }, svg);
  const candleLayer = svgEl('g', { class: 'candles' }, svg);
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
  return { svg, gridY, gridX, candleLayer, tradeLayer, signalLayer, lastLine, lastTag, lastTagBox, lastTagText,
    cross, crossV, crossH, legend, empty };
}

/** How many bar slots fit in `width` (at most `maxVisible`, at least 10). */
function slotCount(width, maxVisible) {
  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  return Math.max(10, Math.min(maxVisible, Math.floor(plotW / MIN_SLOT_PX)));
}

/**
 * What one frame shows: the `capacity` bars ending `offset` bars before the latest, their price
 * range (padded), the slot width and the x/y scales.
 */
function candleView(bars, offset, capacity, width, height) {
  const end = bars.length - offset;
  const shown = bars.slice(Math.max(0, end - capacity), end);
  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  const slot = plotW / Math.max(capacity, 1);
  let lo = Infinity, hi = -Infinity;
  for (const b of shown) { if (b.low < lo) lo = b.low; if (b.high > hi) hi = b.high; }
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.01 || 1;
  const times = shown.map((b) => b.time);
  const span = times.length > 1 ? times[times.length - 1] - times[times.length - 2] : 36e5;
  return {
    bars: shown, times, slot, lo: lo - pad, hi: hi + pad,
    lastEnd: times.length ? times[times.length - 1] + span : 0,
    size: Math.max(6, Math.min(9, slot * 0.9)),
    x: (i) => MARGIN.left + (i + 0.5) * slot,
    y: linearScale(lo - pad, hi + pad, height - MARGIN.bottom, MARGIN.top),
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
