// SVG building blocks shared by the charts: element creation, linear scales, "nice" axis ticks,
// UTC time labels and a resize observer wrapper. No chart library: everything is drawn here.

import { fmtNum } from '../ui.js';

/** The SVG namespace. */
export const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element with attributes (null/undefined values are skipped).
 * @param {string} tag element name (`g`, `rect`, `path`, …)
 * @param {Object<string, string|number>} [attrs]
 * @param {Element} [parent] appended to when given
 * @returns {SVGElement}
 */
export function svgEl(tag, attrs = {}, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  if (parent) parent.appendChild(el);
  return el;
}

/**
 * Sets several attributes at once; only touches the DOM when a value changed.
 * @param {Element} el
 * @param {Object<string, string|number|null|undefined>} attrs
 */
export function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    const text = String(value);
    if (el.getAttribute(name) !== text) el.setAttribute(name, text);
  }
}

/**
 * A linear map from the domain [d0, d1] to the range [r0, r1]; a flat domain maps to the middle.
 * @returns {(v: number) => number}
 */
export function linearScale(d0, d1, r0, r1) {
  const span = d1 - d0;
  if (!(span > 0)) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / span;
  return (v) => r0 + (v - d0) * k;
}

/**
 * Round tick values covering [min, max] with about `count` steps of 1, 2 or 5 × 10^n.
 * @returns {{ticks: number[], step: number}}
 */
export function niceTicks(min, max, count = 5) {
  if (!isFinite(min) || !isFinite(max)) return { ticks: [], step: 1 };
  if (max === min) { max = min + Math.abs(min || 1) * 0.01; min = min - Math.abs(min || 1) * 0.01; }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * 0.7) || 10 * magnitude;
  const ticks = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) {
    ticks.push(Number((k * step).toPrecision(12)) || 0);  // k × step, not a running sum: no drift
  }
  return { ticks, step };
}

/**
 * A price or value label with as many decimals as the tick step needs.
 * @param {number} value
 * @param {number} step distance between ticks
 */
export function formatTick(value, step) {
  const decimals = step >= 1 ? 0 : Math.min(8, Math.ceil(-Math.log10(step)));
  return fmtNum(value, decimals);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

/**
 * A short UTC time label: `HH:MM` inside a day, `D Mon` at midnight or for day-or-longer spacing,
 * `Mon YYYY` for month spacing, `YYYY` for a year or more.
 * @param {number} ms epoch milliseconds
 * @param {number} spacingMs typical distance between labels
 */
export function formatTime(ms, spacingMs) {
  const d = new Date(ms);
  if (spacingMs >= 360 * 864e5) return String(d.getUTCFullYear());
  if (spacingMs >= 28 * 864e5) return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
  if (spacingMs >= 864e5 || midnight) return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/**
 * Epoch milliseconds of an RFC 3339 string, a number (seconds or ms) or a Date; NaN otherwise.
 * @param {string|number|Date} value
 */
export function toMillis(value) {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string' && value) {
    if (/^\d+$/.test(value)) return toMillis(Number(value));
    return Date.parse(value);
  }
  return NaN;
}

/**
 * Calls `onSize(width, height)` now and whenever the element's content box changes size,
 * coalesced to one call per animation frame.
 * @param {Element} el
 * @param {(width: number, height: number) => void} onSize
 * @returns {() => void} stops observing
 */
export function observeSize(el, onSize) {
  let frame = 0;
  const fire = () => {
    frame = 0;
    const box = el.getBoundingClientRect();
    onSize(Math.floor(box.width), Math.floor(box.height));
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(fire); };
  const observer = new ResizeObserver(schedule);
  observer.observe(el);
  schedule();
  return () => { observer.disconnect(); if (frame) cancelAnimationFrame(frame); };
}

/**
 * Runs `draw` at most once per animation frame however often `request()` is called.
 * @param {() => void} draw
 * @returns {{request: () => void, cancel: () => void}}
 */
export function frameScheduler(draw) {
  let frame = 0;
  return {
    request() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); },
    cancel() { if (frame) cancelAnimationFrame(frame); frame = 0; },
  };
}
