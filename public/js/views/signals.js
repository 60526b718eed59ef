// views/signals.js — the live signals table (GET /v1/signals + topic `signals`), filtered and paged
// on the server (market, strategy, side, decision, bar dates: every matching signal the gateway
// holds, with the total), each signal's suggested weight as a bar, its ML score (colour band,
// model) and LLM sentiment, the estimate panel (GET /v1/positions/estimate) with the signal's
// explanation and the arbiter's inputs and weights (from `GET /v1/models`), and, for TRADER and
// ADMIN, "generate signal". With an LLM provider, the model's written explanation follows each
// signal as `signal.explained` on topic `signals`: it replaces the stored copy and, live, the one
// in the open panel. An explanation is untrusted text, rendered as safe Markdown (js/markdown.js:
// text nodes only). On phones the estimate panel is a sheet over the lower part of the screen:
// the table stays where the finger was.

import {
  el, append, clear, replaceChildren, fmtPrice, fmtQty, fmtMoney, fmtPct, fmtNum, fmtTime, humanize,
  table, td, timeCell, labelledSelect, setOptions, errorText, errorState,
} from '../ui.js';
import { marketOptions, withBars } from '../markets.js';
import { createFilterBar, fillMarkets, passes } from '../paging.js';
import { DEFAULT_ARBITER, arbiterSection, mlScoreCell } from '../ml.js';
import { sentimentBadge } from '../llm.js';
import { renderMarkdown } from '../markdown.js';
import { addManualEntry } from './manual-entry.js';

const MAX_ROWS = 300;
const PAGE = 50;

/**
 * Mounts the signals view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  let loading = null;
  let fetched = 0;      // rows the gateway answered for these filters (the next page's offset)
  let total = 0;        // signals the gateway holds that match the filters
  let seq = 0;          // the latest load: older answers are dropped
  const filters = createFilterBar('signal', [
    { name: 'market', label: 'Market', options: [['', 'All markets']] },
    { name: 'strategy', label: 'Strategy', options: [['', 'All strategies']] },
    { name: 'side', label: 'Side', options: [['', 'Both sides'], ['BUY', 'Buy'], ['SELL', 'Sell']] },
    { name: 'final_decision', hook: 'decision', label: 'Decision', options: [['', 'Any decision'], ['APPROVED', 'Approved'], ['REJECTED', 'Rejected']] },
    { name: 'from', label: 'Bars from (UTC)', date: true },
    { name: 'to', label: 'Bars to (UTC)', date: true },
  ], () => reload());
  let optionsShown = false;   // the market and strategy choices (asked again after a failed load)
  const fillOptions = () => Promise.all([fillMarkets(ctx, filters),
    ctx.api.get('/v1/strategies').then((r) => {
      filters.setOptions('strategy', [['', 'All strategies'], ...(r.data || r || []).map((x) => [x.name, x.name])]);
      return true;
    }).catch(() => false)]).then((done) => { optionsShown = done.every(Boolean); });
  fillOptions();
  const list = createSignalTable((id) => estimate.show(id));
  const estimate = createEstimatePanel(ctx, list);
  const error = errorState('signals-error', 'Signals', () => reload());
  const older = el('button', { type: 'button', class: 'btn', testid: 'signals-older', text: 'Show older', hidden: true,
    onclick: () => loadPage(true) });

  const listPanel = el('div', { class: 'panel' }, filters.node, list.count, error.node, list.wrap, list.empty,
    el('div', { class: 'actions' }, older));
  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Signals' }),
    el('p', { class: 'muted', text: 'Live from the strategies, newest first. Select a row (click, or Tab then ↑/↓ and Enter) for its estimate.' })));
  if (ctx.can.trade) root.append(generatePanel(ctx));
  root.append(el('div', { class: 'split' }, listPanel, estimate.panel));

  function showCount() {
    list.count.textContent = `Showing ${fmtNum(list.size(), 0)} of ${fmtNum(total, 0)}`;
    list.empty.textContent = Object.keys(filters.query()).length ? 'No signal matches these filters.'
      : 'No signals yet. They appear here as the strategies find them.';
    list.empty.hidden = list.size() > 0;
  }

  async function loadPage(more) {
    const mine = ++seq;
    older.disabled = true;
    try {
      const query = filters.query();
      const page = await ctx.api.get('/v1/signals', { ...query, limit: PAGE, offset: more ? fetched : 0 });
      if (mine !== seq) return;
      if (!optionsShown) fillOptions();
      error.hide();
      const rows = page.data || [];
      fetched = (more ? fetched : 0) + rows.length;
      for (const s of rows) if (s && s.id !== undefined && s.id !== null && passes(s, query, 'bar_time')) list.put(s);
      total = Number(page.total ?? fetched);
      older.hidden = rows.length < PAGE || fetched >= total;
      showCount();
    } catch (err) {
      if (mine !== seq) return;
      if (more) {
        ctx.toast(`Older signals could not be loaded: ${errorText(err)}`, 'error');
      } else {
        error.show(err);
        list.empty.hidden = true;
        list.count.textContent = '';
      }
    } finally {
      older.disabled = false;
    }
  }

  function reload() {
    list.clear();
    loading = loadPage(false);
    return loading;
  }

  /** A live signal: shown (and counted) when it matches the filters, like the gateway's list. */
  function arrived(s) {
    if (!s || s.id === undefined || s.id === null || !passes(s, filters.query(), 'bar_time')) return;
    if (!list.get(Number(s.id))) { total += 1; fetched += 1; } // the gateway's pages moved down by one
    list.put(s);
    showCount();
  }

  /** The model's explanation of a signal: it replaces the stored one, and the panel's when shown. */
  function explained(data) {
    const id = Number(data.signal_id);
    if (!Number.isFinite(id) || typeof data.explanation !== 'string') return;
    const s = list.get(id);
    if (s) list.put({ ...s, explanation: data.explanation });
    estimate.explained(id, data.explanation);
  }

  const unsubscribe = ctx.socket.subscribe('signals', (data) => {
    if (data && data.event_type === 'signal.created') arrived(data);
    if (data && data.event_type === 'signal.explained') explained(data);
  }, { onReset: () => reload() });

  reload();

  return {
    show() { if (!loading) reload(); },
    dispose() { unsubscribe(); estimate.dispose(); },
  };
}

