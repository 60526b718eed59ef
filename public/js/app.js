// app.js — the dashboard's entry module: theme, session restore, sign-in and sign-out, token
// renewal before expiry, the one socket, hash routing (#/signals, #/portfolio, #/market,
// #/backtest, #/models, #/risk, #/status, #/engine, #/analytics, #/history) and mounting each view
// once, on its first visit after sign-in; the header's data-flow pill (js/feed-monitor.js) and
// notification bell (js/notify.js); the user's own topic (js/user-topic.js) as toasts.

import { createApi, devMint, devSignInRoles } from './api.js';
import { createFeedMonitor } from './feed-monitor.js';
import { createNotifier } from './notify.js';
import { createSocket } from './socket.js';
import { followUserTopic } from './user-topic.js';
import { clear, el, errorText, toast } from './ui.js';
import * as signinView from './views/signin.js';
import * as signalsView from './views/signals.js';
import * as portfolioView from './views/portfolio.js';
import * as riskView from './views/risk.js';

const SESSION_KEY = 'bedrock.session';
const THEME_KEY = 'bedrock.theme';
const ROLE_RANK = { VIEWER: 1, TRADER: 2, ADMIN: 3 };
const VIEW_NAMES = ['signals', 'portfolio', 'market', 'backtest', 'models', 'risk', 'status', 'engine', 'analytics', 'history'];
const VIEW_TITLES = { signals: 'Signals', portfolio: 'Portfolio', market: 'Market', backtest: 'Backtest', models: 'Models', risk: 'Risk',
  status: 'System status', engine: 'Engine', analytics: 'Analytics', history: 'Backtest history' };

/** View modules; the views after risk load on demand so a missing file cannot break the page. */
const VIEW_LOADERS = {
  signals: async () => signalsView,
  portfolio: async () => portfolioView,
  risk: async () => riskView,
  market: () => import('./views/market.js'),
  backtest: () => import('./views/backtest.js'),
  models: () => import('./views/models.js'),
  status: () => import('./views/status.js'),
  engine: () => import('./views/engine.js'),
  analytics: () => import('./views/analytics.js'),
  history: () => import('./views/backtest-history.js'),
};

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const section = (name) => document.getElementById(`view-${name}`);

let session = null;      // { sub, role, token, expiresAt (epoch ms), issuedAt, dev, remember }
let api = null;
let socket = null;
let ctx = null;
let renewTimer = null;
let signin = null;
let current = null;      // name of the shown view
let lastView = null;     // the last view shown, to return to after sign-in
let signinMessage = null; // what the sign-in view says (expiry, sign-out), until the next sign-in
let feedMonitor = null;  // is market data flowing (the header's data-flow pill, the status view)
let notifier = null;     // the notification bell
let userTopic = null;    // the `user` topic's toasts
const mounted = new Map(); // view name → Promise<handle|null>
let focusView = false;   // after a sign-in: move the focus into the view shown (not left on <body>)

// ---------------------------------------------------------------- theme

function systemTheme() {
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = $('theme-toggle');
  const other = theme === 'dark' ? 'light' : 'dark';
  button.setAttribute('aria-label', `Switch to ${other} theme`);
  button.title = `Switch to ${other} theme`;
  button.querySelector('.theme-icon').textContent = theme === 'dark' ? '☀' : '☾';
}

function initTheme() {
  applyTheme(localStorage.getItem(THEME_KEY) || systemTheme());
  $('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  });
  if (window.matchMedia) {
    window.matchMedia('(prefers-color-scheme: light)').addEventListener('change', () => {
      if (!localStorage.getItem(THEME_KEY)) applyTheme(systemTheme());
    });
  }
}

// ---------------------------------------------------------------- session storage and tokens

/**
 * Reads the claims of a JWT without checking its signature (the gateway does that).
 * @param {string} token
 * @returns {{sub: string, role: string, exp: number, iat?: number}|null}
 */
export function readClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(b64.padEnd(b64.length + (4 - b64.length % 4) % 4, '=')),
      (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    const claims = JSON.parse(json);
    if (typeof claims.sub !== 'string' || !ROLE_RANK[claims.role] || typeof claims.exp !== 'number') return null;
    return claims;
  } catch {
    return null;
  }
}

