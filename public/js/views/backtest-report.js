// Renders a completed backtest report (SPEC §8): headline figures, the metrics table, equity and
// drawdown charts, the trades table and the JSON/CSV export buttons.

import { createLineChart, drawdownSeries } from '../charts/line.js';
import { toMillis } from '../charts/svg.js';
import { el, fmtNumber, fmtPrice, fmtTime } from '../charts/dom.js';

const MAX_TRADE_ROWS = 1000;

/** [label, field, formatter] rows of the metrics table, in reading order. */
const METRICS = [
  ['Return on investment', 'roi', (v) => pct(v)],
  ['Annualised return', 'annualized_return', (v) => pct(v)],
  ['Initial balance', 'initial_balance', (v) => fmtNumber(v)],
  ['Final balance', 'final_balance', (v) => fmtNumber(v)],
  ['Max drawdown', 'max_drawdown', (v) => pct(v)],
  ['Max drawdown duration', 'max_drawdown_duration_bars', (v) => `${fmtNumber(v, 0)} bars`],
  ['Sharpe ratio', 'sharpe_ratio', (v) => fmtNumber(v)],
  ['Sortino ratio', 'sortino_ratio', (v) => fmtNumber(v)],
  ['Calmar ratio', 'calmar_ratio', (v) => fmtNumber(v)],
  ['Omega ratio', 'omega_ratio', (v) => fmtNumber(v)],
  ['Trades (won / lost)', 'total_trades', (v, r) => `${fmtNumber(v, 0)} (${fmtNumber(r.winning_trades, 0)} / ${fmtNumber(r.losing_trades, 0)})`],
  ['Win rate', 'win_rate', (v) => pct(v)],
  ['Profit factor', 'profit_factor', (v) => (v === null || v === undefined ? '– (no losses)' : fmtNumber(v))],
  ['Average win', 'avg_win', (v) => fmtNumber(v)],
  ['Average loss', 'avg_loss', (v) => fmtNumber(v)],
  ['Expectancy per trade', 'expectancy', (v) => fmtNumber(v)],
  ['Total commission', 'total_commission', (v) => fmtNumber(v)],
  ['Total slippage', 'total_slippage', (v) => fmtNumber(v)],
  ['Time in market', 'exposure_pct', (v) => pct(v)],
  ['Signals generated', 'signals_generated', (v) => fmtNumber(v, 0)],
];

function pct(v) { return v === null || v === undefined ? '–' : `${fmtNumber(v)} %`; }

function signClass(v) { return v > 0 ? 'pos' : v < 0 ? 'neg' : ''; }

function metricsTable(report) {
  const rows = METRICS.filter(([, key]) => key in report).map(([label, key, f]) =>
    el('tr', { 'data-metric': key }, el('th', { scope: 'row', text: label }),
      el('td', { class: `num ${key === 'roi' ? signClass(report.roi) : ''}`, text: f(report[key], report) })));
  const params = Object.entries(report.parameters || {}).map(([k, v]) => `${k} ${v}`).join(', ');
  const rejected = Object.entries(report.rejected_signals || {}).map(([k, v]) => `${k} ${v}`).join(', ');
  if (params) rows.push(el('tr', {}, el('th', { scope: 'row', text: 'Parameters' }), el('td', { text: params })));
  if (rejected) rows.push(el('tr', {}, el('th', { scope: 'row', text: 'Signals refused' }), el('td', { text: rejected })));
  return el('table', { class: 'metrics-table', testid: 'bt-metrics' },
    el('caption', { text: `${report.strategy_name} · ${fmtTime(report.start_date)} → ${fmtTime(report.end_date)} UTC` }),
    el('tbody', {}, rows));
}

function tradesTable(trades) {
  const head = ['#', 'Side', 'Entry (UTC)', 'Exit (UTC)', 'Entry', 'Exit', 'Size', 'P&L', 'Commission', 'Exit reason'];
  const body = trades.slice(0, MAX_TRADE_ROWS).map((t, i) => el('tr', { 'data-testid': 'bt-trade-row' },
    el('td', { class: 'num', text: i + 1 }), el('td', { text: t.side }),
    el('td', { text: fmtTime(t.entry_time) }), el('td', { text: fmtTime(t.exit_time) }),
    el('td', { class: 'num', text: fmtPrice(t.entry_price) }), el('td', { class: 'num', text: fmtPrice(t.exit_price) }),
    el('td', { class: 'num', text: fmtNumber(t.size, 4) }),
    el('td', { class: `num ${signClass(t.pnl)}`, text: fmtNumber(t.pnl) }),
    el('td', { class: 'num', text: fmtNumber(t.commission) }), el('td', { text: t.exit_reason })));
  const note = trades.length > MAX_TRADE_ROWS
    ? el('p', { class: 'muted', text: `Showing the first ${MAX_TRADE_ROWS} of ${trades.length} trades; the CSV export has them all.` }) : null;
  return el('div', { class: 'table-scroll' },
    el('table', { class: 'data compact trades-table', testid: 'bt-trades' },
      el('caption', { text: `Trades (${trades.length})` }),
      el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, body.length ? body : el('tr', {}, el('td', { colspan: head.length, class: 'muted', text: 'No trades.' })))),
    note);
}

/**
 * Renders `report` into `container` (replacing what was there).
 * @param {HTMLElement} container the `bt-report` element
 * @param {object} report the backtest report
 * @param {{taskId: string, download: (format: "json"|"csv") => void}} o
 * @returns {() => void} disposes the charts
 */
export function renderReport(container, report, o) {
  const equity = (report.equity_curve || []).map(([t, v]) => [toMillis(t), +v]);
  const equityBox = el('div', { class: 'chart chart-small' });
  const drawdownBox = el('div', { class: 'chart chart-small' });
  const roi = el('span', { class: `headline ${signClass(report.roi)}`, text: pct(report.roi) });
  container.replaceChildren(
    el('div', { class: 'report-head' },
      el('h3', {}, `Report ${o.taskId} `, roi),
      el('div', { class: 'report-actions' },
        el('button', { type: 'button', class: 'btn small', testid: 'bt-export-json', onclick: () => o.download('json'), text: 'Export JSON' }),
        el('button', { type: 'button', class: 'btn small', testid: 'bt-export-csv', onclick: () => o.download('csv'), text: 'Export CSV' }))),
    el('div', { class: 'report-grid' },
      metricsTable(report),
      el('div', { class: 'report-charts' },
        el('h4', { text: 'Equity' }), equityBox,
        el('h4', { text: 'Drawdown' }), drawdownBox)),
    tradesTable(report.trades || []));
  const equityChart = createLineChart(equityBox, { kind: 'equity', testid: 'equity-chart', format: (v) => fmtNumber(v) });
  const drawdownChart = createLineChart(drawdownBox, { kind: 'drawdown', testid: 'drawdown-chart', format: (v) => `${fmtNumber(v)} %` });
  equityChart.setData(equity);
  drawdownChart.setData(drawdownSeries(equity));
  return () => { equityChart.dispose(); drawdownChart.dispose(); };
}
