// views/analytics.js — how the paper account has done (SPEC §15 analytics): the headline figures
// (net P&L, trades, win rate, profit factor), the equity curve at each day's end, daily P&L bars,
// and P&L by market, by strategy and by exit reason — all from the `/v1/stats/*` routes over one
// date range, so every figure adds up to the trade list. Downloads: signals, positions and trades
// as CSV over the same range. Live for TRADER+ (a position closing on topic `portfolio` reloads
// it); a VIEWER's page refreshes every 30 s while shown.

import {
  el, replaceChildren, fmtNum, fmtMoney, fmtPct, humanize, table, td, labelledSelect, debounce, errorText, signClass,
} from '../ui.js';
import { createLineChart } from '../charts/line.js';
import { createBarChart } from '../charts/bars.js';

const POLL_MS = 30000;
const DAY = 864e5;
const RANGES = [['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last 365 days'], ['', 'All time']];
const GROUPS = [ // the short tables side by side, then the markets (tens of rows) across
  ['strategy', 'by-strategy', 'By strategy', (k) => (k === 'manual' ? 'Manual entries' : k || '–')],
  ['exit_reason', 'by-exit-reason', 'By exit reason', (k) => humanize(k)],
  ['market', 'by-market', 'By market', (k) => k || '–'],
];

/**
 * Mounts the analytics view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  let visible = true;
  let shownOnce = false;
  let seq = 0;
  const range = labelledSelect('Period (UTC days)', RANGES, { id: 'analytics-range', testid: 'analytics-range' });
  range.select.value = '';
  const status = el('p', { class: 'muted', role: 'status', testid: 'analytics-status' });
  const figures = el('div', { class: 'figures', testid: 'analytics-figures' });
  const equityBox = el('div', { class: 'chart chart-small' });
  const dailyBox = el('div', { class: 'chart chart-small' });
  const groups = GROUPS.map(([key, path, title, label]) => createGroupTable(key, path, title, label));
  const downloads = createDownloads(ctx, () => period());

  root.append(
    el('div', { class: 'view-head' }, el('h1', { text: 'Analytics' }),
      el('p', { class: 'muted', text: 'The paper account\'s closed trades, by day, market, strategy and exit reason.' })),
    el('div', { class: 'panel' },
      el('div', { class: 'toolbar' }, range.field,
        el('button', { type: 'button', class: 'btn', testid: 'analytics-refresh', text: 'Refresh', onclick: () => load() }), status),
      figures,
      el('div', { class: 'split even analytics-charts' },
        el('div', {}, el('h3', { text: 'Equity at each day\'s end' }), equityBox),
        el('div', {}, el('h3', { text: 'Daily P&L' }), dailyBox))),
    el('div', { class: 'analytics-groups' }, groups.map((g) => g.panel)),
    downloads.panel);

  const equity = createLineChart(equityBox, { kind: 'equity', testid: 'analytics-equity-chart', label: 'Equity of the paper account at each day\'s end', format: (v) => fmtMoney(v) });
  const daily = createBarChart(dailyBox, { testid: 'analytics-daily-chart', barTestid: 'daily-bar', label: 'Net P&L per day', format: (v) => fmtMoney(v, true) });

  /** `{from?, to?}` of the chosen range (UTC dates; `to` is today, the whole day). */
  function period() {
    const days = Number(range.select.value);
    if (!days) return {};
    const today = new Date();
    const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - (days - 1) * DAY);
    return { from: from.toISOString().slice(0, 10), to: today.toISOString().slice(0, 10) };
  }

  async function load() {
    const mine = ++seq;
    const query = period();
    status.textContent = 'Loading…';
    try {
      const [day, ...byKey] = await Promise.all([
        ctx.api.get('/v1/stats/daily', query),
        ...GROUPS.map(([, path]) => ctx.api.get(`/v1/stats/${path}`, query)),
      ]);
      if (mine !== seq) return;
      const rows = day.data || [];
      // One piece per task (figures, each chart, each table): no task runs long with a year of
      // days and many markets.
      const steps = [
        () => renderFigures(figures, day.totals || {}, rows),
        () => equity.setData(equityPoints(rows)),
        () => daily.setData(rows.map((r) => [Date.parse(`${r.date}T00:00:00Z`), Number(r.pnl)])),
        ...groups.map((g, i) => () => g.render(byKey[i].data || [])),
      ];
      for (const [i, step] of steps.entries()) {
        if (i) await nextTask();
        if (mine !== seq) return;
        step();
      }
      status.textContent = `${fmtNum((day.totals || {}).trades, 0)} closed trades${query.from ? ` from ${query.from} to ${query.to}` : ''}.`;
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = '';
      replaceChildren(figures, el('p', { class: 'form-error', role: 'alert', testid: 'analytics-error',
        text: `Analytics could not be loaded: ${errorText(err)}` }));
    }
  }
  const loadSoon = debounce(load, 1000);
  range.select.addEventListener('change', () => load());

  // A closing position changes the figures: reload (at most once a second while they stream in).
  const off = ctx.can.trade
    ? ctx.socket.subscribe('portfolio', (data) => {
      if (data && data.event_type === 'portfolio.updated' && data.action === 'CLOSED') loadSoon();
    }, { onReset: () => loadSoon() })
    : null;
  const poll = ctx.can.trade ? null : setInterval(() => { if (visible) load(); }, POLL_MS);

  load();
  return {
    show() { visible = true; if (shownOnce) load(); shownOnce = true; },
    hide() { visible = false; },
    dispose() { if (off) off(); clearInterval(poll); loadSoon.cancel(); equity.dispose(); daily.dispose(); },
  };
}

