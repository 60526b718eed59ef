// api.js — the REST client: Bearer token on every /v1 call, SPEC §4 error bodies become ApiError,
// file downloads with the token, and the dev sign-in (offered when /health says so; /dev/token mints).

/** An error answer of the gateway (SPEC §4): HTTP status plus `error_code` and `message`. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the request never got an answer)
   * @param {string} errorCode e.g. `FORBIDDEN`, `NETWORK`
   * @param {string} message
   * @param {string} [requestId]
   */
  constructor(status, errorCode, message, requestId) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.error_code = errorCode;
    this.request_id = requestId;
  }
}

/** Builds `path?k=v&...`, leaving out empty values. */
function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The ApiError for a non-2xx response. */
async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const code = (body && body.error_code) || `HTTP_${response.status}`;
  const message = (body && body.message) || response.statusText || 'request failed';
  const err = new ApiError(response.status, code, message, body && body.request_id);
  if (body && body.details) err.details = body.details; // e.g. the risk guard's `reasons`
  return err;
}

/** fetch that turns network failures into ApiError(0, 'NETWORK'). */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the gateway could not be reached (${err.message})`);
  }
}

/**
 * The REST client every view gets as `ctx.api`.
 * @param {{getToken: () => string|null, onUnauthorized?: (err: ApiError) => void}} options
 *   `onUnauthorized` runs on every 401 answer (token expired or revoked)
 * @returns {{get: Function, post: Function, download: Function}}
 */
export function createApi({ getToken, onUnauthorized }) {
  async function call(method, path, { query, body } = {}) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await send(withQuery(path, query), init);
    if (!response.ok) {
      const err = await errorFrom(response);
      if (response.status === 401 && onUnauthorized) onUnauthorized(err);
      throw err;
    }
    if (response.status === 204) return null;
    return response.json();
  }

  return {
    /**
     * GET a JSON resource.
     * @param {string} path e.g. `/v1/signals`
     * @param {Object<string, any>} [query]
     * @returns {Promise<any>}
     */
    get: (path, query) => call('GET', path, { query }),
    /**
     * POST a JSON body.
     * @param {string} path
     * @param {any} [body]
     * @returns {Promise<any>}
     */
    post: (path, body) => call('POST', path, { body: body === undefined ? {} : body }),
    /**
     * Fetches a file with the token and saves it (blob + `<a download>`).
     * @param {string} path
     * @param {string} fallbackName used when the answer names no file
     * @returns {Promise<void>}
     */
    async download(path, fallbackName) {
      const headers = {};
      const token = getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await send(path, { headers });
      if (!response.ok) {
        const err = await errorFrom(response);
        if (response.status === 401 && onUnauthorized) onUnauthorized(err);
        throw err;
      }
      const disposition = response.headers.get('Content-Disposition') || '';
      const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const name = match ? decodeURIComponent(match[1]) : fallbackName;
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  };
}

/** The roles of the dev sign-in (`POST /dev/token` takes any of them). */
const DEV_ROLES = ['VIEWER', 'TRADER', 'ADMIN'];

/**
 * Whether the gateway offers dev sign-in (dev mode, loopback): the roles, or null. Asked of
 * `HEAD /health`, whose answer carries `x-dev-sign-in: available` exactly when `/dev/token`
 * would answer this page; a production page thus never requests `/dev/token` (a 404 the
 * browser would log on every load).
 * @returns {Promise<string[]|null>}
 */
export async function devSignInRoles() {
  try {
    const response = await fetch('/health', { method: 'HEAD', cache: 'no-store' });
    return response.ok && response.headers.get('x-dev-sign-in') === 'available' ? DEV_ROLES : null;
  } catch {
    return null;
  }
}

/**
 * Mints a dev token (`POST /dev/token`).
 * @param {string} role VIEWER, TRADER or ADMIN
 * @param {string} [sub] subject; the server's default is `dev-<role>`
 * @returns {Promise<{token: string, sub: string, role: string, expires_at: string, ttl_s: number}>}
 */
export async function devMint(role, sub) {
  const body = sub ? { role, sub } : { role };
  const response = await send('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}
