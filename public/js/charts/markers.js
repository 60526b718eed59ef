// Signal and trade markers drawn over the candlestick chart: buy/sell triangles for signals,
// entry/exit glyphs for trades. Each marker is placed on the bar whose open time contains its time.

import { svgEl } from './svg.js';
import { fmtTime } from '../ui.js';

/**
 * Index of the last time in the sorted `times` that is ≤ `t`, or -1 when `t` is before all of them.
 * @param {number[]} times ascending epoch ms
 * @param {number} t epoch ms
 */
export function barIndexAt(times, t) {
  let lo = 0, hi = times.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function addTitle(el, text) {
  svgEl('title', {}, el).textContent = text;
}

/**
 * Redraws the signal markers: a triangle under the bar's low pointing up for a buy, over the
 * bar's high pointing down for a sell. Markers outside the visible bars are skipped.
 * @param {SVGGElement} layer emptied and refilled
 * @param {Array<{time: number, side: string, price?: number, label?: string}>} signals
 * @param {{bars: Array<{time:number, high:number, low:number}>, times: number[], x: Function,
 *          y: Function, size: number}} view the visible bars and scales
 */
export function drawSignalMarkers(layer, signals, view) {
  layer.replaceChildren();
  const s = view.size;
  for (const sig of signals) {
    const i = barIndexAt(view.times, sig.time);
    if (i < 0 || (i === view.times.length - 1 && sig.time > view.lastEnd)) continue;
    const bar = view.bars[i];
    const x = view.x(i);
    const buy = String(sig.side).toUpperCase() !== 'SELL';
    const tip = buy ? view.y(bar.low) + 4 : view.y(bar.high) - 4;
    const base = buy ? tip + s : tip - s;
    const d = `M${x},${tip}L${x - s * 0.7},${base}L${x + s * 0.7},${base}Z`;
    const marker = svgEl('path', {
      d, class: `signal-marker ${buy ? 'buy' : 'sell'}${sig.approved === false ? ' rejected' : ''}`,
      'data-testid': 'signal-marker', 'data-signal-id': sig.id ?? '',
    }, layer);
    addTitle(marker, sig.label || `${buy ? 'BUY' : 'SELL'} signal ${fmtTime(sig.time, 'plain')}`);
  }
}

/**
 * Redraws the trade markers: a circle at the entry price, a square at the exit price, joined by a
 * dashed line when both ends are visible.
 * @param {SVGGElement} layer emptied and refilled
 * @param {Array<{entryTime: number, entryPrice: number, exitTime?: number, exitPrice?: number,
 *          side?: string, pnl?: number, label?: string, id?: string|number}>} trades
 * @param {object} view as for drawSignalMarkers
 */
export function drawTradeMarkers(layer, trades, view) {
  layer.replaceChildren();
  const r = Math.max(3, Math.min(6, view.size * 0.6));
  const visible = (t) => {
    const i = barIndexAt(view.times, t);
    return i >= 0 && !(i === view.times.length - 1 && t > view.lastEnd) ? i : -1;
  };
  for (const trade of trades) {
    const ei = visible(trade.entryTime);
    const xi = isFinite(trade.exitTime) ? visible(trade.exitTime) : -1;
    const win = trade.pnl === undefined || trade.pnl === null ? '' : trade.pnl >= 0 ? ' win' : ' loss';
    if (ei >= 0 && xi >= 0) {
      svgEl('line', {
        class: `trade-link${win}`, x1: view.x(ei), y1: view.y(trade.entryPrice),
        x2: view.x(xi), y2: view.y(trade.exitPrice),
      }, layer);
    }
    if (ei >= 0) {
      const m = svgEl('circle', {
        cx: view.x(ei), cy: view.y(trade.entryPrice), r,
        class: 'trade-marker entry', 'data-testid': 'trade-marker', 'data-trade-id': trade.id ?? '',
      }, layer);
      addTitle(m, `${trade.label || 'Trade'}: entry ${trade.side || ''} at ${trade.entryPrice}`);
    }
    if (xi >= 0 && isFinite(trade.exitPrice)) {
      const x = view.x(xi), y = view.y(trade.exitPrice);
      const m = svgEl('rect', {
        x: x - r, y: y - r, width: 2 * r, height: 2 * r,
        class: `trade-marker exit${win}`, 'data-testid': 'trade-marker', 'data-trade-id': trade.id ?? '',
      }, layer);
      const pnl = trade.pnl === undefined || trade.pnl === null ? '' : `, pnl ${Number(trade.pnl).toFixed(2)}`;
      addTitle(m, `${trade.label || 'Trade'}: exit at ${trade.exitPrice}${pnl}`);
    }
  }
}
