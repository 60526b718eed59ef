// A tiny HTML element builder and number formatters for the market and backtest views (kept
// beside the charts so those views depend on nothing but the view context).

/**
 * Creates an HTML element. `attrs` keys: `class`, `text`, `testid` (→ data-testid), `on<event>`
 * functions (listeners), booleans (present/absent attributes), anything else as an attribute.
 * @param {string} tag
 * @param {Object<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'testid') node.setAttribute('data-testid', value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * A number with a fixed count of decimals and thousands separators; "–" for null/NaN.
 * @param {number|null|undefined} value
 * @param {number} [decimals]
 */
export function fmtNumber(value, decimals = 2) {
  if (value === null || value === undefined || !isFinite(value)) return '–';
  return Number(value).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * A price with decimals suited to its size (2 above 1, up to 6 below).
 * @param {number|null|undefined} value
 */
export function fmtPrice(value) {
  if (value === null || value === undefined || !isFinite(value)) return '–';
  const a = Math.abs(value);
  return fmtNumber(value, a >= 1000 ? 2 : a >= 1 ? 4 : 6);
}

/**
 * An RFC 3339 or epoch time as `YYYY-MM-DD HH:MM` UTC; the input unchanged when unparseable.
 * @param {string|number} value
 */
export function fmtTime(value) {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!isFinite(ms)) return value ?? '–';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
