// notify.js — browser notifications, opt-in: the bell in the header (`notify-toggle`) asks the
// browser's permission only when clicked, and the choice is remembered on this device. While on,
// the page shows a notification for an approved signal (`signal.created`, topic `signals`), a fill
// (`portfolio.updated` POSITION_OPENED), a stop-out (`position.closed` with exit reason STOP_LOSS)
// and the kill switch engaging (`risk.alert` KILL_SWITCH_ENGAGED) — the last three on topics
// TRADER and ADMIN may follow (SPEC §6) — and the user's own topic (`user`: their jobs finishing,
// positions opened or closed by hand, an administrator's notice; see js/user-topic.js). Events replayed after a reconnect that are older than
// MAX_AGE_MS are not announced. Clicking a notification brings the page and the view forward.

import { svgEl } from './charts/svg.js';
import { fmtMoney, fmtPct, fmtPrice, fmtQty } from './ui.js';
import { userNoticeFor } from './user-topic.js';

const STORAGE_KEY = 'bedrock.notify';
const MAX_AGE_MS = 10 * 60 * 1000;

/**
 * What to announce for one event of `topic`, or null.
 * @param {string} topic `signals`, `portfolio`, `risk` or `user`
 * @param {object} d the event's data
 * @returns {{kind: string, title: string, body: string, tag: string, view: string|null}|null}
 */
export function notificationFor(topic, d) {
  if (!d) return null;
  if (topic === 'user') {
    if (d.event_type === 'position.manual' && d.action === 'opened') return null; // the fill's notification says it
    const n = userNoticeFor(d);
    if (!n) return null;
    const view = d.event_type === 'job.completed' ? 'history' : d.event_type === 'position.manual' ? 'portfolio' : null;
    const tag = d.event_type === 'job.completed' ? `job-${d.task_id}` : d.event_type === 'position.manual'
      ? `manual-${d.position_id}-${d.action}` : `notice-${d.timestamp || Date.now()}`;
    return { kind: d.event_type, view, tag, title: n.text, body: '' };
  }
  if (topic === 'signals' && d.event_type === 'signal.created' && d.final_decision === 'APPROVED') {
    const score = d.rule_engine_score === null || d.rule_engine_score === undefined ? '' : `, score ${Math.round(d.rule_engine_score)}`;
    return { kind: 'signal', view: 'signals', tag: `signal-${d.id ?? d.signal_id}`,
      title: `Approved ${d.side || ''} signal · ${d.market} ${d.interval || ''}`.replace(/\s+/g, ' ').trim(),
      body: `${d.signal_type || d.side} at ${fmtPrice(d.entry_price)}, stop ${fmtPrice(d.stop_loss_price)}, ` +
        `target ${fmtPrice(d.profit_target_price)}${score}` };
  }
  if (topic === 'portfolio' && d.event_type === 'portfolio.updated' && d.action === 'POSITION_OPENED') {
    const id = d.position_id ?? d.id;
    return { kind: 'fill', view: 'portfolio', tag: `open-${id}`,
      title: `Position opened · ${d.market}`,
      body: `#${id} ${d.side || ''} ${fmtQty(d.position_size ?? d.size)} at ${fmtPrice(d.entry_price)}` +
        (d.stop_loss_price !== null && d.stop_loss_price !== undefined ? `, stop ${fmtPrice(d.stop_loss_price)}` : '') };
  }
  if (topic === 'portfolio' && d.event_type === 'position.closed' && d.exit_reason === 'STOP_LOSS') {
    const id = d.position_id ?? d.id;
    return { kind: 'stop', view: 'portfolio', tag: `stop-${id}`,
      title: `Stopped out · ${d.market}`,
      body: `#${id} closed at ${fmtPrice(d.exit_price)}: P&L ${fmtMoney(d.realized_pnl, true)} (${fmtPct(d.roi)})` };
  }
  if (topic === 'risk' && d.event_type === 'risk.alert' && d.action === 'KILL_SWITCH_ENGAGED') {
    const reason = (d.reasons && d.reasons[0] && d.reasons[0].message) || `engaged by ${d.by || 'the risk guard'}`;
    return { kind: 'kill', view: 'risk', tag: 'kill-switch', title: 'Kill switch engaged: no new entries', body: reason };
  }
  return null;
}

