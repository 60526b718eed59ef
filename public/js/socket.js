// socket.js — the dashboard's one WebSocket to /ws (subprotocol bedrock.v1).
// First-frame auth, answers to server pings, reconnect with exponential backoff and jitter,
// one server subscription per topic shared by every listener, resume with `since` = the last
// event id seen (or the subscribe position), `recovered:false` → listeners' onReset, token
// refresh on the open socket, request/response with ids and timeouts, task progress routing.
// Every text frame may hold several JSON objects separated by "\n" (SPEC §5 batching).

const PROTOCOL = 'bedrock.v1';
const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 30000;
const AUTH_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 15000;
const TASK_BUFFER_MS = 120000;

/** Compares two stream ids `MS-SEQ`: negative, zero or positive. */
export function compareStreamIds(a, b) {
  const [am, as = '0'] = String(a).split('-');
  const [bm, bs = '0'] = String(b).split('-');
  const dm = Number(am) - Number(bm);
  return dm !== 0 ? dm : Number(as) - Number(bs);
}

/** True for a replayable stream id (`MS-SEQ`). */
function isStreamId(id) {
  return typeof id === 'string' && /^\d+-\d+$/.test(id);
}

/**
 * Creates the socket client; nothing connects until `start()`.
 * @param {{
 *   getToken: () => string|null,
 *   onState?: (state: 'connected'|'reconnecting'|'offline') => void,
 *   onWelcome?: (welcome: object) => void,
 *   onUnauthorized?: (reason: string) => void,
 *   onRefreshError?: (frame: object) => void,
 *   url?: string,
 * }} options
 * @returns {object} the socket API (`start`, `stop`, `subscribe`, `request`, `onTask`, `refresh`, `onState`)
 */
