// The backtest form: strategy select with each parameter's range (from GET /v1/strategies), bars
// from a market/interval (GET /v1/markets, shown by symbol) or a dataset file (GET /v1/datasets,
// with rows and time range; any other name can still be typed), dates, balance and costs. Checks
// every value against its range before anything is sent and builds the `backtest.submit` params.
// With the model registry's list (GET /v1/models), an ML model picker (deployed and candidate
// versions: `"ml_model": "name@version"`) and "compare with rules only" (`"compare": ["rules_only"]`).

import { marketOptions, withBars } from '../markets.js';
import { el, fmtNum, fmtTime } from '../ui.js';

const OTHER = '';   // the dataset option whose name is typed

/**
 * Runs every field check, marking each field with its message (or clearing it); the first
 * failure as `{input, message}` ("Label: message"), or null when all pass.
 * @param {{check: () => string, f: {input: HTMLElement, error: HTMLElement, row: HTMLElement}}[]} checks
 */
export function runChecks(checks) {
  let first = null;
  for (const c of checks) {
    const message = c.check();
    c.f.error.textContent = message;
    if (message) c.f.input.setAttribute('aria-invalid', 'true'); else c.f.input.removeAttribute('aria-invalid');
    if (message && !first) first = { input: c.f.input, message: `${c.f.row.querySelector('label').textContent}: ${message}` };
  }
  return first;
}

/** A dataset option's text: `BTCUSDT-1h.csv — 4,000 rows, 2024-01-01 00:00 → 2024-06-16 15:00 UTC`. */
export function datasetText(d) {
  if (d.error) return `${d.name} — cannot be used: ${d.error}`;
  if (d.pending) return `${d.name} — reading…`;
  if (!d.rows) return `${d.name} — no rows`;
  return `${d.name} — ${fmtNum(d.rows, 0)} rows, ${fmtTime(d.start, 'plain')} → ${fmtTime(d.end)}`;
}

/** Range text for a parameter spec: `1–500 · integer · default 10`. */
export function rangeText(p) {
  return `${p.min}–${p.max}${p.integer ? ' · whole number' : ''} · default ${p.default}`;
}

/**
 * A labelled field: label, control, hint and an inline error slot (the training form uses it too).
 * @returns {{row: HTMLElement, input: HTMLElement, error: HTMLElement}}
 */
