// api-doc.js — renders the gateway's OpenAPI document (GET /v1/openapi.json, no token needed)
// on api.html: the security schemes, then every operation grouped by tag with its method, path,
// least role (`x-bedrock-role`), parameters, request body and answer examples. Everything is
// built with DOM calls (no innerHTML): the document's text is shown, never interpreted.

const THEME_KEY = 'bedrock.theme';

/**
 * An element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string>} [attrs] `text` sets the text content
 * @param {...(Node|string|null)} children
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/**
 * Text with `code` spans and **bold** shown as such (the little Markdown the descriptions use).
 * @param {string} text
 * @returns {DocumentFragment}
 */
function richText(text) {
  const out = document.createDocumentFragment();
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    out.append(text.slice(last, match.index));
    out.append(match[1] !== undefined ? el('code', { text: match[1] }) : el('strong', { text: match[2] }));
    last = match.index + match[0].length;
  }
  out.append(text.slice(last));
  return out;
}

/**
 * The type of a schema in words (`string`, `integer`, `array of object`, one of an enum).
 * @param {object} schema
 * @returns {string}
 */
function typeText(schema) {
  if (!schema) return 'any';
  if (schema.$ref) return schema.$ref.split('/').pop();
  if (schema.enum) return `${schema.type || 'string'}: ${schema.enum.join(' | ')}`;
  if (schema.type === 'array') return `array of ${typeText(schema.items)}`;
  return schema.type || 'any';
}

/**
 * A table of rows under the given headings.
 * @param {string[]} headings
 * @param {Array<Array<Node|string>>} rows
 * @returns {HTMLTableElement}
 */
function table(headings, rows) {
  return el('table', {},
    el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))));
}

/**
 * A JSON example, pretty-printed.
 * @param {unknown} value
 * @param {string} testid
 * @returns {HTMLPreElement}
 */
function example(value, testid) {
  return el('pre', { 'data-testid': testid, text: JSON.stringify(value, null, 2) });
}

/**
 * The body of one operation: description, parameters, request body and answers.
 * @param {object} op
 * @param {object} doc the whole document (for `$ref`s to shared answers)
 * @returns {HTMLElement}
 */
function operationBody(op, doc) {
  const body = el('div', { class: 'op-body' });
  if (op.description) body.append(el('p', {}, richText(op.description)));
  const params = op.parameters || [];
  if (params.length) {
    body.append(el('h3', { text: 'Parameters' }), table(['name', 'in', 'type', 'required', 'description'],
      params.map((p) => [el('code', { text: p.name }), p.in, typeText(p.schema), p.required ? 'yes' : 'no',
        richText((p.schema && p.schema.description) || '')])));
  }
  const json = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
  if (json) {
    const schema = json.schema || {};
    const required = new Set(schema.required || []);
    body.append(el('h3', { text: 'Request body (JSON)' }), table(['field', 'type', 'required', 'description'],
      Object.entries(schema.properties || {}).map(([name, s]) => [el('code', { text: name }), typeText(s),
        required.has(name) ? 'yes' : 'no', richText(s.description || '')])));
    if (json.example) body.append(example(json.example, 'op-request-example'));
  }
  const responses = op.responses || {};
  const ok = responses['200'];
  if (ok && ok.content) {
    const [type, media] = Object.entries(ok.content)[0];
    body.append(el('h3', { text: `Answer 200 (${type})` }));
    if (media.example !== undefined) body.append(example(media.example, 'op-response-example'));
    else body.append(el('p', { text: ok.description || '' }));
  }
  const errors = Object.keys(responses).filter((status) => status !== '200').map((status) => {
    const ref = responses[status].$ref;
    const shared = ref ? doc.components.responses[ref.split('/').pop()] : responses[status];
    const code = shared && shared.content && shared.content['application/json'].example.error_code;
    return `${status}${code ? ` ${code}` : ''}`;
  });
  if (errors.length) body.append(el('p', { class: 'op-errors', text: `Errors: ${errors.join(', ')} (body {error_code, message, timestamp, request_id})` }));
  return body;
}

