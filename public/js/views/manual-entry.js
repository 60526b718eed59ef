// The estimate panel's manual entry (TRADER+): open a position by hand from an approved signal,
// with its market, side, stop and target and the suggested weight (editable), through
// `POST /v1/positions/open` — sized like the estimate and checked by the risk guard, whose
// reasons are shown when it refuses (409 with `details.reasons`).

import { el, replaceChildren, fmtPrice, fmtQty, fmtNum, humanize, confirmDialog, errorText } from '../ui.js';

/**
 * The manual entry section for signal `s` (null for a VIEWER or a signal without a stop).
 * @param {object} ctx the view context
 * @param {object} s the signal
 * @param {object|null} estimate its `GET /v1/positions/estimate` answer, when there is one
 * @returns {HTMLElement|null}
 */
export function manualEntry(ctx, s, estimate) {
  if (!ctx.can.trade || !s) return null;
  if (s.final_decision !== 'APPROVED') {
    return el('div', { class: 'manual-entry', testid: 'manual-entry' },
      el('p', { class: 'muted small', testid: 'manual-entry-note', text: 'Manual entry is offered for approved signals.' }));
  }
  const suggested = s.suggested_position_weight ?? (estimate && estimate.position_weight_used) ?? 1;
  const weight = el('input', { type: 'number', id: `manual-weight-${s.id}`, testid: 'manual-weight', min: 0.01, max: 1, step: 0.05,
    value: String(suggested), inputmode: 'decimal' });
  const button = el('button', { type: 'submit', class: 'btn primary', testid: 'manual-open', text: `Open ${s.side} ${s.market}` });
  const result = el('div', { class: 'manual-result', testid: 'manual-result', 'aria-live': 'polite' });
  const form = el('form', { class: 'toolbar', novalidate: true, 'aria-label': 'Open this position by hand' },
    el('div', { class: 'field' }, el('label', { for: weight.id, text: 'Weight of the sizing' }), weight), button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { market: s.market, side: s.side, stop_loss_price: s.stop_loss_price };
    if (s.profit_target_price !== null && s.profit_target_price !== undefined) body.profit_target_price = s.profit_target_price;
    if (weight.value.trim() !== '') body.weight = Number(weight.value);
    const ok = await confirmDialog(`Open ${s.side} ${s.market} now?`,
      `At the latest price, stop ${fmtPrice(s.stop_loss_price)}${body.profit_target_price !== undefined ? `, target ${fmtPrice(body.profit_target_price)}` : ''}, weight ${body.weight ?? 'default'}. The risk guard checks it first.`,
      'Open position');
    if (!ok) return;
    button.disabled = true;
    replaceChildren(result, el('p', { class: 'muted', text: 'Opening…' }));
    try {
      const p = await ctx.api.post('/v1/positions/open', body);
      result.dataset.positionId = String(p.id);
      replaceChildren(result, el('p', { class: 'deploy-ok', testid: 'manual-opened' },
        `Position #${p.id} opened: ${p.side || s.side} ${fmtQty(p.size)} at ${fmtPrice(p.entry_price)}. `,
        el('a', { href: '#/portfolio', text: 'See the portfolio' })));
      ctx.toast(`Position #${p.id} opened by hand.`, 'ok');
    } catch (err) {
      replaceChildren(result, refusal(err));
    } finally {
      button.disabled = false;
    }
  });
  return el('div', { class: 'manual-entry', testid: 'manual-entry' },
    el('h3', { text: 'Enter it by hand' }),
    el('p', { class: 'muted small', text: `At the latest price with this signal's stop ${fmtPrice(s.stop_loss_price)} and target ${fmtPrice(s.profit_target_price)}, sized like the estimate.` }),
    form, result);
}

/**
 * Puts the manual entry section into the estimate panel, right after the risk guard's verdict
 * (`estimate-reasons`), or at the end when there is no estimate.
 * @param {HTMLElement} panel the estimate panel, just filled
 * @param {object} ctx
 * @param {object} s the signal
 * @param {object|null} estimate
 */
export function addManualEntry(panel, ctx, s, estimate) {
  const section = manualEntry(ctx, s, estimate);
  if (!section) return;
  const after = panel.querySelector('[data-testid="estimate-reasons"]');
  if (after) after.after(section); else panel.append(section);
}

/** The refusal: the risk guard's reasons as a list, or the gateway's message. */
function refusal(err) {
  const reasons = err && err.details && Array.isArray(err.details.reasons) ? err.details.reasons : [];
  if (!reasons.length) return el('p', { class: 'form-error', role: 'alert', testid: 'manual-error', text: `Not opened: ${errorText(err)}` });
  return el('div', { class: 'form-error', role: 'alert', testid: 'manual-error' },
    el('p', { text: 'The risk guard refused it:' }),
    el('ul', { testid: 'manual-reasons' }, reasons.map((r) => el('li', { dataset: { code: r.code || '' } },
      r.message || humanize(r.code), r.code ? el('span', { class: 'small', text: ` (${r.code}${limitText(r)})` }) : null))));
}

/** `: 0.31 vs limit 0.25` when a reason carries both its value and its limit. */
function limitText(r) {
  const has = (v) => v !== undefined && v !== null;
  return has(r.value) && has(r.limit) ? `: ${fmtNum(r.value, 4)} vs limit ${fmtNum(r.limit, 4)}` : '';
}
