// views/engine.js — the live engine's configuration (GET /v1/engine, SPEC §15): status and version,
// the strategies with their parameters and markets, the arbiter's weights and threshold, and the
// stored versions (GET /v1/engine/versions). ADMIN pauses and resumes the engine and edits the
// arbiter (POST /v1/engine/config); others see why they cannot. Live for TRADER+ through
// `engine.config_changed` on topic `risk` (any gateway's change); a VIEWER's page polls.

import {
  el, replaceChildren, fmtNum, fmtQty, fmtTime, table, td, confirmDialog, errorText,
} from '../ui.js';

const POLL_MS = 15000;
const VERSIONS_PAGE = 20;
const ARBITER_FIELDS = [
  ['rule_weight', 'Rule weight', { min: 0, max: 1, step: 0.05 }],
  ['ml_weight', 'ML weight', { min: 0, max: 1, step: 0.05 }],
  ['llm_weight', 'LLM weight', { min: 0, max: 1, step: 0.05 }],
  ['threshold', 'Threshold', { min: 0, max: 100, step: 1 }],
];

/**
 * Mounts the engine view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  let visible = true;
  let shownOnce = false;
  const status = createStatusPanel(ctx, (config) => show(config));
  const strategies = createStrategiesPanel();
  const arbiter = createArbiterPanel(ctx, (config) => show(config));
  const versions = createVersionsPanel(ctx);

  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Engine' }),
    el('p', { class: 'muted', text: 'What the live engine runs: strategies, parameters, arbiter, and whether it takes new entries. A change reaches every gateway within 2 s.' })),
  status.panel, el('div', { class: 'split even engine-grid' }, strategies.panel, arbiter.panel), versions.panel);

  let changes = 0; // configurations shown from answers and events, to tell a load overtaken by one

  /**
   * Shows a configuration (the answer of a change, an event, or a load): the newest version wins,
   * except that a load nothing overtook is the truth (the stored versions may have been removed,
   * back to the file's version 0).
   */
  function show(config, loadedAt = null) {
    if (!config || typeof config !== 'object') return;
    const older = status.version() !== null && Number(config.version) < status.version();
    if (older && (loadedAt === null || loadedAt !== changes)) return;
    if (loadedAt === null) changes += 1;
    status.render(config);
    strategies.render(config.strategies || []);
    arbiter.render(config.arbiter || {});
    versions.put(config);
  }

  async function load() {
    try {
      const at = changes;
      show(await ctx.api.get('/v1/engine'), at);
    } catch (err) {
      status.failed(err);
    }
  }

  const off = ctx.can.trade
    ? ctx.socket.subscribe('risk', (data) => {
      if (data && data.event_type === 'engine.config_changed' && data.config) show(data.config);
    }, { onReset: () => { load(); versions.reload(); } })
    : null;
  const poll = ctx.can.trade ? null : setInterval(() => { if (visible) { load(); } }, POLL_MS);

  load();
  versions.reload();
  return {
    show() { visible = true; if (shownOnce) { load(); versions.reload(); } shownOnce = true; },
    hide() { visible = false; },
    dispose() { if (off) off(); clearInterval(poll); },
  };
}

/** "Deployed from opt-… rank 2 (sma_cross on BTCUSDT)" for a configuration's `source`, or ''. */
export function sourceText(source) {
  if (!source || typeof source !== 'object') return '';
  const what = [source.strategy, source.market ? `on ${source.market}` : ''].filter(Boolean).join(' ');
  return `Deployed from ${source.task_id || 'an optimisation'}${source.rank ? ` rank ${source.rank}` : ''}${what ? ` (${what})` : ''}`;
}

/** `fast 5 · slow 50` for a parameter object. */
export function paramsText(params) {
  const entries = Object.entries(params || {});
  return entries.length ? entries.map(([k, v]) => `${k} ${typeof v === 'number' ? fmtQty(v) : v}`).join(' · ') : 'defaults';
}