export function createSocket(options) {
  const url = options.url || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  let ws = null;
  let authed = false;
  let running = false;
  let attempt = 0;
  let state = 'offline';
  let reconnectTimer = null;
  let authTimer = null;
  let watchdog = null;
  let heartbeatMs = 30000;
  let lastRx = 0;
  let nextId = 1;
  const topics = new Map();          // topic → { listeners:Set, lastId, subscribed, pendingId, since, resetOnSubscribe }
  const subscribeIds = new Map();    // frame id → topic
  const requests = new Map();        // frame id → { method, params, resolve, reject, timer, sent }
  const tasks = new Map();           // task id → Set<handlers>
  const taskBuffer = new Map();      // task id → { frames:[], at } for frames that came before onTask
  const stateListeners = new Set();

  function setState(next) {
    if (state === next) return;
    state = next;
    if (options.onState) options.onState(next);
    for (const fn of stateListeners) fn(next);
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (!running) return;
    if (!navigator.onLine) { setState('offline'); return; }
    const token = options.getToken();
    if (!token) return;
    const socket = new WebSocket(url, PROTOCOL);
    ws = socket;
    socket.onopen = () => {
      lastRx = Date.now();
      socket.send(JSON.stringify({ type: 'auth', token }));
      authTimer = setTimeout(() => { if (!authed) drop('no welcome in time'); }, AUTH_TIMEOUT_MS);
    };
    socket.onmessage = (message) => {
      lastRx = Date.now();
      if (typeof message.data !== 'string') return;
      for (const line of message.data.split('\n')) {
        if (!line) continue;
        let frame;
        try { frame = JSON.parse(line); } catch { console.warn('bedrock socket: unparsable line', line); continue; }
        handle(frame);
      }
    };
    socket.onclose = (event) => { if (ws === socket) closed(event.code, event.reason); };
    socket.onerror = () => { /* onclose follows and decides */ };
  }

  /** Forgets the current socket (without waiting for a close handshake) and reconnects. */
  function drop(why) {
    const socket = ws;
    if (!socket) return;
    ws = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try { socket.close(4000, why.slice(0, 60)); } catch { /* already closing */ }
    closed(0, why);
  }

  function closed(code, reason) {
    ws = null;
    authed = false;
    clearTimeout(authTimer);
    for (const entry of topics.values()) { entry.subscribed = false; entry.pendingId = null; }
    subscribeIds.clear();
    for (const [id, req] of requests) {
      if (req.sent) { // the answer may be lost with the connection
        requests.delete(id);
        clearTimeout(req.timer);
        req.reject({ error_code: 'UNAVAILABLE', message: 'the connection closed before the answer came' });
      }
    }
    if (!running) return;
    if (code === 4401) {
      running = false;
      setState('offline');
      if (options.onUnauthorized) options.onUnauthorized(reason || 'unauthenticated');
      return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (!running) return;
    if (!navigator.onLine) { setState('offline'); return; }
    setState('reconnecting');
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * ceiling / 2; // "equal jitter"
    attempt += 1;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function handle(frame) {
    switch (frame.type) {
      case 'welcome': return welcomed(frame);
      case 'ping': send({ type: 'pong' }); return;
      case 'pong': return;
      case 'event': return deliver(frame);
      case 'subscribed': return subscribed(frame);
      case 'unsubscribed': return;
      case 'response': return answered(frame.id, frame.result, null);
      case 'error': return failed(frame);
      case 'progress':
      case 'completed': return taskFrame(frame);
      default: console.warn('bedrock socket: unknown frame type', frame.type);
    }
  }

  function welcomed(frame) {
    const first = !authed;
    authed = true;
    clearTimeout(authTimer);
    if (frame.heartbeat_s) heartbeatMs = frame.heartbeat_s * 1000;
    if (options.onWelcome) options.onWelcome(frame);
    if (!first) return; // a token refresh: the subscriptions are still in place
    attempt = 0;
    setState('connected');
    for (const [topic, entry] of topics) sendSubscribe(topic, entry);
    for (const [id, req] of requests) {
      if (!req.sent) { req.sent = true; send({ type: 'request', id, method: req.method, params: req.params }); }
    }
  }

  function sendSubscribe(topic, entry) {
    const id = nextId++;
    entry.pendingId = id;
    subscribeIds.set(id, topic);
    const frame = { type: 'subscribe', id, topic };
    let since = entry.lastId || entry.position || entry.since;
    if (entry.lastId && entry.position && compareStreamIds(entry.position, entry.lastId) > 0) since = entry.position;
    if (since) frame.since = since;
    entry.sentSince = since || null;
    // Never had a position to resume from: whatever happened meanwhile is unknown, so reload.
    entry.resetOnSubscribe = entry.everSubscribed && !since;
    send(frame);
  }

  function subscribed(frame) {
    const topic = subscribeIds.get(frame.id) || frame.topic;
    subscribeIds.delete(frame.id);
    const entry = topics.get(topic);
    if (!entry) return;
    entry.subscribed = true;
    entry.pendingId = null;
    entry.everSubscribed = true;
    // Every event up to `position` is either replayed now or was never ours to see: a later
    // resume starts after max(position, last event id).
    // While a replay is still arriving, the position counts only once it has been reached.
    entry.pendingPosition = null;
    if (isStreamId(frame.position)) {
      const nothingToReplay = !entry.sentSince || frame.recovered === false
        || (isStreamId(entry.sentSince) && compareStreamIds(frame.position, entry.sentSince) <= 0);
      if (nothingToReplay) entry.position = frame.position; else entry.pendingPosition = frame.position;
    }
    if (frame.recovered === false || entry.resetOnSubscribe) {
      entry.resetOnSubscribe = false;
      for (const l of [...entry.listeners]) safely(l.onReset);
    }
  }

  function deliver(frame) {
    const entry = topics.get(frame.topic);
    if (!entry) return;
    if (isStreamId(frame.id)) {
      if (entry.lastId && compareStreamIds(frame.id, entry.lastId) <= 0) return; // a duplicate
      entry.lastId = frame.id;
      if (entry.pendingPosition && compareStreamIds(frame.id, entry.pendingPosition) >= 0) {
        entry.position = entry.pendingPosition;
        entry.pendingPosition = null;
      }
    }
    for (const l of [...entry.listeners]) safely(l.onEvent, frame.data, { id: frame.id, topic: frame.topic });
  }

  function answered(id, result, error) {
    const req = requests.get(id);
    if (!req) return;
    requests.delete(id);
    clearTimeout(req.timer);
    if (error) req.reject(error); else req.resolve(result);
  }

  function failed(frame) {
    const error = { error_code: frame.error_code, message: frame.message, request_id: frame.request_id };
    if (frame.id !== undefined && frame.id !== null && subscribeIds.has(frame.id)) {
      const topic = subscribeIds.get(frame.id);
      subscribeIds.delete(frame.id);
      const entry = topics.get(topic);
      if (entry) for (const l of [...entry.listeners]) safely(l.onError, error);
      if (frame.error_code !== 'CONFLICT') topics.delete(topic);
      return;
    }
    if (frame.id !== undefined && frame.id !== null && requests.has(frame.id)) return answered(frame.id, null, error);
    if (frame.error_code === 'UNAUTHENTICATED' || frame.error_code === 'FORBIDDEN') {
      if (options.onRefreshError) options.onRefreshError(error);
      return;
    }
    console.warn('bedrock socket:', frame.error_code, frame.message);
  }

  function taskFrame(frame) {
    const handlers = tasks.get(frame.task_id);
    if (handlers && handlers.size) { for (const h of [...handlers]) dispatchTask(h, frame); return; }
    const buffered = taskBuffer.get(frame.task_id) || { frames: [], at: Date.now() };
    buffered.frames.push(frame);
    taskBuffer.set(frame.task_id, buffered);
    for (const [id, b] of taskBuffer) if (Date.now() - b.at > TASK_BUFFER_MS) taskBuffer.delete(id);
  }

  function dispatchTask(handlers, frame) {
    if (frame.type === 'progress') safely(handlers.onProgress, frame.progress, frame);
    else safely(handlers.onCompleted, frame);
  }

  function safely(fn, ...args) {
    if (!fn) return;
    try { fn(...args); } catch (err) { console.warn('bedrock socket: listener failed', err); }
  }

  function checkAlive() {
    if (!ws || !authed) return;
    if (Date.now() - lastRx > heartbeatMs * 2 + 10000) drop('heartbeat lost');
  }

  function wentOnline() { if (running && !ws) { attempt = 0; connect(); } }
  function wentOffline() { if (running) { drop('browser offline'); setState('offline'); clearTimeout(reconnectTimer); } }

  return {
    /** Connects (once signed in). */
    start() {
      if (running) return;
      running = true;
      window.addEventListener('online', wentOnline);
      window.addEventListener('offline', wentOffline);
      watchdog = setInterval(checkAlive, 5000);
      if (navigator.onLine) setState('reconnecting');
      connect();
    },

    /** Closes the socket for good (sign-out); pending requests are rejected. */
    stop() {
      running = false;
      clearTimeout(reconnectTimer);
      clearInterval(watchdog);
      window.removeEventListener('online', wentOnline);
      window.removeEventListener('offline', wentOffline);
      const socket = ws;
      ws = null;
      if (socket) { socket.onclose = null; socket.close(1000, 'signed out'); }
      authed = false;
      for (const [id, req] of requests) { clearTimeout(req.timer); req.reject({ error_code: 'CANCELLED', message: 'signed out' }); requests.delete(id); }
      topics.clear();
      tasks.clear();
      setState('offline');
    },

    /** The connection state: `connected`, `reconnecting` or `offline`. */
    get state() { return state; },

    /**
     * Listens to connection state changes.
     * @param {(state: string) => void} fn
     * @returns {() => void} off
     */
    onState(fn) { stateListeners.add(fn); return () => stateListeners.delete(fn); },

    /**
     * Subscribes to a topic; one server subscription is shared by all listeners of a topic.
     * @param {string} topic e.g. `signals`, `klines:BTCUSDT:1h`
     * @param {(data: object, meta: {id: string|null, topic: string}) => void} onEvent
     * @param {{onReset?: () => void, onError?: (err: {error_code: string, message: string}) => void, since?: string}} [opts]
     *   `since` applies to the first listener of a topic only (e.g. `"0"`, or a stream id)
     * @returns {() => void} unsubscribe
     */
    subscribe(topic, onEvent, opts = {}) {
      const listener = { onEvent, onReset: opts.onReset, onError: opts.onError };
      let entry = topics.get(topic);
      if (!entry) {
        entry = { listeners: new Set(), lastId: null, subscribed: false, pendingId: null, since: opts.since || null };
        topics.set(topic, entry);
        entry.listeners.add(listener);
        if (authed) sendSubscribe(topic, entry);
      } else {
        entry.listeners.add(listener);
      }
      return () => {
        const current = topics.get(topic);
        if (!current || !current.listeners.delete(listener) || current.listeners.size) return;
        topics.delete(topic);
        if (authed && (current.subscribed || current.pendingId)) send({ type: 'unsubscribe', id: nextId++, topic });
      };
    },

    /**
     * Calls a method over the socket (SPEC §5 `request`); waits for the connection if needed.
     * @param {string} method e.g. `backtest.submit`
     * @param {object} [params]
     * @param {{timeoutMs?: number}} [opts]
     * @returns {Promise<any>} the `result`; rejects with `{error_code, message}`
     */
    request(method, params = {}, opts = {}) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const req = { method, params, resolve, reject, sent: false, timer: null };
        req.timer = setTimeout(() => {
          requests.delete(id);
          reject({ error_code: 'TIMEOUT', message: `${method}: no answer in time` });
        }, opts.timeoutMs || REQUEST_TIMEOUT_MS);
        requests.set(id, req);
        if (authed) req.sent = send({ type: 'request', id, method, params });
      });
    },

    /**
     * Routes a backtest/optimisation task's `progress` and `completed` frames; frames that came
     * before the call (up to 2 minutes old) are delivered at once.
     * @param {string} taskId
     * @param {{onProgress?: (p: number, frame: object) => void, onCompleted?: (frame: object) => void}} handlers
     * @returns {() => void} off
     */
    onTask(taskId, handlers) {
      let set = tasks.get(taskId);
      if (!set) { set = new Set(); tasks.set(taskId, set); }
      set.add(handlers);
      const buffered = taskBuffer.get(taskId);
      if (buffered) { taskBuffer.delete(taskId); for (const f of buffered.frames) dispatchTask(handlers, f); }
      return () => { set.delete(handlers); if (!set.size) tasks.delete(taskId); };
    },

    /**
     * Sends a fresh token on the open socket (`{"type":"auth"}`); the server answers `welcome`.
     * @param {string} token
     * @returns {boolean} false when not connected (the next connection uses the new token anyway)
     */
    refresh(token) {
      return authed ? send({ type: 'auth', token }) : false;
    },
  };
}
