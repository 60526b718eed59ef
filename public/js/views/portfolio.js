// views/portfolio.js — the paper portfolio: account figures, open positions with live unrealized
// P&L, closed positions and trades (filtered and paged on the server, with totals). Marks come from
// the newest `klines:{MARKET}:{INTERVAL}` bar close (every role may subscribe those) and from
// `portfolio.updated` events (topic `portfolio`, TRADER and ADMIN); `position.closed` and
// POSITION_OPENED reload the lists. VIEWER, who may not subscribe `portfolio`, gets the lists
// refreshed every 15 s instead. A list that could not be loaded says so in its place (never
// "none yet"), one toast says the portfolio could not be loaded, and everything loads again when
// the connection is back. TRADER+: close button, and the LLM's journal entry of a trade and review
// memo of a period (views/portfolio-llm.js).

import {
  el, clear, replaceChildren, fmtPrice, fmtQty, fmtMoney, fmtPct, fmtTime, signClass, exitReasonLabel,
  table, td, timeCell, confirmDialog, debounce, errorText, errorState, loadErrorText,
} from '../ui.js';
import { createFilterBar, createPager, fillMarkets, passes } from '../paging.js';
import { createReviewPanel, journalButton } from './portfolio-llm.js';

const POLL_MS = 15000;
const PAGE = 20;
const EXIT_REASONS = ['STOP_LOSS', 'TRAILING_STOP', 'PROFIT_TARGET', 'SIGNAL', 'MANUAL', 'END_OF_DATA'];

const CLOSED_COLUMNS = ['Market', 'Side', { label: 'Size', className: 'num opt' },
  { label: 'Entry', className: 'num opt' }, { label: 'Exit', className: 'num opt' }, 'Exit reason',
  { label: 'Realized P&L', className: 'num' }, { label: 'ROI', className: 'num' }, { label: 'Closed (UTC)', className: 'opt' }];
const TRADE_COLUMNS = ['Market', 'Side', { label: 'Size', className: 'num opt' }, { label: 'Entry', className: 'num opt' },
  { label: 'Exit', className: 'num opt' }, { label: 'P&L', className: 'num' }, { label: 'Commission', className: 'num opt' },
  'Exit reason', { label: 'Exit (UTC)', className: 'opt' }];

/** Newest first by a time field (RFC 3339), then by id: the order the list's time column reads. */
const newestBy = (field) => (a, b) => (Date.parse(b[field]) || 0) - (Date.parse(a[field]) || 0) || Number(b.id) - Number(a.id);

