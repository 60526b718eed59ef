// Backtest view: TRADER+ fill in the form (backtest-form.js), the job is submitted over the
// socket so its `progress` frames drive a <progress> bar, and the `completed` frame's report is
// shown with metrics, equity and drawdown charts, trades and exports (backtest-report.js).
// A status poll backs the frames up (a reconnect sends later frames nowhere). VIEWERs get a note.

import { el, errorText } from '../ui.js';
import { buildBacktestForm } from './backtest-form.js';
import { renderReport } from './backtest-report.js';

const POLL_MS = 2000;
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * Mounts the backtest view into its section.
 * @param {HTMLElement} root the view's section
 * @param {object} ctx the view context of docs/DASHBOARD.md
 * @returns {{show: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const formSlot = el('div', { class: 'bt-form-slot' }, el('p', { class: 'muted', text: 'Loading strategies…' }));
  const progress = el('progress', { testid: 'bt-progress', max: 1, value: 0, 'aria-label': 'Backtest progress' });
  const progressText = el('span', { class: 'bt-progress-text', role: 'status', 'aria-live': 'polite' });
  const progressRow = el('div', { class: 'bt-progress-row', hidden: true }, progress, progressText);
  const report = el('section', { class: 'bt-report', testid: 'bt-report', 'aria-label': 'Backtest report', hidden: true });
  root.replaceChildren(el('div', { class: 'view-head' }, el('h2', { text: 'Backtest' })), formSlot, progressRow, report);

  let form = null;
  let job = null;            // {id, off, timer, done}
  let disposeReport = null;
  let loaded = false;

  if (!ctx.can.trade) {
    formSlot.replaceChildren(el('p', { class: 'note', testid: 'bt-viewer-note',
      text: 'Running backtests needs the TRADER role. Reports shared with you by task id can be fetched from /v1/backtest/report/{task_id}.' }));
    return { dispose() {} };
  }

  async function load() {
    let strategies = [], markets = [];
    try {
      const [s, m] = await Promise.all([ctx.api.get('/v1/strategies'), ctx.api.get('/v1/markets')]);
      strategies = s.data || s || [];
      markets = (m.data || []).filter((x) => (x.intervals || []).length);
    } catch (err) {
      formSlot.replaceChildren(el('p', { class: 'form-error', testid: 'bt-error', role: 'alert',
        text: `Could not load strategies or markets: ${errorText(err)}` }),
      el('button', { type: 'button', class: 'btn', text: 'Retry', onclick: load }));
      return;
    }
    loaded = true;
    form = buildBacktestForm({ strategies, markets, onSubmit: submit });
    form.cancelButton.addEventListener('click', cancel);
    formSlot.replaceChildren(form.form);
  }

  function setProgress(fraction, text) {
    progressRow.hidden = false;
    if (fraction === null) progress.removeAttribute('value'); else progress.value = Math.max(0, Math.min(1, fraction));
    progressText.textContent = text;
  }

  async function submit(params) {
    if (job) return;
    form.setBusy(true);
    setProgress(null, 'Submitting…');
    let answer;
    try {
      answer = await ctx.socket.request('backtest.submit', params);
    } catch (err) {
      form.setBusy(false);
      progressRow.hidden = true;
      form.showError(errorText(err));
      return;
    }
    const id = answer.task_id;
    job = { id, done: false, off: null, timer: 0 };
    setProgress(0, `Task ${id}: queued`);
    job.off = ctx.socket.onTask(id, {
      onProgress: (p) => {
        if (!job || job.id !== id) return;
        const value = typeof p === 'number' ? p : p && p.progress;
        setProgress(value, `Task ${id}: ${Math.round(value * 100)} %`);
      },
      onCompleted: (frame) => finish(id, frame),
    });
    poll(id);
  }

  /** Backs the frames up: a reconnected socket no longer receives this job's frames. */
  async function poll(id) {
    if (!job || job.id !== id || job.done) return;
    try {
      const s = await ctx.api.get(`/v1/backtest/status/${encodeURIComponent(id)}`);
      if (!job || job.id !== id || job.done) return;
      if (FINAL.has(s.status)) {
        let rep = null;
        if (s.status === 'COMPLETED') rep = await ctx.api.get(`/v1/backtest/report/${encodeURIComponent(id)}`);
        return finish(id, { task_id: id, status: s.status, reason: s.reason, report: rep });
      }
      if (s.status === 'RUNNING' && typeof s.progress === 'number' && s.progress > progress.value) {
        setProgress(s.progress, `Task ${id}: ${Math.round(s.progress * 100)} %`);
      }
    } catch { /* the next poll or the frames will tell */ }
    if (job && job.id === id && !job.done) job.timer = setTimeout(() => poll(id), POLL_MS);
  }

  function finish(id, frame) {
    if (!job || job.id !== id || job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    if (job.off) job.off();
    job = null;
    form.setBusy(false);
    if (frame.status === 'COMPLETED' && frame.report) {
      setProgress(1, `Task ${id}: completed`);
      showReport(id, frame.report);
      ctx.toast(`Backtest ${id} completed`, 'ok');
    } else {
      const why = frame.reason || frame.status;
      setProgress(progress.value || 0, `Task ${id}: ${frame.status}${frame.reason ? ` (${frame.reason})` : ''}`);
      if (frame.status !== 'CANCELLED') form.showError(`Backtest ${frame.status.toLowerCase()}: ${why}`);
      ctx.toast(`Backtest ${id} ${String(frame.status).toLowerCase()}`, frame.status === 'CANCELLED' ? 'info' : 'error');
    }
  }

  async function cancel() {
    if (!job) return;
    const id = job.id;
    try {
      const answer = await ctx.socket.request('backtest.cancel', { task_id: id });
      if (answer && answer.status === 'CANCELLED') finish(id, { task_id: id, status: 'CANCELLED', reason: 'cancelled' });
    } catch (err) {
      form.showError(`Cancel failed: ${errorText(err)}`);
    }
  }

  function showReport(id, data) {
    if (disposeReport) disposeReport();
    report.hidden = false;
    disposeReport = renderReport(report, data, {
      taskId: id,
      download: (format) => ctx.api.download(`/v1/backtest/report/${encodeURIComponent(id)}/export?format=${format}`,
        `backtest-${id}.${format}`).catch((err) => ctx.toast(`Export failed: ${errorText(err)}`, 'error')),
    });
  }

  load();
  return {
    show() { if (!loaded) load(); },
    dispose() {
      if (job) { clearTimeout(job.timer); if (job.off) job.off(); job = null; }
      if (disposeReport) disposeReport();
    },
  };
}