function saveSession() {
  const text = JSON.stringify(session);
  sessionStorage.setItem(SESSION_KEY, text);
  if (session.remember) localStorage.setItem(SESSION_KEY, text); else localStorage.removeItem(SESSION_KEY);
}

function loadSession() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const saved = JSON.parse(store.getItem(SESSION_KEY) || 'null');
      if (saved && saved.token && saved.expiresAt > Date.now() + 5000) return saved;
    } catch { /* ignore a corrupt entry */ }
  }
  return null;
}

function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(SESSION_KEY);
}

// ---------------------------------------------------------------- sign-in and sign-out

/** Checks a token with the gateway, then signs in (or renews the current session in place). */
async function signInWithToken(token, { dev = false, remember = false, expiresAt } = {}) {
  token = token.trim();
  const claims = readClaims(token);
  if (!claims) throw new Error('That is not a Bedrock token (a JWT with sub, role and exp).');
  const expiry = expiresAt ? Date.parse(expiresAt) : claims.exp * 1000;
  if (expiry <= Date.now()) throw new Error('That token has expired. Get a new one.');
  const probe = createApi({ getToken: () => token });
  try {
    await probe.get('/v1/account');
  } catch (err) {
    if (err.status === 401) throw new Error('The gateway refused this token (bad signature, wrong issuer or expired).');
    if (err.status !== 403) throw new Error(`The gateway could not check the token: ${errorText(err)}`);
  }
  const next = { sub: claims.sub, role: claims.role, token, expiresAt: expiry,
    issuedAt: (claims.iat || Math.floor(Date.now() / 1000)) * 1000, dev, remember };
  if (session && session.sub === next.sub && session.role === next.role) {
    renew(next);
    return;
  }
  if (session) stopSession();
  focusView = true;
  startSession(next);
}

/** Dev sign-in: mints a token for the role (`POST /dev/token`). */
async function devSignIn(role) {
  const minted = await devMint(role);
  await signInWithToken(minted.token, { dev: true, expiresAt: minted.expires_at });
}

/** Puts a fresh token of the same subject and role in place, without touching the views. */
function renew(next) {
  Object.assign(session, { token: next.token, expiresAt: next.expiresAt, issuedAt: next.issuedAt,
    dev: next.dev || session.dev, remember: next.remember || session.remember });
  saveSession();
  socket.refresh(next.token);
  scheduleRenewal();
  toast('Session renewed.', 'ok');
  signinMessage = null;
  if (current === null || location.hash === '#/signin') { focusView = true; go(lastView || 'signals'); }
}

/** Navigates to a view (routes at once when the hash already names it). */
function go(name) {
  if (location.hash === `#/${name}`) route(); else location.hash = `#/${name}`;
}

function scheduleRenewal() {
  clearTimeout(renewTimer);
  const lifetime = Math.max(1000, session.expiresAt - session.issuedAt);
  const lead = Math.min(60000, Math.max(5000, lifetime * 0.2));
  const wait = Math.max(0, session.expiresAt - lead - Date.now());
  renewTimer = setTimeout(renewNow, Math.min(wait, 2 ** 31 - 1));
}

async function renewNow() {
  if (!session) return;
  if (session.dev) {
    try {
      const minted = await devMint(session.role, session.sub);
      const claims = readClaims(minted.token);
      renew({ token: minted.token, expiresAt: Date.parse(minted.expires_at),
        issuedAt: claims && claims.iat ? claims.iat * 1000 : Date.now(), dev: true });
      return;
    } catch (err) {
      if (session.expiresAt - Date.now() > 5000) { renewTimer = setTimeout(renewNow, 5000); return; }
    }
  }
  const at = new Date(session.expiresAt).toISOString().slice(11, 19);
  showSignin(`Your token expires at ${at} UTC. Paste a new token for ${session.sub} to stay signed in.`);
}