/**
 * Mounts the portfolio view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  let account = null;
  let visible = true;
  let shownOnce = false; // the first show() follows mount(), which has just loaded
  let pollTimer = null;
  let failing = false;   // the last refresh failed (one toast per outage, a reload when the socket is back)
  const accountPanel = createAccountPanel(() => refreshAll());
  const positions = createOpenPositions(ctx, { onMarks: showAccount, onClosed: () => refreshAll(), onRetry: () => refreshAll() });
  const closed = createHistoryPanel(ctx, {
    key: 'closed-positions', title: 'Closed positions', columns: CLOSED_COLUMNS, emptyText: 'No closed positions yet.',
    rowOf: closedPositionRow, path: '/v1/positions', query: { status: 'CLOSED' }, order: newestBy('closed_at'),
    timeField: 'opened_at', dates: 'Opened',
  });
  const tradeColumns = ctx.can.trade ? [...TRADE_COLUMNS, { label: 'Journal', className: 'actions-col' }] : TRADE_COLUMNS;
  const trades = createHistoryPanel(ctx, {
    key: 'trades', title: 'Trades', columns: tradeColumns, emptyText: 'No trades yet.', path: '/v1/trades', query: {},
    rowOf: ctx.can.trade ? (t) => tradeRow(t, journalButton(ctx, t)) : (t) => tradeRow(t), order: newestBy('exit_time'),
    timeField: 'exit_time', dates: 'Exit',
  });
  const liveNote = ctx.can.trade
    ? 'Live: marks from the newest bar close, updates from the portfolio stream.'
    : 'Marks are live from the newest bar close; your role (VIEWER) does not receive the portfolio stream, so the lists refresh every 15 s.';

  root.append(
    el('div', { class: 'view-head' }, el('h1', { text: 'Portfolio' }), el('p', { class: 'muted', text: liveNote })),
    accountPanel.panel, positions.panel, closed.panel, trades.panel);
  if (ctx.can.trade) root.append(createReviewPanel(ctx));

  function showAccount() {
    if (account) accountPanel.show(account, positions.liveUnrealized());
  }

  /** Loads the account; the error (or null). */
  async function loadAccount() {
    try {
      account = await ctx.api.get('/v1/account');
      showAccount();
      return null;
    } catch (err) {
      accountPanel.showError(err);
      return err;
    }
  }

  /** Loads everything; one toast when this starts an outage (each list shows its own error). */
  async function refreshAll() {
    const errors = (await Promise.all([loadAccount(), positions.load(), closed.load(), trades.load()])).filter(Boolean);
    if (errors.length && !failing) ctx.toast(`The portfolio could not be loaded: ${loadErrorText(errors[0])}.`, 'error');
    failing = errors.length > 0;
  }
  const refreshAccountSoon = debounce(loadAccount, 400);
  const refreshOpenSoon = debounce(positions.load, 300);
  const refreshClosedSoon = debounce(() => { closed.load(); trades.load(); loadAccount(); }, 300);

  /** Live portfolio events (TRADER, ADMIN). */
  function onPortfolio(data) {
    if (!data) return;
    if (data.event_type === 'position.closed') {
      positions.remove(Number(data.position_id));
      refreshClosedSoon();
      return;
    }
    if (data.event_type !== 'portfolio.updated') return;
    if (!positions.applyUpdate(data)) refreshOpenSoon();
    refreshAccountSoon();
  }

  const offPortfolio = ctx.can.trade
    ? ctx.socket.subscribe('portfolio', onPortfolio, { onReset: () => refreshAll() })
    : null;
  // The gateway is back after an outage: load what could not be loaded.
  const offState = ctx.socket.onState((state) => { if (state === 'connected' && failing) refreshAll(); });

  function startPolling() {
    if (ctx.can.trade || pollTimer) return;
    pollTimer = setInterval(() => { if (visible) refreshAll(); }, POLL_MS);
  }

  refreshAll();
  startPolling();

  return {
    show() { visible = true; if (shownOnce) refreshAll(); shownOnce = true; },
    hide() { visible = false; },
    dispose() {
      if (offPortfolio) offPortfolio();
      offState();
      positions.dispose();
      clearInterval(pollTimer);
      refreshAccountSoon.cancel();
      refreshOpenSoon.cancel();
      refreshClosedSoon.cancel();
    },
  };
}

/** The account figures: balance, available, frozen, equity, unrealized and realized P&L. */
function createAccountPanel(onRetry) {
  const figures = {};
  const card = (key, label, testid) => {
    figures[key] = el('span', { class: 'figure-value', testid, text: '–' });
    return el('div', { class: 'figure' }, el('span', { class: 'figure-label', text: label }), figures[key]);
  };
  const cards = el('div', { class: 'figures', 'aria-label': 'Account', role: 'group' },
    card('balance', 'Balance', 'account-balance'), card('available', 'Available', 'account-available'),
    card('frozen', 'Frozen', 'account-frozen'), card('equity', 'Equity', 'account-equity'),
    card('unrealized', 'Unrealized P&L', 'account-unrealized'), card('realized', 'Realized P&L', 'account-realized'));
  const note = el('p', { class: 'muted small', testid: 'account-updated' });
  const error = errorState('account-error', 'The account', onRetry);
  return {
    panel: el('div', { class: 'panel' }, el('h2', { text: 'Account' }), error.node, cards, note),

    /** The account could not be loaded: the figures are unknown, not zero. */
    showError(err) {
      error.show(err);
      for (const node of Object.values(figures)) { node.textContent = '–'; node.className = 'figure-value'; }
      note.textContent = '';
    },

    /**
     * Shows `GET /v1/account`; with the live unrealized P&L of the open positions (null when
     * some has no figure) in place of the ledger's.
     */
    show(account, unrealized) {
      error.hide();
      figures.balance.textContent = fmtMoney(account.balance);
      figures.available.textContent = fmtMoney(account.available_balance);
      figures.frozen.textContent = fmtMoney(account.frozen_balance);
      figures.equity.textContent = fmtMoney(unrealized === null ? account.equity : account.balance + unrealized);
      const u = unrealized === null ? account.unrealized_pnl : unrealized;
      figures.unrealized.textContent = fmtMoney(u, true);
      figures.unrealized.className = `figure-value ${signClass(u)}`;
      figures.realized.textContent = fmtMoney(account.realized_pnl, true);
      figures.realized.className = `figure-value ${signClass(account.realized_pnl)}`;
      note.textContent = account.updated_at ? `Ledger updated ${fmtTime(account.updated_at)}` : '';
    },
  };
}

