// Backtest view: TRADER+ fill in the form (backtest-form.js), the job is submitted over the
// socket so its `progress` frames drive a <progress> bar, and the `completed` frame's report is
// shown with metrics, equity and drawdown charts, trades and exports (backtest-report.js).
// A status poll backs the frames up (a reconnect sends later frames nowhere). VIEWERs get a note.

import { el, errorText } from '../ui.js';
import { plainError } from '../ml.js';
import { buildBacktestForm } from './backtest-form.js';
import { renderReport } from './backtest-report.js';
import { createTaskFollower } from '../task.js';

const DATASET_RETRIES = 10;   // asks for files the gateway is still reading (`pending`), 1.5 s apart
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * Mounts the backtest view into its section.
 * @param {HTMLElement} root the view's section
 * @param {object} ctx the view context of docs/DASHBOARD.md
 * @returns {{show: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const formSlot = el('div', { class: 'bt-form-slot' }, el('p', { class: 'muted', text: 'Loading strategies…' }));
  const progress = createProgressBar();
  const report = el('section', { class: 'bt-report', testid: 'bt-report', 'aria-label': 'Backtest report', hidden: true });
  root.replaceChildren(el('div', { class: 'view-head' }, el('h2', { text: 'Backtest' })), formSlot, progress.row, report);

  if (!ctx.can.trade) {
    formSlot.replaceChildren(el('p', { class: 'note', testid: 'bt-viewer-note',
      text: 'Running backtests needs the TRADER role. Reports shared with you by task id can be fetched from /v1/backtest/report/{task_id}.' }));
    return { dispose() {} };
  }

  let form = null;
  let disposeReport = null;
  let loaded = false;
  const runner = createJobRunner(ctx, progress, {
    setBusy: (busy) => form.setBusy(busy),
    showError: (message) => form.showError(message),
    showReport: (id, data) => { showReport(id, data); revealReport(); },
  });

  async function load() {
    let strategies = [], markets = [];
    // The dataset list is a convenience: without it the file name is typed, as before.
    const datasets = ctx.api.get('/v1/datasets').then((d) => d.data || []).catch(() => null);
    // The model picker needs the registry; without it the form runs rules only, as before.
    const models = ctx.models(true).then((r) => (r && r.models) || []).catch(() => null);
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
    form = buildBacktestForm({ strategies, markets, datasets: await datasets, models: await models, onSubmit: runner.submit });
    refreshPendingDatasets(await datasets, 0);
    form.cancelButton.addEventListener('click', runner.cancel);
    formSlot.replaceChildren(form.form);
  }

  /** Files the gateway had not read yet (`pending`) are asked for again, a few times. */
  function refreshPendingDatasets(list, attempt) {
    if (!list || !list.some((d) => d.pending) || attempt >= DATASET_RETRIES) return;
    setTimeout(() => ctx.api.get('/v1/datasets').then((d) => {
      if (!form) return;
      form.setDatasets(d.data || []);
      refreshPendingDatasets(d.data || [], attempt + 1);
    }).catch(() => {}), 1500);
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

  /** A report that just came in: the form is long, so bring the report up and put the focus on it. */
  function revealReport() {
    report.scrollIntoView({ block: 'start' });
    const heading = report.querySelector('h3');
    if (heading) heading.focus({ preventScroll: true });
  }

  load();
  return {
    show() { if (!loaded) load(); },
    dispose() {
      runner.dispose();
      if (disposeReport) disposeReport();
    },
  };
}

/** The job's `<progress>` bar (indeterminate while submitting) with its status text. */
function createProgressBar() {
  const bar = el('progress', { testid: 'bt-progress', max: 1, value: 0, 'aria-label': 'Backtest progress' });
  const text = el('span', { class: 'bt-progress-text', role: 'status', 'aria-live': 'polite' });
  const row = el('div', { class: 'bt-progress-row', hidden: true }, bar, text);
  return {
    row,

    /** Shows a fraction (0..1; null: indeterminate) and a status text. */
    set(fraction, status) {
      row.hidden = false;
      if (fraction === null) bar.removeAttribute('value'); else bar.value = Math.max(0, Math.min(1, fraction));
      text.textContent = status;
    },

    /** The fraction shown. */
    value: () => bar.value,

    hide() { row.hidden = true; },
  };
}

/**
 * Runs one backtest job at a time: `backtest.submit` over the socket, its `progress` frames on
 * the bar, a status poll as a backup (`createTaskFollower`), cancel, and the outcome (report or error).
 * @param {object} ctx the view context
 * @param {ReturnType<typeof createProgressBar>} progress
 * @param {{setBusy: (busy: boolean) => void, showError: (message: string) => void,
 *          showReport: (taskId: string, report: object) => void}} form
 */
function createJobRunner(ctx, progress, form) {
  const follower = createTaskFollower(ctx.socket, {
    submit: 'backtest.submit',
    cancel: 'backtest.cancel',
    async status(id) {
      const s = await ctx.api.get(`/v1/backtest/status/${encodeURIComponent(id)}`);
      if (!FINAL.has(s.status)) return { progress: s.status === 'RUNNING' ? s.progress : undefined };
      const report = s.status === 'COMPLETED' ? await ctx.api.get(`/v1/backtest/report/${encodeURIComponent(id)}`) : null;
      return { final: { task_id: id, status: s.status, reason: s.reason, report } };
    },
    onProgress(id, value) {
      if (value > progress.value()) progress.set(value, `Task ${id}: ${Math.round(value * 100)} %`);
    },
    onFinish(id, frame) {
      form.setBusy(false);
      if (frame.status === 'COMPLETED' && frame.report) {
        progress.set(1, `Task ${id}: completed`);
        form.showReport(id, frame.report);
        ctx.toast(`Backtest ${id} completed`, 'ok');
      } else {
        const why = frame.reason ? plainError({ message: frame.reason }) : frame.status;
        progress.set(progress.value() || 0, `Task ${id}: ${frame.status.toLowerCase()}`);
        if (frame.status !== 'CANCELLED') form.showError(`The backtest ${frame.status.toLowerCase()}: ${why}`);
        ctx.toast(`Backtest ${id} ${String(frame.status).toLowerCase()}`, frame.status === 'CANCELLED' ? 'info' : 'error');
      }
    },
  });

  async function submit(params) {
    if (follower.busy()) return;
    form.setBusy(true);
    progress.set(null, 'Submitting…');
    try {
      const id = await follower.submit(params);
      if (id && follower.busy()) progress.set(0, `Task ${id}: queued`);
    } catch (err) {
      form.setBusy(false);
      progress.hide();
      form.showError(plainError(err));
    }
  }

  async function cancel() {
    try {
      await follower.cancel();
    } catch (err) {
      form.showError(`Cancel failed: ${errorText(err)}`);
    }
  }

  return {
    submit, cancel,

    /** Stops following the job (the view goes away). */
    dispose: follower.dispose,
  };
}
