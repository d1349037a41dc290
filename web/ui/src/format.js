// Small text formatters and a clock that follows the server's time.

/** esc escapes text for safe insertion into HTML. */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** age formats a duration in seconds as '4s', '2m 05s', '1h 03m' ('—' when unknown). */
export function age(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** pct formats a fraction 0..1 as a whole percentage. */
export function pct(f) {
  return typeof f === 'number' && Number.isFinite(f) ? `${Math.round(f * 100)}%` : '—';
}

/** minutes formats an ETA in seconds as 'm:ss'. */
export function eta(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '> 5 min';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Clock tracks the server's clock: each live message carries the server time, and the
 * difference to the browser's clock is kept so fix ages stay right on a skewed machine.
 * timeZone is the plan's IANA zone for displayed times ('' for the browser's own).
 */
export class Clock {
  constructor(timeZone) {
    this.offsetMs = 0;
    this.tz = timeZone || undefined;
    try {
      this.fmt = new Intl.DateTimeFormat('en-GB', { timeZone: this.tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    } catch {
      this.tz = undefined;
      this.fmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    }
  }

  /** sync adopts the server time (RFC 3339 text) of a message received just now. */
  sync(serverTime) {
    const t = Date.parse(serverTime);
    if (Number.isFinite(t)) this.offsetMs = Date.now() - t;
  }

  /** now returns the server's current time in milliseconds since the epoch. */
  now() {
    return Date.now() - this.offsetMs;
  }

  /** ageOf returns the seconds since an RFC 3339 time, by the server's clock (NaN if absent). */
  ageOf(time) {
    const t = Date.parse(time);
    return Number.isFinite(t) ? (this.now() - t) / 1000 : NaN;
  }

  /** hms formats a time (RFC 3339 text or ms) as HH:MM:SS in the plan's time zone. */
  hms(time) {
    const t = typeof time === 'number' ? time : Date.parse(time);
    return Number.isFinite(t) ? this.fmt.format(t) : '—';
  }
}

/**
 * errorRecorder returns a function that keeps an error message in list (a page's test hooks'
 * errors) and logs it once, and makes it record the page's uncaught errors too.
 */
export function errorRecorder(list, prefix) {
  const record = (msg) => {
    const text = String(msg);
    if (!list.includes(text)) {
      list.push(text);
      console.error(prefix, text);
    }
  };
  window.addEventListener('error', (ev) => record(ev.message || 'script error'));
  window.addEventListener('unhandledrejection', (ev) => record(ev.reason?.message || ev.reason || 'unhandled rejection'));
  return record;
}
