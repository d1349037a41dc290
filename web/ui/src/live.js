// The live feed: one websocket to /api/v1/live that delivers a snapshot on connect and diffs
// after it. When the socket drops, Live reconnects with exponential backoff and jitter; each
// new connection starts with a fresh snapshot, so nothing is lost across a drop.

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/**
 * Live owns the websocket. Callbacks:
 *   onMessage(msg)          a parsed snapshot or diff
 *   onState(state, detail)  'connecting' | 'live' | 'retrying' (detail: {delayMs, attempt}) | 'closed'
 */
export class Live {
  constructor(url, { onMessage, onState }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
  }

  /** start opens the first connection. */
  start() {
    this.stopped = false;
    this.connect();
  }

  /** stop closes the socket and cancels any pending reconnect. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'page closed');
    this.onState('closed');
  }

  /** retryNow skips the remaining backoff wait (used when the browser comes back online). */
  retryNow() {
    if (this.stopped || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = 0;
    this.connect();
  }

  connect() {
    this.timer = 0;
    this.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.warn('patrolgrid: cannot open live feed:', err.message);
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let gotSnapshot = false;
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('patrolgrid: ignoring a live message that is not JSON');
        return;
      }
      if (msg.type === 'snapshot') {
        gotSnapshot = true;
        this.attempt = 0; // a good connection resets the backoff
        this.onState('live');
      } else if (!gotSnapshot) {
        return; // diffs only make sense on top of this connection's snapshot
      }
      this.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleRetry();
    };
    // onerror is always followed by onclose, which does the work.
    ws.onerror = () => {};
  }

  scheduleRetry() {
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    const delayMs = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onState('retrying', { delayMs, attempt: this.attempt });
    this.timer = setTimeout(() => this.connect(), delayMs);
  }
}