/** The parameters as `name value` chips that wrap between parameters, never inside one. */
function paramChips(params) {
  const entries = Object.entries(params || {});
  if (!entries.length) return 'defaults';
  return el('span', { class: 'param-chips' }, entries.map(([k, v]) => el('span', { class: 'param-chip' },
    el('span', { class: 'muted', text: k }), ` ${typeof v === 'number' ? fmtQty(v) : v}`)));
}

/**
 * The status panel: running or paused, the version and who changed it when; ADMIN gets the pause
 * or resume button (asks first), others a note saying why they have none.
 * @param {object} ctx
 * @param {(config: object) => void} onConfig the answer of a pause or resume
 */
function createStatusPanel(ctx, onConfig) {
  const box = el('div', { class: 'engine-status', testid: 'engine-panel', 'aria-live': 'polite' },
    el('p', { class: 'muted', text: 'Loading…' }));
  const button = ctx.can.admin ? el('button', { type: 'button', class: 'btn', testid: 'engine-pause-toggle', hidden: true }) : null;
  const note = ctx.can.admin ? null : el('p', { class: 'notice', testid: 'engine-admin-note',
    text: `Pausing, resuming and changing the engine need the ADMIN role (you are ${ctx.session.role}).${ctx.can.trade ? '' : ' This page refreshes every 15 s; live updates need TRADER.'}` });
  const panel = el('div', { class: 'panel' }, el('div', { class: 'panel-head' }, el('h2', { text: 'Status' }), button), box, note);
  let current = null;

  if (button) {
    button.addEventListener('click', async () => {
      const pause = !current || current.status !== 'paused';
      const ok = await confirmDialog(pause ? 'Pause the engine?' : 'Resume the engine?',
        pause ? 'No new signal or entry until it is resumed. Bars are still read and open positions keep their stops, targets and trailing stops.'
          : 'The strategies will record signals and enter positions again from the next bar.',
        pause ? 'Pause' : 'Resume');
      if (!ok) return;
      button.disabled = true;
      try {
        const config = await ctx.api.post(`/v1/engine/${pause ? 'pause' : 'resume'}`);
        onConfig(config);
        ctx.toast(pause ? `Engine paused (version ${config.version}).` : `Engine resumed (version ${config.version}).`, 'ok');
      } catch (err) {
        ctx.toast(`Engine not changed: ${errorText(err)}`, 'error');
      } finally {
        button.disabled = false;
      }
    });
  }

  return {
    panel,

    /** The version shown (null before the first load). */
    version: () => (current ? Number(current.version) : null),

    render(config) {
      current = config;
      const paused = config.status === 'paused';
      const source = sourceText(config.source);
      replaceChildren(box,
        el('div', { class: 'engine-headline' },
          el('span', { class: `badge ${paused ? 'bad' : 'ok'}`, testid: 'engine-status', dataset: { status: config.status || '' },
            text: paused ? 'Paused: no new entries' : 'Running' }),
          el('span', { class: 'engine-version', testid: 'engine-version', dataset: { version: String(config.version) },
            text: `Version ${fmtNum(config.version, 0)}` })),
        el('p', { class: 'muted', testid: 'engine-updated',
          text: config.updated_by === 'config' && Number(config.version) === 0
            ? 'From the gateway\'s configuration file (no change stored yet).'
            : `Changed by ${config.updated_by || 'unknown'}${config.updated_at ? `, ${fmtTime(config.updated_at)}` : ''}.` }),
        source ? el('p', { testid: 'engine-source', text: `${source}.` }) : null);
      if (button) {
        button.hidden = false;
        button.dataset.action = paused ? 'resume' : 'pause';
        button.textContent = paused ? 'Resume engine' : 'Pause engine';
        button.className = paused ? 'btn primary' : 'btn danger';
      }
    },

    failed(err) {
      if (current) { ctx.toast(`Engine state not refreshed: ${errorText(err)}`, 'error'); return; }
      replaceChildren(box, el('p', { class: 'form-error', role: 'alert', testid: 'engine-error',
        text: `The engine configuration could not be loaded: ${errorText(err)}` }));
    },
  };
}

