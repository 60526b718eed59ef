// What the history view shows of finished jobs besides a single report: an optimisation's ranked
// parameter sets (a heat map of the score when the grid has exactly two parameters, and for
// ADMIN "Deploy rank N" → POST /v1/engine/deploy, answering the new engine version and the keys
// it ignored), and 2–4 backtests compared (metrics side by side, equity curves overlaid).

import { el, replaceChildren, fmtNum, fmtPct, humanize, confirmDialog, errorText, signClass } from '../ui.js';
import { toMillis } from '../charts/svg.js';
import { createMultiLineChart } from '../charts/multi-line.js';
import { paramsText } from './engine.js';

const MAX_ROWS = 200;
const MAX_HEAT_CELLS = 400;

/** [label, field, formatter, lower is better] of the ranked table and the comparison. */
const METRICS = [
  ['ROI', 'roi', (v) => fmtPct(v), false],
  ['Sharpe', 'sharpe_ratio', (v) => fmtNum(v), false],
  ['Sortino', 'sortino_ratio', (v) => fmtNum(v), false],
  ['Max drawdown', 'max_drawdown', (v) => fmtPct(v), true],
  ['Win rate', 'win_rate', (v) => fmtPct(v), false],
  ['Profit factor', 'profit_factor', (v) => (v === null ? '– (no losses)' : fmtNum(v)), false],
  ['Expectancy', 'expectancy', (v) => fmtNum(v), false],
  ['Trades', 'total_trades', (v) => fmtNum(v, 0), null],
  ['Final balance', 'final_balance', (v) => fmtNum(v), false],
];
const RANKED = ['roi', 'sharpe_ratio', 'max_drawdown', 'win_rate', 'profit_factor', 'total_trades'];

const finite = (v) => v !== null && v !== undefined && Number.isFinite(Number(v));

/**
 * Renders an optimisation report (`results`, or `ranking` for walk-forward) into `box`.
 * @param {HTMLElement} box
 * @param {object} report the optimisation report
 * @param {{taskId: string, ctx: object}} o
 * @returns {() => void} disposes
 */
export function renderOptimization(box, report, o) {
  const walkForward = !Array.isArray(report.results) && Array.isArray(report.ranking);
  const results = (walkForward ? report.ranking : report.results) || [];
  const metric = report.metric || 'score';
  const result = el('div', { class: 'deploy-result', testid: 'opt-deploy-result', 'aria-live': 'polite', hidden: true });
  const facts = [report.strategy_name || report.strategy, report.market, report.method ? `${report.method} search` : null,
    walkForward ? 'walk-forward' : null, `ranked by ${humanize(metric)}${report.lower_is_better ? ' (lower is better)' : ''}`,
    `${fmtNum(report.evaluated ?? results.length, 0)} sets evaluated`, report.failed ? `${fmtNum(report.failed, 0)} failed` : null].filter(Boolean);
  const heat = walkForward ? null : heatMap(results, !!report.lower_is_better, metric);
  replaceChildren(box,
    el('p', { class: 'muted', testid: 'opt-facts', text: facts.join(' · ') }),
    o.ctx.can.admin ? null : el('p', { class: 'notice', testid: 'opt-deploy-note',
      text: `Deploying a parameter set to the live engine needs the ADMIN role (you are ${o.ctx.session.role}).` }),
    result,
    heat,
    rankedTable(results, walkForward, o.ctx.can.admin ? (rank) => deploy(o, rank, result) : null));
  return () => {};
}