/**
 * The open positions: their table with live marks and unrealized P&L (from the newest bar
 * close of their market, or their own mark, whichever came last), the close button (TRADER+),
 * and the bar subscriptions of their markets.
 * @param {object} ctx the view context
 * @param {{onMarks: () => void, onClosed: () => void, onRetry: () => void}} hooks `onMarks` after
 *   the marks or the list changed, `onClosed` after this page closed a position, `onRetry` the
 *   error state's Retry
 */
function createOpenPositions(ctx, hooks) {
  const open = new Map();        // id → position
  const rows = new Map();        // id → { tr, markCell, pnlCell }
  const marks = new Map();       // market → { price, time, at }
  const feeds = createBarFeeds(ctx, onKline, () => load());
  const columns = ['Market', 'Side', { label: 'Size', className: 'num opt' }, { label: 'Entry', className: 'num opt' },
    { label: 'Mark', className: 'num opt' }, { label: 'Stop', className: 'num opt' }, { label: 'Target', className: 'num opt' },
    { label: 'Unrealized P&L', className: 'num' }, { label: 'Opened (UTC)', className: 'opt' }];
  if (ctx.can.trade) columns.push({ label: 'Action', className: 'actions-col' });
  const list = table('Open positions', columns, { hideCaption: true });
  const empty = el('p', { class: 'empty', text: 'No open positions.', hidden: true });
  const error = errorState('open-positions-error', 'Open positions', hooks.onRetry);
  list.wrap.hidden = true;

  /** The newest known price: a bar close of the market or the position's own mark, whichever came last. */
  function markOf(p) {
    const live = marks.get(p.market);
    if (live && (!p.markAt || live.at >= p.markAt)) return live.price;
    return p.current_price ?? null;
  }

  const pnlOf = (p) => unrealizedPnl(p, markOf(p));

  function render() {
    clear(list.tbody);
    rows.clear();
    const sorted = [...open.values()].sort((a, b) => b.id - a.id);
    for (const p of sorted) {
      const row = openPositionRow(p, markOf(p), pnlOf(p), ctx.can.trade ? () => closePosition(p) : null);
      list.tbody.append(row.tr);
      rows.set(p.id, row);
    }
    empty.hidden = sorted.length > 0;
    list.wrap.hidden = sorted.length === 0;
    feeds.follow(new Set([...open.values()].map((p) => p.market)));
  }

  /** Updates the mark and P&L cells (of one market, or all). */
  function refreshMarks(market) {
    for (const [id, row] of rows) {
      const p = open.get(id);
      if (!p || (market && p.market !== market)) continue;
      const pnl = pnlOf(p);
      row.markCell.textContent = fmtPrice(markOf(p));
      row.pnlCell.textContent = fmtMoney(pnl, true);
      row.pnlCell.className = `num ${signClass(pnl)}`;
    }
    hooks.onMarks();
  }

  /** Loads the open positions; the error (or null), shown in place of the table. */
  async function load() {
    try {
      const page = await ctx.api.get('/v1/positions', { status: 'OPEN', limit: 100 });
      open.clear();
      for (const p of page.data || []) open.set(Number(p.id), { ...p, id: Number(p.id) });
      error.hide();
      render();
      hooks.onMarks();
      return null;
    } catch (err) {
      error.show(err);
      empty.hidden = true;
      list.wrap.hidden = true;
      return err;
    }
  }

  async function closePosition(p) {
    const mark = markOf(p);
    const ok = await confirmDialog(`Close position #${p.id}?`,
      `Close the ${p.market} ${p.side} position of ${fmtQty(p.position_size)} at the market's last price`
      + `${mark !== null ? ` (about ${fmtPrice(mark)})` : ''}? This cannot be undone.`, 'Close position');
    if (!ok) return;
    try {
      const closed = await ctx.api.post(`/v1/positions/${encodeURIComponent(p.id)}/close`);
      ctx.toast(`Position #${p.id} closed at ${fmtPrice(closed.exit_price)}: ${fmtMoney(closed.realized_pnl, true)}.`, 'ok');
      open.delete(p.id);
      render();
      hooks.onClosed();
    } catch (err) {
      ctx.toast(`Position #${p.id} was not closed: ${errorText(err)}`, 'error');
      load();
    }
  }

  /** A bar of a followed market: its close is the market's mark unless an older bar. */
  function onKline(data) {
    if (!data || data.event_type !== 'kline.closed' || typeof data.close !== 'number') return;
    const time = Date.parse(data.open_time) || 0;
    const known = marks.get(data.market);
    if (known && known.time > time) return; // an older bar (another interval, or a replay)
    marks.set(data.market, { price: data.close, time, at: Date.now() });
    refreshMarks(data.market);
  }

  return {
    panel: el('div', { class: 'panel' }, el('h2', { id: 'open-title', text: 'Open positions' }), error.node, list.wrap, empty),
    load,

    /** Σ live unrealized P&L of the open positions, or null when some has no figure. */
    liveUnrealized() {
      let total = 0;
      for (const p of open.values()) {
        const pnl = pnlOf(p);
        if (pnl === null) return null;
        total += pnl;
      }
      return total;
    },

    /** A position closed elsewhere. */
    remove(id) {
      open.delete(id);
      render();
    },

    /**
     * A `portfolio.updated` event: a known position takes its new mark, P&L and stops. False
     * when the list must be reloaded instead (a new or unknown position).
     */
    applyUpdate(data) {
      const known = open.get(Number(data.position_id));
      if (!known || data.action === 'POSITION_OPENED') return false;
      Object.assign(known, {
        current_price: data.current_price ?? known.current_price, unrealized_pnl: data.unrealized_pnl ?? known.unrealized_pnl,
        stop_loss_price: data.stop_loss_price ?? known.stop_loss_price, trailing_stop_price: data.trailing_stop_price ?? known.trailing_stop_price,
        markAt: Date.now(),
      });
      refreshMarks(known.market);
      return true;
    },

    dispose() {
      feeds.dispose();
    },
  };
}

