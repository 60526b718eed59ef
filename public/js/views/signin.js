// views/signin.js — the sign-in view: paste a token, or (dev mode on loopback only, when
// GET /dev/token answers 200) one click per role. Also shown, with a message, when a pasted
// token is about to expire or the session ended.

import { el, errorText, replaceChildren } from '../ui.js';

const ROLE_NOTES = {
  VIEWER: 'read-only: signals, positions, charts, risk state',
  TRADER: 'also generate signals, close positions, run backtests, live portfolio and risk alerts',
  ADMIN: 'everything, including the kill switch',
};

/**
 * Mounts the sign-in view.
 * @param {HTMLElement} root the view's section
 * @param {{
 *   signInWithToken: (token: string, opts: {remember: boolean}) => Promise<void>,
 *   devSignIn: (role: string) => Promise<void>,
 *   devRoles: Promise<string[]|null>,
 * }} ctx
 * @returns {{show: (message?: string|null, session?: object|null) => void, hide: () => void}}
 */
export function mount(root, ctx) {
  const message = el('p', { class: 'notice', testid: 'signin-message', role: 'status', hidden: true });
  const error = el('p', { class: 'form-error', testid: 'signin-error', role: 'alert', hidden: true });
  const input = el('textarea', {
    id: 'token-input', testid: 'token-input', rows: 4, autocomplete: 'off', spellcheck: 'false',
    autocapitalize: 'off', placeholder: 'eyJhbGciOiJIUzI1NiIs…', required: true,
  });
  const remember = el('input', { type: 'checkbox', id: 'token-remember', testid: 'token-remember' });
  const submit = el('button', { type: 'submit', class: 'btn primary', testid: 'token-submit', text: 'Sign in' });
  const dev = el('div', { class: 'dev-signin', hidden: true });
  const busy = (on) => { for (const b of root.querySelectorAll('button')) b.disabled = on; };

  function fail(err) {
    error.textContent = errorText(err);
    error.hidden = false;
  }

  async function attempt(run) {
    error.hidden = true;
    busy(true);
    try {
      await run();
      input.value = '';
    } catch (err) {
      fail(err);
    } finally {
      busy(false);
    }
  }

  const form = el('form', { class: 'token-form', novalidate: true },
    el('label', { for: 'token-input', text: 'Access token (JWT)' }),
    input,
    el('div', { class: 'check' }, remember, el('label', { for: 'token-remember', text: 'Remember on this device' })),
    el('div', { class: 'actions' }, submit),
    error,
    el('p', { class: 'hint' }, 'Get a token with ', el('code', { text: 'bedrock token --sub alice --role TRADER' }), '.'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value.trim()) { fail(new Error('Paste a token first.')); input.focus(); return; }
    attempt(() => ctx.signInWithToken(input.value, { remember: remember.checked }));
  });

  root.append(el('div', { class: 'signin-card panel' },
    el('h1', { id: 'signin-title', text: 'Sign in to Bedrock' }),
    message, dev, form));

  ctx.devRoles.then((roles) => {
    if (!roles || !roles.length) return;
    const buttons = roles.map((role) => el('button', {
      type: 'button', class: 'btn dev-role', testid: `dev-signin-${role}`,
      onclick: () => attempt(() => ctx.devSignIn(role)),
    }, el('strong', { text: role }), el('span', { class: 'muted', text: ROLE_NOTES[role] || '' })));
    replaceChildren(dev,
      el('h2', { text: 'Dev sign-in' }),
      el('p', { class: 'muted', text: 'This gateway runs in dev mode and you are on the same machine: pick a role.' }),
      el('div', { class: 'dev-roles' }, buttons),
      el('p', { class: 'divider', text: 'or paste a token' }));
    dev.hidden = false;
  });

  return {
    show(text, session) {
      message.textContent = text || '';
      message.hidden = !text;
      error.hidden = true;
      if (session) input.placeholder = `a new token for ${session.sub} (${session.role})`;
      else input.placeholder = 'eyJhbGciOiJIUzI1NiIs…';
    },
    hide() { error.hidden = true; },
  };
}
