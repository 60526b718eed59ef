// views/models.js — the model registry (SPEC §11): every version newest first with its dataset,
// walk-forward metrics next to the always-majority baseline, status, share of live traffic and
// live performance (`GET /v1/models/{name}/{version}/performance`); live from topic `models`
// (model.trained / model.deployed). ADMIN deploys with a share and imports XGBoost JSON files;
// TRADER and ADMIN train (models-train.js). What a role may not do is absent from the page.

import { el, append, replaceChildren, fmtNum, fmtPct, fmtTime, humanize, confirmDialog, debounce } from '../ui.js';
import { metricsVsBaseline, modelRef, plainError } from '../ml.js';
import { createTrainPanel } from './models-train.js';

const PERF_POLL_MS = 30000;
const MAX_PERF = 20;          // live performance is asked for the newest versions only
const AUC_AFTER = 20;         // SPEC §11: auc once 20 outcomes exist

/**
 * Mounts the models view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  let visible = true;
  let shownOnce = false;
  let loadSeq = 0;
  const status = el('p', { class: 'muted', testid: 'models-status', role: 'status', text: 'Loading models…' });
  const traffic = el('div', { class: 'panel', testid: 'models-traffic' });
  traffic.hidden = true;
  const list = el('div', { class: 'model-list', testid: 'model-list' });
  const versions = createVersionCards(ctx, () => load());
  const importPanel = ctx.can.admin ? createImportPanel(ctx, () => load()) : null;
  const trainPanel = ctx.can.trade ? createTrainPanel(ctx, () => load()) : null;

  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Models' }),
    el('p', { class: 'muted', text: 'ML confidence models: quality out of sample against the always-majority baseline, live traffic and live outcomes.' })));
  if (trainPanel || importPanel) {
    const buttons = [];
    if (trainPanel) buttons.push(toggleButton('models-train-open', 'Train a model', trainPanel.panel));
    if (importPanel) buttons.push(toggleButton('models-import-open', 'Import a model', importPanel.panel));
    root.append(el('div', { class: 'toolbar models-actions' }, buttons));
    append(root, trainPanel && trainPanel.panel, importPanel && importPanel.panel);
  }
  root.append(traffic, status, list);

  async function load() {
    const seq = ++loadSeq;
    let answer;
    try {
      answer = await ctx.models(true);
    } catch (err) {
      if (seq !== loadSeq) return;
      status.hidden = false;
      replaceChildren(status, el('span', { class: 'form-error', role: 'alert', testid: 'models-error',
        text: `The models could not be loaded. ${plainError(err)}` }), ' ',
      el('button', { type: 'button', class: 'btn small', testid: 'models-retry', text: 'Retry', onclick: () => load() }));
      return;
    }
    if (seq !== loadSeq) return;
    const models = sortNewestFirst((answer && answer.models) || []);
    renderTraffic(traffic, (answer && answer.traffic) || {});
    if (!models.length) {
      status.hidden = false;
      replaceChildren(status, el('span', { class: 'empty', testid: 'models-empty',
        text: ctx.can.trade ? 'No models yet. Train one here, import an XGBoost model (ADMIN), or use bedrock train.'
          : 'No models yet. A TRADER trains them and an ADMIN deploys them.' }));
    } else {
      status.hidden = true;
    }
    versions.render(list, models);
  }
  const loadSoon = debounce(load, 150);

  const off = ctx.socket.subscribe('models', (data) => {
    if (!data) return;
    if (data.event_type === 'model.trained' || data.event_type === 'model.deployed') loadSoon();
  }, { onReset: () => load() });
  const poll = setInterval(() => { if (visible) versions.refreshPerformance(); }, PERF_POLL_MS);
  load();

  return {
    show() { visible = true; if (shownOnce) load(); shownOnce = true; },
    hide() { visible = false; },
    dispose() { off(); clearInterval(poll); loadSoon.cancel(); if (trainPanel) trainPanel.dispose(); },
  };
}

/** A button that shows or hides a panel (`aria-expanded`); the panel starts hidden. */
function toggleButton(testid, text, panel) {
  panel.hidden = true;
  const button = el('button', { type: 'button', class: 'btn', testid, 'aria-expanded': 'false', text });
  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) { const first = panel.querySelector('input, select'); if (first) first.focus(); }
  });
  return button;
}

/** Newest first: by `created_at`, then by version number. */
function sortNewestFirst(models) {
  return [...models].sort((a, b) => (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0)
    || String(a.name).localeCompare(String(b.name)) || Number(b.version) - Number(a.version));
}

