// socket.js — the dashboard's one WebSocket to /ws (subprotocol bedrock.v1).
// First-frame auth, answers to server pings, reconnect with exponential backoff and jitter,
// one server subscription per topic shared by every listener, resume with `since` = the last
// event id seen (or the subscribe position), `recovered:false` or a `gap` frame → listeners'
// onReset, token refresh on the open socket, request/response with ids and timeouts, task
// progress routing.
// Every text frame may hold several JSON objects separated by "\n" (SPEC §5 batching).
// `createConnection` keeps one authenticated WebSocket open; `createSocket` speaks the protocol
// over it, with a small table each for the topics, the requests and the task frames
// (`createTopicTable`, `createRequestTable`, `createTaskRouter`).

const PROTOCOL = 'bedrock.v1';
const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 30000;
const AUTH_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 15000;
const TASK_BUFFER_MS = 120000;
const WATCHDOG_MS = 5000;

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

/** True when a frame carries an `id` (0 is one). */
function hasId(frame) {
  return frame.id !== undefined && frame.id !== null;
}

/** Calls a listener, if any; a listener that throws is logged and does not stop the others. */
function safely(fn, ...args) {
  if (!fn) return;
  try { fn(...args); } catch (err) { console.warn('bedrock socket: listener failed', err); }
}

/** The JSON objects of one text frame (one per line); unparsable lines are logged and skipped. */
function parseFrames(text) {
  const frames = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { frames.push(JSON.parse(line)); } catch { console.warn('bedrock socket: unparsable line', line); }
  }
  return frames;
}

/** The wait before reconnect attempt `attempt` (0, 1, …): between half and all of the doubling backoff ("equal jitter"). */
function reconnectDelay(attempt) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * ceiling / 2;
}

/**
 * Where a topic resumes: the later of its last event id and its subscribe position, else the
 * `since` its first listener asked for.
 */
function resumePoint(entry) {
  let since = entry.lastId || entry.position || entry.since;
  if (entry.lastId && entry.position && compareStreamIds(entry.position, entry.lastId) > 0) since = entry.position;
  return since;
}

/** A `since` as a stream id (`"0"` is the start of the stream), or null. */
function sinceId(since) {
  if (since === '0' || since === 0) return '0-0';
  return isStreamId(since) ? since : null;
}

/**
 * The topics listened to: one server subscription per topic shared by its listeners, the
 * resume position of each, replay de-duplication and `onReset` when the history is lost.
 * A listener that joins a topic already subscribed, asking for older events (`since`) than the
 * subscription started from, gets them: the topic is subscribed again from there and the
 * events the others already had are delivered to it alone (its `catchUp` range).
 * @param {{send: (frame: object) => boolean, nextId: () => number, isAuthed: () => boolean}} link
 */