/**
 * The signals table, newest first (at most `MAX_ROWS`): the count shown, the selected row, and a
 * roving tab stop (one row in the tab order; ↑/↓, Home and End move between the rows).
 * @param {(id: number) => void} onSelect a row was clicked or chosen with Enter/Space
 */
function createSignalTable(onSelect) {
  const signals = new Map();   // id → signal
  const rows = new Map();      // id → <tr>
  let selectedId = null;
  const count = el('span', { class: 'muted', role: 'status', testid: 'signal-count' });
  const empty = el('p', { class: 'empty', text: 'No signals yet. They appear here as the strategies find them.', hidden: true });
  const { wrap, tbody } = table('Signals, newest first', [
    'Bar (UTC)', 'Market', { label: 'Type', className: 'opt opt-wide' }, 'Side', 'Decision', { label: 'Entry', className: 'num' },
    { label: 'Stop', className: 'num opt' }, { label: 'Target', className: 'num opt' }, { label: 'Score', className: 'num' },
    { label: 'ML', className: 'num ml-col' }, { label: 'LLM', className: 'opt opt-wide' }, { label: 'Weight', className: 'opt' },
  ], { hideCaption: true, className: 'data signals-table' });
  // Phones show the decision as its mark (✓/✗): the header shrinks the same way.
  const decisionHead = [...wrap.querySelectorAll('th')].find((th) => th.textContent === 'Decision');
  replaceChildren(decisionHead, el('span', { class: 'long', text: 'Decision' }), el('span', { class: 'short', 'aria-hidden': 'true', text: 'OK' }));

  const allRows = () => [...tbody.rows];

  function fixTabStop(preferred) {
    const shown = allRows();
    const current = preferred || shown.find((tr) => tr.tabIndex === 0) || shown[0];
    for (const tr of tbody.rows) tr.tabIndex = tr === current ? 0 : -1;
  }

  tbody.addEventListener('keydown', (event) => {
    const keys = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
    if (!(event.key in keys) || !event.target.matches('tr')) return;
    event.preventDefault();
    const shown = allRows();
    const at = shown.indexOf(event.target);
    const step = keys[event.key];
    const next = shown[Math.max(0, Math.min(shown.length - 1, Number.isFinite(step) ? at + step : (step > 0 ? shown.length - 1 : 0)))];
    if (next) { fixTabStop(next); next.focus(); }
  });

  function put(s) {
    const id = Number(s.id);
    signals.set(id, s);
    const tr = signalRow(s, id === selectedId, () => onSelect(id));
    const old = rows.get(id);
    if (old) { tr.tabIndex = old.tabIndex; old.replaceWith(tr); rows.set(id, tr); return; }
    let before = null;
    for (const [otherId, otherRow] of rows) if (otherId < id && (!before || otherId > Number(before.dataset.signalId))) before = otherRow;
    tbody.insertBefore(tr, before);
    rows.set(id, tr);
    if (rows.size > MAX_ROWS) {
      const oldest = Math.min(...rows.keys());
      rows.get(oldest).remove();
      rows.delete(oldest);
      signals.delete(oldest);
    }
    fixTabStop();
  }

  return {
    wrap, count, empty,

    /** Adds a signal's row, or replaces the row of a known one. */
    put,

    /** How many signals are kept. */
    size: () => signals.size,

    /** The signal kept under `id`, if any. */
    get: (id) => signals.get(id),

    /** Forgets every signal and row (a reload follows). */
    clear() {
      signals.clear();
      rows.clear();
      clear(tbody);
    },

    /** Marks a row as selected (and the tab stop); returns its signal. */
    select(id) {
      selectedId = id;
      for (const [otherId, tr] of rows) tr.setAttribute('aria-selected', String(otherId === id));
      fixTabStop(rows.get(id));
      return signals.get(id);
    },

    /** Clears the selection and returns the row that had it (if still shown). */
    deselect() {
      const tr = rows.get(selectedId);
      selectedId = null;
      for (const row of rows.values()) row.setAttribute('aria-selected', 'false');
      return tr;
    },
  };
}

