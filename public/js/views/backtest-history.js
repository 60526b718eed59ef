// views/backtest-history.js — past backtests and optimisations, kept by the gateway so they survive
// a reload (`GET /v1/backtest/jobs`, SPEC §4 pages, newest first): open a report, download it
// (CSV, JSON, PDF), pick 2–4 completed backtests to compare (optimize-results.js draws the
// comparison), or open an optimisation's ranked results (with the heat map and, for ADMIN,
// "Deploy rank N"). A report can also be opened by its task id (shared by a colleague).

import { el, replaceChildren, fmtNum, fmtPct, fmtTime, humanize, table, td, labelledSelect, errorText, signClass } from '../ui.js';
import { renderReport } from './backtest-report.js';
import { renderComparison, renderOptimization } from './optimize-results.js';

const PAGE = 50;
const ROWS_PER_TASK = 10; // a page is drawn 10 rows per task, so no task runs long
const MAX_COMPARE = 4;
const FORMATS = ['csv', 'json', 'pdf'];
const KIND_NAMES = { backtest: 'Backtest', optimize: 'Optimisation', train: 'Model training' };

/**
 * What a job ran, from its `summary` (the request: strategy, market or dataset, for a search the
 * method and the parameters searched; a training's model once made).
 */
export function summaryText(job) {
  const s = job.summary;
  if (!s || typeof s !== 'object') return typeof s === 'string' ? s : '';
  const data = s.market ? `${s.market}${s.interval ? ` ${s.interval}` : ''}` : s.dataset;
  const search = job.kind === 'optimize'
    ? `${s.method || 'grid'} search${Array.isArray(s.grid) && s.grid.length ? ` over ${s.grid.join(', ')}` : ''}` : null;
  const model = job.kind === 'train' && job.metrics && job.metrics.model ? `→ ${job.metrics.model}` : s.ml_model ? `with ${s.ml_model}` : null;
  return [s.strategy, data, search, model].filter(Boolean).join(' · ');
}

/**
 * Mounts the backtest history view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const detail = el('section', { class: 'panel history-detail', testid: 'history-detail', 'aria-label': 'Selected report', hidden: true });
  let disposeDetail = null;
  let openSeq = 0;

  const download = (id, format) => ctx.api.download(`/v1/backtest/report/${encodeURIComponent(id)}/export?format=${format}`,
    `${id}.${format}`).catch((err) => ctx.toast(`Download failed: ${errorText(err)}`, 'error'));
  const jobs = createJobList(ctx, { open: (job) => open(job.task_id, job.kind), download, compare: (ids) => compare(ids) });

  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Backtest history' }),
    el('p', { class: 'muted', text: 'Backtests and optimisations kept by the gateway (7 days), newest first. Open one, download it, or pick 2 to 4 backtests to compare.' })),
  jobs.panel, detail);

  /** Opens what the address names (after a reload, or a link someone shared). */
  function reopen() {
    const what = named();
    if (what && what.compare) compare(what.compare);
    else if (what) open(what.id);
  }

  function showDetail(title, ...parts) {
    if (disposeDetail) { disposeDetail(); disposeDetail = null; }
    detail.hidden = false;
    replaceChildren(detail, el('div', { class: 'panel-head' }, el('h2', { text: title }),
      el('button', { type: 'button', class: 'btn icon', 'aria-label': 'Close', text: '✕', onclick: closeDetail })), ...parts);
    detail.scrollIntoView({ block: 'start' });
  }

  function closeDetail() {
    if (disposeDetail) { disposeDetail(); disposeDetail = null; }
    detail.hidden = true;
    openSeq += 1;
    remember('');
  }

  /** Opens a job's report: an optimisation's ranked results, or a backtest's report. */
  async function open(id, knownKind) {
    const mine = ++openSeq;
    remember(encodeURIComponent(id));
    showDetail(`Task ${id}`, el('p', { class: 'muted', text: 'Loading the report…' }));
    let report;
    try {
      report = await ctx.api.get(`/v1/backtest/report/${encodeURIComponent(id)}`);
    } catch (err) {
      if (mine !== openSeq) return;
      showDetail(`Task ${id}`, el('p', { class: 'form-error', role: 'alert', testid: 'history-detail-error', text: errorText(err) }));
      return;
    }
    if (mine !== openSeq) return;
    const kind = report.kind || knownKind;
    if (kind === 'optimize' || Array.isArray(report.results) || Array.isArray(report.ranking)) {
      const box = el('div', {});
      showDetail(`Optimisation ${id}`, downloadLinks(id, download), box);
      disposeDetail = renderOptimization(box, report, { taskId: id, ctx });
      return;
    }
    const box = el('div', { class: 'bt-report' });
    showDetail(`Backtest ${id}`, downloadLinks(id, download), box);
    disposeDetail = renderReport(box, report, { taskId: id, download: (format) => download(id, format) });
  }

  /** Compares 2–4 completed backtests: their reports fetched side by side. */
  async function compare(ids) {
    const mine = ++openSeq;
    remember(`compare/${ids.map(encodeURIComponent).join(',')}`);
    showDetail(`Comparing ${ids.length} backtests`, el('p', { class: 'muted', text: 'Loading the reports…' }));
    const reports = await Promise.all(ids.map((id) => ctx.api.get(`/v1/backtest/report/${encodeURIComponent(id)}`)
      .then((report) => ({ id, report }), (err) => ({ id, error: err }))));
    if (mine !== openSeq) return;
    const failed = reports.filter((r) => r.error);
    const box = el('div', {});
    showDetail(`Comparing ${ids.length} backtests`,
      failed.length ? el('p', { class: 'form-error', role: 'alert', text: failed.map((r) => `${r.id}: ${errorText(r.error)}`).join('; ') } ) : null, box);
    disposeDetail = renderComparison(box, reports.filter((r) => !r.error));
  }

  jobs.reload();
  reopen();
  return {
    show() { jobs.reload(); },
    dispose() { if (disposeDetail) disposeDetail(); },
  };
}

