// llm.js — what the views show about the LLM (SPEC §12): a sentiment as a badge (word, mark and
// colour), the age of a reading, and the dialog that asks the model for a document (journal
// entry, review memo), waits for it, renders its Markdown safely (js/markdown.js) and offers it
// as a `.md` download. Everything the model wrote is untrusted text: it reaches the page only as
// text nodes.

import { el, replaceChildren } from './ui.js';
import { fmtAge } from './markets.js';
import { renderMarkdown } from './markdown.js';
import { plainError } from './ml.js';

/** How long the page waits for a document: the gateway's `llm.timeout_s` (30 s by default) plus a queue. */
export const DOCUMENT_TIMEOUT_MS = 90000;

const SENTIMENTS = {
  POSITIVE: { word: 'Positive', mark: '▲' },
  NEUTRAL: { word: 'Neutral', mark: '●' },
  NEGATIVE: { word: 'Negative', mark: '▼' },
};

/**
 * A sentiment as a badge (`data-sentiment` = the word, or `none`): `▲ Positive`, `● Neutral`,
 * `▼ Negative`; `—` when there is none, or `offText` (e.g. "LLM off") when given.
 * @param {string|null|undefined} sentiment POSITIVE, NEUTRAL, NEGATIVE or null
 * @param {{offText?: string, testid?: string}} [options]
 * @returns {HTMLElement}
 */
export function sentimentBadge(sentiment, options = {}) {
  const known = SENTIMENTS[sentiment];
  if (!known) {
    return el('span', { class: `sentiment none${options.offText ? ' off' : ''}`, testid: options.testid,
      dataset: { sentiment: 'none' }, text: options.offText || '—',
      title: options.offText ? undefined : 'No LLM sentiment (no provider configured)' });
  }
  return el('span', { class: `sentiment ${sentiment.toLowerCase()}`, testid: options.testid, dataset: { sentiment } },
    el('span', { 'aria-hidden': 'true', text: `${known.mark} ` }), known.word);
}

/**
 * `3 min ago` from an ISO time; `–` without one.
 * @param {string|null|undefined} iso
 * @param {number} [now] epoch ms
 * @returns {string}
 */
export function ageText(iso, now = Date.now()) {
  const t = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(t)) return '–';
  return `${fmtAge(Math.max(0, now - t))} ago`;
}

/**
 * An error of a call to the model in one sentence: no provider, the model busy or late, or the
 * server's own message.
 * @param {any} err a socket error `{error_code, message}` or an ApiError
 * @returns {string}
 */
export function llmErrorText(err) {
  const code = err && err.error_code;
  const message = String((err && err.message) || '').replace(/^[A-Z][A-Z_]+:\s*/, '');
  if (code === 'UNAVAILABLE' && /llm\.provider is none/.test(message)) {
    return 'No LLM is configured on this gateway (llm.provider is none), so it cannot write this.';
  }
  if (code === 'TIMEOUT') return 'No answer from the gateway in time. Try again in a moment.';
  if (/busy/i.test(message)) return `The model is busy right now (${message}). Try again in a moment.`;
  if (code === 'UNAVAILABLE') return `The model gave no usable answer${message ? ` (${message})` : ''}. Try again in a moment.`;
  return plainError(err);
}

/**
 * Opens a modal dialog that shows `load()`'s Markdown once it arrives: a busy note meanwhile, then
 * the rendered document and a "Download .md" link (a Blob of the Markdown itself: no second call,
 * no token), or the error in one sentence. Closing it before the answer drops the answer.
 * @param {{title: string, busyText: string, fileName: string, load: () => Promise<string>}} o
 * @returns {Promise<void>} settles when the answer (or error) was shown or dropped
 */
export async function openDocumentDialog(o) {
  const titleId = `doc-${Math.random().toString(36).slice(2)}`;
  const status = el('p', { class: 'muted doc-busy', testid: 'llm-doc-busy', role: 'status' },
    el('span', { class: 'spinner', 'aria-hidden': 'true' }), o.busyText);
  const body = el('div', { class: 'doc-body', testid: 'llm-doc-body', 'aria-busy': 'true' }, status);
  const download = el('a', { class: 'btn', testid: 'llm-doc-download', download: o.fileName, hidden: true, text: 'Download .md' });
  const close = el('button', { type: 'button', class: 'btn', testid: 'llm-doc-close', text: 'Close' });
  const dialog = el('dialog', { class: 'doc-dialog', 'aria-labelledby': titleId, testid: 'llm-doc' },
    el('div', { class: 'panel-head' }, el('h2', { id: titleId, text: o.title }),
      el('button', { type: 'button', class: 'btn icon', 'aria-label': 'Close', text: '✕', onclick: () => dialog.close() })),
    body,
    el('div', { class: 'actions' }, download, close));
  let url = null;
  let open = true;
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    open = false;
    if (url) URL.revokeObjectURL(url);
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  try {
    const markdown = await o.load();
    if (!open) return;
    const text = typeof markdown === 'string' ? markdown : '';
    url = URL.createObjectURL(new Blob([text], { type: 'text/markdown;charset=utf-8' }));
    download.href = url;
    download.hidden = false;
    replaceChildren(body, text.trim() ? renderMarkdown(text, { headingLevel: 3 })
      : el('p', { class: 'muted', text: 'The model answered with an empty document.' }));
  } catch (err) {
    if (!open) return;
    replaceChildren(body, el('p', { class: 'form-error', role: 'alert', testid: 'llm-doc-error', text: llmErrorText(err) }));
  }
  body.removeAttribute('aria-busy');
}