/**
 * The estimate panel beside the table: `show(id)` selects the signal's row and fills the panel
 * with `GET /v1/positions/estimate` and the signal's explanation; its close button hides it.
 * @param {object} ctx the view context
 * @param {ReturnType<typeof createSignalTable>} list
 */
function createEstimatePanel(ctx, list) {
  const panel = el('aside', { class: 'panel estimate-panel', testid: 'estimate-panel', 'aria-live': 'polite',
    'aria-label': 'Position estimate and explanation', hidden: true });
  let estimateSeq = 0;
  let shownId = null;

  function close() {
    panel.hidden = true;
    shownId = null;
    const tr = list.deselect();
    if (tr) tr.focus(); // back where the keyboard user was
  }

  // Esc closes the panel, wherever the focus is.
  const onKey = (event) => { if (event.key === 'Escape' && !panel.hidden) { event.preventDefault(); close(); } };
  document.addEventListener('keydown', onKey);

  async function show(id) {
    const s = list.select(id);
    const seq = ++estimateSeq;
    shownId = id;
    panel.hidden = false;
    replaceChildren(panel, el('h2', { text: `Signal #${id}` }), el('p', { class: 'muted', text: 'Estimating…' }));
    let answer = null;
    let failure = null;
    // The arbiter's weights and threshold come with the models list (SPEC §11).
    const weights = ctx.models()
      .then((r) => ({ arbiter: { ...DEFAULT_ARBITER, ...(r && r.arbiter) }, fromGateway: !!(r && r.arbiter) }))
      .catch(() => ({ arbiter: DEFAULT_ARBITER, fromGateway: false }));
    try {
      answer = await ctx.api.get('/v1/positions/estimate', { signal_id: id });
    } catch (err) {
      failure = err;
    }
    const arbiter = await weights;
    if (seq !== estimateSeq) return;
    renderEstimate(panel, list.get(id) || s, answer, failure, close, arbiter); // an explanation may have come meanwhile
    addManualEntry(panel, ctx, list.get(id) || s, answer); // TRADER+: open it by hand
  }

  /** A `signal.explained` event: the explanation shown for signal `id` (if it is the one open) is replaced. */
  function explained(id, text) {
    if (id !== shownId || panel.hidden) return;
    const node = panel.querySelector('[data-testid="signal-explanation"]');
    if (!node) return; // still estimating: the panel is drawn from the stored copy, already updated
    replaceChildren(node, renderMarkdown(text, { headingLevel: 4 }));
    node.dataset.source = 'llm';
    const note = panel.querySelector('[data-testid="signal-explanation-note"]');
    if (note) { note.hidden = false; note.textContent = 'Written by the LLM just now (replacing the template).'; }
  }

  return { panel, show, explained, dispose: () => document.removeEventListener('keydown', onKey) };
}