function startSession(next) {
  session = next;
  saveSession();
  api = createApi({ getToken: () => session && session.token, onUnauthorized: () => expired() });
  socket = createSocket({
    getToken: () => session && session.token,
    onState: showConnection,
    onWelcome: (welcome) => {
      if (session && welcome.expires_at) { session.expiresAt = Date.parse(welcome.expires_at); saveSession(); }
    },
    onUnauthorized: () => expired(),
    onRefreshError: (err) => toast(`The gateway refused the new token: ${err.message}`, 'error'),
  });
  const role = session.role;
  ctx = {
    session,
    can: { trade: ROLE_RANK[role] >= ROLE_RANK.TRADER, admin: role === 'ADMIN' },
    api,
    socket: {
      subscribe: (...args) => socket.subscribe(...args),
      request: (...args) => socket.request(...args),
      onTask: (...args) => socket.onTask(...args),
      onState: (fn) => socket.onState(fn),
      get state() { return socket.state; },
    },
    toast,
    markets: cachedMarkets(),
    models: cachedModels(),
  };
  feedMonitor = createFeedMonitor(ctx);
  ctx.feeds = feedMonitor;
  feedMonitor.onChange(showFlow);
  notifier = createNotifier(ctx, $('notify-toggle'));
  userTopic = followUserTopic(ctx, { onJobCompleted: refreshHistory });
  $('whoami').textContent = `${session.sub} · ${session.role}`;
  for (const id of ['whoami', 'signout', 'conn-state', 'data-flow']) $(id).hidden = false;
  document.querySelector('nav.tabs').hidden = false;
  socket.start();
  scheduleRenewal();
  signinMessage = null;
  if (!location.hash || location.hash === '#/signin') history.replaceState(null, '', `#/${lastView || 'signals'}`);
  route();
}

/** `ctx.markets(fresh?)`: `GET /v1/markets` `data`, shared by the views, cached for 30 s. */
function cachedMarkets() {
  let at = 0;
  let promise = null;
  return (fresh = false) => {
    if (!promise || fresh || Date.now() - at > 30000) {
      at = Date.now();
      promise = api.get('/v1/markets').then((r) => r.data || []).catch((err) => { promise = null; throw err; });
    }
    return promise;
  };
}

/**
 * `ctx.models(fresh?)`: the `GET /v1/models` answer (`models`, `traffic`, `arbiter`), shared by
 * the views (the arbiter's weights on the signals view, the model picker of the backtest form),
 * cached for 30 s; the models view asks with `fresh = true`, which refreshes the cache for all.
 */
function cachedModels() {
  let at = 0;
  let promise = null;
  return (fresh = false) => {
    if (!promise || fresh || Date.now() - at > 30000) {
      at = Date.now();
      promise = api.get('/v1/models').catch((err) => { promise = null; throw err; });
    }
    return promise;
  };
}

/** Reloads the backtest history's job list when that view is shown (a job of the user finished). */
function refreshHistory() {
  if (current !== 'history' || !mounted.has('history')) return;
  mounted.get('history').then((handle) => { if (current === 'history' && handle && handle.show) handle.show(); }).catch(() => {});
}

function stopSession() {
  clearTimeout(renewTimer);
  for (const [name, pending] of mounted) {
    pending.then((handle) => { if (handle && handle.dispose) handle.dispose(); }).catch(() => {});
    clear(section(name));
  }
  mounted.clear();
  if (feedMonitor) feedMonitor.stop();
  if (notifier) notifier.stop();
  if (userTopic) userTopic.stop();
  feedMonitor = null;
  notifier = null;
  userTopic = null;
  if (socket) socket.stop();
  socket = null;
  api = null;
  ctx = null;
  session = null;
  current = null;
  forgetSession();
  for (const id of ['whoami', 'signout', 'conn-state', 'data-flow']) $(id).hidden = true;
  document.querySelector('nav.tabs').hidden = true;
}

function signOut(message) {
  stopSession();
  signinMessage = message || null;
  if (location.hash !== '#/signin') history.replaceState(null, '', '#/signin');
  showSignin();
}