function createTopicTable(link) {
  const topics = new Map();          // topic → { listeners:Set, lastId, subscribed, pendingId, since, position, ... }
  const subscribeIds = new Map();    // frame id → topic

  function sendSubscribe(topic, entry) {
    const id = link.nextId();
    entry.pendingId = id;
    subscribeIds.set(id, topic);
    const frame = { type: 'subscribe', id, topic };
    const since = entry.restartFrom || resumePoint(entry);
    entry.restartFrom = null;
    if (since) frame.since = since;
    entry.sentSince = since || null;
    // Never had a position to resume from: whatever happened meanwhile is unknown, so reload.
    entry.resetOnSubscribe = entry.everSubscribed && !since;
    link.send(frame);
  }

  /** The later of two stream ids (either may be null). */
  const later = (a, b) => (!a ? b : !b ? a : compareStreamIds(a, b) >= 0 ? a : b);

  /**
   * How far the topic's listeners are served: the last event delivered, or where their
   * subscription started (its `since`, else its position) when that is later.
   */
  const served = (entry) => later(entry.lastId, sinceId(entry.since) || entry.position);

  /** True when a listener joining with `since` needs events the topic has served already (or may have). */
  function startsEarlier(since, entry) {
    const wanted = sinceId(since);
    if (!wanted) return false;
    const seen = served(entry);
    return !entry.subscribed || !seen || compareStreamIds(wanted, seen) < 0;
  }

  /**
   * Subscribes `topic` again from `since`: the events up to what the topic had served go to
   * `listener` alone, later ones to every listener. Waits for the current subscription's
   * answer (its position) when it has none yet.
   */
  function catchUp(topic, entry, listener, since) {
    if (!entry.subscribed) { (entry.waiting = entry.waiting || []).push([listener, since]); return; }
    const seen = served(entry);
    if (!seen || compareStreamIds(sinceId(since), seen) >= 0) return; // nothing served it has not had
    listener.catchUp = { after: sinceId(since), upTo: seen };
    entry.mark = later(entry.mark, seen);
    entry.restartFrom = since;
    link.send({ type: 'unsubscribe', id: link.nextId(), topic });
    entry.subscribed = false;
    sendSubscribe(topic, entry);
  }

  /** An event the topic's other listeners have had: to those catching up on it, once each. */
  function deliverAgain(entry, frame) {
    for (const l of [...entry.listeners]) {
      const c = l.catchUp;
      if (!c || compareStreamIds(frame.id, c.after) <= 0 || compareStreamIds(frame.id, c.upTo) > 0) continue;
      c.after = frame.id;
      safely(l.onEvent, frame.data, { id: frame.id, topic: frame.topic });
    }
  }

  return {
    /** Adds a listener; the first of a topic subscribes. Returns its unsubscribe function. */
    listen(topic, listener, since) {
      let entry = topics.get(topic);
      if (!entry) {
        entry = { listeners: new Set(), lastId: null, subscribed: false, pendingId: null, since: since || null };
        topics.set(topic, entry);
        entry.listeners.add(listener);
        if (link.isAuthed()) sendSubscribe(topic, entry);
      } else {
        entry.listeners.add(listener);
        if (startsEarlier(since, entry)) catchUp(topic, entry, listener, since);
      }
      return () => {
        const current = topics.get(topic);
        if (!current || !current.listeners.delete(listener) || current.listeners.size) return;
        topics.delete(topic);
        if (link.isAuthed() && (current.subscribed || current.pendingId)) link.send({ type: 'unsubscribe', id: link.nextId(), topic });
      };
    },

    /** Subscribes every topic again (a new connection), each from where it stopped. */
    resubscribeAll() {
      for (const [topic, entry] of topics) sendSubscribe(topic, entry);
    },

    /** A `subscribed` answer: records the position and resets the listeners when history was lost. */
    subscribed(frame) {
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
      const waiting = entry.waiting || [];
      entry.waiting = null;
      for (const [listener, since] of waiting) if (entry.listeners.has(listener)) catchUp(topic, entry, listener, since);
    },

    /**
     * A `gap` frame: events of the topic were trimmed before the gateway could deliver them, so
     * every listener reloads its state, as after `subscribed` with `recovered:false`.
     */
    gap(frame) {
      const entry = topics.get(frame.topic);
      if (!entry) return;
      for (const l of [...entry.listeners]) safely(l.onReset);
    },

    /** An `event` frame: to every listener of its topic, once (replayed duplicates are dropped). */
    deliver(frame) {
      const entry = topics.get(frame.topic);
      if (!entry) return;
      if (isStreamId(frame.id)) {
        const seen = later(entry.lastId, entry.mark);
        if (seen && compareStreamIds(frame.id, seen) <= 0) { deliverAgain(entry, frame); return; } // a duplicate for the others
        entry.mark = null;
        entry.lastId = frame.id;
        if (entry.pendingPosition && compareStreamIds(frame.id, entry.pendingPosition) >= 0) {
          entry.position = entry.pendingPosition;
          entry.pendingPosition = null;
        }
      }
      for (const l of [...entry.listeners]) safely(l.onEvent, frame.data, { id: frame.id, topic: frame.topic });
    },

    /**
     * An `error` frame that answers a subscribe: tells the topic's listeners and forgets the
     * topic (unless it was a CONFLICT). False when the frame answers something else.
     */
    refused(frame, error) {
      if (!hasId(frame) || !subscribeIds.has(frame.id)) return false;
      const topic = subscribeIds.get(frame.id);
      subscribeIds.delete(frame.id);
      const entry = topics.get(topic);
      if (entry) for (const l of [...entry.listeners]) safely(l.onError, error);
      if (frame.error_code !== 'CONFLICT') topics.delete(topic);
      return true;
    },

    /** The connection closed: nothing is subscribed until the next welcome. */
    connectionLost() {
      for (const entry of topics.values()) { entry.subscribed = false; entry.pendingId = null; }
      subscribeIds.clear();
    },

    /** Forgets every topic (sign-out). */
    clear() {
      topics.clear();
    },
  };
}

/**
 * The requests in flight: ids, timeouts, sending those made while disconnected once connected,
 * and rejecting those whose answer a closed connection lost.
 * @param {{send: (frame: object) => boolean, nextId: () => number, isAuthed: () => boolean}} link
 */