/** One table row for a signal; click, Enter or Space selects it. */
function signalRow(s, selected, onSelect) {
  const tr = el('tr', {
    class: 'signal-row selectable', tabindex: -1, testid: 'signal-row', 'aria-selected': String(selected),
    dataset: { signalId: String(s.id) }, title: 'Show the estimate for this signal',
  },
  td(timeCell(s.bar_time)),
  td([s.market || '–', ' ', el('span', { class: 'interval', text: s.interval || '' })]),
  td(humanize(s.signal_type), 'opt opt-wide'),
  td(el('span', { class: `side ${String(s.side).toLowerCase()}`, text: s.side || '–' })),
  td(decisionBadge(s.final_decision)),
  td(fmtPrice(s.entry_price), 'num'),
  td(fmtPrice(s.stop_loss_price), 'num opt'),
  td(fmtPrice(s.profit_target_price), 'num opt'),
  td(fmtNum(s.rule_engine_score, 0), 'num'),
  td(mlScoreCell(s.ml_confidence_score, s.ml_model), 'num ml-col'),
  td(sentimentBadge(s.llm_sentiment), 'opt opt-wide', { testid: 'llm-sentiment', dataset: { sentiment: s.llm_sentiment || '' } }),
  td(weightBar(s.suggested_position_weight), 'opt'));
  tr.addEventListener('mousedown', (event) => event.preventDefault()); // no focus scroll on click
  tr.addEventListener('click', onSelect);
  tr.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); onSelect(); }
  });
  return tr;
}

/** APPROVED/REJECTED as a badge; on phones only its mark (✓/✗) shows, the word stays for screen readers. */
function decisionBadge(decision) {
  const ok = decision === 'APPROVED';
  return el('span', { class: `badge ${ok ? 'ok' : 'bad'}` },
    el('span', { class: 'long', text: humanize(decision) }),
    el('span', { class: 'short', 'aria-hidden': 'true', text: ok ? '✓' : '✗' }));
}

/** The suggested position weight (0..1 or null) as a bar with its value in words. */
function weightBar(weight) {
  const has = weight !== null && weight !== undefined;
  const pct = has ? Math.max(0, Math.min(1, Number(weight))) * 100 : 0;
  const fill = el('span', { class: 'weight-fill' });
  fill.style.width = `${pct}%`;
  const label = has ? `${Math.round(pct)} %` : 'none';
  return el('span', { class: 'weight' },
    el('span', { class: 'weight-bar', testid: 'weight-bar', role: 'img', dataset: { weight: has ? String(weight) : '' },
      'aria-label': has ? `Suggested position weight ${Math.round(pct)} percent` : 'No suggested weight (fixed risk sizing)' }, fill),
    el('span', { class: 'weight-text', 'aria-hidden': 'true', text: label }));
}