function expired() {
  if (!session) return;
  signOut('Your session has expired or the token was refused. Sign in again.');
}

// ---------------------------------------------------------------- connection indicator

function showConnection(state) {
  const node = $('conn-state');
  node.dataset.state = state;
  // The socket's state, not the market data's: each feed's own status is on the market view.
  const labels = { connected: 'connected', reconnecting: 'reconnecting…', offline: 'offline' };
  node.querySelector('.conn-text').textContent = labels[state] || state;
  node.setAttribute('aria-label', `Connection: ${labels[state] || state}`);
}

/**
 * The data-flow pill: whether bars are arriving (js/feed-monitor.js), which an open socket alone
 * does not say. `live` green, `stale` amber (a live feed sent no bar for two of its cadences),
 * `waiting`/`idle` grey; it links to the status view.
 */
function showFlow(summary) {
  const node = $('data-flow');
  node.dataset.state = summary.state;
  node.querySelector('.flow-text').textContent = summary.text;
  node.querySelector('.flow-short').textContent = summary.state === 'idle' ? 'no feed' : summary.state;
  node.setAttribute('aria-label', `Market data: ${summary.text}`);
  node.title = `Market data: ${summary.text}`;
}

// ---------------------------------------------------------------- routing and views

function showSignin(message) {
  if (message) signinMessage = message;
  for (const name of VIEW_NAMES) hideView(name);
  current = null;
  const root = section('signin');
  if (!signin) signin = signinView.mount(root, { signInWithToken, devSignIn, devRoles: devSignInRoles() });
  root.hidden = false;
  signin.show(signinMessage, session);
  markNav(null);
}

function hideView(name) {
  const root = section(name);
  if (root.hidden) return;
  root.hidden = true;
  const pending = mounted.get(name);
  if (pending) pending.then((h) => h && h.hide && h.hide()).catch(() => {});
}

function markNav(name) {
  for (const link of document.querySelectorAll('nav.tabs a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
}

function mountView(name) {
  if (mounted.has(name)) return mounted.get(name);
  const root = section(name);
  const viewCtx = ctx;
  const pending = VIEW_LOADERS[name]()
    .then((module) => (ctx === viewCtx ? module.mount(root, viewCtx) || {} : null))
    .catch((err) => {
      console.warn(`bedrock: the ${name} view could not be loaded`, err);
      clear(root).append(el('div', { class: 'panel notice', testid: 'view-unavailable' },
        el('h2', { text: VIEW_TITLES[name] }), el('p', { text: `The ${VIEW_TITLES[name].toLowerCase()} view is not available.` })));
      return null;
    });
  mounted.set(name, pending);
  return pending;
}

function route() {
  const wanted = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  if (!session) { showSignin(); return; }
  if (wanted === 'signin') { showSignin(); return; }
  const name = VIEW_NAMES.includes(wanted) ? wanted : 'signals';
  if (wanted !== name) { history.replaceState(null, '', `#/${name}`); }
  section('signin').hidden = true;
  if (signin) signin.hide();
  for (const other of VIEW_NAMES) if (other !== name) hideView(other);
  const root = section(name);
  const wasHidden = root.hidden;
  root.hidden = false;
  current = name;
  lastView = name;
  markNav(name);
  document.title = `${VIEW_TITLES[name]} — Bedrock`;
  const first = !mounted.has(name);
  mountView(name).then((handle) => {
    if (current !== name) return;
    if (handle && handle.show && (wasHidden || first)) handle.show();
    if (focusView) { focusView = false; focusHeading(root); }
  });
}

/** Puts the focus on a view's heading (made focusable for it), or on `<main>` when it has none. */
function focusHeading(root) {
  const target = root.querySelector('h1, h2') || document.getElementById('main');
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus({ preventScroll: true });
}

// ---------------------------------------------------------------- start

function boot() {
  initTheme();
  $('signout').addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', route);
  const saved = loadSession();
  if (saved) startSession(saved); else { forgetSession(); route(); }
}

boot();
