// Axes and grid lines for the SVG charts: a value axis on the right edge and a time axis along
// the bottom with labels on round UTC boundaries (hours, days, weeks, months). Each call redraws
// its own <g> layer (a handful of ticks, cheap to rebuild).

import { svgEl, niceTicks, formatTick, formatTime } from './svg.js';

const MINUTE = 6e4, HOUR = 36e5, DAY = 864e5;
/** Label spacings to choose from; months are calendar months (negative: count of months). */
const TIME_STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR,
  12 * HOUR, DAY, 2 * DAY, 3 * DAY, 4 * DAY, 7 * DAY, -1, -3, -6, -12, -24, -60, -120, -240];

/** A step's typical length in ms (a month counts 30 days). */
const typicalMs = (step) => (step > 0 ? step : -step * 30 * DAY);
/** A step's shortest length in ms (a month can be 28 days). */
const shortestMs = (step) => (step > 0 ? step : -step * 28 * DAY);

/** The smallest step of TIME_STEPS at least `targetMs` long. */
export function pickTimeStep(targetMs) {
  for (const s of TIME_STEPS) if (typicalMs(s) >= targetMs) return s;
  return TIME_STEPS[TIME_STEPS.length - 1];
}

/**
 * Pixels a time label at this spacing needs, room on both sides included: 11 px monospace
 * labels (charts.css) of `2024` (years), `Sep 2024` (months) or `30 Sep` / `13:00` (days, hours).
 */
function labelWidth(spacingMs) {
  const chars = spacingMs >= 360 * DAY ? 4 : spacingMs >= 28 * DAY ? 8 : 6;
  return chars * 7 + 16;
}

/** Which step-sized bucket `t` falls in (UTC; weeks start on Monday). */
function bucket(t, step) {
  if (step < 0) { const d = new Date(t); return Math.floor((d.getUTCFullYear() * 12 + d.getUTCMonth()) / -step); }
  return step === 7 * DAY ? Math.floor((t - 4 * DAY) / step) : Math.floor(t / step);
}

/**
 * Draws horizontal grid lines and value labels for [min, max].
 * @param {SVGGElement} layer emptied and refilled
 * @param {{min: number, max: number, y: (v: number) => number, left: number, right: number,
 *          count?: number, format?: (v: number, step: number) => string}} o
 *   `right` is where the plot ends; labels sit just right of it.
 */
export function drawValueAxis(layer, o) {
  layer.replaceChildren();
  const { ticks, step } = niceTicks(o.min, o.max, o.count || 5);
  const format = o.format || formatTick;
  for (const v of ticks) {
    const y = Math.round(o.y(v)) + 0.5;
    svgEl('line', { class: 'chart-grid', x1: o.left, x2: o.right, y1: y, y2: y }, layer);
    const label = svgEl('text', { class: 'chart-axis-label', x: o.right + 6, y: y + 4 }, layer);
    label.textContent = format(v, step);
  }
}

function tick(layer, x, t, step, o) {
  const px = Math.round(x) + 0.5;
  svgEl('line', { class: 'chart-grid', x1: px, x2: px, y1: o.top, y2: o.bottom }, layer);
  const label = svgEl('text', { class: 'chart-axis-label', x: px, y: o.bottom + 16, 'text-anchor': 'middle' }, layer);
  label.textContent = formatTime(t, typicalMs(step));
}

/**
 * Time axis for evenly spaced bars: a label on each bar that starts a new step (a new day, a new
 * 6-hour block, …), with the step chosen so labels stay about `minGap` pixels apart.
 * @param {SVGGElement} layer emptied and refilled
 * @param {{times: number[], x: (i: number) => number, slot: number, top: number, bottom: number,
 *          left: number, right: number, minGap?: number}} o `times[i]` (epoch ms) is drawn at `x(i)`
 */
export function drawBarTimeAxis(layer, o) {
  layer.replaceChildren();
  const n = o.times.length;
  if (n < 2) return;
  const barMs = (o.times[n - 1] - o.times[0]) / (n - 1);
  const step = pickTimeStep(((o.minGap || 90) / Math.max(o.slot, 0.01)) * barMs);
  for (let i = 1; i < n; i++) {
    const x = o.x(i);
    if (x < o.left + 20 || x > o.right - 20) continue;
    if (bucket(o.times[i], step) !== bucket(o.times[i - 1], step)) tick(layer, x, o.times[i], step, o);
  }
}

/**
 * Time axis for a continuous time scale: labels at round multiples of the chosen step — the
 * smallest step whose labels keep at least `minGap` pixels (default: the label's own width and
 * some room) apart, however long the range (decades of hourly bars) or narrow the chart (phones).
 * @param {SVGGElement} layer emptied and refilled
 * @param {{t0: number, t1: number, x: (t: number) => number, top: number, bottom: number,
 *          left: number, right: number, minGap?: number}} o
 */
export function drawContinuousTimeAxis(layer, o) {
  layer.replaceChildren();
  if (!(o.t1 > o.t0)) return;
  const msPerPx = (o.t1 - o.t0) / Math.max(1, o.right - o.left);
  const fits = (s) => shortestMs(s) / msPerPx >= Math.max(o.minGap || 0, labelWidth(typicalMs(s)));
  const step = TIME_STEPS.find(fits) || TIME_STEPS[TIME_STEPS.length - 1];
  const sampleMs = step > 0 ? Math.min(step, DAY) : DAY;
  let prev = bucket(o.t0, step);
  for (let t = o.t0 + sampleMs; t <= o.t1; t += sampleMs) {
    const b = bucket(t, step);
    if (b === prev) continue;
    prev = b;
    const start = step > 0 ? b * step + (step === 7 * DAY ? 4 * DAY : 0) : t - (t % DAY);
    const x = o.x(start);
    if (x >= o.left + 20 && x <= o.right - 20) tick(layer, x, start, step, o);
  }
}