/** ADMIN: asks, then `POST /v1/engine/deploy {task_id, rank}`; shows the new version or the refusal. */
async function deploy(o, rank, result) {
  const ok = await confirmDialog(`Deploy rank ${rank}?`,
    `The live engine takes the parameters of rank ${rank} of ${o.taskId} as a new version, on every gateway within 2 s.`, 'Deploy');
  if (!ok) return;
  result.hidden = false;
  replaceChildren(result, el('p', { class: 'muted', text: `Deploying rank ${rank}…` }));
  try {
    const answer = await o.ctx.api.post('/v1/engine/deploy', { task_id: o.taskId, rank });
    const config = answer.config || {};
    const source = config.source || {};
    const strategy = (config.strategies || []).find((s) => s.name === source.strategy);
    const ignored = answer.ignored || [];
    result.dataset.version = String(config.version);
    replaceChildren(result,
      el('p', { class: 'deploy-ok' }, el('strong', { testid: 'opt-deploy-version', text: `Version ${config.version} is live` }),
        `: rank ${rank}${strategy ? ` · ${strategy.name} ${paramsText(strategy.params)}` : ''}. `,
        el('a', { href: '#/engine', text: 'See the engine' })),
      el('p', { class: ignored.length ? 'notice' : 'muted small', testid: 'opt-deploy-ignored', dataset: { ignored: ignored.join(',') },
        text: ignored.length ? `Not part of the engine configuration, so not deployed: ${ignored.join(', ')}.` : 'Every parameter was deployed.' }));
    o.ctx.toast(`Rank ${rank} deployed: engine version ${config.version}.`, 'ok');
  } catch (err) {
    delete result.dataset.version;
    replaceChildren(result, el('p', { class: 'form-error', role: 'alert', testid: 'opt-deploy-error', text: `Not deployed: ${errorText(err)}` }));
  }
}

/** The ranked parameter sets, best first (at most MAX_ROWS), each with Deploy for ADMIN. */
function rankedTable(results, walkForward, onDeploy) {
  const cols = walkForward
    ? [['Mean out-of-sample', 'mean_out_of_sample', (v) => fmtNum(v, 3)], ['Mean in-sample', 'mean_in_sample', (v) => fmtNum(v, 3)],
      ['Folds won', 'folds_won', (v) => (Array.isArray(v) ? String(v.length) : '–')]]
    : [['Score', 'score', (v) => fmtNum(v, 3)], ...METRICS.filter(([, k]) => RANKED.includes(k))];
  // Phones keep rank, parameters, score and ROI; the other metrics are for wider screens.
  const narrow = (key) => (key === 'score' || key === 'roi' || key === 'mean_out_of_sample' ? '' : 'opt');
  const head = [['Rank', 'num'], ['Parameters', ''], ...cols.map(([label, key]) => [label, `num ${narrow(key)}`]), onDeploy ? ['', ''] : null]
    .filter((h) => h !== null);
  const rows = results.slice(0, MAX_ROWS).map((r, i) => {
    const rank = r.rank || i + 1;
    return el('tr', { testid: 'opt-row', dataset: { rank: String(rank) } },
      el('td', { class: 'num', text: String(rank) }),
      el('td', { class: 'opt-params', text: paramsText(r.parameters) }),
      cols.map(([, key, f]) => el('td', { class: `num ${narrow(key)} ${key === 'roi' ? signClass(r[key]) : ''}`, text: f(r[key]) })),
      onDeploy ? el('td', {}, el('button', { type: 'button', class: 'btn small', testid: 'opt-deploy', dataset: { rank: String(rank) },
        text: `Deploy rank ${rank}`, onclick: () => onDeploy(rank) })) : null);
  });
  return el('div', {},
    el('h3', { text: 'Ranked parameter sets' }),
    el('div', { class: 'table-wrap' }, el('table', { class: 'data compact opt-ranked', testid: 'opt-ranked' },
      el('caption', { class: 'visually-hidden', text: 'Parameter sets, best first' }),
      el('thead', {}, el('tr', {}, head.map(([h, cls]) => el('th', { scope: 'col', class: cls || undefined, text: h })))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: head.length, class: 'muted', text: 'No parameter set completed.' }))))),
    results.length > MAX_ROWS ? el('p', { class: 'muted', text: `The best ${MAX_ROWS} of ${results.length}; the CSV has them all.` }) : null);
}

/**
 * The score over a two-parameter grid: a cell per combination (x: the first varying parameter,
 * y: the second), coloured from worst to best; null when the search did not vary exactly two
 * parameters over a grid small enough to draw.
 */