/**
 * The `klines:{MARKET}:{INTERVAL}` subscriptions (every interval) of a set of markets; every role
 * may subscribe those.
 * @param {object} ctx the view context
 * @param {(data: object) => void} onKline
 * @param {() => void} onReset
 */
function createBarFeeds(ctx, onKline, onReset) {
  const subscriptions = new Map();   // topic → unsubscribe
  return {
    /** Subscribes the topics of `markets` (from `ctx.markets()`) and drops the others. */
    async follow(markets) {
      const wanted = new Set();
      if (markets.size) {
        let list = [];
        try {
          list = await ctx.markets();
          const listed = new Set(list.map((m) => m.market));
          if ([...markets].some((m) => !listed.has(m))) list = await ctx.markets(true); // a market newer than the cache
        } catch { /* no marks from bars then */ }
        for (const m of list) {
          if (!markets.has(m.market)) continue;
          for (const i of m.intervals || []) wanted.add(i.topic || `klines:${m.market}:${i.interval}`);
        }
      }
      for (const [topic, off] of subscriptions) if (!wanted.has(topic)) { off(); subscriptions.delete(topic); }
      for (const topic of wanted) {
        if (subscriptions.has(topic)) continue;
        subscriptions.set(topic, ctx.socket.subscribe(topic, onKline, { onReset }));
      }
    },

    dispose() {
      for (const off of subscriptions.values()) off();
      subscriptions.clear();
    },
  };
}

/**
 * A list panel (closed positions, trades) filtered and paged on the server: filters (market,
 * side, exit reason, from/to dates), a table of `rowOf(item)` rows newest first, the pager with
 * the total, and — never confused with each other — the empty note or the error state.
 * @param {object} ctx the view context
 * @param {{key: string, title: string, columns: Array, emptyText: string, rowOf: (item: object) => HTMLTableRowElement,
 *          path: string, query: Object<string, string>, order: (a: object, b: object) => number,
 *          timeField: string, dates: string}} o
 *   `key` prefixes the testids (`<key>-error`, `<key>-filter-…`, `<key>-count`, `<key>-older`, `<key>-newer`);
 *   `timeField` is what the gateway's `from` / `to` apply to, `dates` names it on the date fields
 */
