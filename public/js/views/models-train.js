// views/models-train.js — TRADER and ADMIN train a model from the dashboard (SPEC §11): strategy
// and its parameters (GET /v1/strategies), bars from a market and interval or a dataset file,
// the model's name, hyperparameters (trees, depth, learning rate) and walk-forward folds. The job
// goes over the socket (`training.submit`), its `progress` frames fill a bar (with the stage when
// the frame names one), `training.status` is polled as a backup (it carries the version once
// COMPLETED), Cancel sends `training.cancel`,
// and the `completed` frame's report (`{"model": <version>}`) shows its metrics vs the baseline.

import { marketOptions, withBars } from '../markets.js';
import { el, replaceChildren } from '../ui.js';
import { metricsVsBaseline, modelRef, plainError } from '../ml.js';
import { checkNumber, datasetText, field, numberInput, rangeText, runChecks } from './backtest-form.js';
import { createTaskFollower } from '../task.js';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Hyperparameters offered in the form: [JSON name, label, spec for checkNumber]. */
const HYPER = [
  ['trees', 'Trees', { min: 1, max: 5000, integer: true, default: 200 }],
  ['depth', 'Depth', { min: 1, max: 10, integer: true, default: 6 }],
  ['learning_rate', 'Learning rate', { min: 0.001, max: 1, integer: false, default: 0.1 }],
];
const FOLDS = { min: 1, max: 20, integer: true, default: 5 };

/**
 * The training panel (hidden until its button opens it): loads its choices, builds the form and
 * follows one job at a time.
 * @param {object} ctx the view context
 * @param {() => void} onTrained reloads the models list
 * @returns {{panel: HTMLElement, dispose: () => void}}
 */
export function createTrainPanel(ctx, onTrained) {
  const slot = el('div', {}, el('p', { class: 'muted', text: 'Loading strategies and markets…' }));
  const bar = el('progress', { testid: 'train-progress', max: 1, value: 0, 'aria-label': 'Training progress' });
  const barText = el('span', { class: 'bt-progress-text', role: 'status', 'aria-live': 'polite', testid: 'train-progress-text' });
  const progressRow = el('div', { class: 'bt-progress-row', hidden: true }, bar, barText);
  const result = el('div', { class: 'train-result', testid: 'train-result', 'aria-live': 'polite' });
  const panel = el('section', { class: 'panel', testid: 'model-train', 'aria-label': 'Train a model' },
    el('h2', { text: 'Train a model' }),
    el('p', { class: 'muted', text: 'Labels every signal of the strategy by its own trade, trains gradient-boosted trees and measures them out of sample by walk-forward.' }),
    slot, progressRow, result);
  let form = null;
  const follower = createTaskFollower(ctx.socket, {
    submit: 'training.submit',
    cancel: 'training.cancel',
    async status(id) {
      const s = await ctx.socket.request('training.status', { task_id: id });
      const st = String(s.status || '').toUpperCase();
      // training.status carries the version (`model`) once COMPLETED.
      if (FINAL.has(st)) return { final: { task_id: id, status: st, reason: s.reason, report: s.model ? { model: s.model } : null } };
      return { progress: s.progress };
    },
    onProgress(id, value, stage) {
      if (value < bar.value) return;
      setProgress(value, `Task ${id}: ${Math.round(value * 100)} %${stage ? ` · ${stage}` : ''}`);
    },
    onFinish: finish,
  });

  function setProgress(fraction, text) {
    progressRow.hidden = false;
    if (fraction === null) bar.removeAttribute('value'); else bar.value = Math.max(0, Math.min(1, fraction));
    barText.textContent = text;
  }

  async function load() {
    const datasets = ctx.api.get('/v1/datasets').then((d) => d.data || []).catch(() => []);
    try {
      const [s, m] = await Promise.all([ctx.api.get('/v1/strategies'), ctx.markets()]);
      form = buildTrainForm({ strategies: s.data || s || [], markets: withBars(m), datasets: await datasets, onSubmit: submit });
    } catch (err) {
      replaceChildren(slot, el('p', { class: 'form-error', role: 'alert', text: `Could not load strategies or markets. ${plainError(err)}` }),
        el('button', { type: 'button', class: 'btn', text: 'Retry', onclick: load }));
      return;
    }
    form.cancelButton.addEventListener('click', cancel);
    replaceChildren(slot, form.form);
  }

  async function submit(params) {
    if (follower.busy()) return;
    form.setBusy(true);
    replaceChildren(result);
    setProgress(null, 'Submitting…');
    try {
      const id = await follower.submit(params);
      if (id && follower.busy()) setProgress(0, `Task ${id}: queued`);
    } catch (err) {
      form.setBusy(false);
      progressRow.hidden = true;
      form.showError(`Training not started. ${plainError(err)}`);
    }
  }

  function finish(id, frame) {
    form.setBusy(false);
    const status = String(frame.status || '').toUpperCase();
    const model = frame.report && frame.report.model;
    if (status === 'COMPLETED') {
      setProgress(1, `Task ${id}: completed`);
      if (model) renderTrained(result, model, ctx.can.admin); else replaceChildren(result, el('p', { text: 'Trained; the new version is in the list below.' }));
      ctx.toast(model ? `Trained ${modelRef(model)} in task ${id}` : `Model training ${id} completed`, 'ok');
      onTrained();
      return;
    }
    setProgress(bar.value || 0, `Task ${id}: ${status.toLowerCase()}`);
    if (status !== 'CANCELLED') form.showError(`Training ${status.toLowerCase() || 'failed'}. ${plainError({ message: frame.reason || frame.error || 'no reason given' })}`);
  }

  async function cancel() {
    try {
      await follower.cancel();
    } catch (err) {
      form.showError(`Not cancelled. ${plainError(err)}`);
    }
  }

  load();
  return {
    panel,
    dispose: follower.dispose,
  };
}

