// Line and area charts in SVG over time: the equity curve (a line with a soft area under it) and
// the drawdown (an area hanging below zero), optionally with a second, dashed line to compare
// with (a rules-only run beside rules + ML). Long series are reduced to a min/max pair per pixel
// column before drawing, so a 5,000-point curve stays a small path.

import { svgEl, setAttrs, linearScale, observeSize, frameScheduler, formatTick } from './svg.js';
import { fmtTime } from '../ui.js';
import { drawValueAxis, drawContinuousTimeAxis } from './axes.js';

const MARGIN = { top: 24, right: 72, bottom: 26, left: 8 };

/**
 * Keeps the first and last point and, per pixel column, the lowest and highest value in order.
 * @param {Array<[number, number]>} points `[time ms, value]`, ascending time
 * @param {number} columns how many columns the plot has
 */
export function reducePoints(points, columns) {
  if (points.length <= columns * 2) return points;
  const t0 = points[0][0], t1 = points[points.length - 1][0];
  const per = (t1 - t0) / columns || 1;
  const out = [points[0]];
  let bucket = -1, lo = null, hi = null;
  const flush = () => {
    if (!lo) return;
    if (lo === hi) out.push(lo);
    else if (lo[0] < hi[0]) out.push(lo, hi);
    else out.push(hi, lo);
  };
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const b = Math.floor((p[0] - t0) / per);
    if (b !== bucket) { flush(); bucket = b; lo = hi = p; continue; }
    if (p[1] < lo[1]) lo = p;
    if (p[1] > hi[1]) hi = p;
  }
  flush();
  out.push(points[points.length - 1]);
  return out;
}

/**
 * Drawdown in percent (≤ 0) at each point of an equity curve: value / running peak − 1.
 * @param {Array<[number, number]>} equity `[time ms, equity]`
 * @returns {Array<[number, number]>}
 */
export function drawdownSeries(equity) {
  let peak = -Infinity;
  return equity.map(([t, v]) => {
    if (v > peak) peak = v;
    return [t, peak > 0 ? (v / peak - 1) * 100 : 0];
  });
}

/**
 * Creates a time-series chart filling `container` (give it a height in CSS).
 * @param {HTMLElement} container
 * @param {{kind?: "equity"|"drawdown", testid?: string, label?: string,
 *          format?: (v: number) => string}} [options] `drawdown` fills from zero down and keeps
 *   zero at the top; `format` labels the hovered value
 * @returns {{setData: (points: Array<[number, number]>) => void, setCompare: (points: Array<[number, number]>) => void,
 *            dispose: () => void, svg: SVGSVGElement}}
 */
