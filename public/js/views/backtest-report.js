// Renders a completed backtest report (SPEC §8): headline figures, the metrics table, equity and
// drawdown charts, the trades table and the JSON/CSV export buttons. A report run with a model and
// `"compare": ["rules_only"]` also gets rules only vs rules + ML side by side, with the difference,
// and both equity curves on one chart.

import { createLineChart, drawdownSeries } from '../charts/line.js';
import { toMillis } from '../charts/svg.js';
import { countLines, el, exitReasonLabel, replaceChildren, fmtNum, fmtPct, fmtPrice, fmtTime, signClass } from '../ui.js';

const MAX_TRADE_ROWS = 1000;

/** [label, field, formatter] rows of the metrics table, in reading order. */
const METRICS = [
  ['Return on investment', 'roi', (v) => fmtPct(v)],
  ['Annualised return', 'annualized_return', (v) => fmtPct(v)],
  ['Initial balance', 'initial_balance', (v) => fmtNum(v)],
  ['Final balance', 'final_balance', (v) => fmtNum(v)],
  ['Max drawdown', 'max_drawdown', (v) => fmtPct(v)],
  ['Max drawdown duration', 'max_drawdown_duration_bars', (v) => `${fmtNum(v, 0)} bars`],
  ['Sharpe ratio', 'sharpe_ratio', (v) => fmtNum(v)],
  ['Sortino ratio', 'sortino_ratio', (v) => fmtNum(v)],
  ['Calmar ratio', 'calmar_ratio', (v) => fmtNum(v)],
  ['Omega ratio', 'omega_ratio', (v) => fmtNum(v)],
  ['Trades (won / lost)', 'total_trades', (v, r) => `${fmtNum(v, 0)} (${fmtNum(r.winning_trades, 0)} / ${fmtNum(r.losing_trades, 0)})`],
  ['Win rate', 'win_rate', (v) => fmtPct(v)],
  ['Profit factor', 'profit_factor', (v) => (v === null || v === undefined ? '– (no losses)' : fmtNum(v))],
  ['Average win', 'avg_win', (v) => fmtNum(v)],
  ['Average loss', 'avg_loss', (v) => fmtNum(v)],
  ['Expectancy per trade', 'expectancy', (v) => fmtNum(v)],
  ['Total commission', 'total_commission', (v) => fmtNum(v)],
  ['Total slippage', 'total_slippage', (v) => fmtNum(v)],
  ['Time in market', 'exposure_pct', (v) => fmtPct(v)],
  ['Signals generated', 'signals_generated', (v) => fmtNum(v, 0)],
];

function metricsTable(report) {
  const rows = METRICS.filter(([, key]) => key in report).map(([label, key, f]) =>
    el('tr', { 'data-metric': key }, el('th', { scope: 'row', text: label }),
      el('td', { class: `num ${key === 'roi' ? signClass(report.roi) : ''}`, text: f(report[key], report) })));
  // Lists (parameters, refusals by reason) go one item a line: they stay inside the column.
  const params = Object.entries(report.parameters || {}).map(([k, v]) => `${k} = ${v}`);
  const rejected = countLines(report.rejected_signals);
  const listRow = (label, items) => el('tr', { class: 'metric-list-row' }, el('th', { scope: 'row', text: label }),
    el('td', {}, el('ul', { class: 'metric-list' }, items.map((text) => el('li', { text })))));
  if (params.length) rows.push(listRow('Parameters', params));
  if (rejected.length) rows.push(listRow('Signals refused', rejected));
  return el('table', { class: 'metrics-table', testid: 'bt-metrics' },
    el('caption', { text: `${report.strategy_name} · ${fmtTime(report.start_date, 'plain')} → ${fmtTime(report.end_date, 'plain')} UTC` }),
    el('tbody', {}, rows));
}

/** [label, field, formatter, lower-is-better] of the side-by-side comparison. */
const COMPARED = [
  ['Return on investment', 'roi', (v) => fmtPct(v), false],
  ['Final balance', 'final_balance', (v) => fmtNum(v), false],
  ['Max drawdown', 'max_drawdown', (v) => fmtPct(v), true],
  ['Sharpe ratio', 'sharpe_ratio', (v) => fmtNum(v), false],
  ['Sortino ratio', 'sortino_ratio', (v) => fmtNum(v), false],
  ['Profit factor', 'profit_factor', (v) => fmtNum(v), false],
  ['Win rate', 'win_rate', (v) => fmtPct(v), false],
  ['Expectancy per trade', 'expectancy', (v) => fmtNum(v), false],
  ['Trades', 'total_trades', (v) => fmtNum(v, 0), null],
  ['Signals generated', 'signals_generated', (v) => fmtNum(v, 0), null],
];

const finite = (v) => v !== null && v !== undefined && Number.isFinite(Number(v));

/**
 * Rules only vs rules + ML: one row per metric with both values and the difference (rules + ML
 * minus rules only), coloured by whether the model helped (`data-better`).
 */