/** Draws the bell (struck through when off) into `holder`: SVG, no emoji font needed. */
function bellIcon(holder, on) {
  const svg = svgEl('svg', { viewBox: '0 0 24 24', width: 18, height: 18, 'aria-hidden': 'true', class: 'bell' });
  svgEl('path', { d: 'M6 17h12l-1.5-2V10a4.5 4.5 0 0 0-9 0v5z', fill: on ? 'currentColor' : 'none', stroke: 'currentColor',
    'stroke-width': 1.8, 'stroke-linejoin': 'round' }, svg);
  svgEl('path', { d: 'M10 19.5a2 2 0 0 0 4 0', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8 }, svg);
  if (!on) svgEl('line', { x1: 4, y1: 4, x2: 20, y2: 20, stroke: 'currentColor', 'stroke-width': 1.8 }, svg);
  holder.replaceChildren(svg);
}

/**
 * The bell: `button` toggles notifications for the session in `ctx`.
 * @param {object} ctx the view context (socket, can, toast)
 * @param {HTMLButtonElement} button the header's `notify-toggle`
 * @returns {{stop: () => void}}
 */
export function createNotifier(ctx, button) {
  let offs = [];
  const supported = () => typeof window.Notification === 'function';
  const wanted = () => { try { return localStorage.getItem(STORAGE_KEY) === 'on'; } catch { return false; } };
  const remember = (on) => { try { localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off'); } catch { /* private mode */ } };
  const what = ctx.can.trade ? 'approved signals, fills, stop-outs, the kill switch and your jobs and notices'
    : 'approved signals and your notices';

  function show(on) {
    button.setAttribute('aria-pressed', String(on));
    button.dataset.state = on ? 'on' : 'off';
    const label = on ? `Notifications on (${what}): turn off` : `Turn on browser notifications for ${what}`;
    button.setAttribute('aria-label', label);
    button.title = label;
    bellIcon(button.querySelector('.notify-icon'), on);
  }

  function announce(topic, data) {
    const n = notificationFor(topic, data);
    if (!n || !supported() || window.Notification.permission !== 'granted') return;
    const at = Date.parse(data.timestamp || '');
    if (isFinite(at) && Date.now() - at > MAX_AGE_MS) return;
    try {
      const note = new window.Notification(n.title, { body: n.body, tag: n.tag, data: { kind: n.kind } });
      note.onclick = () => { window.focus(); if (n.view) location.hash = `#/${n.view}`; note.close(); };
    } catch (err) {
      console.warn('bedrock: the browser refused a notification', err);
    }
  }

  function start() {
    if (offs.length) return;
    const topics = ctx.can.trade ? ['signals', 'portfolio', 'risk', 'user'] : ['signals', 'user'];
    offs = topics.map((topic) => ctx.socket.subscribe(topic, (data) => announce(topic, data)));
  }

  function stopListening() {
    for (const off of offs) off();
    offs = [];
  }

  async function toggle() {
    if (button.dataset.state === 'on') {
      remember(false); stopListening(); show(false);
      return;
    }
    if (!supported()) { ctx.toast('This browser cannot show notifications.', 'error'); return; }
    let permission = window.Notification.permission;
    if (permission === 'default') permission = await window.Notification.requestPermission();
    if (permission !== 'granted') {
      ctx.toast('Notifications are blocked for this site: allow them in the browser\'s site settings.', 'error');
      return;
    }
    remember(true); start(); show(true);
    ctx.toast(`Notifications on: ${what}.`, 'ok');
  }

  button.addEventListener('click', toggle);
  button.hidden = false;
  // On again after a reload only when the browser already granted it: never ask without a click.
  const on = wanted() && supported() && window.Notification.permission === 'granted';
  if (on) start();
  show(on);

  return {
    stop() {
      stopListening();
      button.removeEventListener('click', toggle);
      button.hidden = true;
    },
  };
}
