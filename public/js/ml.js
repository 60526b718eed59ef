// ml.js — what the views show about the ML confidence model (SPEC §11): the score's colour band
// and its cell, a version's `name@version`, the arbiter's inputs with their weights and the
// combined score (SPEC §8), metrics of a version next to the always-majority baseline, and error
// messages in plain words. Model names, metrics and every string from the registry are untrusted:
// all of it goes through textContent (ui.js `el`).

import { el, fmtNum, humanize } from './ui.js';

/** SPEC §11's arbiter defaults, used only when the gateway did not say (`models.list` failed). */
export const DEFAULT_ARBITER = Object.freeze({ rule_weight: 0.5, ml_weight: 0.3, llm_weight: 0.2, threshold: 60 });

/** Score bands: green from `HIGH`, amber from `MID`, red below. */
export const HIGH = 60;
export const MID = 40;

const has = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));

/**
 * The colour band of an ML score (0..100): `high` (≥ 60), `mid` (40–60), `low` (< 40), `none` (null).
 * @param {number|null|undefined} score
 * @returns {'high'|'mid'|'low'|'none'}
 */
export function scoreBand(score) {
  if (!has(score)) return 'none';
  const v = Number(score);
  return v >= HIGH ? 'high' : v >= MID ? 'mid' : 'low';
}

/** `name@version` of a model version object. */
export function modelRef(v) {
  return `${v.name}@${v.version}`;
}

/**
 * The ML column of a signal row: the score (colour band, `—` when null) and, small, the model
 * that gave it (also the tooltip).
 * @param {number|null} score `ml_confidence_score`
 * @param {string|null} model `ml_model`
 * @returns {HTMLElement}
 */
export function mlScoreCell(score, model) {
  const band = scoreBand(score);
  const text = band === 'none' ? '—' : fmtNum(score, 0);
  const title = band === 'none' ? 'No ML score (no model deployed, or it could not score)'
    : `ML confidence ${fmtNum(score, 1)} from ${model || 'an unnamed model'}`;
  return el('span', { class: 'ml-cell', title },
    el('span', { class: `ml-score ${band}`, testid: 'ml-score', dataset: { band, score: has(score) ? String(score) : '', model: model || '' },
      'aria-label': band === 'none' ? 'no ML score' : `ML score ${text}`, text }),
    model ? el('span', { class: 'ml-model', testid: 'ml-model', text: model }) : null);
}

/**
 * The sentiment as the arbiter counts it (SPEC §8): POSITIVE 100, NEUTRAL 50, NEGATIVE 0,
 * mirrored for sells; null without one.
 */
export function sentimentScore(sentiment, side) {
  const base = { POSITIVE: 100, NEUTRAL: 50, NEGATIVE: 0 }[sentiment];
  if (base === undefined) return null;
  return side === 'SELL' ? 100 - base : base;
}

/**
 * The arbiter's view of a signal: each input with its weight, the weighted mean over the inputs
 * present, the threshold and whether it reaches it.
 * @param {object} s a signal
 * @param {{rule_weight: number, ml_weight: number, llm_weight: number, threshold: number}} arbiter
 */
export function arbiterInputs(s, arbiter) {
  const sentiment = sentimentScore(s.llm_sentiment, s.side);
  const inputs = [
    { key: 'rule', label: 'Rule score', value: has(s.rule_engine_score) ? Number(s.rule_engine_score) : null,
      weight: Number(arbiter.rule_weight), detail: '' },
    { key: 'ml', label: 'ML confidence', value: has(s.ml_confidence_score) ? Number(s.ml_confidence_score) : null,
      weight: Number(arbiter.ml_weight), detail: s.ml_model ? s.ml_model : 'no model scored it' },
    { key: 'llm', label: 'LLM sentiment', value: sentiment, weight: Number(arbiter.llm_weight),
      detail: s.llm_sentiment ? `${humanize(s.llm_sentiment)}${s.side === 'SELL' ? ' (mirrored for a sell)' : ''}` : 'none' },
  ];
  let sum = 0;
  let weights = 0;
  for (const i of inputs) if (i.value !== null && i.weight > 0) { sum += i.value * i.weight; weights += i.weight; }
  const combined = weights > 0 ? sum / weights : null;
  for (const i of inputs) i.share = i.value !== null && weights > 0 ? i.weight / weights : 0;
  const threshold = Number(arbiter.threshold);
  return { inputs, combined, threshold, approved: combined !== null && combined >= threshold };
}

