// HTTP access to the patrolgrid API. Every call carries the page's own ?token= (if any) as
// a bearer token; URLs are resolved against the page so the page also works under a prefix.

/** HTTPError is thrown for a non-2xx answer; status is the HTTP status, code the API error code. */
export class HTTPError extends Error {
  constructor(url, status, code, message) {
    super(`${url}: ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * Client talks to one patrolgrid server. token is the bearer token from the page URL
 * ('' for none); base is the page URL that relative API paths are resolved against.
 */
export class Client {
  constructor(base, token) {
    this.base = base;
    this.token = token || '';
  }

  /** url returns the absolute http(s) URL of an API path such as 'api/v1/plan'. */
  url(path) {
    return new URL(path, this.base).href;
  }

  /** liveURL returns the websocket URL of the live feed, with the token as ?token=. */
  liveURL() {
    const u = new URL('api/v1/live', this.base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    if (this.token) u.searchParams.set('token', this.token);
    return u.href;
  }

  /** get fetches an API path and returns its parsed JSON; it throws HTTPError on 4xx/5xx. */
  get(path, { signal } = {}) {
    return this.request('GET', path, undefined, signal);
  }

  /** post sends body as JSON to an API path and returns the parsed answer; it throws HTTPError on 4xx/5xx. */
  post(path, body) {
    return this.request('POST', path, body);
  }

  /** put sends body as JSON to an API path with PUT and returns the parsed answer. */
  put(path, body) {
    return this.request('PUT', path, body);
  }

  async request(method, path, body, signal) {
    const url = this.url(path);
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method, headers, signal, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) {
      let code = '';
      let message = '';
      try {
        const body = await res.json();
        code = body?.error?.code || '';
        message = body?.error?.message || '';
      } catch {
        // Not a JSON error body; the status says enough.
      }
      throw new HTTPError(path, res.status, code, message);
    }
    return res.json();
  }

  /** plan returns GET /api/v1/plan. */
  plan() {
    return this.get('api/v1/plan');
  }

  /**
   * settings returns what the page draws under the hexagons: {tiles, travel}. tiles is the
   * raster tile URL template ('' for none): an explicit override (the page's ?tiles=) wins,
   * otherwise GET /api/v1/config decides. travel is 'road' when travel times run on a road
   * network, else 'lattice'. A 404 or an unreachable config means no tiles on the lattice.
   */
  async settings(override) {
    let cfg = null;
    try {
      cfg = await this.get('api/v1/config');
    } catch (err) {
      if (!(err instanceof HTTPError && err.status === 404)) {
        console.warn('patrolgrid: config unavailable, drawing without a basemap:', err.message);
      }
    }
    const tiles = override || (typeof cfg?.tiles === 'string' ? cfg.tiles : '');
    return { tiles, travel: cfg?.travel === 'road' ? 'road' : 'lattice' };
  }

  /** tilesURL returns the tile URL template of settings(override). */
  async tilesURL(override) {
    return (await this.settings(override)).tiles;
  }

  /** roads returns GET /api/v1/roads: the road network as GeoJSON LineStrings. */
  roads() {
    return this.get('api/v1/roads');
  }
}
