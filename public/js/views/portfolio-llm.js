// views/portfolio-llm.js — the portfolio's LLM documents (SPEC §12), TRADER and ADMIN only: a
// "Journal" button on each closed trade (`journal.generate {trade_id}`) and the "Review memo"
// form with a date range (`review.generate {start_date, end_date}`, this month by default). Both
// open the document dialog of js/llm.js: busy while the model writes (up to `llm.timeout_s`), then
// the Markdown rendered safely with a "Download .md" link, or the error in one sentence.

import { el } from '../ui.js';
import { DOCUMENT_TIMEOUT_MS, openDocumentDialog } from '../llm.js';

/**
 * The Journal button of a closed trade; busy (disabled) while its entry is being written.
 * @param {object} ctx the view context
 * @param {{id: number|string, market?: string, side?: string}} trade a row of GET /v1/trades
 * @returns {HTMLButtonElement}
 */
export function journalButton(ctx, trade) {
  const button = el('button', {
    type: 'button', class: 'btn small', testid: 'journal-trade', text: 'Journal',
    'aria-label': `Write a journal entry for trade ${trade.id} (${trade.market || ''} ${trade.side || ''})`,
  });
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await openDocumentDialog({
        title: `Journal — trade #${trade.id}${trade.market ? ` · ${trade.market}` : ''}`,
        busyText: 'The model is writing the journal entry (this can take up to 30 s)…',
        fileName: `journal-trade-${trade.id}.md`,
        load: async () => (await ctx.socket.request('journal.generate', { trade_id: Number(trade.id) },
          { timeoutMs: DOCUMENT_TIMEOUT_MS })).markdown,
      });
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

/**
 * The "Review memo" panel: two dates (UTC, inclusive; this month so far by default) and a button.
 * @param {object} ctx the view context
 * @returns {HTMLElement}
 */
export function createReviewPanel(ctx) {
  const { start, end } = thisMonth(new Date());
  const from = el('input', { type: 'date', id: 'review-start', testid: 'review-start', value: start, required: true });
  const to = el('input', { type: 'date', id: 'review-end', testid: 'review-end', value: end, required: true });
  const button = el('button', { type: 'submit', class: 'btn primary', testid: 'review-generate', text: 'Write the review' });
  const error = el('p', { class: 'form-error', role: 'alert', testid: 'review-error', hidden: true });
  const form = el('form', { class: 'toolbar review-form', 'aria-label': 'Review memo of a period' },
    el('div', { class: 'field' }, el('label', { for: 'review-start', text: 'From (UTC)' }), from),
    el('div', { class: 'field' }, el('label', { for: 'review-end', text: 'To (UTC, inclusive)' }), to),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!from.value || !to.value || from.value > to.value) {
      error.textContent = 'Pick a start date on or before the end date.';
      error.hidden = false;
      return;
    }
    const range = { start_date: from.value, end_date: to.value };
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await openDocumentDialog({
        title: `Review — ${range.start_date} to ${range.end_date}`,
        busyText: 'The model is writing the review memo (this can take up to 30 s)…',
        fileName: `review-${range.start_date}-${range.end_date}.md`,
        load: async () => (await ctx.socket.request('review.generate', range, { timeoutMs: DOCUMENT_TIMEOUT_MS })).markdown,
      });
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return el('div', { class: 'panel', testid: 'review-panel' },
    el('h2', { text: 'Review memo' }),
    el('p', { class: 'muted small', text: 'The model writes a memo of the period from the trades, P&L and metrics Bedrock computes.' }),
    form, error);
}

/** The first day of `now`'s month and `now`, as UTC dates (`YYYY-MM-DD`). */
function thisMonth(now) {
  const end = now.toISOString().slice(0, 10);
  return { start: `${end.slice(0, 8)}01`, end };
}