/** The trained version: its name and status, and its walk-forward metrics next to the baseline. */
function renderTrained(box, model, canDeploy) {
  const trees = model.trees ? `, ${model.trees} ${Number(model.trees) === 1 ? 'tree' : 'trees'}` : '';
  replaceChildren(box,
    el('p', {}, el('strong', { testid: 'train-model-ref', text: modelRef(model) }),
      ` trained (${model.status || 'candidate'}${trees}). `,
      canDeploy ? 'Deploy it from its card below to give it live traffic.' : 'An ADMIN deploys it to give it live traffic.'),
    model.metrics ? metricsVsBaseline(model.metrics, 'train-metrics') : el('p', { class: 'muted', text: 'No metrics in the report.' }));
}

/**
 * The form. Same field helpers and checks as the backtest form.
 * @param {{strategies: Array, markets: Array, datasets: Array, onSubmit: (params: object) => void}} o
 */
function buildTrainForm(o) {
  const checks = [];
  const strategy = el('select', { testid: 'train-strategy' }, ...o.strategies.map((s) => el('option', { value: s.name, text: s.name })));
  const strategyField = field('train-strategy', 'Strategy', strategy);
  strategyField.row.classList.add('strategy-field');
  const paramBox = el('fieldset', { class: 'bt-params' });
  let paramChecks = [];
  function renderParams() {
    const spec = o.strategies.find((s) => s.name === strategy.value);
    paramChecks = [];
    paramBox.replaceChildren(el('legend', { text: 'Strategy parameters' }));
    for (const p of (spec && spec.params) || []) {
      const input = numberInput(`train-param-${p.name}`, { name: p.name, min: p.min, max: p.max, step: p.integer ? 1 : 'any', value: p.default });
      const f = field(`train-param-${p.name}`, p.name, input, rangeText(p));
      paramBox.append(f.row);
      paramChecks.push({ f, name: p.name, check: () => checkNumber(input.value, p) });
    }
  }
  strategy.addEventListener('change', renderParams);

  const useMarket = el('input', { type: 'radio', name: 'train-source', id: 'train-source-market', testid: 'train-source-market', checked: o.markets.length > 0 });
  const useDataset = el('input', { type: 'radio', name: 'train-source', id: 'train-source-dataset', testid: 'train-source-dataset', checked: !o.markets.length });
  const market = el('select', { testid: 'train-market' }, ...marketOptions(o.markets).map(([value, text]) => el('option', { value, text })));
  const interval = el('select', { testid: 'train-interval' });
  const fillIntervals = () => {
    const m = o.markets.find((x) => x.market === market.value);
    interval.replaceChildren(...((m && m.intervals) || []).map((i) => el('option', { value: i.interval, text: i.interval })));
  };
  market.addEventListener('change', fillIntervals);
  fillIntervals();
  const usable = (o.datasets || []).filter((d) => !d.error);
  const dataset = el('select', { testid: 'train-dataset' }, ...usable.map((d) => el('option', { value: d.name, text: datasetText(d) })));
  const marketField = field('train-market', 'Market', market);
  const intervalField = field('train-interval', 'Interval', interval);
  const datasetField = field('train-dataset', 'Dataset file', dataset, usable.length ? null : 'no dataset file in the jobs data directory');
  datasetField.row.classList.add('dataset-field');
  const sync = () => {
    marketField.row.hidden = intervalField.row.hidden = !useMarket.checked;
    datasetField.row.hidden = useMarket.checked;
  };
  useMarket.addEventListener('change', sync);
  useDataset.addEventListener('change', sync);
  sync();

  const name = field('train-model-name', 'Model name', el('input', { type: 'text', testid: 'train-model-name', autocomplete: 'off',
    spellcheck: 'false', placeholder: 'e.g. pullback-gbt' }), 'letters, digits, - _ .');
  const hyper = HYPER.map(([key, label, spec]) => ({ key, spec,
    f: field(`train-${key}`, label, numberInput(`train-${key.replace('_', '-')}`, { min: spec.min, max: spec.max, step: spec.integer ? 1 : 'any', value: spec.default }), rangeText(spec)) }));
  const folds = field('train-folds', 'Walk-forward folds', numberInput('train-folds', { min: FOLDS.min, max: FOLDS.max, step: 1, value: FOLDS.default }), rangeText(FOLDS));
  checks.push(
    { f: name, check: () => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name.input.value.trim()) ? '' : 'a name of letters, digits, - _ . (up to 64)') },
    ...hyper.map((h) => ({ f: h.f, check: () => checkNumber(h.f.input.value, h.spec) })),
    { f: folds, check: () => checkNumber(folds.input.value, FOLDS) },
    { f: marketField, check: () => (useMarket.checked && !market.value ? 'no market has bars; use a dataset' : '') },
    { f: datasetField, check: () => (useDataset.checked && !dataset.value ? 'no dataset file to train on' : '') },
  );

  const errorBox = el('div', { class: 'form-error', testid: 'train-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn primary', testid: 'train-submit', text: 'Train' });
  const cancelButton = el('button', { type: 'button', class: 'btn danger', testid: 'train-cancel', text: 'Cancel', hidden: true });
  const form = el('form', { class: 'backtest-form train-form', testid: 'train-form', novalidate: true, 'aria-label': 'Train a model' },
    strategyField.row, paramBox,
    el('fieldset', {}, el('legend', { text: 'Bars' }),
      el('div', { class: 'radio-row', role: 'radiogroup' },
        el('label', { for: 'train-source-market' }, useMarket, ' Market bars (Redis)'),
        el('label', { for: 'train-source-dataset' }, useDataset, ' Dataset file')),
      marketField.row, intervalField.row, datasetField.row),
    el('fieldset', {}, el('legend', { text: 'Model' }), name.row, ...hyper.map((h) => h.f.row), folds.row),
    errorBox, el('div', { class: 'form-actions' }, submit, cancelButton));
  renderParams();

  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.hidden = !message;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const first = runChecks([...paramChecks, ...checks]);
    if (first) { showError(first.message); first.input.focus(); return; }
    showError('');
    const p = {
      strategy: strategy.value,
      params: Object.fromEntries(paramChecks.map((c) => [c.name, Number(c.f.input.value)])),
      model_name: name.input.value.trim(),
      hyperparameters: Object.fromEntries(hyper.map((h) => [h.key, Number(h.f.input.value)])),
      folds: Number(folds.input.value),
    };
    if (useMarket.checked) { p.market = market.value; p.interval = interval.value; } else p.dataset = dataset.value;
    o.onSubmit(p);
  });

  return {
    form, cancelButton, showError,
    setBusy(busy) {
      submit.disabled = busy;
      submit.textContent = busy ? 'Training…' : 'Train';
      cancelButton.hidden = !busy;
    },
  };
}