/**
 * Fills the estimate panel: the estimate, the risk guard's reasons, the signal's explanation and
 * the arbiter's inputs (`arbiter`: `{arbiter, fromGateway}`).
 */
function renderEstimate(panel, s, e, failure, onClose, arbiter) {
  const close = el('button', { type: 'button', class: 'btn icon', 'aria-label': 'Close the estimate', text: '✕', onclick: onClose });
  const head = el('div', { class: 'panel-head' },
    el('h2', { text: s ? `Signal #${s.id} · ${s.market} ${s.interval || ''}` : 'Signal' }), close);
  const parts = [head];
  if (failure) {
    parts.push(el('p', { class: 'form-error', role: 'alert', text: `No estimate: ${errorText(failure)}` }));
  } else if (e) {
    const allowed = e.allowed === true;
    parts.push(el('h3', { text: 'If entered now' }), el('dl', { class: 'kv' },
      el('dt', { text: 'Size' }), el('dd', { testid: 'estimate-size', text: fmtQty(e.estimated_position_size) }),
      el('dt', { text: 'Cost' }), el('dd', { testid: 'estimate-cost', text: fmtMoney(e.estimated_cost) }),
      el('dt', { text: 'Risk at the stop' }), el('dd', { testid: 'estimate-risk', text: `${fmtPct(e.risk_percentage)} of balance` }),
      el('dt', { text: 'Weight used' }), el('dd', { text: e.position_weight_used === null || e.position_weight_used === undefined
        ? 'fixed risk' : fmtPct(e.position_weight_used * 100, 0) }),
      el('dt', { text: 'Allowed' }), el('dd', { testid: 'estimate-allowed', dataset: { allowed: String(allowed) } },
        el('span', { class: `badge ${allowed ? 'ok' : 'bad'}`, text: allowed ? 'Yes' : 'No' }))));
    const reasons = e.reasons || [];
    const list = el('div', { testid: 'estimate-reasons', class: 'reasons' });
    if (!reasons.length) list.append(el('p', { class: 'muted', text: 'The risk guard has no objection.' }));
    else {
      list.append(el('p', { text: 'The risk guard would refuse it:' }));
      list.append(el('ul', {}, reasons.map((r) => el('li', {},
        el('span', { text: r.message || humanize(r.code) }),
        el('span', { class: 'muted', text: ` (${r.code}${r.value !== undefined && r.value !== null ? `: ${fmtNum(r.value, 4)}` : ''}${r.limit !== undefined && r.limit !== null ? ` vs limit ${fmtNum(r.limit, 4)}` : ''})` })))));
    }
    parts.push(list);
  }
  if (s) parts.push(...explanation(s), ...arbiterSection(s, arbiter));
  replaceChildren(panel, ...parts);
  close.focus({ preventScroll: true });
}

/** The signal's own fields in words. */
function explanation(s) {
  const dl = el('dl', { class: 'kv' });
  const add = (k, v) => append(dl, el('dt', { text: k }), el('dd', { text: v }));
  add('Strategy', s.strategy || '–');
  add('Type / side', `${humanize(s.signal_type)} · ${s.side || '–'}`);
  add('Entry / stop / target', `${fmtPrice(s.entry_price)} / ${fmtPrice(s.stop_loss_price)} / ${fmtPrice(s.profit_target_price)}`);
  add('Risk unit R', fmtPrice(s.risk_unit_r));
  add('Suggested weight', s.suggested_position_weight === null || s.suggested_position_weight === undefined
    ? 'none (fixed risk)' : fmtPct(s.suggested_position_weight * 100, 0));
  add('Decision', humanize(s.final_decision));
  add('Bar time', fmtTime(s.bar_time));
  add('Created', fmtTime(s.created_at));
  return [el('h3', { text: 'Why this signal' }),
    el('div', { class: 'explanation', testid: 'signal-explanation', 'aria-live': 'polite' },
      s.explanation ? renderMarkdown(s.explanation, { headingLevel: 4 }) : el('p', { class: 'muted', text: 'No explanation recorded.' })),
    el('p', { class: 'muted small', testid: 'signal-explanation-note', hidden: true }), dl];
}

