// views/market-sentiment.js — the market view's "News sentiment" panel: each market's LLM
// reading of its news (SPEC §12) from `sentiment.get` — the sentiment, its one-line reason, its
// age (from `as_of`, ticking) and where it came from (a fresh answer, the cache, or the NEUTRAL
// fallback). Asked again every 30 s while shown, at once on a `sentiment.updated` event on topic
// `news` (a gateway got an answer), and after a `news.published` event (the gateway coalesces
// headlines for a few seconds, so the page also polls every 2 s until the market's reading
// changes, at most a minute). With no provider every reading is null: the panel says "LLM off",
// which is not an error. Reasons and headlines are untrusted text.

import { el, replaceChildren, table, td } from '../ui.js';
import { marketLabel } from '../markets.js';
import { ageText, sentimentBadge } from '../llm.js';
import { plainError } from '../ml.js';

const REFRESH_MS = 30000;
const PENDING_POLL_MS = 2000;
const PENDING_MAX_MS = 60000;

const SOURCES = {
  llm: ['model', 'answered by the model since the last read'],
  cache: ['cached', 'the model\'s answer, from the cache'],
  fallback: ['fallback', 'no answer from the model (none asked yet, or it failed): counted as neutral'],
};

/**
 * The sentiment panel: `panel` to place, `show()` / `hide()` to run its timers while visible,
 * `dispose()` to drop its subscription.
 * @param {object} ctx the view context
 * @returns {{panel: HTMLElement, show: Function, hide: Function, dispose: Function}}
 */
