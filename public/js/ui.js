// ui.js — the dashboard's one helper module: building DOM elements, formatting numbers and times
// (en-US digits, times in UTC), tables, dialogs and toasts. Every module that shows data uses it.
// Everything that shows server data goes through textContent (never innerHTML): events can be
// appended to the streams by anyone, so their text is treated as untrusted.

/**
 * Creates an element.
 * @param {string} tag tag name (`svg:` prefix is not supported; charts build their own SVG)
 * @param {Object<string, any>} [attrs] attributes; `class`, `text`, `testid`, `dataset`,
 *   `on<Event>` handlers and boolean values get special treatment
 * @param {...(Node|string|number|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, ...children);
  return node;
}

/**
 * Appends children, skipping empty ones; strings and numbers become text nodes.
 * @param {Node} node
 * @param {...any} children
 * @returns {Node} node
 */
export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Removes every child of a node.
 * @param {Node} node
 * @returns {Node} node
 */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/**
 * Replaces a node's children.
 * @param {Node} node
 * @param {...any} children
 * @returns {Node} node
 */
export function replaceChildren(node, ...children) {
  clear(node);
  return append(node, ...children);
}

/**
 * A number with a fixed count of decimals and thousands separators (`12,345.60`); `–` when
 * absent or not a finite number.
 * @param {number|string|null|undefined} value
 * @param {number} [digits]
 * @returns {string}
 */