/** The strategies table: name, markets, parameters as the engine runs them. */
function createStrategiesPanel() {
  const { wrap, tbody } = table('Strategies', ['Strategy', 'Markets', 'Parameters'], { className: 'data compact engine-strategies', hideCaption: true });
  wrap.dataset.testid = 'engine-strategies';
  const empty = el('p', { class: 'empty', text: 'No strategy runs.', hidden: true });
  return {
    panel: el('div', { class: 'panel' }, el('h2', { text: 'Strategies' }), wrap, empty),
    render(list) {
      replaceChildren(tbody, list.map((s) => el('tr', { testid: 'engine-strategy', dataset: { name: s.name || '' } },
        td(el('strong', { text: s.name || '–' })),
        td((s.markets || []).map((m) => (m === '*' ? 'every market' : m)).join(', ') || '–'),
        td(paramChips(s.params), 'engine-params'))));
      empty.hidden = list.length > 0;
    },
  };
}

/**
 * The arbiter: weights and threshold; ADMIN edits them in a small form
 * (`POST /v1/engine/config {"arbiter": {...}}`), the server's message shown on refusal.
 * @param {object} ctx
 * @param {(config: object) => void} onConfig
 */
function createArbiterPanel(ctx, onConfig) {
  const inputs = new Map();
  const dl = el('dl', { class: 'kv', testid: 'engine-arbiter' });
  const error = el('p', { class: 'form-error', role: 'alert', testid: 'engine-arbiter-error', hidden: true });
  let form = null;
  let shown = {};
  if (ctx.can.admin) {
    const fields = ARBITER_FIELDS.map(([key, label, range]) => {
      const input = el('input', { type: 'number', id: `engine-arb-${key}`, testid: `engine-arbiter-${key}`, inputmode: 'decimal', ...range });
      inputs.set(key, input);
      return el('div', { class: 'field' }, el('label', { for: input.id, text: label }), input);
    });
    const save = el('button', { type: 'submit', class: 'btn primary', testid: 'engine-arbiter-save', text: 'Save arbiter' });
    form = el('form', { class: 'toolbar engine-arbiter-form', testid: 'engine-arbiter-form', novalidate: true,
      'aria-label': 'Arbiter weights and threshold' }, fields, save);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {};
      for (const [key, input] of inputs) {
        const text = input.value.trim();
        if (text === '') continue;
        body[key] = Number(text);
      }
      error.hidden = true;
      save.disabled = true;
      try {
        const config = await ctx.api.post('/v1/engine/config', { arbiter: body });
        onConfig(config);
        ctx.toast(`Arbiter saved (version ${config.version}).`, 'ok');
      } catch (err) {
        error.textContent = err && err.message ? err.message : errorText(err);
        error.hidden = false;
      } finally {
        save.disabled = false;
      }
    });
  }

  return {
    panel: el('div', { class: 'panel' }, el('h2', { text: 'Arbiter' }),
      el('p', { class: 'muted small', text: 'A signal is approved when the weighted score of its inputs reaches the threshold.' }),
      dl, form, error),
    render(arbiter) {
      replaceChildren(dl, ARBITER_FIELDS.flatMap(([key, label]) => [el('dt', { text: label }),
        el('dd', { dataset: { field: key }, text: fmtNum(arbiter[key], key === 'threshold' ? 0 : 2) })]));
      // The form follows the stored values unless the administrator is typing in it.
      if (form && !form.contains(document.activeElement)) {
        for (const [key, input] of inputs) if (arbiter[key] !== undefined && arbiter[key] !== shown[key]) input.value = String(arbiter[key]);
      }
      shown = { ...arbiter };
    },
  };
}

/**
 * What changed from `prev` to `c` in words: deployed from a result, paused or resumed, the arbiter's
 * values that moved, the strategies that came, went or changed parameters or markets.
 */
