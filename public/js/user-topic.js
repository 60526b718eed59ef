// user-topic.js — the signed-in user's own topic (`user`, SPEC §14): a toast for each of their
// jobs finishing (`job.completed`, including backtests submitted over REST or from another tab),
// each position opened or closed by hand (`position.manual`) and each administrator's `notice`.
// `job.progress` is not announced (too chatty). Events older than MAX_AGE_MS (replayed after a
// long reconnect) are not announced either, nor a job whose end this tab has just toasted (the
// backtest view toasts its own task's `completed` frame).

const MAX_AGE_MS = 10 * 60 * 1000;
const KIND_NAMES = { backtest: 'Backtest', optimize: 'Optimisation', train: 'Model training' };

/** True when a toast about task `id` is on screen (the view that ran it said it ended). */
function toastedAlready(id) {
  if (!id) return false;
  const area = document.getElementById('toasts');
  return Boolean(area) && [...area.children].some((t) => ` ${t.textContent} `.includes(` ${id} `));
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
  const off = ctx.socket.subscribe('user', (data) => {
    const at = Date.parse((data && data.timestamp) || '');
    if (isFinite(at) && Date.now() - at > MAX_AGE_MS) return;
    const notice = userNoticeFor(data);
    const job = Boolean(data) && data.event_type === 'job.completed';
    if (notice && !(job && toastedAlready(data.task_id))) ctx.toast(notice.text, notice.kind);
    if (job && hooks.onJobCompleted) hooks.onJobCompleted(data);
  }, { onError: (err) => console.warn('bedrock: the user topic was refused', err.error_code, err.message) });
  return { stop: off };
}
