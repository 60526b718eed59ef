// Several equity curves on one time scale (backtests compared): one path per series in its own
// colour (`s0`…`s3`, matching the legend's swatches), each reduced to a min/max pair per pixel
// column, so four 5,000-point curves stay four small paths.

import { svgEl, setAttrs, linearScale, observeSize, frameScheduler, formatTick } from './svg.js';
import { drawValueAxis, drawContinuousTimeAxis } from './axes.js';
import { reducePoints } from './line.js';

const MARGIN = { top: 12, right: 72, bottom: 26, left: 8 };

/**
 * Creates a multi-series line chart filling `container` (give it a height in CSS).
 * @param {HTMLElement} container
 * @param {{testid?: string, label?: string, lineTestid?: string}} [options]
 * @returns {{setSeries: (series: Array<{name: string, points: Array<[number, number]>}>) => void,
 *            dispose: () => void, svg: SVGSVGElement}}
 */
export function createMultiLineChart(container, options = {}) {
  const svg = svgEl('svg', { class: 'chart-svg multi-line-chart', 'data-testid': options.testid || 'multi-line-chart',
    role: 'img', 'aria-label': options.label || 'Curves compared' });
  const gridY = svgEl('g', { class: 'chart-axis' }, svg);
  const gridX = svgEl('g', { class: 'chart-axis' }, svg);
  const lines = svgEl('g', {}, svg);
  const empty = svgEl('text', { class: 'chart-empty', 'text-anchor': 'middle' }, svg);
  container.appendChild(svg);

  let series = [];
  let width = 0, height = 0;
  const scheduler = frameScheduler(draw);
  const stopObserving = observeSize(container, (w, h) => { width = w; height = h; draw(); });

  function draw() {
    if (width <= 0 || height <= 0) return;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const left = MARGIN.left, right = width - MARGIN.right, top = MARGIN.top, bottom = height - MARGIN.bottom;
    const shown = series.filter((s) => s.points.length);
    setAttrs(empty, { x: width / 2, y: height / 2, visibility: shown.length ? 'hidden' : 'visible' });
    empty.textContent = 'No data';
    lines.replaceChildren();
    if (!shown.length) { gridX.replaceChildren(); gridY.replaceChildren(); return; }
    const reduced = series.map((s) => reducePoints(s.points, Math.max(10, right - left)));
    let lo = Infinity, hi = -Infinity, t0 = Infinity, t1 = -Infinity;
    for (const pts of reduced) {
      if (!pts.length) continue;
      t0 = Math.min(t0, pts[0][0]);
      t1 = Math.max(t1, pts[pts.length - 1][0]);
      for (const [, v] of pts) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.01 || 1;
    lo -= pad; hi += pad;
    const x = linearScale(t0, t1, left, right);
    const y = linearScale(lo, hi, bottom, top);
    drawValueAxis(gridY, { min: lo, max: hi, y, left, right, count: Math.max(2, Math.floor((bottom - top) / 40)), format: formatTick });
    drawContinuousTimeAxis(gridX, { t0, t1, x, top, bottom, left, right, minGap: 100 });
    reduced.forEach((pts, i) => {
      let d = '';
      pts.forEach(([t, v], j) => { d += `${j ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`; });
      const path = svgEl('path', { class: `series-line multi s${i % 4}`, d, 'data-testid': options.lineTestid || 'curve',
        'data-name': series[i].name }, lines);
      svgEl('title', {}, path).textContent = series[i].name;
    });
  }

  return {
    svg,
    /** Replaces the curves: `[{name, points: [[time ms, value], …]}, …]`, each in ascending time. */
    setSeries(next) {
      series = next.map((s) => ({ name: s.name, points: s.points.filter((p) => isFinite(p[0]) && isFinite(p[1])) }));
      scheduler.request();
    },
    /** Stops observing and removes the SVG. */
    dispose() { scheduler.cancel(); stopObserving(); svg.remove(); },
  };
}