/** A finished job's actions: Open (Results for a search) and its downloads; a training links to Models. */
function rowActions(job, o) {
  if (job.status !== 'COMPLETED') return null;
  if (job.kind === 'train') return el('div', { class: 'row-actions' }, el('a', { class: 'btn small', href: '#/models', text: 'Models' }));
  return el('div', { class: 'row-actions' },
    el('button', { type: 'button', class: 'btn small', testid: 'history-open-row', text: job.kind === 'optimize' ? 'Results' : 'Open',
      onclick: () => o.open(job) }),
    FORMATS.map((f) => el('button', { type: 'button', class: 'btn small opt', testid: `history-row-${f}`, text: f.toUpperCase(),
      'aria-label': `Download ${job.task_id} as ${f.toUpperCase()}`, onclick: () => o.download(job.task_id, f) })));
}

/**
 * Keeps what is open in the address (`#/history/<task id>`, `#/history/compare/<id>,<id>`), so a
 * reload or a shared link opens it again; `''` for nothing open.
 */
function remember(what) {
  const hash = what ? `#/history/${what}` : '#/history';
  if (location.hash.startsWith('#/history') && location.hash !== hash) history.replaceState(null, '', hash);
}

/** The report or comparison named in the address, if any: `{id}` or `{compare: [ids]}`. */
function named() {
  const m = /^#\/history\/(.+)$/.exec(location.hash);
  if (!m) return null;
  if (m[1].startsWith('compare/')) {
    const ids = m[1].slice('compare/'.length).split(',').map(decodeURIComponent).filter(Boolean);
    return ids.length >= 2 && ids.length <= MAX_COMPARE ? { compare: ids } : null;
  }
  return { id: decodeURIComponent(m[1]) };
}

/** CSV · JSON · PDF download buttons for one report. */
function downloadLinks(id, download) {
  return el('div', { class: 'report-actions history-downloads', role: 'group', 'aria-label': `Download ${id}` },
    el('span', { class: 'muted small', text: 'Download' }),
    FORMATS.map((f) => el('button', { type: 'button', class: 'btn small', testid: `history-download-${f}`, text: f.toUpperCase(),
      onclick: () => download(id, f) })));
}

/**
 * The jobs table: a page of `GET /v1/backtest/jobs` (kind filter, pager), a checkbox per completed
 * backtest to compare (kept across pages, at most 4), Open per finished job, and "Open by task id".
 * @param {object} ctx
 * @param {{open: (job: object) => void, download: (id: string, format: string) => void,
 *          compare: (ids: string[]) => void}} o
 */
