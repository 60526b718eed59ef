// One job at a time followed to its end, for the views that submit jobs (backtests, model
// trainings): submitted over the socket, its `progress` and `completed` frames, a status poll every
// POLL_MS as a backup (a reconnected socket gets no more frames of the job), cancel, and exactly
// one `onFinish` however the end is learnt.

const POLL_MS = 2000;

/**
 * @param {object} socket the view context's socket (`request`, `onTask`)
 * @param {{submit: string, cancel: string,
 *          status: (id: string) => Promise<{final?: object, progress?: number}>,
 *          onProgress: (id: string, value: number, stage?: string) => void,
 *          onFinish: (id: string, frame: object) => void}} o the job's methods; `status` answers
 *   `{final: frame}` once the job is over, else `{progress}`; `onProgress` gets values from
 *   frames and polls (they may repeat or lag: keep the largest); `onFinish` a `completed`-like
 *   frame `{task_id, status, reason?, report?}`.
 */
export function createTaskFollower(socket, o) {
  let job = null; // {id, off, timer, done}
  const current = (id) => job && job.id === id && !job.done;

  async function poll(id) {
    if (!current(id)) return;
    try {
      const s = await o.status(id);
      if (!current(id)) return;
      if (s.final) return finish(id, s.final);
      if (typeof s.progress === 'number') o.onProgress(id, s.progress);
    } catch { /* the frames or the next poll will tell */ }
    if (current(id)) job.timer = setTimeout(() => poll(id), POLL_MS);
  }

  function finish(id, frame) {
    if (!current(id)) return;
    job.done = true;
    stopFollowing();
    o.onFinish(id, frame);
  }

  function stopFollowing() {
    if (!job) return;
    clearTimeout(job.timer);
    if (job.off) job.off();
    job = null;
  }

  return {
    /** True while a job is followed. */
    busy: () => job !== null,

    /** Submits `params` (nothing while a job is followed); the task id, or the refusal thrown. */
    async submit(params) {
      if (job) return null;
      const answer = await socket.request(o.submit, params);
      const id = answer.task_id;
      job = { id, done: false, off: null, timer: 0 };
      job.off = socket.onTask(id, {
        onProgress: (p, frame) => {
          if (current(id)) o.onProgress(id, typeof p === 'number' ? p : (p && p.progress) || 0, frame && frame.stage);
        },
        onCompleted: (frame) => finish(id, frame),
      });
      poll(id);
      return id;
    },

    /** Asks to cancel the followed job; finishes it as CANCELLED when the answer says so. */
    async cancel() {
      if (!job) return;
      const id = job.id;
      const answer = await socket.request(o.cancel, { task_id: id });
      if (answer && String(answer.status).toUpperCase() === 'CANCELLED') {
        finish(id, { task_id: id, status: 'CANCELLED', reason: 'cancelled' });
      }
    },

    /** Stops following (the view goes away); the job itself goes on. */
    dispose: stopFollowing,
  };
}