/**
 * The arbiter section of the estimate panel: a table of inputs (value, weight, effective share
 * over the inputs present), the combined score against the threshold, and the decision in words.
 * @param {object} s a signal
 * @param {{arbiter: object, fromGateway: boolean}} o the weights, and whether the gateway gave them
 * @returns {HTMLElement[]}
 */
export function arbiterSection(s, o) {
  const a = arbiterInputs(s, o.arbiter);
  const rows = a.inputs.map((i) => el('tr', { dataset: { input: i.key } },
    el('th', { scope: 'row' }, el('span', { text: i.label }), i.detail ? el('span', { class: 'arb-detail', text: i.detail }) : null),
    el('td', { class: 'num' }, i.key === 'ml' && i.value !== null ? el('span', { class: `ml-score ${scoreBand(i.value)}`, text: fmtNum(i.value, 1) })
      : i.value === null ? '—' : fmtNum(i.value, 1)),
    el('td', { class: 'num', text: fmtNum(i.weight, 2) }),
    el('td', { class: 'num', text: i.value === null ? '—' : `${fmtNum(i.share * 100, 0)} %` })));
  const table = el('table', { class: 'data compact arbiter-table', testid: 'arbiter-inputs' },
    el('caption', { class: 'visually-hidden', text: 'Arbiter inputs and weights' }),
    el('thead', {}, el('tr', {}, ['Input', 'Score', 'Weight', 'Share'].map((h, k) =>
      el('th', { scope: 'col', class: k ? 'num' : undefined, text: h })))),
    el('tbody', {}, rows));
  const decision = s.final_decision || (a.approved ? 'APPROVED' : 'REJECTED');
  const words = a.combined === null
    ? 'No input was present, so the arbiter had nothing to weigh.'
    : `Combined score ${fmtNum(a.combined, 1)} ${a.approved ? 'reaches' : 'is below'} the threshold of ${fmtNum(a.threshold, 0)}, `
      + `so the arbiter ${a.approved ? 'approves' : 'rejects'} it.`;
  const missing = a.inputs.filter((i) => i.value === null).map((i) => i.label);
  const parts = [
    el('h3', { text: 'Arbiter' }),
    table,
    el('p', { class: 'arbiter-verdict', testid: 'arbiter-verdict', dataset: { combined: a.combined === null ? '' : String(a.combined), decision } },
      el('strong', { text: `${humanize(decision)}. ` }), words,
      missing.length ? ` Missing inputs (${missing.join(', ')}) are left out; the share column is each present input's weight rescaled over those present.` : ''),
  ];
  if (s.final_decision && (s.final_decision === 'APPROVED') !== a.approved && a.combined !== null) {
    parts.push(el('p', { class: 'muted', text: 'The recorded decision differs from this arithmetic: the arbiter\'s weights may have changed since the signal was made.' }));
  }
  if (!o.fromGateway) parts.push(el('p', { class: 'muted', text: 'Weights: SPEC defaults (the gateway did not report its own).' }));
  return parts;
}

/** [label, key, lower-is-better] of the quality metrics, in reading order. */
export const QUALITY = [
  ['Accuracy', 'accuracy', false], ['Precision', 'precision', false], ['Recall', 'recall', false],
  ['F1', 'f1', false], ['AUC', 'auc', false], ['Log-loss', 'log_loss', true],
];

/**
 * Whether the model beats the baseline on one metric: true, false, or null when either is absent.
 * Ties do not beat.
 */