function compareTable(report, rulesOnly) {
  const rows = COMPARED.filter(([, key]) => key in report || key in rulesOnly).map(([label, key, f, lower]) => {
    const a = rulesOnly[key];
    const b = report[key];
    const diff = finite(a) && finite(b) ? Number(b) - Number(a) : null;
    const better = diff === null || lower === null || diff === 0 ? null : lower ? diff < 0 : diff > 0;
    const diffText = diff === null ? '–' : `${diff > 0 ? '+' : ''}${key === 'total_trades' || key === 'signals_generated' ? fmtNum(diff, 0) : fmtNum(diff)}`
      + (key === 'roi' || key === 'max_drawdown' || key === 'win_rate' ? ' pts' : '');
    return el('tr', { 'data-metric': key, 'data-better': better === null ? '' : String(better) },
      el('th', { scope: 'row', text: label }),
      el('td', { class: 'num', text: f(a, rulesOnly) }),
      el('td', { class: 'num', text: f(b, report) }),
      el('td', { class: `num ${better === null ? '' : better ? 'pos' : 'neg'}`, text: diffText }));
  });
  return el('table', { class: 'metrics-table compare-table', testid: 'bt-compare-table' },
    el('caption', { text: 'Same bars, same costs: the difference is rules + ML minus rules only' }),
    el('thead', {}, el('tr', {}, ['Metric', 'Rules only', 'Rules + ML', 'Difference'].map((h, i) =>
      el('th', { scope: 'col', class: i ? 'num' : undefined, text: h })))),
    el('tbody', {}, rows));
}

/** The comparison section: heading naming the model, the table, and the verdict on ROI in words. */
function compareSection(report, rulesOnly) {
  const model = report.ml_model || 'the model';
  const a = rulesOnly.roi;
  const b = report.roi;
  let verdict = '';
  if (finite(a) && finite(b)) {
    verdict = Number(b) > Number(a) ? `With ${model} the run returned ${fmtNum(b - a)} percentage points more than rules only.`
      : Number(b) < Number(a) ? `With ${model} the run returned ${fmtNum(a - b)} percentage points less than rules only.`
        : `With ${model} the run returned the same as rules only.`;
  }
  return el('section', { class: 'bt-compare', testid: 'bt-compare', 'aria-label': 'Rules only vs rules + ML' },
    el('h4', { text: `Rules only vs rules + ML (${model})` }),
    el('div', { class: 'table-wrap' }, compareTable(report, rulesOnly)),
    verdict ? el('p', { class: 'compare-verdict', testid: 'bt-compare-verdict', text: verdict }) : null);
}

function tradesTable(trades) {
  const head = ['#', 'Side', 'Entry (UTC)', 'Exit (UTC)', 'Entry', 'Exit', 'Size', 'P&L', 'Commission', 'Exit reason'];
  const body = trades.slice(0, MAX_TRADE_ROWS).map((t, i) => el('tr', { 'data-testid': 'bt-trade-row' },
    el('td', { class: 'num', text: i + 1 }), el('td', { text: t.side }),
    el('td', { text: fmtTime(t.entry_time, 'plain') }), el('td', { text: fmtTime(t.exit_time, 'plain') }),
    el('td', { class: 'num', text: fmtPrice(t.entry_price) }), el('td', { class: 'num', text: fmtPrice(t.exit_price) }),
    el('td', { class: 'num', text: fmtNum(t.size, 4) }),
    el('td', { class: `num ${signClass(t.pnl)}`, text: fmtNum(t.pnl) }),
    el('td', { class: 'num', text: fmtNum(t.commission) }), el('td', { text: exitReasonLabel(t.exit_reason) })));
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
  const roi = el('span', { class: `headline ${signClass(report.roi)}`, text: fmtPct(report.roi) });
  const rulesOnly = report.compare && report.compare.rules_only && typeof report.compare.rules_only === 'object'
    ? report.compare.rules_only : null;
  const rulesEquity = rulesOnly ? (rulesOnly.equity_curve || []).map(([t, v]) => [toMillis(t), +v]) : [];
  const legend = rulesOnly ? el('p', { class: 'chart-key', testid: 'equity-legend' },
    el('span', {}, el('span', { class: 'key-line', 'aria-hidden': 'true' }), `Rules + ML (${report.ml_model || 'model'})`),
    rulesEquity.length ? el('span', {}, el('span', { class: 'key-line dashed', 'aria-hidden': 'true' }), 'Rules only (dashed)') : null) : null;
  replaceChildren(container,
    el('div', { class: 'report-head' },
      el('h3', { tabindex: -1 }, `Report ${o.taskId} `, roi, report.ml_model ? el('span', { class: 'report-model', testid: 'bt-report-model', text: ` with ${report.ml_model}` }) : null),
      el('div', { class: 'report-actions' },
        el('button', { type: 'button', class: 'btn small', testid: 'bt-export-json', onclick: () => o.download('json'), text: 'Export JSON' }),
        el('button', { type: 'button', class: 'btn small', testid: 'bt-export-csv', onclick: () => o.download('csv'), text: 'Export CSV' }))),
    rulesOnly ? compareSection(report, rulesOnly) : null,
    el('div', { class: 'report-grid' },
      metricsTable(report),
      el('div', { class: 'report-charts' },
        el('h4', { text: 'Equity' }), legend, equityBox,
        el('h4', { text: 'Drawdown' }), drawdownBox)),
    tradesTable(report.trades || []));
  const equityChart = createLineChart(equityBox, { kind: 'equity', testid: 'equity-chart', format: (v) => fmtNum(v) });
  const drawdownChart = createLineChart(drawdownBox, { kind: 'drawdown', testid: 'drawdown-chart', format: (v) => `${fmtNum(v)} %` });
  equityChart.setData(equity);
  if (rulesEquity.length) equityChart.setCompare(rulesEquity);
  drawdownChart.setData(drawdownSeries(equity));
  return () => { equityChart.dispose(); drawdownChart.dispose(); };
}
