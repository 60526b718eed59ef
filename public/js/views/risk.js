// views/risk.js — the risk guard's state (GET /v1/risk), the live alerts feed (topic `risk`,
// TRADER and ADMIN only: SPEC §6), and the kill switch (ADMIN only, with confirmation).
// VIEWER sees the state, refreshed every 15 s, and a note that alerts need a higher role.

import {
  el, append, replaceChildren, fmtMoney, fmtNum, fmtPct, fmtTime, humanize, table, td,
  confirmDialog, debounce, errorText,
} from '../ui.js';

const POLL_MS = 15000;
const MAX_ALERTS = 100;
const ALERT_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Mounts the risk view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const mayStream = ctx.can.trade; // SPEC §6: `risk` is TRADER+
  let visible = true;
  let shownOnce = false; // the first show() follows mount(), which has just loaded
  let state = null;

  const stateBox = el('div', { class: 'risk-state', testid: 'risk-state', 'aria-live': 'polite' },
    el('p', { class: 'muted', text: 'Loading…' }));
  const statePanel = el('div', { class: 'panel' }, el('h2', { text: 'Risk state' }), stateBox);

  // ---- kill switch (ADMIN)
  let killButton = null;
  let killPanel = null;
  if (ctx.can.admin) {
    const reason = el('input', { type: 'text', id: 'kill-reason', testid: 'kill-switch-reason', maxlength: 200,
      placeholder: 'optional: why', autocomplete: 'off' });
    killButton = el('button', { type: 'button', class: 'btn danger', testid: 'kill-switch', 'aria-pressed': 'false',
      text: 'Engage kill switch', onclick: () => toggleKill(reason) });
    killPanel = el('div', { class: 'panel kill' },
      el('h2', { text: 'Kill switch' }),
      el('p', { class: 'muted', text: 'While engaged, no new position is opened. Open positions keep their stops and targets.' }),
      el('div', { class: 'toolbar' },
        el('div', { class: 'field grow' }, el('label', { for: 'kill-reason', text: 'Reason (recorded with the change)' }), reason),
        killButton));
  }

  // ---- alerts
  const alertList = el('ol', { class: 'alerts', testid: 'risk-alerts', 'aria-live': 'polite', reversed: true,
    tabindex: 0, 'aria-label': 'Risk alerts, newest first' }); // focusable: it scrolls
  const alertsEmpty = el('p', { class: 'empty', text: 'No risk alerts in the last 24 hours.' });
  const alertsPanel = mayStream
    ? el('div', { class: 'panel' }, el('h2', { text: 'Alerts' }),
      el('p', { class: 'muted', text: 'Refused entries and kill switch changes, live, newest first (last 24 hours).' }),
      alertsEmpty, alertList)
    : el('div', { class: 'panel' }, el('h2', { text: 'Alerts' }),
      el('p', { class: 'notice', testid: 'risk-alerts-unavailable',
        text: 'The live risk alerts stream is for TRADER and ADMIN. As VIEWER you see the risk state above, refreshed every 15 seconds, and the refusal counts.' }));

  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Risk' }),
    el('p', { class: 'muted', text: 'What the risk guard sees and what it refused.' })));
  append(root, killPanel, statePanel, alertsPanel);

  // ---- state
  async function loadState() {
    try {
      state = await ctx.api.get('/v1/risk');
      renderState();
    } catch (err) {
      replaceChildren(stateBox, el('p', { class: 'form-error', role: 'alert', text: `Risk state unavailable: ${errorText(err)}` }));
    }
  }
  const loadStateSoon = debounce(loadState, 300);

  function renderState() {
    const s = state;
    const engaged = s.kill_switch === true;
    const limits = s.limits || {};
    const who = engaged || s.kill_switch_updated_by
      ? `${engaged ? 'Engaged' : 'Released'}${s.kill_switch_updated_by ? ` by ${s.kill_switch_updated_by}` : ''}${s.kill_switch_updated_at ? `, ${fmtTime(s.kill_switch_updated_at)}` : ''}`
      : 'Never engaged';
    const gauge = (label, value, limit, fmt) => {
      const meter = el('meter', { min: 0, max: limit || 1, value: Math.min(value || 0, limit || 1),
        high: (limit || 1) * 0.8, optimum: 0, 'aria-label': `${label} against its limit` });
      return el('div', { class: 'gauge' }, el('span', { class: 'figure-label', text: label }),
        el('span', { class: 'figure-value', text: `${fmt(value)} / ${fmt(limit)}` }), meter);
    };
    const frac = (v) => fmtPct((v || 0) * 100);
    const limitsTable = table('Limits', ['Rule', { label: 'Limit', className: 'num' }], { className: 'data compact' });
    for (const [key, value] of Object.entries(limits)) {
      limitsTable.tbody.append(el('tr', {}, td(humanize(key)),
        td(/max_exposure|daily_loss|drawdown/.test(key) ? frac(value) : fmtNum(value, Number.isInteger(value) ? 0 : 2), 'num')));
    }
    const refusals = Object.entries(s.refusals || {});
    const refusalsTable = table('Refused entries by reason', ['Reason', { label: 'Count', className: 'num' }], { className: 'data compact' });
    for (const [code, n] of refusals) refusalsTable.tbody.append(el('tr', {}, td(humanize(code)), td(fmtNum(n, 0), 'num')));

    replaceChildren(stateBox,
      el('p', { class: 'kill-state', testid: 'kill-switch-state', dataset: { engaged: String(engaged) } },
        el('span', { class: `badge ${engaged ? 'bad' : 'ok'}`, text: engaged ? 'Kill switch ENGAGED' : 'Kill switch off' }),
        el('span', { class: 'muted', text: ` ${who}` })),
      el('div', { class: 'figures' },
        figure('Equity', fmtMoney(s.equity)), figure('Peak equity', fmtMoney(s.peak_equity)),
        figure('Start-of-day equity', fmtMoney(s.day_start_equity)), figure('Open positions', fmtNum(s.open_positions, 0)),
        figure('Exposure', fmtMoney(s.exposure), `${frac(s.exposure_fraction)} of equity`)),
      el('div', { class: 'gauges' },
        gauge('Drawdown', s.drawdown, limits.max_drawdown, frac),
        gauge('Daily loss', s.daily_loss, limits.daily_loss_limit, frac),
        gauge('Exposure', s.exposure_fraction, limits.max_exposure, frac),
        gauge('Open positions', s.open_positions, limits.max_open_positions, (v) => fmtNum(v, 0))),
      el('div', { class: 'split even' },
        el('div', {}, limitsTable.wrap),
        el('div', {}, refusals.length ? refusalsTable.wrap : el('p', { class: 'muted', text: 'No entry refused so far.' }))));

    if (killButton) {
      killButton.setAttribute('aria-pressed', String(engaged));
      killButton.textContent = engaged ? 'Release kill switch' : 'Engage kill switch';
      killButton.className = engaged ? 'btn primary' : 'btn danger';
    }
  }

  async function toggleKill(reasonInput) {
    const enable = !(state && state.kill_switch === true);
    const ok = await confirmDialog(enable ? 'Engage the kill switch?' : 'Release the kill switch?',
      enable ? 'No new position will be opened until an ADMIN releases it.'
        : 'New entries will be allowed again, and the drawdown guard starts afresh from the current equity.',
      enable ? 'Engage' : 'Release');
    if (!ok) return;
    killButton.disabled = true;
    try {
      const body = { enabled: enable };
      if (reasonInput.value.trim()) body.reason = reasonInput.value.trim();
      state = await ctx.api.post('/v1/risk/kill-switch', body);
      renderState();
      reasonInput.value = '';
      ctx.toast(enable ? 'Kill switch engaged.' : 'Kill switch released.', 'ok');
    } catch (err) {
      ctx.toast(`Kill switch not changed: ${errorText(err)}`, 'error');
    } finally {
      killButton.disabled = false;
    }
  }

  // ---- alerts feed
  function onAlert(data, meta) {
    if (!data || data.event_type !== 'risk.alert') return;
    alertList.prepend(alertItem(data, meta));
    while (alertList.children.length > MAX_ALERTS) alertList.lastElementChild.remove();
    alertsEmpty.hidden = true;
    loadStateSoon();
  }
  const offRisk = mayStream
    ? ctx.socket.subscribe('risk', onAlert, {
      since: `${Date.now() - ALERT_WINDOW_MS}-0`,
      onReset: () => { loadState(); },
    })
    : null;

  const poll = setInterval(() => { if (visible) loadState(); }, POLL_MS);
  loadState();

  return {
    show() { visible = true; if (shownOnce) loadState(); shownOnce = true; },
    hide() { visible = false; },
    dispose() { if (offRisk) offRisk(); clearInterval(poll); loadStateSoon.cancel(); },
  };
}

function figure(label, value, note) {
  return el('div', { class: 'figure' }, el('span', { class: 'figure-label', text: label }),
    el('span', { class: 'figure-value', text: value }), note ? el('span', { class: 'figure-note', text: note }) : null);
}

/** One alert: when, what, which market, and the reasons in words. */
function alertItem(a, meta) {
  const time = a.timestamp || (meta && meta.id ? new Date(Number(String(meta.id).split('-')[0])).toISOString() : null);
  const reasons = Array.isArray(a.reasons) ? a.reasons : [];
  const serious = a.action === 'KILL_SWITCH_ENGAGED';
  return el('li', { class: `alert ${serious ? 'bad' : ''}`, testid: 'risk-alert', dataset: { action: a.action || '' } },
    el('div', { class: 'alert-head' },
      el('strong', { text: humanize(a.action || 'alert') }),
      a.market ? el('span', { text: ` · ${a.market}` }) : null,
      a.signal_id ? el('span', { class: 'muted', text: ` · signal #${a.signal_id}` }) : null,
      el('time', { class: 'muted', datetime: time || '', text: ` · ${fmtTime(time)}` })),
    reasons.length ? el('ul', {}, reasons.map((r) => el('li', { text: r.message || humanize(r.code) }))) : null);
}