function createJobList(ctx, o) {
  const kind = labelledSelect('Kind', [['', 'Every kind'], ['backtest', 'Backtests'], ['optimize', 'Optimisations'], ['train', 'Model trainings']],
    { id: 'history-kind', testid: 'history-kind' });
  const idInput = el('input', { type: 'text', id: 'history-id', testid: 'history-open-id', placeholder: 'bt-… or opt-…', autocomplete: 'off', spellcheck: 'false' });
  const openById = el('form', { class: 'toolbar history-open-form', 'aria-label': 'Open a report by task id' },
    el('div', { class: 'field grow' }, el('label', { for: 'history-id', text: 'Open by task id' }), idInput),
    el('button', { type: 'submit', class: 'btn', testid: 'history-open', text: 'Open' }));
  openById.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = idInput.value.trim();
    if (id) o.open({ task_id: id });
  });
  const { wrap, tbody } = table('Jobs, newest first', [
    { label: 'Pick', className: 'pick-col' }, 'Task', { label: 'Status', className: 'opt' }, { label: 'Created (UTC)', className: 'opt' }, { label: 'Owner', className: 'opt' },
    { label: 'ROI', className: 'num' }, { label: 'Sharpe', className: 'num opt' }, { label: 'Max DD', className: 'num opt' },
    { label: 'Trades', className: 'num opt' }, '',
  ], { className: 'data compact history-table', hideCaption: true });
  wrap.dataset.testid = 'history-table';
  const message = el('p', { class: 'empty', testid: 'history-empty', hidden: true });
  const pageText = el('span', { class: 'muted', role: 'status', testid: 'history-page' });
  const prev = el('button', { type: 'button', class: 'btn', testid: 'history-prev', text: '← Newer', disabled: true });
  const next = el('button', { type: 'button', class: 'btn', testid: 'history-next', text: 'Older →', disabled: true });
  const picked = new Set();
  const pickedText = el('span', { class: 'muted', testid: 'history-picked', text: 'Pick 2 to 4 completed backtests to compare.' });
  const compareButton = el('button', { type: 'button', class: 'btn primary', testid: 'history-compare', text: 'Compare', disabled: true,
    onclick: () => o.compare([...picked]) });
  const compareBar = el('div', { class: 'compare-bar', hidden: true }, compareButton, pickedText);
  const pager = el('div', { class: 'actions pager', hidden: true }, pageText, prev, next);
  let offset = 0;
  let total = 0;
  let seq = 0;

  function updatePicked() {
    compareButton.disabled = picked.size < 2 || picked.size > MAX_COMPARE;
    compareButton.textContent = picked.size ? `Compare ${picked.size}` : 'Compare';
    pickedText.textContent = picked.size ? `Picked: ${[...picked].join(', ')}` : 'Pick 2 to 4 completed backtests to compare.';
    for (const box of tbody.querySelectorAll('input[type="checkbox"]')) box.disabled = !box.checked && picked.size >= MAX_COMPARE;
  }

  function row(job) {
    const done = job.status === 'COMPLETED';
    const m = job.metrics || {};
    const pick = job.kind === 'backtest' && done ? el('input', { type: 'checkbox', testid: 'history-pick', 'aria-label': `Compare ${job.task_id}` }) : null;
    if (pick) {
      pick.checked = picked.has(job.task_id);
      pick.addEventListener('change', () => {
        if (pick.checked) picked.add(job.task_id); else picked.delete(job.task_id);
        updatePicked();
      });
    }
    const progress = job.status === 'RUNNING' && typeof job.progress === 'number' ? ` ${Math.round(job.progress * 100)} %` : '';
    return el('tr', { testid: 'history-row', dataset: { taskId: job.task_id, kind: job.kind || '', status: job.status || '' } },
      td(pick, 'pick-col'),
      td(el('div', { class: 'history-task' }, el('span', { class: 'mono', text: job.task_id }),
        el('span', { class: 'muted small', text: [KIND_NAMES[job.kind] || humanize(job.kind), summaryText(job)].filter(Boolean).join(' · ') }),
        done ? null : el('span', { class: 'phone-only small', text: `${humanize(job.status)}${progress}` }))),
      td(el('span', { class: `badge ${done ? 'ok' : job.status === 'FAILED' ? 'bad' : ''}`, text: `${humanize(job.status)}${progress}` }), 'opt'),
      td(fmtTime(job.created_at, 'plain'), 'opt'), td(job.owner || '–', 'opt'),
      td(fmtPct(m.roi), `num ${signClass(m.roi)}`), td(fmtNum(m.sharpe_ratio), 'num opt'),
      td(fmtPct(m.max_drawdown), 'num opt'), td(fmtNum(m.total_trades, 0), 'num opt'),
      td(rowActions(job, o)));
  }

  async function load() {
    const mine = ++seq;
    prev.disabled = next.disabled = true;
    try {
      const answer = await ctx.api.get('/v1/backtest/jobs', { limit: PAGE, offset, kind: kind.select.value });
      if (mine !== seq) return;
      total = Number(answer.total) || 0;
      const list = answer.data || [];
      replaceChildren(tbody);
      for (let i = 0; i < list.length; i += ROWS_PER_TASK) {
        if (i) await new Promise((resolve) => setTimeout(resolve, 0));
        if (mine !== seq) return;
        tbody.append(...list.slice(i, i + ROWS_PER_TASK).map(row));
      }
      wrap.hidden = compareBar.hidden = pager.hidden = list.length === 0;
      message.hidden = list.length > 0;
      message.textContent = ctx.can.trade ? 'No backtest or optimisation yet. Run one on the Backtest view; it stays here for 7 days.'
        : 'No job of yours (running one needs the TRADER role). Open a report shared with you by its task id.';
      pageText.textContent = total ? `${fmtNum(offset + 1, 0)}–${fmtNum(offset + list.length, 0)} of ${fmtNum(total, 0)}` : '';
      prev.disabled = offset === 0;
      next.disabled = offset + list.length >= total;
      updatePicked();
    } catch (err) {
      if (mine !== seq) return;
      replaceChildren(tbody);
      wrap.hidden = compareBar.hidden = pager.hidden = true;
      message.hidden = false;
      message.textContent = `The job list could not be loaded: ${errorText(err)}. A report can still be opened by its task id.`;
      pageText.textContent = '';
    }
  }
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener('click', () => { offset += PAGE; load(); });
  kind.select.addEventListener('change', () => { offset = 0; load(); });

  return {
    panel: el('div', { class: 'panel' },
      el('div', { class: 'toolbar' }, kind.field, openById),
      compareBar, wrap, message,
      pager),
    reload: load,
  };
}