/** The live traffic split: one bar with a segment per deployed version, and its legend. */
function renderTraffic(panel, shares) {
  const entries = Object.entries(shares).filter(([, v]) => Number(v) > 0).sort(([a], [b]) => a.localeCompare(b));
  panel.hidden = false;
  if (!entries.length) {
    replaceChildren(panel, el('h2', { text: 'Live traffic' }),
      el('p', { class: 'muted', testid: 'traffic-none', text: 'No model is deployed: new signals carry no ML score, and the arbiter weighs the other inputs.' }));
    return;
  }
  const bar = el('div', { class: 'traffic-bar', role: 'img',
    'aria-label': entries.map(([ref, pct]) => `${ref} ${fmtNum(pct, 0)} percent`).join(', ') });
  const legend = el('ul', { class: 'traffic-legend' });
  entries.forEach(([ref, pct], i) => {
    const seg = el('span', { class: `traffic-seg c${i % 6}`, testid: 'traffic-share', dataset: { model: ref, share: String(pct) }, title: `${ref}: ${fmtNum(pct, 0)} %` });
    seg.style.width = `${Math.max(0, Math.min(100, Number(pct)))}%`;
    bar.append(seg);
    legend.append(el('li', {}, el('span', { class: `traffic-key c${i % 6}`, 'aria-hidden': 'true' }),
      el('span', { class: 'mono', text: ref }), ` ${fmtNum(pct, 0)} %`));
  });
  replaceChildren(panel, el('h2', { text: 'Live traffic' }),
    el('p', { class: 'muted', text: 'Each new live signal is scored by one deployed version, picked by these shares.' }), bar, legend);
}

/**
 * The version cards: `render(list, models)` rebuilds them (keeping each card's live performance
 * while it is fetched again), `refreshPerformance()` asks again for the newest versions'.
 * @param {object} ctx
 * @param {() => void} reload reloads the list (after a deploy)
 */
function createVersionCards(ctx, reload) {
  const perf = new Map();     // name@version → { box, answer }
  let shown = [];

  async function fetchPerformance(v) {
    const ref = modelRef(v);
    const entry = perf.get(ref);
    try {
      entry.answer = await ctx.api.get(`/v1/models/${encodeURIComponent(v.name)}/${encodeURIComponent(v.version)}/performance`);
      entry.error = null;
    } catch (err) {
      entry.error = err;
    }
    if (perf.get(ref) === entry) renderPerformance(entry);
  }

  return {
    render(list, models) {
      shown = models;
      const keep = new Map();
      const cards = models.map((v, i) => {
        const ref = modelRef(v);
        const entry = { box: el('div', { class: 'model-perf', testid: 'model-performance', dataset: { model: ref } }),
          answer: perf.has(ref) ? perf.get(ref).answer : null, error: null, fetched: i < MAX_PERF };
        keep.set(ref, entry);
        return versionCard(ctx, v, entry, reload);
      });
      perf.clear();
      for (const [k, e] of keep) perf.set(k, e);
      for (const e of perf.values()) renderPerformance(e);
      replaceChildren(list, ...cards);
      models.slice(0, MAX_PERF).forEach(fetchPerformance);
    },
    refreshPerformance() {
      shown.slice(0, MAX_PERF).forEach(fetchPerformance);
    },
  };
}