function heatMap(results, lowerIsBetter, metric) {
  const keys = Object.keys((results[0] && results[0].parameters) || {});
  const values = new Map(keys.map((k) => [k, new Set()]));
  for (const r of results) for (const k of keys) values.get(k).add(r.parameters && r.parameters[k]);
  const varying = keys.filter((k) => values.get(k).size > 1);
  if (varying.length !== 2) return null;
  const [px, py] = varying;
  const sort = (set) => [...set].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const xs = sort(values.get(px)), ys = sort(values.get(py));
  if (xs.length * ys.length > MAX_HEAT_CELLS) return null;
  const score = new Map();
  for (const r of results) score.set(`${r.parameters[px]}|${r.parameters[py]}`, r);
  const scores = results.map((r) => r.score).filter(finite).map(Number);
  const lo = Math.min(...scores), hi = Math.max(...scores);
  const cell = (x, y) => {
    const r = score.get(`${x}|${y}`);
    const s = r && finite(r.score) ? Number(r.score) : null;
    const node = el('td', { class: 'heat-cell', testid: 'heat-cell', dataset: { x: String(x), y: String(y), score: s === null ? '' : String(s), rank: r ? String(r.rank || '') : '' },
      title: `${px} ${x}, ${py} ${y}: ${s === null ? 'no score' : fmtNum(s, 3)}${r && r.rank ? ` (rank ${r.rank})` : ''}`,
      text: s === null ? '–' : fmtNum(s, 2) });
    if (s !== null) {
      let q = hi > lo ? (s - lo) / (hi - lo) : 1;
      if (lowerIsBetter) q = 1 - q;
      node.style.backgroundColor = `hsl(${Math.round(q * 130)}, 55%, 42%)`;
      node.classList.add('scored');
      if (r.rank === 1) node.classList.add('best');
    }
    return node;
  };
  return el('div', { class: 'heat-wrap', testid: 'opt-heatmap', dataset: { x: px, y: py } },
    el('h3', { text: `${humanize(metric)} by ${px} and ${py}` }),
    el('div', { class: 'table-wrap' }, el('table', { class: 'heat-map' },
      el('caption', { class: 'visually-hidden', text: `${humanize(metric)} for each ${px} (columns) and ${py} (rows)` }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', class: 'heat-corner', text: `${py} ↓ · ${px} →` }),
        xs.map((x) => el('th', { scope: 'col', text: String(x) })))),
      el('tbody', {}, ys.map((y) => el('tr', {}, el('th', { scope: 'row', text: String(y) }), xs.map((x) => cell(x, y))))))),
    el('p', { class: 'muted small', text: `Green is the best ${humanize(metric).toLowerCase()}, red the worst; the outlined cell is rank 1.` }));
}

/**
 * 2–4 backtest reports compared: metrics side by side (the best of each row marked) and their
 * equity curves on one chart.
 * @param {HTMLElement} box
 * @param {Array<{id: string, report: object}>} reports
 * @returns {() => void} disposes the chart
 */
export function renderComparison(box, reports) {
  const name = (r) => `${r.id}${r.report.strategy_name ? ` · ${r.report.strategy_name}` : ''}`;
  const rows = METRICS.map(([label, key, f, lower]) => {
    const vals = reports.map((r) => r.report[key]);
    const nums = vals.filter(finite).map(Number);
    const best = lower === null || nums.length < 2 ? null : (lower ? Math.min(...nums) : Math.max(...nums));
    return el('tr', { dataset: { metric: key } }, el('th', { scope: 'row', text: label }),
      vals.map((v) => el('td', { class: `num ${best !== null && finite(v) && Number(v) === best ? 'best' : ''}`, text: f(v) })));
  });
  const params = el('tr', {}, el('th', { scope: 'row', text: 'Parameters' }),
    reports.map((r) => el('td', { class: 'opt-params', text: paramsText(r.report.parameters) })));
  const chartBox = el('div', { class: 'chart compare-chart-box' });
  replaceChildren(box,
    el('div', { class: 'table-wrap' }, el('table', { class: 'data compact compare-metrics', testid: 'compare-metrics' },
      el('caption', { class: 'visually-hidden', text: 'Metrics side by side; the best of each row is marked' }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Metric' }),
        reports.map((r, i) => el('th', { scope: 'col', class: 'num' }, el('span', { class: `swatch s${i}`, 'aria-hidden': 'true' }), name(r))))),
      el('tbody', {}, rows, params))),
    el('h3', { text: 'Equity curves' }),
    el('ul', { class: 'chart-key compare-key' }, reports.map((r, i) => el('li', {},
      el('span', { class: `swatch s${i}`, 'aria-hidden': 'true' }), name(r)))),
    chartBox);
  const chart = createMultiLineChart(chartBox, { testid: 'compare-chart', lineTestid: 'compare-curve', label: 'Equity curves of the compared backtests' });
  chart.setSeries(reports.map((r) => ({ name: r.id, points: (r.report.equity_curve || []).map(([t, v]) => [toMillis(t), +v]) })));
  return () => chart.dispose();
}
