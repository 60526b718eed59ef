// What the candlestick chart draws besides candles and markers: the strategies' indicator lines
// and ATR bands, volume bars along the bottom of the plot, and horizontal price levels (the open
// position's entry, stop and target) with a tag on the price axis.

import { svgEl, setAttrs, formatTick } from './svg.js';
import { fmtPrice } from '../ui.js';

/** A path through the visible points of `values` (absolute indices from `start`), broken at nulls. */
function polyline(values, start, count, view) {
  let d = '';
  let pen = false;
  for (let i = 0; i < count; i++) {
    const v = values[start + i];
    if (v === null || v === undefined || !isFinite(v)) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${view.x(i).toFixed(1)},${view.y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Redraws the indicator lines and bands for the visible bars.
 * @param {SVGGElement} layer emptied and refilled
 * @param {{lines: Array, bands: Array}|null} computed from `computeOverlays` over all bars held
 * @param {{bars: Array, start: number, x: Function, y: Function}} view
 */
export function drawIndicators(layer, computed, view) {
  layer.replaceChildren();
  if (!computed || !view.bars.length) return;
  const n = view.bars.length;
  computed.bands.forEach((b, k) => {
    const upper = polyline(b.upper, view.start, n, view);
    const lowerPts = [];
    for (let i = n - 1; i >= 0; i--) {
      const v = b.lower[view.start + i];
      if (v !== null && v !== undefined) lowerPts.push(`${view.x(i).toFixed(1)},${view.y(v).toFixed(1)}`);
    }
    if (!upper || !lowerPts.length) return;
    const area = svgEl('path', { class: `indicator-band band-${k % 3}`, d: `${upper}L${lowerPts.join('L')}Z`,
      'data-testid': 'indicator-band', 'data-indicator': b.label }, layer);
    svgEl('title', {}, area).textContent = `${b.label} (${b.strategies.join(', ')})`;
    svgEl('path', { class: `indicator-band-edge band-${k % 3}`, d: upper }, layer);
    svgEl('path', { class: `indicator-band-edge band-${k % 3}`, d: polyline(b.lower, view.start, n, view) }, layer);
  });
  computed.lines.forEach((l, k) => {
    const d = polyline(l.values, view.start, n, view);
    if (!d) return;
    const path = svgEl('path', { class: `indicator-line line-${k % 4}`, d, 'data-testid': 'indicator-line',
      'data-indicator': l.label }, layer);
    svgEl('title', {}, path).textContent = `${l.label} (${l.strategies.join(', ')})`;
  });
}

/**
 * One volume bar per visible bar, from `bottom` up to `height` px for the largest volume shown;
 * reuses the rects of the last frame.
 * @param {SVGGElement} layer
 * @param {{bars: Array, x: Function, slot: number}} view
 * @param {number} bottom y of the plot's bottom edge
 * @param {number} height px of the tallest bar
 */
export function drawVolume(layer, view, bottom, height) {
  const nodes = layer.childNodes;
  const n = view.bars.length;
  while (nodes.length > n) layer.lastChild.remove();
  while (nodes.length < n) svgEl('rect', { 'data-testid': 'volume-bar' }, layer);
  let max = 0;
  for (const b of view.bars) if (b.volume > max) max = b.volume;
  const w = Math.max(1, Math.floor(view.slot * 0.7));
  view.bars.forEach((b, i) => {
    const v = isFinite(b.volume) && b.volume > 0 ? b.volume : 0;
    const h = max > 0 ? Math.max(v > 0 ? 1 : 0, (v / max) * height) : 0;
    setAttrs(nodes[i], { x: Math.round(view.x(i) - w / 2), width: w, y: (bottom - h).toFixed(1), height: h.toFixed(1),
      class: `volume-bar ${b.close >= b.open ? 'up' : 'down'}`, 'data-volume': v });
  });
}

/**
 * Horizontal price levels across the plot, each with a tag on the price axis.
 * @param {SVGGElement} layer emptied and refilled
 * @param {Array<{price: number, kind: string, label: string}>} levels `kind`: `entry`, `stop` or `target`
 * @param {{y: Function, lo: number, hi: number}} view
 * @param {{left: number, right: number, axisWidth: number, step: number}} o
 */
export function drawLevels(layer, levels, view, o) {
  layer.replaceChildren();
  for (const level of levels) {
    if (!isFinite(level.price)) continue;
    const y = Math.round(view.y(level.price)) + 0.5;
    const g = svgEl('g', { class: `price-level ${level.kind}`, 'data-testid': 'level-line', 'data-kind': level.kind,
      'data-price': level.price }, layer);
    svgEl('line', { class: 'price-level-line', x1: o.left, x2: o.right, y1: y, y2: y }, g);
    svgEl('rect', { class: 'price-level-box', x: o.right + 1, y: y - 8, width: o.axisWidth - 3, height: 16, rx: 2 }, g);
    svgEl('text', { class: 'price-level-text', x: o.right + 5, y: y + 4 }, g).textContent = formatTick(level.price, o.step / 10);
    // The name at the left edge: the newest candles, at the right, stay clear.
    svgEl('text', { class: 'price-level-name', x: o.left + 4, y: y - 4 }, g).textContent = level.label;
    svgEl('title', {}, g).textContent = `${level.label} at ${fmtPrice(level.price)}`;
  }
}