function createRequestTable(link) {
  const requests = new Map();        // frame id → { method, params, resolve, reject, timer, sent }

  function answered(id, result, error) {
    const req = requests.get(id);
    if (!req) return;
    requests.delete(id);
    clearTimeout(req.timer);
    if (error) req.reject(error); else req.resolve(result);
  }

  return {
    answered,

    /** Sends a request now when connected, else at the next welcome; resolves with its `result`. */
    call(method, params, timeoutMs) {
      return new Promise((resolve, reject) => {
        const id = link.nextId();
        const req = { method, params, resolve, reject, sent: false, timer: null };
        req.timer = setTimeout(() => {
          requests.delete(id);
          reject({ error_code: 'TIMEOUT', message: `${method}: no answer in time` });
        }, timeoutMs || REQUEST_TIMEOUT_MS);
        requests.set(id, req);
        if (link.isAuthed()) req.sent = link.send({ type: 'request', id, method, params });
      });
    },

    /** An `error` frame that answers a request rejects it; false when it answers none. */
    refused(frame, error) {
      if (!hasId(frame) || !requests.has(frame.id)) return false;
      answered(frame.id, null, error);
      return true;
    },

    /** Sends the requests made while disconnected (a new connection was welcomed). */
    sendPending() {
      for (const [id, req] of requests) {
        if (!req.sent) { req.sent = true; link.send({ type: 'request', id, method: req.method, params: req.params }); }
      }
    },

    /** The connection closed: the requests already sent lose their answer. */
    connectionLost() {
      for (const [id, req] of requests) {
        if (req.sent) {
          requests.delete(id);
          clearTimeout(req.timer);
          req.reject({ error_code: 'UNAVAILABLE', message: 'the connection closed before the answer came' });
        }
      }
    },

    /** Rejects every request (sign-out). */
    cancelAll() {
      for (const [id, req] of requests) { clearTimeout(req.timer); req.reject({ error_code: 'CANCELLED', message: 'signed out' }); requests.delete(id); }
    },
  };
}

/**
 * Routes task `progress` and `completed` frames to their handlers; frames of a task nobody
 * listens to yet are kept for up to `TASK_BUFFER_MS`.
 */
function createTaskRouter() {
  const tasks = new Map();           // task id → Set<handlers>
  const taskBuffer = new Map();      // task id → { frames:[], at } for frames that came before onTask

  function dispatch(handlers, frame) {
    if (frame.type === 'progress') safely(handlers.onProgress, frame.progress, frame);
    else safely(handlers.onCompleted, frame);
  }

  return {
    /** A `progress` or `completed` frame. */
    route(frame) {
      const handlers = tasks.get(frame.task_id);
      if (handlers && handlers.size) { for (const h of [...handlers]) dispatch(h, frame); return; }
      const buffered = taskBuffer.get(frame.task_id) || { frames: [], at: Date.now() };
      buffered.frames.push(frame);
      taskBuffer.set(frame.task_id, buffered);
      for (const [id, b] of taskBuffer) if (Date.now() - b.at > TASK_BUFFER_MS) taskBuffer.delete(id);
    },

    /** Adds handlers for a task (the frames kept for it are delivered at once); returns `off`. */
    on(taskId, handlers) {
      let set = tasks.get(taskId);
      if (!set) { set = new Set(); tasks.set(taskId, set); }
      set.add(handlers);
      const buffered = taskBuffer.get(taskId);
      if (buffered) { taskBuffer.delete(taskId); for (const f of buffered.frames) dispatch(handlers, f); }
      return () => { set.delete(handlers); if (!set.size) tasks.delete(taskId); };
    },

    /** Forgets every handler (sign-out). */
    clear() {
      tasks.clear();
    },
  };
}

/**
 * The WebSocket itself: first-frame auth and the welcome deadline, reconnects with backoff, the
 * heartbeat watchdog and the browser's online/offline events. Every received frame goes to
 * `handlers.onFrame`; `handlers.onLost` runs whenever a connection ends.
 * @param {string} url
 * @param {{
 *   getToken: () => string|null,
 *   onFrame: (frame: object) => void,
 *   onLost: () => void,
 *   onUnauthorized: (reason: string) => void,
 *   onState: (state: 'connected'|'reconnecting'|'offline') => void,
 * }} handlers
 */
