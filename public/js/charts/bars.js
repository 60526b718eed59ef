// A bar chart over time in SVG: one bar per day (daily P&L), up from zero in the gain colour,
// down in the loss colour, on a continuous UTC time axis (missing days stay gaps). Hovering or
// focusing shows the day and its value in the legend. A year of days is 365 small rects.

import { svgEl, setAttrs, linearScale, observeSize, frameScheduler } from './svg.js';
import { drawValueAxis, drawContinuousTimeAxis } from './axes.js';
import { fmtNum, fmtTime } from '../ui.js';

/** A value label with exactly the decimals of the tick step (a 2.5 step labels 2.5, not 3). */
const tickLabel = (v, step) => fmtNum(v, (String(Number(step.toPrecision(6))).split('.')[1] || '').length);

const MARGIN = { top: 24, right: 72, bottom: 26, left: 8 };
const DAY = 864e5;
const MIN_SPAN = 7 * DAY;

/**
 * Creates a bar chart filling `container` (give it a height in CSS).
 * @param {HTMLElement} container
 * @param {{testid?: string, label?: string, barTestid?: string, format?: (v: number) => string}} [options]
 *   `barTestid` is each bar's `data-testid`; `format` labels the hovered value
 * @returns {{setData: (points: Array<[number, number]>) => void, dispose: () => void, svg: SVGSVGElement}}
 *   `points` are `[day start ms, value]`, ascending
 */
export function createBarChart(container, options = {}) {
  const format = options.format || ((v) => v.toFixed(2));
  const svg = svgEl('svg', { class: 'chart-svg bar-chart', 'data-testid': options.testid || 'bar-chart',
    role: 'img', 'aria-label': options.label || 'Bar chart' });
  const gridY = svgEl('g', { class: 'chart-axis' }, svg);
  const gridX = svgEl('g', { class: 'chart-axis' }, svg);
  const bars = svgEl('g', { class: 'bars' }, svg);
  const zero = svgEl('line', { class: 'zero-line' }, svg);
  const legend = svgEl('text', { class: 'chart-legend', x: MARGIN.left + 4, y: 16 }, svg);
  const empty = svgEl('text', { class: 'chart-empty', 'text-anchor': 'middle' }, svg);
  container.appendChild(svg);

  let data = [];
  let width = 0, height = 0;
  const scheduler = frameScheduler(draw);
  const stopObserving = observeSize(container, (w, h) => { width = w; height = h; draw(); });

  function showLegend(i) {
    const p = data[i];
    legend.textContent = p ? `${fmtTime(p[0], 'plain').slice(0, 10)}  ${format(p[1])}` : '';
  }

  function draw() {
    if (width <= 0 || height <= 0) return;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const left = MARGIN.left, right = width - MARGIN.right, top = MARGIN.top, bottom = height - MARGIN.bottom;
    setAttrs(empty, { x: width / 2, y: height / 2, visibility: data.length ? 'hidden' : 'visible' });
    empty.textContent = 'No data';
    bars.replaceChildren();
    if (!data.length) { gridX.replaceChildren(); gridY.replaceChildren(); legend.textContent = ''; return; }
    let lo = 0, hi = 0;
    for (const [, v] of data) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const pad = (hi - lo) * 0.08 || 1;
    lo = lo < 0 ? lo - pad : lo;
    hi = hi > 0 ? hi + pad : hi + (lo < 0 ? 0 : pad);
    // At least a week wide, the days centred: a few days of trades do not make a wall of colour.
    const first = data[0][0], last = data[data.length - 1][0] + DAY;
    const extra = Math.max(0, MIN_SPAN - (last - first));
    const t0 = first - Math.floor(extra / 2 / DAY) * DAY, t1 = last + Math.ceil(extra / 2 / DAY) * DAY;
    const x = linearScale(t0, t1, left, right);
    const y = linearScale(lo, hi, bottom, top);
    drawValueAxis(gridY, { min: lo, max: hi, y, left, right, count: Math.max(2, Math.floor((bottom - top) / 40)), format: tickLabel });
    drawContinuousTimeAxis(gridX, { t0, t1, x, top, bottom, left, right, minGap: 100 });
    const slot = Math.max(1, x(t0 + DAY) - x(t0));
    const w = Math.max(1, slot * 0.78);
    const y0 = y(0);
    const frag = document.createDocumentFragment();
    data.forEach(([t, v], i) => {
      const yv = y(v);
      const rect = svgEl('rect', {
        class: `bar ${v > 0 ? 'up' : v < 0 ? 'down' : 'flat'}`, x: (x(t) + (slot - w) / 2).toFixed(1),
        y: Math.min(yv, y0).toFixed(1), width: w.toFixed(1), height: Math.max(1, Math.abs(y0 - yv)).toFixed(1),
        'data-testid': options.barTestid || 'bar', 'data-time': t, 'data-value': v, 'data-index': i,
      });
      frag.appendChild(rect);
    });
    bars.appendChild(frag);
    const zy = Math.round(y0) + 0.5;
    setAttrs(zero, { x1: left, x2: right, y1: zy, y2: zy, visibility: 'visible' });
    showLegend(data.length - 1);
  }

  svg.addEventListener('pointermove', (event) => {
    const i = event.target && event.target.dataset ? Number(event.target.dataset.index) : NaN;
    if (Number.isInteger(i)) showLegend(i);
  });
  svg.addEventListener('pointerleave', () => showLegend(data.length - 1));

  return {
    svg,
    /** Replaces the bars: `[[day start ms, value], …]` in ascending time. */
    setData(points) { data = points.filter((p) => isFinite(p[0]) && isFinite(p[1])); scheduler.request(); },
    /** Stops observing and removes the SVG. */
    dispose() { scheduler.cancel(); stopObserving(); svg.remove(); },
  };
}
