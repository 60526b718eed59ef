// views/portfolio.js — the paper portfolio: account figures, open positions with live unrealized
// P&L, closed positions and trades. Marks come from the newest `klines:{MARKET}:{INTERVAL}` bar
// close (every role may subscribe those) and from `portfolio.updated` events (topic `portfolio`,
// TRADER and ADMIN); `position.closed` and POSITION_OPENED reload the lists. VIEWER, who may not
// subscribe `portfolio`, gets the lists refreshed every 15 s instead. TRADER+: close button.

import {
  el, clear, replaceChildren, fmtPrice, fmtQty, fmtMoney, fmtPct, fmtTime, humanize, signClass,
  table, td, timeCell, confirmDialog, debounce, errorText,
} from '../ui.js';

const POLL_MS = 15000;
const PAGE = 20;

/**
 * Mounts the portfolio view.
 * @param {HTMLElement} root
 * @param {object} ctx the view context (docs/DASHBOARD.md)
 * @returns {{show: Function, hide: Function, dispose: Function}}
 */
export function mount(root, ctx) {
  const open = new Map();        // id → position
  const openRows = new Map();    // id → { tr, mark, pnl }
  const marks = new Map();       // market → { price, time }
  const klineSubs = new Map();   // topic → unsubscribe
  let account = null;
  let visible = true;
  let shownOnce = false; // the first show() follows mount(), which has just loaded
  let pollTimer = null;

  // ---- account cards
  const figures = {};
  const card = (key, label, testid) => {
    figures[key] = el('span', { class: 'figure-value', testid, text: '–' });
    return el('div', { class: 'figure' }, el('span', { class: 'figure-label', text: label }), figures[key]);
  };
  const cards = el('div', { class: 'figures', 'aria-label': 'Account', role: 'group' },
    card('balance', 'Balance', 'account-balance'), card('available', 'Available', 'account-available'),
    card('frozen', 'Frozen', 'account-frozen'), card('equity', 'Equity', 'account-equity'),
    card('unrealized', 'Unrealized P&L', 'account-unrealized'), card('realized', 'Realized P&L', 'account-realized'));
  const accountNote = el('p', { class: 'muted small', testid: 'account-updated' });

  // ---- tables
  const openCols = ['Market', 'Side', { label: 'Size', className: 'num opt' }, { label: 'Entry', className: 'num opt' },
    { label: 'Mark', className: 'num opt' }, { label: 'Stop', className: 'num opt' }, { label: 'Target', className: 'num opt' },
    { label: 'Unrealized P&L', className: 'num' }, { label: 'Opened (UTC)', className: 'opt' }];
  if (ctx.can.trade) openCols.push({ label: 'Action', className: 'actions-col' });
  const openTable = table('Open positions', openCols, { hideCaption: true });
  const openEmpty = el('p', { class: 'empty', text: 'No open positions.' });
  const closedTable = table('Closed positions', ['Market', 'Side', { label: 'Size', className: 'num opt' },
    { label: 'Entry', className: 'num opt' }, { label: 'Exit', className: 'num opt' }, 'Exit reason',
    { label: 'Realized P&L', className: 'num' }, { label: 'ROI', className: 'num' }, { label: 'Closed (UTC)', className: 'opt' }], { hideCaption: true });
  const closedEmpty = el('p', { class: 'empty', text: 'No closed positions yet.' });
  const tradesTable = table('Trades', ['Market', 'Side', { label: 'Size', className: 'num opt' }, { label: 'Entry', className: 'num opt' },
    { label: 'Exit', className: 'num opt' }, { label: 'P&L', className: 'num' }, { label: 'Commission', className: 'num opt' },
    'Exit reason', { label: 'Exit (UTC)', className: 'opt' }], { hideCaption: true });
  const tradesEmpty = el('p', { class: 'empty', text: 'No trades yet.' });
  const liveNote = ctx.can.trade
    ? 'Live: marks from the newest bar close, updates from the portfolio stream.'
    : 'Marks are live from the newest bar close; your role (VIEWER) does not receive the portfolio stream, so the lists refresh every 15 s.';

  root.append(
    el('div', { class: 'view-head' }, el('h1', { text: 'Portfolio' }), el('p', { class: 'muted', text: liveNote })),
    el('div', { class: 'panel' }, el('h2', { text: 'Account' }), cards, accountNote),
    el('div', { class: 'panel' }, el('h2', { id: 'open-title', text: 'Open positions' }), openTable.wrap, openEmpty),
    el('div', { class: 'panel' }, el('h2', { text: 'Closed positions' }), closedTable.wrap, closedEmpty),
    el('div', { class: 'panel' }, el('h2', { text: 'Trades' }), tradesTable.wrap, tradesEmpty));

  // ---- account
  function showAccount() {
    if (!account) return;
    const unrealized = liveUnrealized();
    figures.balance.textContent = fmtMoney(account.balance);
    figures.available.textContent = fmtMoney(account.available_balance);
    figures.frozen.textContent = fmtMoney(account.frozen_balance);
    figures.equity.textContent = fmtMoney(unrealized === null ? account.equity : account.balance + unrealized);
    const u = unrealized === null ? account.unrealized_pnl : unrealized;
    figures.unrealized.textContent = fmtMoney(u, true);
    figures.unrealized.className = `figure-value ${signClass(u)}`;
    figures.realized.textContent = fmtMoney(account.realized_pnl, true);
    figures.realized.className = `figure-value ${signClass(account.realized_pnl)}`;
    accountNote.textContent = account.updated_at ? `Ledger updated ${fmtTime(account.updated_at)}` : '';
  }

  /** Σ live unrealized P&L of the open positions, or null when some has no figure. */
  function liveUnrealized() {
    let total = 0;
    for (const p of open.values()) {
      const pnl = pnlOf(p);
      if (pnl === null) return null;
      total += pnl;
    }
    return total;
  }

  async function loadAccount() {
    try {
      account = await ctx.api.get('/v1/account');
      showAccount();
    } catch (err) {
      ctx.toast(`Account could not be loaded: ${errorText(err)}`, 'error');
    }
  }

  // ---- open positions
  function pnlOf(p) {
    const mark = markOf(p);
    if (mark === null || p.entry_price === null || p.position_size === null) return p.unrealized_pnl ?? null;
    const sign = p.side === 'SELL' ? -1 : 1;
    return sign * (mark - p.entry_price) * p.position_size;
  }

  /** The newest known price: a bar close of the market or the position's own mark, whichever came last. */
  function markOf(p) {
    const live = marks.get(p.market);
    if (live && (!p.markAt || live.at >= p.markAt)) return live.price;
    return p.current_price ?? null;
  }

  function renderOpen() {
    clear(openTable.tbody);
    openRows.clear();
    const list = [...open.values()].sort((a, b) => b.id - a.id);
    for (const p of list) {
      const markCell = td(fmtPrice(markOf(p)), 'num opt');
      const pnl = pnlOf(p);
      const pnlCell = td(fmtMoney(pnl, true), `num ${signClass(pnl)}`, { testid: 'position-pnl' });
      const tr = el('tr', { testid: 'position-row', dataset: { positionId: String(p.id) } },
        td(`${p.market}`), td(el('span', { class: `side ${String(p.side).toLowerCase()}`, text: p.side })),
        td(fmtQty(p.position_size), 'num opt'), td(fmtPrice(p.entry_price), 'num opt'), markCell,
        td(fmtPrice(p.trailing_stop_price ?? p.stop_loss_price), 'num opt'), td(fmtPrice(p.profit_target_price), 'num opt'),
        pnlCell, td(timeCell(p.opened_at), 'opt'));
      if (ctx.can.trade) {
        tr.append(td(el('button', {
          type: 'button', class: 'btn small danger', testid: 'close-position',
          'aria-label': `Close position ${p.id} (${p.market} ${p.side})`, text: 'Close',
          onclick: () => closePosition(p),
        }), 'actions-col'));
      }
      openTable.tbody.append(tr);
      openRows.set(p.id, { tr, markCell, pnlCell });
    }
    openEmpty.hidden = list.length > 0;
    openTable.wrap.hidden = list.length === 0;
    syncKlineSubscriptions();
  }

  function refreshMarks(market) {
    for (const [id, row] of openRows) {
      const p = open.get(id);
      if (!p || (market && p.market !== market)) continue;
      const pnl = pnlOf(p);
      row.markCell.textContent = fmtPrice(markOf(p));
      row.pnlCell.textContent = fmtMoney(pnl, true);
      row.pnlCell.className = `num ${signClass(pnl)}`;
    }
    showAccount();
  }

  async function loadOpen() {
    try {
      const page = await ctx.api.get('/v1/positions', { status: 'OPEN', limit: 100 });
      open.clear();
      for (const p of page.data || []) open.set(Number(p.id), { ...p, id: Number(p.id) });
      renderOpen();
      showAccount();
    } catch (err) {
      ctx.toast(`Open positions could not be loaded: ${errorText(err)}`, 'error');
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
      renderOpen();
      refreshAll();
    } catch (err) {
      ctx.toast(`Position #${p.id} was not closed: ${errorText(err)}`, 'error');
      loadOpen();
    }
  }

  // ---- closed positions and trades
  async function loadClosed() {
    try {
      const page = await ctx.api.get('/v1/positions', { status: 'CLOSED', limit: PAGE });
      const list = page.data || [];
      replaceChildren(closedTable.tbody, list.map((p) => el('tr', { testid: 'closed-position-row', dataset: { positionId: String(p.id) } },
        td(p.market), td(el('span', { class: `side ${String(p.side).toLowerCase()}`, text: p.side })),
        td(fmtQty(p.position_size), 'num opt'), td(fmtPrice(p.entry_price), 'num opt'), td(fmtPrice(p.exit_price), 'num opt'),
        td(humanize(p.exit_reason)), td(fmtMoney(p.realized_pnl, true), `num ${signClass(p.realized_pnl)}`),
        td(fmtPct(p.roi), `num ${signClass(p.roi)}`), td(timeCell(p.closed_at), 'opt'))));
      closedEmpty.hidden = list.length > 0;
      closedTable.wrap.hidden = list.length === 0;
    } catch (err) {
      ctx.toast(`Closed positions could not be loaded: ${errorText(err)}`, 'error');
    }
  }

  async function loadTrades() {
    try {
      const page = await ctx.api.get('/v1/trades', { limit: PAGE });
      const list = page.data || [];
      replaceChildren(tradesTable.tbody, list.map((t) => el('tr', { testid: 'trade-row', dataset: { tradeId: String(t.id) } },
        td(t.market), td(el('span', { class: `side ${String(t.side).toLowerCase()}`, text: t.side })),
        td(fmtQty(t.size), 'num opt'), td(fmtPrice(t.entry_price), 'num opt'), td(fmtPrice(t.exit_price), 'num opt'),
        td(fmtMoney(t.pnl, true), `num ${signClass(t.pnl)}`), td(fmtMoney(t.commission), 'num opt'),
        td(humanize(t.exit_reason)), td(timeCell(t.exit_time), 'opt'))));
      tradesEmpty.hidden = list.length > 0;
      tradesTable.wrap.hidden = list.length === 0;
    } catch (err) {
      ctx.toast(`Trades could not be loaded: ${errorText(err)}`, 'error');
    }
  }

  function refreshAll() {
    return Promise.all([loadAccount(), loadOpen(), loadClosed(), loadTrades()]);
  }
  const refreshAccountSoon = debounce(loadAccount, 400);
  const refreshOpenSoon = debounce(loadOpen, 300);
  const refreshClosedSoon = debounce(() => { loadClosed(); loadTrades(); loadAccount(); }, 300);

  // ---- live marks from bars
  async function syncKlineSubscriptions() {
    const wanted = new Set();
    const markets = new Set([...open.values()].map((p) => p.market));
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
    for (const [topic, off] of klineSubs) if (!wanted.has(topic)) { off(); klineSubs.delete(topic); }
    for (const topic of wanted) {
      if (klineSubs.has(topic)) continue;
      klineSubs.set(topic, ctx.socket.subscribe(topic, onKline, { onReset: () => loadOpen() }));
    }
  }

  function onKline(data) {
    if (!data || data.event_type !== 'kline.closed' || typeof data.close !== 'number') return;
    const time = Date.parse(data.open_time) || 0;
    const known = marks.get(data.market);
    if (known && known.time > time) return; // an older bar (another interval, or a replay)
    marks.set(data.market, { price: data.close, time, at: Date.now() });
    refreshMarks(data.market);
  }

  // ---- live portfolio events (TRADER, ADMIN)
  function onPortfolio(data) {
    if (!data) return;
    if (data.event_type === 'position.closed') {
      open.delete(Number(data.position_id));
      renderOpen();
      refreshClosedSoon();
      return;
    }
    if (data.event_type !== 'portfolio.updated') return;
    const id = Number(data.position_id);
    const known = open.get(id);
    if (!known || data.action === 'POSITION_OPENED') { refreshOpenSoon(); refreshAccountSoon(); return; }
    Object.assign(known, {
      current_price: data.current_price ?? known.current_price, unrealized_pnl: data.unrealized_pnl ?? known.unrealized_pnl,
      stop_loss_price: data.stop_loss_price ?? known.stop_loss_price, trailing_stop_price: data.trailing_stop_price ?? known.trailing_stop_price,
      markAt: Date.now(),
    });
    refreshMarks(known.market);
    refreshAccountSoon();
  }

  const offPortfolio = ctx.can.trade
    ? ctx.socket.subscribe('portfolio', onPortfolio, { onReset: () => refreshAll() })
    : null;

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
      for (const off of klineSubs.values()) off();
      klineSubs.clear();
      clearInterval(pollTimer);
      refreshAccountSoon.cancel();
      refreshOpenSoon.cancel();
      refreshClosedSoon.cancel();
    },
  };
}