export function field(id, labelText, input, hint) {
  const error = el('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const hintEl = hint ? el('span', { class: 'field-hint', id: `${id}-hint`, text: hint }) : null;
  input.id = id;
  input.setAttribute('aria-describedby', [hintEl && `${id}-hint`, `${id}-error`].filter(Boolean).join(' '));
  const row = el('div', { class: 'field' }, el('label', { for: id, text: labelText }), input, hintEl, error);
  return { row, input, error };
}

/** A number `<input>` with its test hook. */
export function numberInput(testid, attrs) {
  return el('input', { type: 'number', inputmode: 'decimal', testid, ...attrs });
}

/**
 * Builds the form.
 * @param {{strategies: Array, markets: Array, datasets: Array|null, models?: Array|null, onSubmit: (params: object) => void}} o
 *   `strategies` as GET /v1/strategies answers them, `markets` as GET /v1/markets, `datasets` as
 *   GET /v1/datasets (null when it could not be read: the name is typed), `models` the versions
 *   of GET /v1/models (null when the registry could not be read: no model picker)
 * @returns {{form: HTMLFormElement, setBusy: (busy: boolean) => void, cancelButton: HTMLButtonElement,
 *            showError: (message: string) => void, setDatasets: (datasets: Array) => void}}
 */
export function buildBacktestForm(o) {
  const markets = withBars(o.markets);
  const checks = [];   // () => error message or "" for each checked field (set by renderParams too)
  const strategy = el('select', { testid: 'bt-strategy', required: true },
    ...o.strategies.map((s) => el('option', { value: s.name, text: s.name })));
  const strategyField = field('bt-strategy', 'Strategy', strategy);
  strategyField.row.classList.add('strategy-field');
  const strategyInfo = el('p', { class: 'field-hint strategy-info' });
  const paramBox = el('fieldset', { class: 'bt-params' });
  let paramChecks = [];

  function renderParams() {
    const spec = o.strategies.find((s) => s.name === strategy.value);
    strategyInfo.textContent = spec && spec.description ? spec.description : '';
    paramChecks = [];
    paramBox.replaceChildren(el('legend', { text: 'Parameters' }));
    for (const p of (spec && spec.params) || []) {
      const input = numberInput(`bt-param-${p.name}`, {
        name: p.name, min: p.min, max: p.max, step: p.integer ? 1 : 'any', value: p.default, required: true,
      });
      const f = field(`bt-param-${p.name}`, p.name, input, rangeText(p) + (p.description ? ` — ${p.description}` : ''));
      paramBox.append(f.row);
      paramChecks.push({ f, name: p.name, check: () => checkNumber(input.value, p) });
    }
  }
  strategy.addEventListener('change', renderParams);

  const sourceMarket = el('input', { type: 'radio', name: 'bt-source', value: 'market', id: 'bt-source-market', checked: true, testid: 'bt-source-market' });
  const sourceDataset = el('input', { type: 'radio', name: 'bt-source', value: 'dataset', id: 'bt-source-dataset', testid: 'bt-source-dataset' });
  const market = el('select', { testid: 'bt-market' }, ...marketOptions(markets).map(([value, text]) => el('option', { value, text })));
  const interval = el('select', { testid: 'bt-interval' });
  const fillIntervals = () => {
    const m = markets.find((x) => x.market === market.value);
    interval.replaceChildren(...((m && m.intervals) || []).map((i) => el('option', { value: i.interval, text: i.interval })));
  };
  market.addEventListener('change', fillIntervals);
  fillIntervals();
  const dataset = el('select', { testid: 'bt-dataset' });
  const datasetName = el('input', { type: 'text', testid: 'bt-dataset-name', placeholder: 'BTCUSDT-1h.csv', autocomplete: 'off', spellcheck: 'false' });
  const marketField = field('bt-market', 'Market', market, markets.length ? null : 'no market has bars yet');
  const intervalField = field('bt-interval', 'Interval', interval);
  const datasetField = field('bt-dataset', 'Dataset file', dataset, "a CSV file in the gateway's jobs data directory");
  datasetField.row.classList.add('dataset-field');
  const nameField = field('bt-dataset-name', 'Dataset file name', datasetName, 'a file added since this page loaded');
  const syncSource = () => {
    const useMarket = sourceMarket.checked;
    market.disabled = interval.disabled = !useMarket;
    dataset.disabled = useMarket;
    datasetName.disabled = useMarket || dataset.value !== OTHER;
    marketField.row.hidden = intervalField.row.hidden = !useMarket;
    datasetField.row.hidden = useMarket;
    nameField.row.hidden = useMarket || dataset.value !== OTHER;
  };
  /** The dataset options: usable files first choice, unusable ones shown (disabled) with why, then "Other…". */
  function setDatasets(list) {
    const chosen = dataset.options.length ? dataset.value : null;   // null: nothing chosen yet
    dataset.replaceChildren(
      ...(list || []).map((d) => el('option', { value: d.name, text: datasetText(d), disabled: !!d.error, dataset: { rows: d.rows ?? '' } })),
      el('option', { value: OTHER, text: 'Other file name…' }));
    const usable = (list || []).filter((d) => !d.error).map((d) => d.name);
    dataset.value = usable.includes(chosen) || chosen === OTHER ? chosen : (usable[0] ?? OTHER);
    syncSource();
  }
  dataset.addEventListener('change', syncSource);
  setDatasets(o.datasets);
  sourceMarket.addEventListener('change', syncSource);
  sourceDataset.addEventListener('change', syncSource);
  if (!markets.length) { sourceMarket.checked = false; sourceDataset.checked = true; }
  syncSource();

  const start = field('bt-start', 'Start date (UTC)', el('input', { type: 'date', testid: 'bt-start' }), 'optional');
  const end = field('bt-end', 'End date (UTC, inclusive)', el('input', { type: 'date', testid: 'bt-end' }), 'optional');
  const balance = field('bt-initial-balance', 'Initial balance',
    numberInput('bt-initial-balance', { min: 0, step: 'any', value: 10000, required: true }), '> 0');
  const commission = field('bt-commission', 'Commission rate',
    numberInput('bt-commission', { min: 0, max: 0.999999, step: 'any', value: 0.001, required: true }), '0 ≤ rate < 1 (0.001 = 0.1 %)');
  const slippage = field('bt-slippage', 'Slippage rate',
    numberInput('bt-slippage', { min: 0, max: 0.999999, step: 'any', value: 0, required: true }), '0 ≤ rate < 1');
  const ml = modelPicker(o.models);
  const riskGuard = el('input', { type: 'checkbox', id: 'bt-risk-guard', testid: 'bt-risk-guard', checked: true });
  const arbiter = el('input', { type: 'checkbox', id: 'bt-arbiter', testid: 'bt-arbiter', checked: true });

  checks.push(
    { f: balance, check: () => (+balance.input.value > 0 && balance.input.value !== '' ? '' : 'must be a number above 0') },
    { f: commission, check: () => checkRate(commission.input.value) },
    { f: slippage, check: () => checkRate(slippage.input.value) },
    { f: end, check: () => (start.input.value && end.input.value && end.input.value < start.input.value ? 'must not be before the start date' : '') },
    { f: nameField, check: () => (sourceDataset.checked && dataset.value === OTHER && !datasetName.value.trim() ? 'name a dataset file' : '') },
    { f: marketField, check: () => (sourceMarket.checked && !market.value ? 'no market has bars; use a dataset' : '') },
  );

  // The model's score acts through the arbiter: a run with a model needs it.
  if (ml) checks.push({ f: ml.pick, check: () => (ml.select.value && !arbiter.checked ? 'needs "Apply the arbiter": the model\'s score is one of its inputs' : '') });

  const errorBox = el('div', { class: 'form-error', testid: 'bt-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn primary', testid: 'bt-submit', text: 'Run backtest' });
  const cancelButton = el('button', { type: 'button', class: 'btn danger', testid: 'bt-cancel', text: 'Cancel', hidden: true });

  const form = el('form', { class: 'backtest-form', testid: 'backtest-form', novalidate: true, 'aria-label': 'Backtest' },
    strategyField.row, strategyInfo, paramBox,
    el('fieldset', { class: 'bt-data' }, el('legend', { text: 'Bars' }),
      el('div', { class: 'radio-row', role: 'radiogroup' },
        el('label', { for: 'bt-source-market' }, sourceMarket, ' Market bars (Redis)'),
        el('label', { for: 'bt-source-dataset' }, sourceDataset, ' Dataset file')),
      marketField.row, intervalField.row, datasetField.row, nameField.row, start.row, end.row),
    el('fieldset', { class: 'bt-money' }, el('legend', { text: 'Account and costs' }),
      balance.row, commission.row, slippage.row,
      el('label', { for: 'bt-risk-guard', class: 'check' }, riskGuard, ' Apply the live risk guard'),
      el('label', { for: 'bt-arbiter', class: 'check' }, arbiter, ' Apply the arbiter')),
    ml && ml.fieldset,
    errorBox,
    el('div', { class: 'form-actions' }, submit, cancelButton));
  renderParams();

  function validate() { return runChecks([...paramChecks, ...checks]); }

  function params() {
    const p = {
      strategy: strategy.value,
      params: Object.fromEntries(paramChecks.map((c) => [c.name, Number(c.f.input.value)])),
      initial_balance: Number(balance.input.value),
      commission: Number(commission.input.value),
      slippage: Number(slippage.input.value),
      risk_guard: riskGuard.checked,
      arbiter: arbiter.checked,
    };
    if (sourceMarket.checked) { p.market = market.value; p.interval = interval.value; } else p.dataset = dataset.value === OTHER ? datasetName.value.trim() : dataset.value;
    if (ml && ml.select.value) {
      p.ml_model = ml.select.value;
      if (ml.compare.checked) p.compare = ['rules_only'];
    }
    if (start.input.value) p.start_date = start.input.value;
    if (end.input.value) p.end_date = end.input.value;
    return p;
  }

  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.hidden = !message;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const bad = validate();
    if (bad) { showError(bad.message); bad.input.focus(); return; }
    showError('');
    o.onSubmit(params());
  });

  return {
    form, cancelButton, showError, setDatasets,
    setBusy(busy) {
      submit.disabled = busy;
      submit.textContent = busy ? 'Running…' : 'Run backtest';
      cancelButton.hidden = !busy;
    },
  };
}