function createHistoryPanel(ctx, o) {
  let offset = 0;
  let seq = 0;
  const list = table(o.title, o.columns, { hideCaption: true });
  const empty = el('p', { class: 'empty', text: o.emptyText, hidden: true });
  const error = errorState(`${o.key}-error`, o.title, () => load());
  const filters = createFilterBar(o.key, [
    { name: 'market', label: 'Market', options: [['', 'All markets']] },
    { name: 'side', label: 'Side', options: [['', 'Both sides'], ['BUY', 'Buy'], ['SELL', 'Sell']] },
    { name: 'exit_reason', label: 'Exit reason', options: [['', 'Any reason'], ...EXIT_REASONS.map((r) => [r, exitReasonLabel(r)])] },
    { name: 'from', label: `${o.dates} from (UTC)`, date: true },
    { name: 'to', label: `${o.dates} to (UTC)`, date: true },
  ], () => { offset = 0; load(); });
  let marketsShown = false;
  fillMarkets(ctx, filters).then((ok) => { marketsShown = ok; });
  const pager = createPager(o.key, PAGE, (at) => { offset = at; load(); });
  list.wrap.hidden = true;

  /** Loads the page at `offset` with the filters; the error (or null), shown in place of the table. */
  async function load() {
    const mine = ++seq;
    try {
      const query = filters.query();
      const page = await ctx.api.get(o.path, { ...o.query, ...query, limit: PAGE, offset });
      if (mine !== seq) return null;
      if (!marketsShown) fillMarkets(ctx, filters).then((ok) => { marketsShown = ok; });
      const answered = page.data || [];
      const items = answered.filter((item) => passes(item, query, o.timeField)).sort(o.order);
      error.hide();
      replaceChildren(list.tbody, items.map(o.rowOf));
      const filtered = Object.keys(filters.query()).length > 0;
      empty.textContent = filtered ? 'Nothing matches these filters.' : o.emptyText;
      empty.hidden = items.length > 0;
      list.wrap.hidden = items.length === 0;
      pager.show(offset, answered.length, Number(page.total ?? answered.length));
      return null;
    } catch (err) {
      if (mine !== seq) return null;
      error.show(err);
      empty.hidden = true;
      list.wrap.hidden = true;
      return err;
    }
  }

  return {
    panel: el('div', { class: 'panel' }, el('div', { class: 'panel-head' }, el('h2', { text: o.title }), pager.node),
      filters.node, error.node, list.wrap, empty),
    load,
  };
}

/** The unrealized P&L of a position at `mark`; its own figure (or null) without a mark. */
function unrealizedPnl(p, mark) {
  if (mark === null || p.entry_price === null || p.position_size === null) return p.unrealized_pnl ?? null;
  const sign = p.side === 'SELL' ? -1 : 1;
  return sign * (mark - p.entry_price) * p.position_size;
}

/** A BUY/SELL cell. */
function sideCell(side) {
  return td(el('span', { class: `side ${String(side).toLowerCase()}`, text: side }));
}

/**
 * One open position's row; its mark and P&L cells are returned for live updates.
 * @param {(() => void)|null} onClose the close button's action (TRADER+), or null for no button
 */
function openPositionRow(p, mark, pnl, onClose) {
  const markCell = td(fmtPrice(mark), 'num opt');
  const pnlCell = td(fmtMoney(pnl, true), `num ${signClass(pnl)}`, { testid: 'position-pnl' });
  const tr = el('tr', { testid: 'position-row', dataset: { positionId: String(p.id) } },
    td(`${p.market}`), sideCell(p.side),
    td(fmtQty(p.position_size), 'num opt'), td(fmtPrice(p.entry_price), 'num opt'), markCell,
    td(fmtPrice(p.trailing_stop_price ?? p.stop_loss_price), 'num opt'), td(fmtPrice(p.profit_target_price), 'num opt'),
    pnlCell, td(timeCell(p.opened_at), 'opt'));
  if (onClose) {
    tr.append(td(el('button', {
      type: 'button', class: 'btn small danger', testid: 'close-position',
      'aria-label': `Close position ${p.id} (${p.market} ${p.side})`, text: 'Close',
      onclick: onClose,
    }), 'actions-col'));
  }
  return { tr, markCell, pnlCell };
}

function closedPositionRow(p) {
  return el('tr', { testid: 'closed-position-row', dataset: { positionId: String(p.id) } },
    td(p.market), sideCell(p.side),
    td(fmtQty(p.position_size), 'num opt'), td(fmtPrice(p.entry_price), 'num opt'), td(fmtPrice(p.exit_price), 'num opt'),
    td(exitReasonLabel(p.exit_reason)), td(fmtMoney(p.realized_pnl, true), `num ${signClass(p.realized_pnl)}`),
    td(fmtPct(p.roi), `num ${signClass(p.roi)}`), td(timeCell(p.closed_at), 'opt'));
}

/** A closed trade's row; `action` (TRADER+: the Journal button) in a last cell when given. */
function tradeRow(t, action) {
  return el('tr', { testid: 'trade-row', dataset: { tradeId: String(t.id) } },
    td(t.market), sideCell(t.side),
    td(fmtQty(t.size), 'num opt'), td(fmtPrice(t.entry_price), 'num opt'), td(fmtPrice(t.exit_price), 'num opt'),
    td(fmtMoney(t.pnl, true), `num ${signClass(t.pnl)}`), td(fmtMoney(t.commission), 'num opt'),
    td(exitReasonLabel(t.exit_reason)), td(timeCell(t.exit_time), 'opt'), action ? td(action, 'actions-col') : null);
}
