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
  const killSwitch = ctx.can.admin ? createKillSwitch(ctx, () => state, showState) : null;
  const alerts = mayStream ? createAlertFeed() : null;

  root.append(el('div', { class: 'view-head' }, el('h1', { text: 'Risk' }),
    el('p', { class: 'muted', text: 'What the risk guard sees and what it refused.' })));
  append(root, killSwitch && killSwitch.panel, statePanel, alerts ? alerts.panel : alertsUnavailablePanel());

  /** Shows a risk state (`GET /v1/risk`, or the kill switch's answer). */
  function showState(next) {
    state = next;
    renderRiskState(stateBox, state);
    if (killSwitch) killSwitch.show(state.kill_switch === true);
  }

  async function loadState() {
    try {
      showState(await ctx.api.get('/v1/risk'));
    } catch (err) {
      replaceChildren(stateBox, el('p', { class: 'form-error', role: 'alert', text: `Risk state unavailable: ${errorText(err)}` }));
    }
  }
  const loadStateSoon = debounce(loadState, 300);

  const offRisk = mayStream
    ? ctx.socket.subscribe('risk', (data, meta) => { if (alerts.add(data, meta)) loadStateSoon(); }, {
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

/**
 * ADMIN: the kill switch panel, with an optional reason; asks first, then
 * `POST /v1/risk/kill-switch` and hands the answer (the new state) to `onState`.
 * @param {object} ctx the view context
 * @param {() => object|null} currentState the risk state shown
 * @param {(state: object) => void} onState
 */
function createKillSwitch(ctx, currentState, onState) {
  const reason = el('input', { type: 'text', id: 'kill-reason', testid: 'kill-switch-reason', maxlength: 200,
    placeholder: 'optional: why', autocomplete: 'off' });
  const button = el('button', { type: 'button', class: 'btn danger', testid: 'kill-switch', 'aria-pressed': 'false',
    text: 'Engage kill switch', onclick: () => toggle() });
  const panel = el('div', { class: 'panel kill' },
    el('h2', { text: 'Kill switch' }),
    el('p', { class: 'muted', text: 'While engaged, no new position is opened. Open positions keep their stops and targets.' }),
    el('div', { class: 'toolbar' },
      el('div', { class: 'field grow' }, el('label', { for: 'kill-reason', text: 'Reason (recorded with the change)' }), reason),
      button));

  async function toggle() {
    const state = currentState();
    const enable = !(state && state.kill_switch === true);
    const ok = await confirmDialog(enable ? 'Engage the kill switch?' : 'Release the kill switch?',
      enable ? 'No new position will be opened until an ADMIN releases it.'
        : 'New entries will be allowed again, and the drawdown guard starts afresh from the current equity.',
      enable ? 'Engage' : 'Release');
    if (!ok) return;
    button.disabled = true;
    try {
      const body = { enabled: enable };
      if (reason.value.trim()) body.reason = reason.value.trim();
      onState(await ctx.api.post('/v1/risk/kill-switch', body));
      reason.value = '';
      ctx.toast(enable ? 'Kill switch engaged.' : 'Kill switch released.', 'ok');
    } catch (err) {
      ctx.toast(`Kill switch not changed: ${errorText(err)}`, 'error');
    } finally {
      button.disabled = false;
    }
  }

  return {
    panel,

    /** Shows whether the switch is engaged (the button then releases it). */
    show(engaged) {
      button.setAttribute('aria-pressed', String(engaged));
      button.textContent = engaged ? 'Release kill switch' : 'Engage kill switch';
      button.className = engaged ? 'btn primary' : 'btn danger';
    },
  };
}

/** TRADER+: the live alerts list, newest first, at most `MAX_ALERTS`. */
function createAlertFeed() {
  const list = el('ol', { class: 'alerts', testid: 'risk-alerts', 'aria-live': 'polite', reversed: true,
    tabindex: 0, 'aria-label': 'Risk alerts, newest first' }); // focusable: it scrolls
  const empty = el('p', { class: 'empty', text: 'No risk alerts in the last 24 hours.' });
  return {
    panel: el('div', { class: 'panel' }, el('h2', { text: 'Alerts' }),
      el('p', { class: 'muted', text: 'Refused entries and kill switch changes, live, newest first: what the gateway recorded in the last 24 hours.' }),
      empty, list),

    /** Adds a `risk.alert` event on top; false for any other event. */
    add(data, meta) {
      if (!data || data.event_type !== 'risk.alert') return false;
      list.prepend(alertItem(data, meta));
      while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
      empty.hidden = true;
      return true;
    },
  };
}

/** VIEWER: the note that replaces the alerts feed. */
function alertsUnavailablePanel() {
  return el('div', { class: 'panel' }, el('h2', { text: 'Alerts' }),
    el('p', { class: 'notice', testid: 'risk-alerts-unavailable',
      text: 'The live risk alerts stream is for TRADER and ADMIN. As VIEWER you see the risk state above, refreshed every 15 seconds, and the refusal counts.' }));
}

/** Fills the state box: kill switch, figures, gauges against the limits, limits and refusals. */
function renderRiskState(box, s) {
  const engaged = s.kill_switch === true;
  const limits = s.limits || {};
  const who = engaged || s.kill_switch_updated_by
    ? `${engaged ? 'Engaged' : 'Released'}${s.kill_switch_updated_by ? ` by ${s.kill_switch_updated_by}` : ''}${s.kill_switch_updated_at ? `, ${fmtTime(s.kill_switch_updated_at)}` : ''}`
    : 'Never engaged';
  const frac = (v) => fmtPct((v || 0) * 100);
  const limitsTable = table('Limits', ['Rule', { label: 'Limit', className: 'num' }], { className: 'data compact' });
  for (const [key, value] of Object.entries(limits)) {
    limitsTable.tbody.append(el('tr', {}, td(humanize(key)),
      td(/max_exposure|daily_loss|drawdown/.test(key) ? frac(value) : fmtNum(value, Number.isInteger(value) ? 0 : 2), 'num')));
  }
  const refusals = Object.entries(s.refusals || {});
  const refusalsTable = table('Refused entries by reason', ['Reason', { label: 'Count', className: 'num' }], { className: 'data compact' });
  for (const [code, n] of refusals) refusalsTable.tbody.append(el('tr', {}, td(humanize(code)), td(fmtNum(n, 0), 'num')));

  replaceChildren(box,
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
}

/** A figure against its limit, as text and a `<meter>`. */
function gauge(label, value, limit, fmt) {
  const meter = el('meter', { min: 0, max: limit || 1, value: Math.min(value || 0, limit || 1),
    high: (limit || 1) * 0.8, optimum: 0, 'aria-label': `${label} against its limit` });
  return el('div', { class: 'gauge' }, el('span', { class: 'figure-label', text: label }),
    el('span', { class: 'figure-value', text: `${fmt(value)} / ${fmt(limit)}` }), meter);
}

function figure(label, value, note) {
  return el('div', { class: 'figure' }, el('span', { class: 'figure-label', text: label }),
    el('span', { class: 'figure-value', text: value }), note ? el('span', { class: 'figure-note', text: note }) : null);
}

/**
 * One alert: when the gateway recorded it (its stream id: the clock of "the last 24 hours"), what,
 * which market, and the reasons in words. The time the alert itself carries is a bar's time when
 * the engine refused an entry on a replayed or late bar: shown beside it when it differs.
 */
function alertItem(a, meta) {
  const recordedMs = meta && meta.id ? Number(String(meta.id).split('-')[0]) : NaN;
  const time = recordedMs > 0 ? new Date(recordedMs).toISOString() : a.timestamp || null;
  const stamped = a.timestamp && Math.abs(Date.parse(a.timestamp) - Date.parse(time)) > 60000 ? a.timestamp : null;
  const reasons = Array.isArray(a.reasons) ? a.reasons : [];
  const serious = a.action === 'KILL_SWITCH_ENGAGED';
  return el('li', { class: `alert ${serious ? 'bad' : ''}`, testid: 'risk-alert', dataset: { action: a.action || '' } },
    el('div', { class: 'alert-head' },
      el('strong', { text: humanize(a.action || 'alert') }),
      a.market ? el('span', { text: ` · ${a.market}` }) : null,
      a.signal_id ? el('span', { class: 'muted', text: ` · signal #${a.signal_id}` }) : null,
      el('time', { class: 'muted', datetime: time || '', text: ` · ${fmtTime(time)}` }),
      stamped ? el('span', { class: 'muted', text: ` · bar time ${fmtTime(stamped)}` }) : null),
    reasons.length ? el('ul', {}, reasons.map((r) => el('li', { text: r.message || humanize(r.code) }))) : null);
}