/** TRADER+: run the strategies on the latest bars of a market now. */
function generatePanel(ctx) {
  const market = labelledSelect('Market', [], { id: 'gen-market', testid: 'generate-market', required: true });
  const interval = labelledSelect('Interval', [], { id: 'gen-interval', testid: 'generate-interval', required: true });
  const force = el('input', { type: 'checkbox', id: 'gen-force', testid: 'generate-force' });
  const button = el('button', { type: 'submit', class: 'btn primary', testid: 'generate-signal', text: 'Generate signal' });
  const result = el('div', { class: 'generate-result', testid: 'generate-result', 'aria-live': 'polite' });
  let markets = [];

  const fillIntervals = () => {
    const m = markets.find((x) => x.market === market.select.value);
    setOptions(interval.select, (m ? m.intervals : []).map((i) => [i.interval, i.interval]));
  };
  market.select.addEventListener('change', fillIntervals);
  let retry = null;
  const load = (fresh) => ctx.markets(fresh).then((list) => {
    markets = withBars(list);
    setOptions(market.select, marketOptions(markets));
    fillIntervals();
    button.disabled = !markets.length;
    if (markets.length) { if (result.dataset.empty) { result.textContent = ''; delete result.dataset.empty; } return; }
    result.textContent = 'No market has bars yet.';
    result.dataset.empty = '1';
    if (document.contains(result) || !retry) retry = setTimeout(() => load(true), 10000); // bars may come later
  }).catch((err) => { result.textContent = `Markets could not be loaded: ${errorText(err)}`; });
  load(false);

  const form = el('form', { class: 'toolbar generate', 'aria-label': 'Generate a signal now' },
    market.field, interval.field,
    el('div', { class: 'check' }, force, el('label', { for: 'gen-force', text: 'Show each strategy\'s decision' })),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!market.select.value || !interval.select.value) { result.textContent = 'Pick a market and an interval.'; return; }
    button.disabled = true;
    replaceChildren(result, el('span', { class: 'muted', text: 'Running the strategies…' }));
    try {
      const r = await ctx.api.post('/v1/signals/generate',
        { market: market.select.value, interval: interval.select.value, force_analysis: force.checked });
      renderGenerated(result, r);
    } catch (err) {
      replaceChildren(result, el('p', { class: 'form-error', role: 'alert', text: errorText(err) }));
    } finally {
      button.disabled = false;
    }
  });
  return el('div', { class: 'panel' }, el('h2', { text: 'Generate a signal now' }), form, result);
}

function renderGenerated(node, r) {
  const parts = [];
  if (r.signal) {
    const s = r.signal;
    parts.push(el('p', {},
      el('strong', { text: `Signal #${s.id}: ${humanize(s.signal_type)} ${s.side} at ${fmtPrice(s.entry_price)}` }),
      ` — ${humanize(s.final_decision)}${r.created === false ? ' (already recorded for this bar)' : ''}. `,
      el('span', { class: 'muted', text: s.explanation || '' })));
  } else {
    parts.push(el('p', {}, el('strong', { text: 'No signal. ' }), r.reason || 'No strategy wants to enter on the latest bar.'));
  }
  if (r.bar_time) parts.push(el('p', { class: 'muted', text: `${r.market} ${r.interval}, latest bar ${fmtTime(r.bar_time)}` }));
  if (Array.isArray(r.analysis) && r.analysis.length) {
    parts.push(el('ul', { class: 'analysis' }, r.analysis.map((a) => el('li', {},
      el('strong', { text: a.strategy }), `: ${a.decision}${a.reason ? ` — ${a.reason}` : ''}`))));
  }
  replaceChildren(node, ...parts);
}