export function fmtNum(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return '–';
  return Number(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A price: 2 decimals from 1,000 up, 4 from 1 up, 6 below; `–` when absent or not finite.
 * @param {number|null|undefined} value
 * @returns {string}
 */
export function fmtPrice(value) {
  if (value === null || value === undefined) return '–';
  const abs = Math.abs(Number(value));
  return fmtNum(value, abs >= 1000 ? 2 : abs >= 1 ? 4 : 6);
}

/**
 * A quantity (position size): up to 6 decimals, trailing zeros dropped.
 * @param {number|null|undefined} value
 * @returns {string}
 */
export function fmtQty(value) {
  if (value === null || value === undefined) return '–';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/**
 * Money with a sign when asked (`+12.30`).
 * @param {number|null|undefined} value
 * @param {boolean} [signed]
 * @returns {string}
 */
export function fmtMoney(value, signed = false) {
  if (value === null || value === undefined) return '–';
  const text = fmtNum(value, 2);
  return signed && Number(value) > 0 ? `+${text}` : text;
}

/**
 * A percentage from a value already in percent (`12.5` → `12.50 %`).
 * @param {number|null|undefined} value
 * @param {number} [digits]
 * @returns {string}
 */
export function fmtPct(value, digits = 2) {
  if (value === null || value === undefined) return '–';
  return `${fmtNum(value, digits)} %`;
}

/**
 * A time in UTC, to the minute, always with the year (docs/DASHBOARD.md, "Clocks"):
 * `2024-01-05 13:00 UTC` (form `utc`) or `2024-01-05 13:00` (`plain`: where a header or caption
 * already says UTC). `–` when absent; the input as text when it is not a time.
 * @param {string|number|null|undefined} value an RFC 3339 string or epoch milliseconds
 * @param {'utc'|'plain'} [form]
 * @returns {string}
 */
export function fmtTime(value, form = 'utc') {
  if (value === null || value === undefined || value === '') return '–';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const text = d.toISOString().slice(0, 16).replace('T', ' ');
  return form === 'plain' ? text : `${text} UTC`;
}

/**
 * A `<time>` element for a table cell whose header says UTC: the date with the year and the
 * minute (`2024-01-05 13:00`), the exact instant as tooltip.
 * @param {string|number|null|undefined} value an RFC 3339 string or epoch milliseconds
 * @returns {HTMLElement}
 */
export function timeCell(value) {
  const d = value === null || value === undefined || value === '' ? null : new Date(value);
  const valid = d && !Number.isNaN(d.getTime());
  if (!valid) return el('time', { datetime: '', text: fmtTime(value, 'plain') });
  const [day, minute] = fmtTime(value, 'plain').split(' ');
  // Two unbreakable halves: a narrow column wraps between the date and the time, never inside.
  return el('time', { class: 'stamp', datetime: d.toISOString(), title: fmtTime(value) },
    el('span', { text: day }), ' ', el('span', { text: minute }));
}

/**
 * CSS class for a signed amount: `pos`, `neg` or `zero`.
 * @param {number|null|undefined} value
 * @returns {string}
 */
export function signClass(value) {
  const v = Number(value);
  if (!v || Number.isNaN(v)) return 'zero';
  return v > 0 ? 'pos' : 'neg';
}

/**
 * Turns `PULLBACK_BUY` into `Pullback buy`.
 * @param {string|null|undefined} code
 * @returns {string}
 */
export function humanize(code) {
  if (!code) return '–';
  const text = String(code).replace(/_/g, ' ').toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const EXIT_REASONS = {
  STOP_LOSS: 'Stop loss', TRAILING_STOP: 'Trailing stop', PROFIT_TARGET: 'Profit target', SIGNAL: 'Strategy exit',
  MANUAL: 'Closed by hand', END_OF_DATA: 'End of data',
};

/**
 * Why a position closed, in the words every view uses (`STOP_LOSS` → `Stop loss`).
 * @param {string|null|undefined} code the ledger's or the backtester's `exit_reason`
 * @returns {string}
 */
export function exitReasonLabel(code) {
  return EXIT_REASONS[code] || humanize(code);
}

/**
 * A list of `code → count` (refused signals) as `Max open positions: 1,217` lines, largest first.
 * @param {Object<string, number>} counts
 * @returns {string[]}
 */
export function countLines(counts) {
  return Object.entries(counts || {}).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${humanize(code)}: ${fmtNum(n, 0)}`);
}

/**
 * A table with a caption and column headers, rows added by the caller to `tbody`.
 * @param {string} caption accessible caption (visually hidden when `hideCaption`)
 * @param {Array<string|{label:string, className?:string}>} columns
 * @param {{hideCaption?: boolean, className?: string}} [options]
 * @returns {{table: HTMLTableElement, tbody: HTMLTableSectionElement, wrap: HTMLElement}}
 */
export function table(caption, columns, options = {}) {
  const headRow = el('tr');
  for (const col of columns) {
    const c = typeof col === 'string' ? { label: col } : col;
    headRow.append(el('th', { scope: 'col', class: c.className, text: c.label }));
  }
  const tbody = el('tbody');
  const tableNode = el('table', { class: options.className || 'data' },
    el('caption', { class: options.hideCaption ? 'visually-hidden' : undefined, text: caption }),
    el('thead', {}, headRow), tbody);
  const wrap = el('div', { class: 'table-wrap' }, tableNode);
  return { table: tableNode, tbody, wrap };
}

/**
 * A table cell.
 * @param {any} content text or node
 * @param {string} [className]
 * @param {Object<string, any>} [attrs]
 * @returns {HTMLTableCellElement}
 */
export function td(content, className, attrs = {}) {
  return el('td', { class: className, ...attrs }, content);
}

/**
 * Asks for confirmation in a modal `<dialog>`; resolves true when confirmed.
 * @param {string} title
 * @param {string} message
 * @param {string} [confirmLabel]
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, message, confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'submit', value: 'ok', class: 'btn danger', testid: 'confirm-ok', text: confirmLabel });
    const cancel = el('button', { type: 'submit', value: 'cancel', class: 'btn', testid: 'confirm-cancel', text: 'Cancel' });
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = el('dialog', { class: 'confirm', 'aria-labelledby': titleId, testid: 'confirm-dialog' },
      el('form', { method: 'dialog' },
        el('h2', { id: titleId, text: title }),
        el('p', { text: message }),
        el('div', { class: 'actions' }, cancel, ok)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Shows a short message in the toast area (`#toasts`, an aria-live region).
 * @param {string} message
 * @param {'info'|'ok'|'error'} [kind]
 */
export function toast(message, kind = 'info') {
  const area = document.getElementById('toasts');
  if (!area) return;
  const item = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', testid: 'toast' }, message);
  area.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * A function that runs `fn` once, `ms` after the last call.
 * @param {Function} fn
 * @param {number} ms
 * @returns {Function & {cancel: Function}}
 */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * A labelled `<select>`.
 * @param {string} label visible label text
 * @param {Array<[string, string]>} options value/label pairs
 * @param {Object<string, any>} [attrs] attributes of the select
 * @returns {{field: HTMLElement, select: HTMLSelectElement}}
 */
export function labelledSelect(label, options, attrs = {}) {
  const id = attrs.id || `sel-${Math.random().toString(36).slice(2)}`;
  const select = el('select', { ...attrs, id });
  setOptions(select, options);
  const field = el('div', { class: 'field' }, el('label', { for: id, text: label }), select);
  return { field, select };
}

/**
 * Replaces a select's options, keeping the current value when it still exists.
 * @param {HTMLSelectElement} select
 * @param {Array<[string, string]>} options
 */
export function setOptions(select, options) {
  const current = select.value;
  clear(select);
  for (const [value, text] of options) select.append(el('option', { value, text }));
  if (options.some(([value]) => value === current)) select.value = current;
}

/**
 * Why a load failed, in words: an unreachable gateway says so, other errors give the server's
 * message.
 * @param {any} err an ApiError (status 0: no answer) or anything else
 * @returns {string}
 */
export function loadErrorText(err) {
  if (err && (err.status === 0 || err.error_code === 'NETWORK')) return 'the gateway cannot be reached';
  return (err && err.message) || String(err);
}

/**
 * The error state of a list that could not be loaded (instead of its empty state): what failed,
 * why, and a Retry button; hidden until `show(err)`.
 * @param {string} testid
 * @param {string} what e.g. `Closed positions`
 * @param {() => void} onRetry
 * @returns {{node: HTMLElement, show: (err: any) => void, hide: () => void}}
 */
export function errorState(testid, what, onRetry) {
  const text = el('span');
  const node = el('div', { class: 'load-error', testid, role: 'alert', hidden: true }, text,
    el('button', { type: 'button', class: 'btn small', text: 'Retry', onclick: onRetry }));
  return {
    node,
    show(err) { text.textContent = `${what} could not be loaded: ${loadErrorText(err)}.`; node.hidden = false; },
    hide() { node.hidden = true; },
  };
}

/**
 * Text that explains an error (an ApiError or anything else).
 * @param {any} err
 * @returns {string}
 */
export function errorText(err) {
  if (!err) return 'unknown error';
  if (err.message && err.error_code) return `${err.message} (${err.error_code})`;
  return err.message || String(err);
}