/**
 * One operation as a collapsible row.
 * @param {string} verb
 * @param {string} path
 * @param {object} op
 * @param {object} doc
 * @returns {HTMLDetailsElement}
 */
function operation(verb, path, op, doc) {
  const role = op['x-bedrock-role'] || 'NONE';
  const details = el('details', { class: 'op', 'data-testid': `op-${verb} ${path}`, 'data-role': role },
    el('summary', {},
      el('span', { class: 'op-verb', 'data-verb': verb, text: verb }),
      el('span', { class: 'op-path', text: path }),
      el('span', { class: 'op-summary' }, richText(op.summary || '')),
      el('span', { class: 'op-role', 'data-role': role, 'data-testid': 'op-role', text: role === 'NONE' ? 'no auth' : role })));
  // Rendered when first opened: a hundred tables nobody looks at cost the page nothing.
  details.addEventListener('toggle', () => {
    if (details.open && details.childElementCount === 1) details.append(operationBody(op, doc));
  });
  details.dataset.search = `${verb} ${path} ${role} ${op.summary || ''} ${op['x-bedrock-method'] || ''}`.toLowerCase();
  return details;
}

/**
 * The page for `doc`.
 * @param {object} doc an OpenAPI 3.1 document
 */
function render(doc) {
  document.querySelector('[data-testid="api-title"]').textContent = `${doc.info.title} (version ${doc.info.version})`;
  document.querySelector('[data-testid="api-description"]').replaceChildren(richText(doc.info.description || ''));
  const auth = document.querySelector('[data-testid="api-auth"]');
  for (const [name, scheme] of Object.entries(doc.components.securitySchemes || {})) {
    auth.append(el('div', { class: 'scheme' }, el('strong', { text: `${name}: ` }), richText(scheme.description || '')));
  }
  const groups = new Map((doc.tags || []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [verb, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'Other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(verb.toUpperCase(), path, op, doc));
    }
  }
  const toc = document.querySelector('[data-testid="api-toc"]');
  const list = document.querySelector('[data-testid="api-operations"]');
  for (const [tag, ops] of groups) {
    if (!ops.length) continue;
    const id = `tag-${tag.toLowerCase()}`;
    toc.append(el('a', { href: `#${id}`, text: `${tag} (${ops.length})` }));
    list.append(el('section', { class: 'api-tag', id, 'data-testid': `tag-${tag}` }, el('h2', { text: tag }), ...ops));
  }
  const filter = document.querySelector('[data-testid="api-filter"]');
  filter.addEventListener('input', () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const section of list.querySelectorAll('.api-tag')) {
      let shown = 0;
      for (const op of section.querySelectorAll('.op')) {
        op.hidden = !words.every((w) => op.dataset.search.includes(w));
        if (!op.hidden) shown += 1;
      }
      section.hidden = shown === 0;
    }
  });
  // A link to one operation (`api.html#POST /v1/publish`) opens it.
  const wanted = decodeURIComponent(location.hash.slice(1));
  const target = wanted && list.querySelector(`[data-testid="${CSS.escape(`op-${wanted}`)}"]`);
  if (target) {
    target.open = true;
    target.scrollIntoView();
  }
  document.body.dataset.loaded = 'true';
}

const stored = localStorage.getItem(THEME_KEY);
if (stored === 'light' || stored === 'dark') document.documentElement.dataset.theme = stored;

fetch('/v1/openapi.json', { headers: { Accept: 'application/json' } })
  .then((response) => {
    if (!response.ok) throw new Error(`the gateway answered ${response.status}`);
    return response.json();
  })
  .then(render)
  .catch((error) => {
    const line = document.querySelector('[data-testid="api-description"]');
    line.textContent = `Could not load /v1/openapi.json: ${error.message}`;
    line.classList.add('api-error');
    document.body.dataset.loaded = 'error';
  });
