// paging.js — lists filtered and paged on the server (signals, closed positions, trades): the
// filter fields (their values become the list route's query, SPEC §15 part D), and the pager —
// "1–50 of 1,217" with Newer / Older — so a filter applies to every matching row the gateway
// holds, not only to the rows loaded.

import { el, fmtNum, labelledSelect, setOptions } from './ui.js';
import { marketLabel } from './markets.js';

/**
 * A filter toolbar: selects and date inputs whose values form the list's query.
 * @param {string} prefix testid prefix: fields are `<prefix>-filter-<name>`
 * @param {Array<{name: string, label: string, options?: Array<[string, string]>, date?: boolean, hook?: string}>} fields
 *   `name` is the query parameter; `options` make a select (first option: any), `date` a date input
 *   (UTC day; `to` includes the whole day, as the gateway reads it); `hook` replaces `name` in the testid
 * @param {() => void} onChange called after any field changed
 * @returns {{node: HTMLElement, query: () => Object<string, string>, setOptions: (name: string, options: Array<[string, string]>) => void}}
 */
export function createFilterBar(prefix, fields, onChange) {
  const inputs = {};
  const parts = fields.map((f) => {
    const id = `${prefix}-f-${f.name}`;
    if (f.date) {
      inputs[f.name] = el('input', { type: 'date', id, testid: `${prefix}-filter-${f.hook || f.name}` });
      inputs[f.name].addEventListener('change', onChange);
      return el('div', { class: 'field' }, el('label', { for: id, text: f.label }), inputs[f.name]);
    }
    const { field, select } = labelledSelect(f.label, f.options || [], { id, testid: `${prefix}-filter-${f.hook || f.name}` });
    inputs[f.name] = select;
    select.addEventListener('change', onChange);
    return field;
  });
  const query = () => {
    const q = {};
    for (const [name, input] of Object.entries(inputs)) if (input.value) q[name] = input.value;
    return q;
  };
  // A disclosure: open on wide screens, folded on phones (where the fields take a screen of their
  // own); its summary says how many filters are on.
  const summary = el('summary', { text: 'Filters' });
  const node = el('details', { class: 'filter-box', open: !window.matchMedia('(max-width: 640px)').matches }, summary,
    el('div', { class: 'toolbar filters', role: 'group', 'aria-label': 'Filters' }, parts));
  node.addEventListener('change', () => {
    const on = Object.keys(query()).length;
    summary.textContent = on ? `Filters · ${on} on` : 'Filters';
  });
  return {
    node,
    query,
    setOptions(name, options) { setOptions(inputs[name], options); },
  };
}

/**
 * The market filter's options from `ctx.markets()` (the canonical id as value, the symbol as text).
 * @param {object} ctx the view context
 * @param {{setOptions: Function}} bar
 * @param {string} [name] the field's name
 * @returns {Promise<boolean>} whether the markets could be read (else: ask again after the next load)
 */
export function fillMarkets(ctx, bar, name = 'market') {
  return ctx.markets().then((list) => {
    bar.setOptions(name, [['', 'All markets'],
      ...list.map((m) => [m.market, marketLabel(m)]).sort((a, b) => a[1].localeCompare(b[1]))]);
    return true;
  }).catch(() => false);
}

/**
 * The pager of a server list: which rows are shown of how many, and Newer / Older.
 * @param {string} prefix testids `<prefix>-count`, `<prefix>-newer`, `<prefix>-older`
 * @param {number} pageSize rows a page
 * @param {(offset: number) => void} onPage called with the offset to load
 * @returns {{node: HTMLElement, count: HTMLElement, show: (offset: number, rows: number, total: number) => void}}
 */
export function createPager(prefix, pageSize, onPage) {
  let offset = 0;
  const count = el('span', { class: 'muted pager-count', role: 'status', testid: `${prefix}-count` });
  const newer = el('button', { type: 'button', class: 'btn small', testid: `${prefix}-newer`, text: 'Newer', hidden: true,
    onclick: () => onPage(Math.max(0, offset - pageSize)) });
  const older = el('button', { type: 'button', class: 'btn small', testid: `${prefix}-older`, text: 'Older', hidden: true,
    onclick: () => onPage(offset + pageSize) });
  return {
    node: el('div', { class: 'pager' }, count, el('span', { class: 'pager-buttons' }, newer, older)),
    count,
    /** Shows rows `offset+1 … offset+rows` of `total`. */
    show(at, rows, total) {
      offset = at;
      count.textContent = rows ? `${fmtNum(at + 1, 0)}–${fmtNum(at + rows, 0)} of ${fmtNum(total, 0)}` : '';
      newer.hidden = at <= 0;
      older.hidden = at + rows >= total;
    },
  };
}

/**
 * Whether a row passes the filter query the way the gateway's list reads it: equal fields, and
 * `from` / `to` (UTC days, `to` inclusive) on the row's time field. The lists apply it to what the
 * gateway answers and to live events, so a row never shows under filters it does not match.
 * @param {object} row a signal, position or trade
 * @param {Object<string, string>} query the filter bar's query
 * @param {string} timeField the field `from` / `to` apply to (`bar_time`, `opened_at`, `exit_time`)
 * @returns {boolean}
 */
export function passes(row, query, timeField) {
  for (const [key, value] of Object.entries(query)) {
    if (key === 'from' || key === 'to') continue;
    if (String(row[key] ?? '') !== value) return false;
  }
  const t = Date.parse(row[timeField]);
  if (query.from && !(t >= Date.parse(query.from))) return false;
  if (query.to && !(t < Date.parse(query.to) + 864e5)) return false;
  return true;
}