export function createSentimentPanel(ctx) {
  const note = el('p', { class: 'muted small', testid: 'sentiment-note' });
  const list = table('News sentiment per market', ['Market', 'Sentiment', 'Reason',
    { label: 'As of', className: 'opt' }, { label: 'Source', className: 'opt' }], { hideCaption: true, className: 'data compact sentiment-table' });
  const empty = el('p', { class: 'empty', text: 'No market has news or bars yet.', hidden: true });
  const panel = el('section', { class: 'panel sentiment-panel', testid: 'market-sentiment', 'aria-labelledby': 'sentiment-title' },
    el('div', { class: 'panel-head' }, el('h2', { id: 'sentiment-title', text: 'News sentiment' }), note),
    list.wrap, empty);
  let readings = [];               // the last `sentiment.get` data
  const headlines = new Map();     // market → the latest news.published seen by this page
  const pending = new Map();       // market → { asOf (the reading's as_of when the news came), since }
  const ages = [];                 // [node, iso] of the rows shown
  let labels = new Map();          // market id → label
  let refreshTimer = 0;
  let pollTimer = 0;
  let ageTimer = 0;
  let shown = false;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    try {
      const answer = await ctx.socket.request('sentiment.get', {});
      let data = Array.isArray(answer && answer.data) ? answer.data : [];
      if (!data.length) data = await readingsWhenOff();
      if (mine !== seq) return;
      readings = data;
      settlePending();
      render();
    } catch (err) {
      if (mine !== seq) return;
      note.textContent = `Sentiment could not be loaded: ${plainError(err)}`;
    }
  }

  /**
   * An empty list means no market is tracked yet — or no provider (the gateway tracks nothing
   * then). One market's reading tells which: null without a provider. Off, every market the page
   * knows reads null ("LLM off"), exactly what the gateway would answer for each.
   */
  async function readingsWhenOff() {
    const markets = await ctx.markets().catch(() => []);
    if (!markets.length) return [];
    const one = await ctx.socket.request('sentiment.get', { market: markets[0].market });
    if (one && one.llm_sentiment) return [];
    return markets.map((m) => ({ market: m.market, llm_sentiment: null, reason: null, as_of: null, source: 'fallback' }));
  }

  /** A market's reading changed since its news arrived, or the wait ran out: it is not pending any more. */
  function settlePending() {
    const now = Date.now();
    for (const [market, p] of pending) {
      const r = readings.find((x) => x.market === market);
      if ((r && (r.as_of || null) !== p.asOf) || now - p.since > PENDING_MAX_MS) pending.delete(market);
    }
    if (!pending.size) { clearInterval(pollTimer); pollTimer = 0; }
  }

  function render() {
    ages.length = 0;
    const rows = [...readings].sort((a, b) => label(a.market).localeCompare(label(b.market))).map(sentimentRow);
    replaceChildren(list.tbody, rows);
    empty.hidden = rows.length > 0;
    list.wrap.hidden = rows.length === 0;
    const off = readings.length > 0 && readings.every((r) => !r.llm_sentiment);
    note.textContent = off
      ? 'LLM off: no provider is configured (llm.provider is none), so signals carry no sentiment.'
      : 'The model\'s reading of each market\'s recent news, weighed by the arbiter.';
    note.dataset.llm = off ? 'off' : 'on';
  }

  const label = (market) => labels.get(market) || market;

  function sentimentRow(r) {
    const off = !r.llm_sentiment;
    const headline = headlines.get(r.market);
    const waiting = pending.has(r.market);
    const age = el('time', { testid: 'sentiment-age', datetime: r.as_of || '', title: r.as_of || 'never asked', text: ageText(r.as_of) });
    if (r.as_of) ages.push([age, r.as_of]);
    const [sourceWord, sourceWhy] = off ? ['–', 'no provider'] : SOURCES[r.source] || [r.source || '–', ''];
    const reason = el('td', { class: 'sentiment-reason-cell' },
      el('span', { testid: 'sentiment-reason', class: r.reason ? undefined : 'muted', text: r.reason || (off ? '—' : 'no reading yet') }),
      waiting ? el('span', { class: 'sentiment-pending', testid: 'sentiment-pending', text: ' · new headline, asking the model…' }) : null,
      headline ? el('span', { class: 'sentiment-headline muted', testid: 'sentiment-headline' },
        `Latest headline: ${headline.title || '(untitled)'}${headline.source ? ` — ${headline.source}` : ''}`) : null);
    return el('tr', { testid: 'sentiment-row', dataset: { market: r.market, sentiment: r.llm_sentiment || 'none', source: r.source || '' } },
      td(label(r.market)),
      td(sentimentBadge(r.llm_sentiment, { offText: off ? 'LLM off' : undefined, testid: 'sentiment-badge' })),
      reason,
      td(age, 'opt'),
      td(el('span', { testid: 'sentiment-source', title: sourceWhy, text: sourceWord }), 'opt'));
  }

  function tickAges() {
    const now = Date.now();
    for (const [node, iso] of ages) node.textContent = ageText(iso, now);
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(load, PENDING_POLL_MS);
  }

  const unsubscribe = ctx.socket.subscribe('news', (data) => {
    if (data && data.event_type === 'sentiment.updated') { load(); return; }
    if (!data || data.event_type !== 'news.published') return;
    const markets = data.market ? [data.market] : readings.map((r) => r.market);
    for (const m of markets) {
      const r = readings.find((x) => x.market === m);
      pending.set(m, { asOf: r ? (r.as_of || null) : null, since: Date.now() });
    }
    if (data.market) headlines.set(data.market, data);
    render();
    load();
    startPolling();
  }, { onReset: () => load() });

  ctx.markets().then((markets) => {
    labels = new Map(markets.map((m) => [m.market, marketLabel(m)]));
    render();
  }).catch(() => { /* ids then */ });

  return {
    panel,
    show() {
      if (shown) return;
      shown = true;
      load();
      refreshTimer = setInterval(load, REFRESH_MS);
      ageTimer = setInterval(tickAges, 1000);
    },
    hide() {
      shown = false;
      clearInterval(refreshTimer);
      clearInterval(ageTimer);
      refreshTimer = 0;
      ageTimer = 0;
    },
    dispose() {
      this.hide();
      clearInterval(pollTimer);
      unsubscribe();
    },
  };
}
