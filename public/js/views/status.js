// views/status.js — System status: is the dashboard's data current and is the gateway healthy.
// Per feed the last bar, its age (from the bar's close: open time + interval) and whether bars are
// arriving in this page (js/feed-monitor.js); the engine's state (`engine.get`, when the gateway
// has the engine configuration route; the kill switch from GET /v1/risk either way); the job queue
// (`backtest.jobs` when the gateway lists jobs, else the `bedrock_jobs_waiting` /
// `bedrock_jobs_running` gauges of /metrics); Redis and readiness from /ready. Asked for again
// every REFRESH_MS while shown; ages tick every second.

import { INTERVAL_MS, fmtAge, marketLabel } from '../markets.js';
import { el, fmtNum, fmtTime, table } from '../ui.js';

const REFRESH_MS = 5000;
const TICK_MS = 1000;

/**
 * Mounts the status view.
 * @param {HTMLElement} root the view's section
 * @param {object} ctx the view context (`ctx.feeds` is the session's feed monitor)
 */
export function mount(root, ctx) {
  const cards = {
    flow: card('Market data', 'status-flow'),
    engine: card('Engine', 'status-engine'),
    jobs: card('Job queue', 'status-jobs'),
    redis: card('Redis', 'status-redis'),
  };
  const feeds = table('Market feeds', ['Market', 'Interval', { label: 'Exchange', className: 'opt' },
    { label: 'Gateway status', className: 'opt' }, { label: 'Last bar (UTC)', className: 'opt' }, 'Age', 'Data',
    { label: 'Bars', className: 'num opt' }]);
  const empty = el('p', { class: 'muted', testid: 'status-feeds-empty', text: 'No market has bars or a feed yet.', hidden: true });
  root.replaceChildren(
    el('div', { class: 'view-head' }, el('h1', { text: 'System status' }),
      el('p', { class: 'muted', text: 'Whether market data is arriving in this page, the engine, the job queue and Redis; refreshed every 5 s.' })),
    el('div', { class: 'status-grid' }, ...Object.values(cards).map((c) => c.node)),
    el('div', { class: 'panel status-feeds', testid: 'status-feeds' }, feeds.wrap, empty));

  let refreshTimer = 0;
  let tickTimer = 0;
  let offFlow = null;

  function renderFeeds() {
    const now = Date.now();
    const list = ctx.feeds ? ctx.feeds.feeds(now) : [];
    empty.hidden = list.length > 0;
    feeds.tbody.replaceChildren(...list.map((f) => {
      const step = INTERVAL_MS[f.interval] || 36e5;
      const open = Date.parse(f.last_bar_time || '');
      const age = isFinite(open) ? Math.max(0, now - (open + step)) : null;
      const flow = f.flow;
      const every = flow.learned ? ` · every ${flow.cadence < 10000 ? `${fmtNum(flow.cadence / 1000, 1)} s` : fmtAge(flow.cadence)}` : '';
      // Phones show the state only (`.opt` is hidden there).
      const detail = flow.state === 'live' || flow.state === 'stale' ? ` · last bar ${fmtAge(flow.age)} ago${every}` : '';
      return el('tr', { testid: 'status-feed-row', dataset: { market: f.market, interval: f.interval, state: flow.state } },
        el('td', { text: marketLabel(f) }), el('td', { text: f.interval }),
        el('td', { class: 'opt', text: f.exchange || '—' }), el('td', { class: 'opt', text: f.status || 'replay' }),
        el('td', { class: 'opt', text: isFinite(open) ? fmtTime(open, 'plain') : '—' }),
        el('td', { class: 'status-age', testid: 'status-feed-age', dataset: { ageMs: age === null ? '' : String(age) },
          text: age === null ? 'no bars' : `${fmtAge(age)}` }),
        el('td', {}, el('span', { class: 'flow', testid: 'status-feed-flow', dataset: { state: flow.state } },
          el('span', { class: 'flow-dot', 'aria-hidden': 'true' }),
          el('span', { text: flow.state === 'waiting' ? 'waiting for bars' : flow.state }), el('span', { class: 'opt', text: detail }))),
        el('td', { class: 'num opt', text: f.bars === undefined ? '—' : fmtNum(f.bars, 0) }));
    }));
  }

  function showFlow(summary) {
    cards.flow.set(summary.state, summary.text,
      summary.state === 'stale' ? `No bar arrived for two of its cadences: ${summary.stale.join(', ')}.`
        : summary.state === 'live' ? 'Every live feed delivered a bar within two of its cadences.'
          : summary.state === 'waiting' ? 'Live feeds, no bar yet.' : 'No feed is live (replayed or backfilling data only).');
  }

  async function loadEngine() {
    let engine = null;
    try { engine = await ctx.socket.request('engine.get', {}, { timeoutMs: 5000 }); } catch { engine = null; }
    let risk = null;
    try { risk = await ctx.api.get('/v1/risk'); } catch { risk = null; }
    const kill = risk ? (risk.kill_switch === true ? 'Kill switch engaged: no new entries.' : 'Kill switch off.') : 'Kill switch: unknown.';
    if (engine && engine.readable === false) {
      cards.engine.set('stale', `paused · config v${engine.version ?? '?'} unreadable`, `${engine.problem || 'The stored configuration cannot be read'}: the engine runs paused (exits only). ${kill}`);
    } else if (engine && engine.status && !(engine.strategies || []).length) {
      cards.engine.set('off', `off · config v${engine.version ?? '?'}`, `No strategy is configured (engine.strategies is empty): no engine runs. ${kill}`);
    } else if (engine && engine.status) {
      const names = engine.strategies.map((s) => s.name).join(', ');
      cards.engine.set(engine.status, `${engine.status} · config v${engine.version ?? '?'}`, `${names}. ${kill}`);
    } else {
      cards.engine.set('unknown', 'unknown', `This gateway does not publish the engine's state (GET /v1/engine). ${kill}`);
    }
  }

  async function loadJobs() {
    try {
      const answer = await ctx.socket.request('backtest.jobs', { limit: 100 }, { timeoutMs: 5000 });
      const rows = answer.data || [];
      const queued = rows.filter((j) => j.status === 'PENDING').length;
      const running = rows.filter((j) => j.status === 'RUNNING').length;
      cards.jobs.set(queued + running ? 'busy' : 'idle', `${queued} queued · ${running} running`,
        `Of your newest ${rows.length} jobs (${fmtNum(answer.total ?? rows.length, 0)} in all).`, 'jobs');
      return;
    } catch { /* a gateway without the job list: the gauges of /metrics */ }
    try {
      const response = await fetch('/metrics', { headers: { Accept: 'text/plain' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      const gauge = (name) => { const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm')); return m ? Number(m[1]) : NaN; };
      const queued = gauge('bedrock_jobs_waiting'), running = gauge('bedrock_jobs_running');
      if (!isFinite(queued) || !isFinite(running)) throw new Error('no job gauges');
      cards.jobs.set(queued + running ? 'busy' : 'idle', `${fmtNum(queued, 0)} queued · ${fmtNum(running, 0)} running`,
        'Backtests, optimisations and trainings on the gateway serving this page (/metrics).', 'metrics');
    } catch (err) {
      cards.jobs.set('unknown', 'unknown', `The gateway's job gauges could not be read (${err.message}).`, 'none');
    }
  }

  async function loadRedis() {
    try {
      const response = await fetch('/ready', { headers: { Accept: 'application/json' } });
      const body = await response.json();
      const checks = body.checks || {};
      const md = checks.market_data;
      const stale = md && md.stale && md.stale.length ? ` Stale per the ingest: ${md.stale.join(', ')}.` : '';
      cards.redis.set(checks.redis || 'unknown', checks.redis === 'up' ? 'up' : checks.redis === 'down' ? 'down' : 'unknown',
        `Gateway ${body.status === 'ready' ? 'ready' : 'not ready'}; sockets open: ${fmtNum(body.active_connections ?? 0, 0)}.${stale}`);
    } catch (err) {
      cards.redis.set('unknown', 'unknown', `The gateway did not answer /ready (${err.message}).`);
    }
  }

  function refresh() {
    loadEngine();
    loadJobs();
    loadRedis();
    if (ctx.feeds) ctx.feeds.refresh().then(renderFeeds);
  }

  return {
    show() {
      refresh();
      clearInterval(refreshTimer);
      clearInterval(tickTimer);
      refreshTimer = setInterval(refresh, REFRESH_MS);
      tickTimer = setInterval(renderFeeds, TICK_MS);
      if (ctx.feeds && !offFlow) offFlow = ctx.feeds.onChange((s) => { showFlow(s); renderFeeds(); });
    },
    hide() {
      clearInterval(refreshTimer); clearInterval(tickTimer); refreshTimer = tickTimer = 0;
      if (offFlow) offFlow();
      offFlow = null;
    },
    dispose() {
      clearInterval(refreshTimer); clearInterval(tickTimer);
      if (offFlow) offFlow();
    },
  };
}

/** One status card: a heading, the value (`data-state`) and a note. */
function card(title, testid) {
  const value = el('p', { class: 'status-value', testid: `${testid}-value`, text: '…' });
  const note = el('p', { class: 'status-note', testid: `${testid}-note` });
  const node = el('section', { class: 'panel status-card', testid, 'aria-label': title }, el('h2', { text: title }), value, note);
  return {
    node,
    /** Shows a state (`data-state` on the card and the value), its text and a note; `source` where it came from. */
    set(state, text, noteText, source) {
      node.dataset.state = state;
      value.dataset.state = state;
      value.textContent = text;
      note.textContent = noteText || '';
      if (source) node.dataset.source = source;
    },
  };
}