export function beats(model, baseline, lowerIsBetter) {
  if (!has(model) || !has(baseline)) return null;
  return lowerIsBetter ? Number(model) < Number(baseline) : Number(model) > Number(baseline);
}

/**
 * The walk-forward metrics of a version next to the always-majority baseline, a row each; a row
 * where the model does not beat the baseline is marked (`data-beats="false"`, class `worse`).
 * @param {object} metrics a WalkForwardReport JSON (`model`, `baseline`, `folds`, `rows`)
 * @param {string} [testid]
 * @returns {HTMLElement}
 */
export function metricsVsBaseline(metrics, testid = 'model-metrics') {
  const m = metrics.model || {};
  const b = metrics.baseline || {};
  const rows = QUALITY.map(([label, key, lower]) => {
    const win = beats(m[key], b[key], lower);
    return el('tr', { class: win === false ? 'worse' : win ? 'better' : undefined, dataset: { metric: key, beats: win === null ? '' : String(win) } },
      el('th', { scope: 'row', text: label }),
      el('td', { class: 'num', text: fmtNum(m[key], 3) }),
      el('td', { class: 'num', text: fmtNum(b[key], 3) }),
      el('td', { class: 'verdict' }, win === null ? '' : el('span', { class: win ? 'pos' : 'neg', text: verdictText(m[key], b[key], win) })));
  });
  const folds = has(metrics.folds) ? `${fmtNum(metrics.folds, 0)} walk-forward folds` : 'walk-forward';
  const count = has(m.count) ? `, ${fmtNum(m.count, 0)} out-of-sample rows` : has(metrics.rows) ? `, ${fmtNum(metrics.rows, 0)} rows` : '';
  return el('table', { class: 'data compact quality-table', testid },
    el('caption', { text: `Out of sample (${folds}${count})` }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Metric' }), el('th', { scope: 'col', class: 'num', text: 'Model' }),
      el('th', { scope: 'col', class: 'num', text: 'Baseline' }), el('th', { scope: 'col', text: 'vs baseline' }))),
    el('tbody', {}, rows));
}

/** `better` / `not better`, saying so when the difference hides below the 3 decimals shown. */
function verdictText(model, baseline, win) {
  const tiny = Math.abs(Number(model) - Number(baseline)) < 0.0005 && Number(model) !== Number(baseline);
  return `${win ? 'better' : 'not better'}${tiny ? ' (by < 0.001)' : ''}`;
}

const CODE_WORDS = {
  FORBIDDEN: 'Your role may not do this',
  UNAUTHENTICATED: 'Your session is not valid any more',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Too large for the gateway',
  RATE_LIMITED: 'Too many requests; try again shortly',
  UNAVAILABLE: 'The gateway is not available right now',
  TIMEOUT: 'No answer in time',
  NETWORK: 'The gateway could not be reached',
};

/**
 * One clear sentence for an error (ApiError or socket error): the server's message without a
 * leading `CODE:`, `params:` or `invalid parameters for <strategy>:` prefix, after a plain phrase for codes that are not about the input
 * (403 → "Your role may not do this: …").
 * @param {any} err
 * @returns {string}
 */
export function plainError(err) {
  if (!err) return 'Something went wrong.';
  const code = err.error_code || '';
  let message = String(err.message || err || '').trim();
  // What the gateway puts in front of the sentence a person needs: a code (`BAD_REQUEST: `), the
  // field group (`params: `) and the strategy's own preamble (`invalid parameters for sma_cross: `).
  message = message.replace(/^[A-Z][A-Z_]+:\s*/, '').replace(/^params:\s*/, '')
    .replace(/^invalid parameters for [\w.-]+:\s*/, '');
  const lead = CODE_WORDS[code] || (err.status === 403 ? CODE_WORDS.FORBIDDEN : '');
  if (!message) return `${lead || 'Something went wrong'}.`;
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return lead ? `${lead}: ${message}` : sentence;
}
