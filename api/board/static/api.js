/* global fetch, sessionStorage -- runs in the browser */
// The API as the board uses it. Tokens live in this tab's sessionStorage and go only in the
// Authorization header: never in a URL, so they stay out of access logs and browser history.
const SESSION_KEY = 'cafe-flow-board-session';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export class Api {
  constructor() {
    const saved = sessionStorage.getItem(SESSION_KEY);
    this.session = saved ? JSON.parse(saved) : null;
    this.refreshing = null;
  }

  get signedIn() {
    return this.session !== null;
  }

  save(session) {
    this.session = session ? { accessToken: session.accessToken, refreshToken: session.refreshToken } : null;
    if (this.session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  async login(email, password) {
    this.save(await this.call('POST', '/v1/auth/login', { body: { email, password }, auth: false }));
  }

  async logout() {
    const refreshToken = this.session?.refreshToken;
    this.save(null);
    if (refreshToken) await this.call('POST', '/v1/auth/logout', { body: { refreshToken }, auth: false }).catch(() => undefined);
  }

  /** Rotates the refresh token once for every caller that got a 401 at the same time. */
  async refresh() {
    this.refreshing ??= this.call('POST', '/v1/auth/refresh', { body: { refreshToken: this.session?.refreshToken }, auth: false })
      .then((session) => this.save(session))
      .catch((error) => {
        this.save(null);
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** A JSON call; an expired access token is refreshed and the call made once more. */
  async request(method, path, body) {
    try {
      return await this.call(method, path, { body });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.session) throw error;
      await this.refresh();
      return this.call(method, path, { body });
    }
  }

  headers(auth = true) {
    const headers = { accept: 'application/json' };
    if (auth && this.session) headers.authorization = `Bearer ${this.session.accessToken}`;
    return headers;
  }

  async call(method, path, { body, auth = true }) {
    const headers = this.headers(auth);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const error = json?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'HTTP_ERROR', error.message ?? response.statusText, error.details);
    }
    return json;
  }
}
