// user-topic.js — the signed-in user's own topic (`user`, SPEC §14): a toast for each of their
// jobs finishing (`job.completed`, including backtests submitted over REST or from another tab),
// each position opened or closed by hand (`position.manual`) and each administrator's `notice`.
// `job.progress` is not announced (too chatty). Events older than MAX_AGE_MS (replayed after a
// long reconnect) are not announced either, nor a job or a position this tab toasted itself (the
// backtest and model training views toast their own task's end, the manual entry and the portfolio
// their position): those events wait SETTLE_MS for the view's own toast, which may come after them.

const MAX_AGE_MS = 10 * 60 * 1000;
const SETTLE_MS = 1500;
const KIND_NAMES = { backtest: 'Backtest', optimize: 'Optimisation', train: 'Model training' };

/** The words a toast about the same thing says (`bt-…`; `#12` and `opened`), or null. */
function wordsOf(d) {
  if (d.event_type === 'job.completed' && d.task_id) return [String(d.task_id)];
  if (d.event_type === 'position.manual' && d.position_id !== null && d.position_id !== undefined) return [`#${d.position_id}`, String(d.action)];
  return null;
}

/** True when a toast saying every one of `words` is on screen (the view that acted said so already). */
function toastedAlready(words) {
  const area = document.getElementById('toasts');
  if (!words || !area) return false;
  return [...area.children].some((t) => words.every((w) => ` ${t.textContent} `.includes(` ${w} `)));
}

/**
 * What to say for one event of the `user` topic, or null.
 * @param {object} d the event's data
 * @returns {{text: string, kind: 'ok'|'info'|'error'}|null}
 */
export function userNoticeFor(d) {
  if (!d) return null;
  if (d.event_type === 'job.completed') {
    const what = `${KIND_NAMES[d.kind] || 'Job'} ${d.task_id || ''}`.trim();
    if (d.status === 'COMPLETED') return { text: `${what} completed`, kind: 'ok' };
    const status = String(d.status || 'failed').toLowerCase();
    return { text: `${what} ${status}${d.error ? `: ${d.error}` : ''}`, kind: d.status === 'CANCELLED' ? 'info' : 'error' };
  }
  if (d.event_type === 'position.manual') {
    const id = d.position_id === null || d.position_id === undefined ? '' : ` #${d.position_id}`;
    return { text: `Position${id} ${d.market || ''} ${d.action || 'changed'} by hand`.replace(/\s+/g, ' '), kind: 'info' };
  }
  if (d.event_type === 'notice' && d.message) {
    return { text: `Notice${d.from ? ` from ${d.from}` : ''}: ${d.message}`, kind: 'info' };
  }
  return null;
}

/**
 * Follows the `user` topic for the session in `ctx` (new events only; the socket resumes after a
 * reconnect).
 * @param {object} ctx the view context (socket, toast)
 * @param {{onJobCompleted?: (data: object) => void}} [hooks] e.g. refresh the job history
 * @returns {{stop: () => void}}
 */
export function followUserTopic(ctx, hooks = {}) {
  const timers = new Set();
  const off = ctx.socket.subscribe('user', (data) => {
    const at = Date.parse((data && data.timestamp) || '');
    if (isFinite(at) && Date.now() - at > MAX_AGE_MS) return;
    if (data && data.event_type === 'job.completed' && hooks.onJobCompleted) hooks.onJobCompleted(data);
    const notice = userNoticeFor(data);
    if (!notice) return;
    const words = wordsOf(data);
    if (!words) { ctx.toast(notice.text, notice.kind); return; }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!toastedAlready(words)) ctx.toast(notice.text, notice.kind);
    }, SETTLE_MS);
    timers.add(timer);
  }, { onError: (err) => console.warn('bedrock: the user topic was refused', err.error_code, err.message) });
  return {
    stop() {
      off();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