/** Resolves in a later task (after the browser has had a chance to paint and handle input). */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The equity curve from daily rows: the balance before the first day, then each day's end. */
function equityPoints(rows) {
  if (!rows.length) return [];
  const first = Date.parse(`${rows[0].date}T00:00:00Z`);
  const points = [[first, Number(rows[0].equity) - Number(rows[0].pnl)]];
  for (const r of rows) points.push([Date.parse(`${r.date}T00:00:00Z`) + DAY - 6e4, Number(r.equity)]); // 23:59 of the day
  return points;
}

/** Headline figures of the range's totals. */
function renderFigures(box, t, rows) {
  const last = rows.length ? rows[rows.length - 1] : null;
  const figure = (label, value, testid, cls, note) => el('div', { class: 'figure' }, el('span', { class: 'figure-label', text: label }),
    el('span', { class: `figure-value ${cls || ''}`, testid, text: value }), note ? el('span', { class: 'figure-note', text: note }) : null);
  replaceChildren(box,
    figure('Net P&L', fmtMoney(t.pnl, true), 'analytics-pnl', signClass(t.pnl), `after ${fmtMoney(t.commission)} commission`),
    figure('Closed trades', fmtNum(t.trades, 0), 'analytics-trades', '', `${fmtNum(t.wins, 0)} won · ${fmtNum(t.losses, 0)} lost`),
    figure('Win rate', fmtPct(t.win_rate, 1), 'analytics-win-rate'),
    figure('Profit factor', t.profit_factor === null || t.profit_factor === undefined ? (t.trades ? '– (no losses)' : '–') : fmtNum(t.profit_factor),
      'analytics-profit-factor', '', `${fmtMoney(t.gross_profit)} won / ${fmtMoney(Math.abs(Number(t.gross_loss) || 0))} lost`),
    figure('Equity', last ? fmtMoney(last.equity) : '–', 'analytics-equity', '', last ? `at the end of ${last.date}` : 'no closed trade in the period'));
}

/**
 * One "P&L by …" table: a row per key with trades, win rate, profit factor and P&L, the P&L also
 * as a bar scaled to the largest absolute P&L of the table.
 */
function createGroupTable(key, path, title, label) {
  const { wrap, tbody } = table(title, [key === 'exit_reason' ? 'Exit reason' : humanize(key),
    { label: 'Trades', className: 'num' }, { label: 'Win rate', className: 'num' },
    { label: 'Profit factor', className: 'num opt' }, { label: 'P&L', className: 'num' }, { label: '', className: 'pnl-bar-col' }],
  { className: 'data compact', hideCaption: true });
  wrap.dataset.testid = `analytics-${path}`;
  const empty = el('p', { class: 'empty', text: 'No closed trade in the period.', hidden: true });
  return {
    panel: el('div', { class: `panel ${key === 'market' ? 'wide' : ''}` }, el('h2', { text: `P&L ${title.toLowerCase()}` }), wrap, empty),
    render(rows) {
      const max = Math.max(1e-9, ...rows.map((r) => Math.abs(Number(r.pnl) || 0)));
      const sorted = [...rows].sort((a, b) => Number(b.pnl) - Number(a.pnl));
      replaceChildren(tbody, sorted.map((r) => {
        const fill = el('span', { class: `pnl-fill ${signClass(r.pnl)}` });
        fill.style.width = `${(Math.abs(Number(r.pnl) || 0) / max) * 100}%`;
        return el('tr', { testid: 'analytics-row', dataset: { key: r[key] === null || r[key] === undefined ? '' : String(r[key]), pnl: String(r.pnl) } },
          td(label(r[key])), td(fmtNum(r.trades, 0), 'num'), td(fmtPct(r.win_rate, 1), 'num'),
          td(r.profit_factor === null || r.profit_factor === undefined ? '–' : fmtNum(r.profit_factor), 'num opt'),
          td(fmtMoney(r.pnl, true), `num ${signClass(r.pnl)}`),
          td(el('span', { class: 'pnl-bar', 'aria-hidden': 'true' }, fill), 'pnl-bar-col'));
      }));
      empty.hidden = rows.length > 0;
    },
  };
}

/** Signals, positions and trades as CSV (`/v1/<list>/export?format=csv`) over the chosen range. */
function createDownloads(ctx, period) {
  const note = el('p', { class: 'muted small', role: 'status', testid: 'analytics-export-status' });
  const button = (list, text) => el('button', { type: 'button', class: 'btn', testid: `export-${list}-csv`, text,
    onclick: async (event) => {
      const b = event.currentTarget;
      b.disabled = true;
      note.textContent = '';
      const query = new URLSearchParams({ format: 'csv', ...period() });
      try {
        await ctx.api.download(`/v1/${list}/export?${query}`, `${list}.csv`);
        note.textContent = `${humanize(list)} downloaded.`;
      } catch (err) {
        note.textContent = `${humanize(list)} not exported: ${err && err.message ? err.message : errorText(err)}`;
      } finally {
        b.disabled = false;
      }
    } });
  return {
    panel: el('div', { class: 'panel' }, el('h2', { text: 'Downloads' }),
      el('p', { class: 'muted small', text: 'CSV with a header row, newest first, over the period above (at most 10,000 rows).' }),
      el('div', { class: 'toolbar' }, button('signals', 'Signals CSV'), button('positions', 'Positions CSV'), button('trades', 'Trades CSV')),
      note),
  };
}