/**
 * The ML model fieldset: a picker of the deployed and candidate versions (newest first; "no model"
 * runs rules only) and "compare with rules only", enabled once a model is chosen. Null without a
 * list (the registry could not be read).
 * @param {Array|null|undefined} models versions of GET /v1/models
 */
function modelPicker(models) {
  if (!Array.isArray(models)) return null;
  const usable = models.filter((v) => v.status === 'deployed' || v.status === 'candidate');
  const select = el('select', { id: 'bt-ml-model', testid: 'bt-ml-model' },
    el('option', { value: '', text: 'No model (rules only)' }),
    ...usable.map((v) => el('option', { value: `${v.name}@${v.version}`,
      text: `${v.name}@${v.version} — ${v.status}${v.status === 'deployed' ? ` ${fmtNum(v.traffic_percentage, 0)} %` : ''}` })));
  const compare = el('input', { type: 'checkbox', id: 'bt-compare', testid: 'bt-compare-rules-only', disabled: true });
  const sync = () => { compare.disabled = !select.value; if (!select.value) compare.checked = false; };
  select.addEventListener('change', sync);
  const pick = field('bt-ml-model', 'ML confidence model', select,
    usable.length ? 'its score goes into the arbiter with the rule score' : 'no deployed or candidate model yet');
  const fieldset = el('fieldset', { class: 'bt-ml' }, el('legend', { text: 'ML model' }), pick.row,
    el('label', { for: 'bt-compare', class: 'check' }, compare, ' Compare with rules only (the same run without the model, side by side)'));
  return { fieldset, select, compare, pick };
}

/** "" when `text` is a number inside the parameter's range (and whole when it must be). */
export function checkNumber(text, p) {
  if (String(text).trim() === '') return `required (${p.min}–${p.max})`;
  const v = Number(text);
  if (!isFinite(v)) return 'must be a number';
  if (v < p.min || v > p.max) return `must be between ${p.min} and ${p.max}`;
  if (p.integer && !Number.isInteger(v)) return 'must be a whole number';
  return '';
}

function checkRate(text) {
  const v = Number(text);
  return String(text).trim() !== '' && isFinite(v) && v >= 0 && v < 1 ? '' : 'must be a rate from 0 up to (not including) 1';
}