export function changeText(c, prev) {
  if (Number(c.version) === 0) return 'The configuration file';
  const source = sourceText(c.source);
  if (!prev) return source || (c.strategies || []).map((s) => s.name).join(', ');
  const parts = [];
  if (source && JSON.stringify(c.source) !== JSON.stringify(prev.source)) parts.push(source);
  if (c.status !== prev.status) parts.push(c.status === 'paused' ? 'Paused' : 'Resumed');
  const a = c.arbiter || {}, b = prev.arbiter || {};
  const moved = ARBITER_FIELDS.filter(([key]) => a[key] !== b[key]).map(([key, label]) => `${label.toLowerCase()} ${fmtQty(b[key])} → ${fmtQty(a[key])}`);
  if (moved.length) parts.push(`Arbiter: ${moved.join(', ')}`);
  if (!source) {
    const before = new Map((prev.strategies || []).map((x) => [x.name, JSON.stringify([x.params, x.markets])]));
    const after = new Map((c.strategies || []).map((x) => [x.name, JSON.stringify([x.params, x.markets])]));
    const changed = [...after].filter(([name, v]) => before.has(name) && before.get(name) !== v).map(([name]) => name);
    const added = [...after.keys()].filter((name) => !before.has(name));
    const removed = [...before.keys()].filter((name) => !after.has(name));
    if (changed.length) parts.push(`Changed ${changed.join(', ')}`);
    if (added.length) parts.push(`Added ${added.join(', ')}`);
    if (removed.length) parts.push(`Removed ${removed.join(', ')}`);
  }
  return parts.join('; ') || 'No change';
}

/** The stored versions, newest first, paged from `GET /v1/engine/versions`; new ones prepended. */
function createVersionsPanel(ctx) {
  const { wrap, tbody } = table('Versions, newest first', [{ label: 'Version', className: 'num' }, 'Status',
    { label: 'Changed by', className: 'opt' }, 'When (UTC)', 'What changed'], { className: 'data compact engine-versions', hideCaption: true });
  wrap.dataset.testid = 'engine-versions';
  const configs = new Map(); // version → configuration
  const count = el('span', { class: 'muted', role: 'status' });
  const older = el('button', { type: 'button', class: 'btn', testid: 'engine-versions-older', text: 'Show older', hidden: true });
  let total = 0;

  /** Redraws every row (a page holds tens of versions): each row says what changed from the one before. */
  function render() {
    const versions = [...configs.keys()].sort((x, y) => y - x);
    replaceChildren(tbody, versions.map((v) => {
      const c = configs.get(v);
      return el('tr', { testid: 'engine-version-row', dataset: { version: String(v) } },
        td(fmtNum(v, 0), 'num'), td(c.status === 'paused' ? 'Paused' : 'Running'),
        td(c.updated_by || '–', 'opt'), td(fmtTime(c.updated_at, 'plain')), td(changeText(c, configs.get(v - 1)), 'engine-what'));
    }));
    count.textContent = `${configs.size} of ${Math.max(total, configs.size)} shown`;
  }

  function put(c) {
    const v = Number(c.version);
    if (!Number.isFinite(v)) return;
    configs.set(v, c);
    render();
  }

  async function page(offset) {
    older.disabled = true;
    try {
      const answer = await ctx.api.get('/v1/engine/versions', { limit: VERSIONS_PAGE, offset });
      total = Number(answer.total) || 0;
      for (const c of answer.data || []) configs.set(Number(c.version), c);
      render();
      older.hidden = offset + (answer.data || []).length >= total || !(answer.data || []).length;
    } catch (err) {
      ctx.toast(`Engine versions could not be loaded: ${errorText(err)}`, 'error');
    } finally {
      older.disabled = false;
    }
  }
  let loaded = 0;
  older.addEventListener('click', () => { loaded += VERSIONS_PAGE; page(loaded); });

  return {
    panel: el('div', { class: 'panel' }, el('div', { class: 'panel-head' }, el('h2', { text: 'Versions' }), count),
      wrap, el('div', { class: 'actions' }, older)),
    put,
    reload: () => { loaded = 0; return page(0); },
  };
}