/** One version: heading, status and traffic, facts, metrics vs baseline, live performance, deploy. */
function versionCard(ctx, v, perfEntry, reload) {
  const ref = modelRef(v);
  const share = Number(v.traffic_percentage) || 0;
  const head = el('div', { class: 'model-head' },
    el('h2', { class: 'model-ref', testid: 'model-ref', text: ref }),
    el('span', { class: `badge status-${String(v.status).toLowerCase()}`, testid: 'model-status', text: humanize(v.status) }),
    el('span', { class: 'model-traffic', testid: 'model-traffic', dataset: { traffic: String(share) },
      text: v.status === 'deployed' ? `${fmtNum(share, 0)} % of live signals` : 'no live traffic' }));
  const facts = el('dl', { class: 'kv model-facts' });
  const add = (k, value, testid) => append(facts, el('dt', { text: k }), el('dd', { testid, text: value }));
  add('Created', fmtTime(v.created_at));
  add('Source', v.source === 'trained' ? 'trained by Bedrock' : v.source === 'imported' ? 'imported (XGBoost JSON)' : humanize(v.source));
  if (v.trees !== undefined && v.trees !== null) add('Trees', fmtNum(v.trees, 0));
  if (v.strategy) add('Strategy', paramsText(v.strategy, v.params));
  add('Dataset', datasetText(v.dataset), 'model-dataset');
  if (v.hyperparameters) add('Hyperparameters', Object.entries(v.hyperparameters).map(([k, x]) => `${k} ${x}`).join(', '));
  const quality = v.metrics && (v.metrics.model || v.metrics.baseline)
    ? metricsVsBaseline(v.metrics)
    : el('p', { class: 'muted', testid: 'model-metrics-none', text: v.source === 'imported'
      ? 'No walk-forward metrics: the model was trained outside Bedrock, so its live performance is the measure.'
      : 'No walk-forward metrics recorded.' });
  const card = el('article', { class: 'panel model-card', testid: 'model-version', 'aria-label': ref,
    dataset: { model: ref, status: String(v.status || ''), traffic: String(share) } },
  head,
  el('div', { class: 'model-body' },
    el('div', { class: 'model-col' }, facts),
    el('div', { class: 'model-col' }, el('h3', { text: 'Quality vs baseline' }), quality),
    el('div', { class: 'model-col' }, el('h3', { text: 'Live performance' }), perfEntry.box)));
  if (ctx.can.admin) card.append(deployForm(ctx, v, reload));
  return card;
}

function paramsText(strategy, params) {
  const p = Object.entries(params || {}).map(([k, x]) => `${k} ${x}`).join(', ');
  return p ? `${strategy} (${p})` : strategy;
}

/** `id — 1,234 rows, 2024-01-01 00:00 → 2024-06-01 00:00 UTC`, or why there is none. */
function datasetText(d) {
  if (!d) return 'not recorded (imported model)';
  const rows = d.rows !== undefined && d.rows !== null ? `${fmtNum(d.rows, 0)} rows` : 'rows unknown';
  const range = d.start || d.end ? `, ${fmtTime(d.start, 'plain')} → ${fmtTime(d.end)}` : '';
  return `${d.id || 'unnamed'} — ${rows}${range}`;
}

/** Fills a card's live performance box from its `performance` answer. */
function renderPerformance(entry) {
  const box = entry.box;
  if (!entry.fetched && !entry.answer) { replaceChildren(box, el('p', { class: 'muted', text: 'Older version: not fetched.' })); return; }
  if (entry.error && !entry.answer) {
    replaceChildren(box, el('p', { class: 'muted', testid: 'model-performance-error', text: `Unavailable. ${plainError(entry.error)}` }));
    return;
  }
  const p = entry.answer;
  if (!p) { replaceChildren(box, el('p', { class: 'muted', text: 'Loading…' })); return; }
  const count = Number(p.count) || 0;
  const wins = Number(p.wins) || 0;
  box.dataset.count = String(count);
  if (!count) {
    replaceChildren(box, el('p', { class: 'muted', text: 'No outcomes yet: none of the signals this version scored has closed.' }));
    return;
  }
  const rate = wins / count * 100;
  const auc = p.auc === null || p.auc === undefined ? `after ${AUC_AFTER} outcomes (${count} so far)` : fmtNum(p.auc, 3);
  replaceChildren(box, el('dl', { class: 'kv' },
    el('dt', { text: 'Outcomes' }), el('dd', { testid: 'perf-count', text: fmtNum(count, 0) }),
    el('dt', { text: 'Wins' }), el('dd', { text: fmtNum(wins, 0) }),
    el('dt', { text: 'Win rate' }), el('dd', { testid: 'perf-win-rate', text: fmtPct(rate, 1) }),
    el('dt', { text: 'AUC' }), el('dd', { testid: 'perf-auc', text: auc })));
}

