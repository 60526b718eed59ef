// markdown.js — a small Markdown renderer for text written by the LLM (journal entries, review
// memos, explanations). Model output is untrusted: every piece of it becomes a text node
// (createTextNode / textContent), never markup, so `<img onerror=…>` or `<script>` is shown as
// the characters it is. Supported: headings (# to ###), paragraphs, bullet and numbered lists,
// fenced code blocks, horizontal rules, **bold** / __bold__, *italic* / _italic_, `code`, and
// [links](https://…) — only http(s) URLs become links (new tab, no opener, no referrer) and the
// URL is shown beside the text; any other link (javascript:, data:, relative) stays literal text.
// Anything else is text.

const HEADING = /^(#{1,3})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const FENCE = /^\s*(`{3,}|~{3,})/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const ESCAPABLE = '\\`*_[]()#+-.!>~|';

/**
 * Renders Markdown into a `<div class="md">` built from DOM nodes only.
 * @param {string|null|undefined} text the Markdown (anything that is not a string renders empty)
 * @param {{headingLevel?: number}} [options] the HTML level of a `#` heading (default 3: under a
 *   panel's `<h2>`); `##` and `###` are one and two below it, at most `<h6>`
 * @returns {HTMLDivElement}
 */
export function renderMarkdown(text, options = {}) {
  const root = document.createElement('div');
  root.className = 'md';
  const base = Math.min(6, Math.max(1, options.headingLevel || 3));
  const lines = typeof text === 'string' ? text.replace(/\r\n?/g, '\n').split('\n') : [];
  let paragraph = [];
  let list = null;   // { node, ordered }

  const flushParagraph = () => {
    if (!paragraph.length) return;
    const p = document.createElement('p');
    appendInline(p, paragraph.join('\n'));
    root.append(p);
    paragraph = [];
  };
  const endBlocks = () => { flushParagraph(); list = null; };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      endBlocks();
      const close = fence[1];
      const body = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith(close); i++) body.push(lines[i]);
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      code.textContent = body.join('\n');
      pre.append(code);
      root.append(pre);
      continue;
    }
    if (!line.trim()) { endBlocks(); continue; }
    const heading = HEADING.exec(line);
    if (heading) {
      endBlocks();
      const h = document.createElement(`h${Math.min(6, base + heading[1].length - 1)}`);
      appendInline(h, heading[2]);
      root.append(h);
      continue;
    }
    if (RULE.test(line) && !paragraph.length) {
      endBlocks();
      root.append(document.createElement('hr'));
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      flushParagraph();
      const ordered = !!numbered;
      if (!list || list.ordered !== ordered) {
        list = { node: document.createElement(ordered ? 'ol' : 'ul'), ordered };
        if (ordered && numbered[1] !== '1') list.node.start = Number(numbered[1]);
        root.append(list.node);
      }
      const li = document.createElement('li');
      appendInline(li, ordered ? numbered[2] : bullet[1]);
      list.node.append(li);
      continue;
    }
    if (list && /^\s{2,}\S/.test(line)) {
      // A wrapped line of the last item.
      appendInline(list.node.lastChild, ` ${line.trim()}`);
      continue;
    }
    list = null;
    paragraph.push(line.trim());
  }
  endBlocks();
  return root;
}

/**
 * Appends the inline Markdown of `text` to `parent`: text nodes, `<strong>`, `<em>`, `<code>`,
 * `<br>` for a line break inside a paragraph, and `<a>` for http(s) links.
 * @param {Node} parent
 * @param {string} text
 */
export function appendInline(parent, text) {
  let plain = '';
  const flush = () => { if (plain) { parent.append(document.createTextNode(plain)); plain = ''; } };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.includes(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      flush();
      parent.append(document.createElement('br'));
      i += 1;
      continue;
    }
    if (c === '`') {
      const ticks = /^`+/.exec(text.slice(i))[0];
      const end = text.indexOf(ticks, i + ticks.length);
      if (end > i) {
        flush();
        const code = document.createElement('code');
        code.textContent = text.slice(i + ticks.length, end).replace(/^ (.*) $/, '$1');
        parent.append(code);
        i = end + ticks.length;
        continue;
      }
      plain += ticks;
      i += ticks.length;
      continue;
    }
    const marked = emphasis(text, i, 2) || emphasis(text, i, 1);
    if (marked) {
      flush();
      const node = document.createElement(marked.width === 2 ? 'strong' : 'em');
      appendInline(node, marked.inner);
      parent.append(node);
      i = marked.end;
      continue;
    }
    if (c === '[') {
      const link = /^\[([^\]\n]+)\]\(\s*<?([^()\s<>]*)>?\s*\)/.exec(text.slice(i));
      const url = link ? httpUrl(link[2]) : null;
      if (url) {
        flush();
        parent.append(linkNode(link[1], url));
        i += link[0].length;
        continue;
      }
      if (link) {   // not http(s): the whole construct stays as the characters it is
        plain += link[0];
        i += link[0].length;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
}

/**
 * A `**x**`/`__x__` (size 2) or `*x*`/`_x_` (size 1) span starting at `i`: its inner text and
 * where it ends, or null. The delimiters must hug the text (no space inside them), and `_` only
 * counts at word boundaries, so `SMA_CROSS_BUY` and `2 * 3 * 4` stay as they are.
 */
function emphasis(text, i, size) {
  const mark = text[i];
  if (mark !== '*' && mark !== '_') return null;
  const delim = mark.repeat(size);
  if (text.slice(i, i + size) !== delim || text[i + size] === mark) return null;
  if (mark === '_' && i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1])) return null;
  const first = text[i + size];
  if (first === undefined || /\s/.test(first)) return null;
  for (let end = text.indexOf(delim, i + size + 1); end !== -1; end = text.indexOf(delim, end + 1)) {
    if (text[end + size] === mark || (size === 1 && text[end - 1] === mark)) continue;
    if (/\s/.test(text[end - 1])) continue;
    if (mark === '_' && end + size < text.length && /[\p{L}\p{N}]/u.test(text[end + size])) continue;
    const inner = text.slice(i + size, end);
    if (inner.includes('\n\n')) return null;
    return { inner, end: end + size, width: size };
  }
  return null;
}

/** The absolute http(s) URL `raw` names, or null for anything else (javascript:, data:, relative…). */
export function httpUrl(raw) {
  if (!/^https?:\/\//i.test(raw || '')) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** `<a>` to an http(s) URL, opened in a new tab without opener or referrer; the URL shows beside the text. */
function linkNode(label, url) {
  const span = document.createElement('span');
  span.className = 'md-link';
  const a = document.createElement('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.title = url;
  appendInline(a, label);
  span.append(a);
  if (a.textContent.trim() !== url) {
    const shown = document.createElement('span');
    shown.className = 'md-url';
    shown.textContent = ` (${url})`;
    span.append(shown);
  }
  return span;
}