function createConnection(url, handlers) {
  let ws = null;
  let authed = false;
  let running = false;
  let attempt = 0;
  let reconnectTimer = null;
  let authTimer = null;
  let watchdog = null;
  let heartbeatMs = 30000;
  let lastRx = 0;

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (!running) return;
    if (!navigator.onLine) { handlers.onState('offline'); return; }
    const token = handlers.getToken();
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
      for (const frame of parseFrames(message.data)) handlers.onFrame(frame);
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
    handlers.onLost();
    if (!running) return;
    if (code === 4401) {
      running = false;
      handlers.onState('offline');
      handlers.onUnauthorized(reason || 'unauthenticated');
      return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (!running) return;
    if (!navigator.onLine) { handlers.onState('offline'); return; }
    handlers.onState('reconnecting');
    const delay = reconnectDelay(attempt);
    attempt += 1;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function checkAlive() {
    if (!ws || !authed) return;
    if (Date.now() - lastRx > heartbeatMs * 2 + 10000) drop('heartbeat lost');
  }

  function wentOnline() { if (running && !ws) { attempt = 0; connect(); } }
  function wentOffline() { if (running) { drop('browser offline'); handlers.onState('offline'); clearTimeout(reconnectTimer); } }

  return {
    send,

    /** True between a welcome and the end of its connection. */
    get authed() { return authed; },

    /**
     * A `welcome` came: the connection is authenticated (its heartbeat interval noted).
     * @returns {boolean} true for the connection's first welcome, false for a token refresh
     */
    welcomed(heartbeatS) {
      const first = !authed;
      authed = true;
      clearTimeout(authTimer);
      if (heartbeatS) heartbeatMs = heartbeatS * 1000;
      if (first) attempt = 0;
      return first;
    },

    start() {
      if (running) return;
      running = true;
      window.addEventListener('online', wentOnline);
      window.addEventListener('offline', wentOffline);
      watchdog = setInterval(checkAlive, WATCHDOG_MS);
      if (navigator.onLine) handlers.onState('reconnecting');
      connect();
    },

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
    },
  };
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
  let state = 'offline';
  let nextId = 1;
  const stateListeners = new Set();
  const connection = createConnection(url, {
    getToken: options.getToken,
    onFrame: handle,
    onLost: () => { topics.connectionLost(); requests.connectionLost(); },
    onUnauthorized: (reason) => { if (options.onUnauthorized) options.onUnauthorized(reason); },
    onState: setState,
  });
  const link = { send: connection.send, nextId: () => nextId++, isAuthed: () => connection.authed };
  const topics = createTopicTable(link);
  const requests = createRequestTable(link);
  const tasks = createTaskRouter();

  function setState(next) {
    if (state === next) return;
    state = next;
    if (options.onState) options.onState(next);
    for (const fn of stateListeners) fn(next);
  }

  function handle(frame) {
    switch (frame.type) {
      case 'welcome': return welcomed(frame);
      case 'ping': connection.send({ type: 'pong' }); return;
      case 'pong': return;
      case 'event': return topics.deliver(frame);
      case 'subscribed': return topics.subscribed(frame);
      case 'gap': return topics.gap(frame);
      case 'unsubscribed': return;
      case 'response': return requests.answered(frame.id, frame.result, null);
      case 'error': return failed(frame);
      case 'progress':
      case 'completed': return tasks.route(frame);
      default: console.warn('bedrock socket: unknown frame type', frame.type);
    }
  }

  function welcomed(frame) {
    const first = connection.welcomed(frame.heartbeat_s);
    if (options.onWelcome) options.onWelcome(frame);
    if (!first) return; // a token refresh: the subscriptions are still in place
    setState('connected');
    topics.resubscribeAll();
    requests.sendPending();
  }

  function failed(frame) {
    const error = { error_code: frame.error_code, message: frame.message, request_id: frame.request_id };
    if (topics.refused(frame, error) || requests.refused(frame, error)) return;
    if (frame.error_code === 'UNAUTHENTICATED' || frame.error_code === 'FORBIDDEN') {
      if (options.onRefreshError) options.onRefreshError(error);
      return;
    }
    console.warn('bedrock socket:', frame.error_code, frame.message);
  }

  return {
    /** Connects (once signed in). */
    start() {
      connection.start();
    },

    /** Closes the socket for good (sign-out); pending requests are rejected. */
    stop() {
      connection.stop();
      requests.cancelAll();
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
      return topics.listen(topic, { onEvent, onReset: opts.onReset, onError: opts.onError }, opts.since);
    },

    /**
     * Calls a method over the socket (SPEC §5 `request`); waits for the connection if needed.
     * @param {string} method e.g. `backtest.submit`
     * @param {object} [params]
     * @param {{timeoutMs?: number}} [opts]
     * @returns {Promise<any>} the `result`; rejects with `{error_code, message}`
     */
    request(method, params = {}, opts = {}) {
      return requests.call(method, params, opts.timeoutMs);
    },

    /**
     * Routes a backtest/optimisation task's `progress` and `completed` frames; frames that came
     * before the call (up to 2 minutes old) are delivered at once.
     * @param {string} taskId
     * @param {{onProgress?: (p: number, frame: object) => void, onCompleted?: (frame: object) => void}} handlers
     * @returns {() => void} off
     */
    onTask(taskId, handlers) {
      return tasks.on(taskId, handlers);
    },

    /**
     * Sends a fresh token on the open socket (`{"type":"auth"}`); the server answers `welcome`.
     * @param {string} token
     * @returns {boolean} false when not connected (the next connection uses the new token anyway)
     */
    refresh(token) {
      return connection.authed ? connection.send({ type: 'auth', token }) : false;
    },
  };
}