/** ADMIN: the share of live traffic to give this version, and Deploy (asks first). */
function deployForm(ctx, v, reload) {
  const ref = modelRef(v);
  const id = `deploy-${String(ref).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const share = el('input', { type: 'number', id, min: 0, max: 100, step: 1, inputmode: 'numeric', required: true,
    testid: 'model-deploy-share', value: v.status === 'deployed' ? Number(v.traffic_percentage) || 0 : 10 });
  const button = el('button', { type: 'submit', class: 'btn primary small', testid: 'model-deploy',
    text: v.status === 'deployed' ? 'Change share' : 'Deploy' });
  const error = el('p', { class: 'form-error', role: 'alert', testid: 'model-deploy-error', hidden: true });
  const form = el('form', { class: 'deploy-form', 'aria-label': `Deploy ${ref}`, novalidate: true },
    el('label', { for: id, text: 'Share of live signals (%)' }), share, button, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const pct = Number(share.value);
    error.hidden = true;
    if (share.value.trim() === '' || !Number.isInteger(pct) || pct < 0 || pct > 100) {
      error.textContent = 'The share is a whole number from 0 to 100.';
      error.hidden = false;
      share.focus();
      return;
    }
    const ok = await confirmDialog(`Deploy ${ref} to ${pct} %?`,
      pct === 0 ? `${ref} will score no live signals any more (retired); the other deployed versions share all of them.`
        : `${ref} will score ${pct} % of new live signals; the other deployed versions share the remaining ${100 - pct} %.`, 'Deploy');
    if (!ok) return;
    button.disabled = true;
    try {
      const done = await ctx.api.post(`/v1/models/${encodeURIComponent(v.name)}/${encodeURIComponent(v.version)}/deploy`, { traffic_percentage: pct });
      // The registry may grant another share (the only deployed version takes 100 %) and says why.
      const granted = done && done.traffic && done.traffic[ref] !== undefined ? Number(done.traffic[ref]) : pct;
      ctx.toast(done && done.note ? String(done.note) : granted > 0 ? `${ref} now takes ${granted} % of live signals.` : `${ref} is retired.`, 'ok');
      reload();
    } catch (err) {
      error.textContent = `Not deployed. ${plainError(err)}`;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * ADMIN: import an XGBoost JSON model (`Booster.save_model("m.json")`) under a name
 * (`POST /v1/models/import {"name", "model"}`); the gateway says why it refuses one.
 * @param {object} ctx
 * @param {() => void} reload
 */
function createImportPanel(ctx, reload) {
  const file = el('input', { type: 'file', id: 'model-import-file', testid: 'model-import-file', accept: '.json,application/json', required: true });
  const name = el('input', { type: 'text', id: 'model-import-name', testid: 'model-import-name', autocomplete: 'off',
    spellcheck: 'false', placeholder: 'e.g. pullback-xgb', required: true });
  const submit = el('button', { type: 'submit', class: 'btn primary', testid: 'model-import-submit', text: 'Import' });
  const error = el('p', { class: 'form-error', role: 'alert', testid: 'model-import-error', hidden: true });
  const done = el('p', { class: 'muted', testid: 'model-import-result', role: 'status' });
  file.addEventListener('change', () => {
    const f = file.files && file.files[0];
    if (f && !name.value.trim()) name.value = f.name.replace(/\.json$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 64);
  });
  const form = el('form', { class: 'import-form', novalidate: true, 'aria-label': 'Import a model' },
    el('div', { class: 'field' }, el('label', { for: 'model-import-file', text: 'XGBoost JSON model file' }), file,
      el('span', { class: 'field-hint', text: 'binary:logistic, tree booster, the 15 feature columns of docs/ML_FEATURES.md in order' })),
    el('div', { class: 'field' }, el('label', { for: 'model-import-name', text: 'Model name' }), name),
    el('div', { class: 'form-actions' }, submit));
  const panel = el('section', { class: 'panel', testid: 'model-import', 'aria-label': 'Import a model' },
    el('h2', { text: 'Import an XGBoost model' }), form, error, done);

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    done.textContent = '';
    const f = file.files && file.files[0];
    if (!f) { fail('Choose the model file (saved with Booster.save_model as .json).'); file.focus(); return; }
    if (!name.value.trim()) { fail('Give the model a name.'); name.focus(); return; }
    let model;
    try {
      model = JSON.parse(await f.text());
    } catch {
      fail(`${f.name} is not JSON. Save the booster with save_model("model.json").`);
      return;
    }
    submit.disabled = true;
    try {
      const v = await ctx.api.post('/v1/models/import', { name: name.value.trim(), model });
      const ref = v && v.name ? modelRef(v) : name.value.trim();
      done.textContent = `Imported as ${ref} (candidate: deploy it to give it live traffic).`;
      ctx.toast(`Imported ${ref}`, 'ok');
      form.reset();
      reload();
    } catch (err) {
      fail(`Not imported. ${plainError(err)}`);
    } finally {
      submit.disabled = false;
    }
  });
  return { panel };
}