export function createLineChart(container, options = {}) {
  const kind = options.kind || 'equity';
  const format = options.format || ((v) => v.toFixed(2));
  const svg = svgEl('svg', {
    class: `chart-svg line-chart ${kind}`, 'data-testid': options.testid || `${kind}-chart`,
    role: 'img', 'aria-label': options.label || (kind === 'drawdown' ? 'Drawdown chart' : 'Equity chart'),
  });
  const gridY = svgEl('g', { class: 'chart-axis' }, svg);
  const gridX = svgEl('g', { class: 'chart-axis' }, svg);
  const area = svgEl('path', { class: `series-area ${kind}` }, svg);
  const compareLine = svgEl('path', { class: 'series-line compare', 'data-testid': `${options.testid || kind}-compare` }, svg);
  const line = svgEl('path', { class: `series-line ${kind}` }, svg);
  const zero = svgEl('line', { class: 'zero-line' }, svg);
  const cross = svgEl('g', { class: 'crosshair', visibility: 'hidden' }, svg);
  const crossV = svgEl('line', {}, cross);
  const dot = svgEl('circle', { class: `series-dot ${kind}`, r: 3.5 }, cross);
  const legend = svgEl('text', { class: 'chart-legend', x: MARGIN.left + 4, y: 16 }, svg);
  const empty = svgEl('text', { class: 'chart-empty', 'text-anchor': 'middle' }, svg);
  container.appendChild(svg);

  let data = [];
  let compare = [];
  let width = 0, height = 0;
  let view = null;
  const scheduler = frameScheduler(draw);
  const stopObserving = observeSize(container, (w, h) => { width = w; height = h; draw(); });

  function draw() {
    if (width <= 0 || height <= 0) return;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const left = MARGIN.left, right = width - MARGIN.right;
    const top = MARGIN.top, bottom = height - MARGIN.bottom;
    setAttrs(empty, { x: width / 2, y: height / 2, visibility: data.length ? 'hidden' : 'visible' });
    empty.textContent = 'No data';
    if (!data.length) { area.setAttribute('d', ''); line.setAttribute('d', ''); view = null; return; }
    const pts = reducePoints(data, Math.max(10, right - left));
    const cpts = compare.length ? reducePoints(compare, Math.max(10, right - left)) : [];
    let lo = Infinity, hi = -Infinity;
    for (const [, v] of pts.concat(cpts)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (kind === 'drawdown') { hi = 0; lo = Math.min(lo, -0.01); lo -= (hi - lo) * 0.06; }
    else { const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.01 || 1; lo -= pad; hi += pad; }
    const t0 = cpts.length ? Math.min(pts[0][0], cpts[0][0]) : pts[0][0];
    const t1 = cpts.length ? Math.max(pts[pts.length - 1][0], cpts[cpts.length - 1][0]) : pts[pts.length - 1][0];
    const x = linearScale(t0, t1, left, right);
    const y = linearScale(lo, hi, bottom, top);
    view = { pts, x, y };

    const axisFormat = kind === 'drawdown' ? (v, step) => `${formatTick(v, step)}%` : formatTick;
    drawValueAxis(gridY, { min: lo, max: hi, y, left, right, count: Math.max(2, Math.floor((bottom - top) / 40)), format: axisFormat });
    drawContinuousTimeAxis(gridX, { t0, t1, x, top, bottom, left, right });

    let d = '';
    pts.forEach(([t, v], i) => { d += `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`; });
    line.setAttribute('d', d);
    let cd = '';
    cpts.forEach(([t, v], i) => { cd += `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`; });
    compareLine.setAttribute('d', cd);
    const base = kind === 'drawdown' ? y(0) : bottom;
    area.setAttribute('d', `${d}L${x(t1).toFixed(1)},${base}L${x(t0).toFixed(1)},${base}Z`);
    const zy = Math.round(y(0)) + 0.5;
    setAttrs(zero, { x1: left, x2: right, y1: zy, y2: zy, visibility: lo <= 0 && hi >= 0 ? 'visible' : 'hidden' });
    showLegend(data.length - 1);
  }

  function showLegend(i) {
    const p = data[i];
    if (!p) { legend.textContent = ''; return; }
    legend.textContent = `${fmtTime(p[0], 'plain')}  ${format(p[1])}`;
  }

  function onPointer(event) {
    if (!view) return;
    const box = svg.getBoundingClientRect();
    const px = event.clientX - box.left;
    // Nearest point by time: binary search over the full data.
    const t0 = data[0][0], t1 = data[data.length - 1][0];
    const left = MARGIN.left, right = width - MARGIN.right;
    const target = t0 + ((px - left) / Math.max(1, right - left)) * (t1 - t0);
    let lo = 0, hi = data.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (data[mid][0] < target) lo = mid + 1; else hi = mid; }
    if (lo > 0 && Math.abs(data[lo - 1][0] - target) < Math.abs(data[lo][0] - target)) lo -= 1;
    const [pt, pv] = data[lo];
    const cx = view.x(pt), cy = view.y(pv);
    setAttrs(crossV, { x1: cx, x2: cx, y1: MARGIN.top, y2: height - MARGIN.bottom });
    setAttrs(dot, { cx, cy });
    setAttrs(cross, { visibility: 'visible' });
    showLegend(lo);
  }
  svg.addEventListener('pointermove', onPointer);
  svg.addEventListener('pointerleave', () => { setAttrs(cross, { visibility: 'hidden' }); showLegend(data.length - 1); });

  return {
    svg,
    /** Replaces the series: `[[time ms, value], …]` in ascending time. */
    setData(points) { data = points.filter((p) => isFinite(p[0]) && isFinite(p[1])); scheduler.request(); },
    /** A second series drawn as a dashed line on the same scales (empty: none). */
    setCompare(points) { compare = points.filter((p) => isFinite(p[0]) && isFinite(p[1])); scheduler.request(); },
    /** Stops observing and removes the SVG. */
    dispose() { scheduler.cancel(); stopObserving(); svg.remove(); },
  };
}
