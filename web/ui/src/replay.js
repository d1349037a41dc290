// Replay: a past window of the city played back on the map. The server plays the window's
// events through the live engine again (GET /api/v1/replay) and answers a frame a step: the
// city's and each zone's shares, the units, and the cells whose coverage changed since the
// frame before. The page shows one frame at a time, with a slider and a speed of ×1 to ×600
// (seconds of the window a second), and a chart per zone of the share meeting its rule.

import { esc } from './format.js';

const SPEEDS = [1, 10, 60, 300, 600];
const CHART_W = 180;
const CHART_H = 22;

/** stepFor returns the step of a window: one frame in 10 s up to an hour, fewer beyond. */
export function stepFor(seconds) {
  if (seconds <= 3600) return 10;
  if (seconds <= 6 * 3600) return 60;
  return 300;
}

/** ruleShare returns the share of a zone's frame that its rule cares most about (the tightest tier asked). */
function ruleShare(z) {
  for (const k of ['m1', 'm3', 'm5']) {
    if (typeof z.shares?.[k] === 'number') return z.shares[k];
  }
  return 1;
}

/**
 * Replay owns the replay bar. Callbacks:
 *   onEnter()                 the page stops showing the live feed
 *   onFrame(frame, cells, full, i) show frame i: cells are a full list (full) or changes
 *   onLeave()                 back to live
 */
export class Replay {
  constructor({ client, clock, zones, els, onEnter, onFrame, onLeave }) {
    this.client = client;
    this.clock = clock;
    this.zoneNames = new Map((zones || []).map((z) => [z.id, z.name || z.id]));
    this.els = els;
    this.onEnter = onEnter;
    this.onFrame = onFrame;
    this.onLeave = onLeave;
    this.frames = [];
    this.index = -1;
    this.playing = false;
    this.speed = 60;
    this.raf = 0;
    this.active = false;
    this.build();
  }

  build() {
    const { bar, toggle } = this.els;
    bar.innerHTML = `
      <div class="rp-row">
        <label>From <input type="datetime-local" class="rp-from" step="60"></label>
        <label>for <select class="rp-len"><option value="900">15 min</option><option value="3600" selected>1 h</option>
          <option value="10800">3 h</option><option value="28800">8 h</option></select></label>
        <button type="button" class="rp-load primary">Load</button>
        <span class="rp-status muted small" role="status"></span>
        <span class="spacer"></span>
        <button type="button" class="rp-leave">Back to live</button>
      </div>
      <div class="rp-row rp-controls" hidden>
        <button type="button" class="rp-play" aria-label="Play">▶</button>
        <select class="rp-speed" aria-label="Speed">${SPEEDS.map((s) => `<option value="${s}"${s === this.speed ? ' selected' : ''}>×${s}</option>`).join('')}</select>
        <input type="range" class="rp-slider" min="0" max="0" value="0" aria-label="Time">
        <span class="rp-time num"></span>
        <span class="rp-city num small"></span>
      </div>
      <ul class="rp-zones scroll" hidden></ul>`;
    this.q = (c) => bar.querySelector(c);
    toggle.addEventListener('click', () => this.open());
    this.q('.rp-load').addEventListener('click', () => this.load());
    this.q('.rp-leave').addEventListener('click', () => this.leave());
    this.q('.rp-play').addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    this.q('.rp-speed').addEventListener('change', (ev) => (this.speed = Number(ev.target.value)));
    this.q('.rp-slider').addEventListener('input', (ev) => {
      this.pause();
      this.show(Number(ev.target.value));
    });
  }

  /** open shows the bar with the last hour chosen. */
  open() {
    const from = new Date(Date.now() - 3600 * 1000);
    from.setSeconds(0, 0);
    const local = new Date(from.getTime() - from.getTimezoneOffset() * 60000);
    this.q('.rp-from').value = local.toISOString().slice(0, 16);
    this.els.bar.hidden = false;
  }

  /** load fetches the chosen window and shows its first frame. */
  async load(fromDate, seconds) {
    const from = fromDate || new Date(this.q('.rp-from').value);
    const len = seconds || Number(this.q('.rp-len').value);
    if (Number.isNaN(from.getTime())) {
      this.status('Choose when the window starts.');
      return;
    }
    const to = new Date(Math.min(from.getTime() + len * 1000, Date.now()));
    const step = stepFor((to - from) / 1000);
    this.status('Loading…');
    let ans;
    try {
      const q = new URLSearchParams({ from: from.toISOString().replace(/\.\d+Z$/, 'Z'), to: to.toISOString().replace(/\.\d+Z$/, 'Z'), step: `${step}s` });
      ans = await this.client.get(`api/v1/replay?${q}`);
    } catch (err) {
      this.status(`Cannot replay: ${err.message}`);
      return;
    }
    this.frames = ans.frames || [];
    if (!this.frames.length) {
      this.status('Nothing recorded in that window.');
      return;
    }
    if (!this.active) {
      this.active = true;
      this.onEnter();
    }
    this.status(`${this.frames.length} frames, a frame every ${step} s`);
    const slider = this.q('.rp-slider');
    slider.max = String(this.frames.length - 1);
    this.q('.rp-controls').hidden = false;
    this.renderCharts();
    this.index = -1;
    this.show(0);
  }

  status(text) {
    this.q('.rp-status').textContent = text;
  }

  /** show draws frame i: the cells changed since the frame shown, or every one from the start. */
  show(i) {
    i = Math.max(0, Math.min(i, this.frames.length - 1));
    if (i === this.index) return;
    if (i < this.index || this.index < 0) {
      // Back in time: the cells are rebuilt from the first frame's full list.
      const cells = new Map();
      for (let k = 0; k <= i; k++) for (const c of this.frames[k].cells || []) cells.set(c.cell, c);
      this.onFrame(this.frames[i], [...cells.values()].filter((c) => c.eta_s !== undefined), true, i);
    } else {
      const changed = new Map();
      for (let k = this.index + 1; k <= i; k++) for (const c of this.frames[k].cells || []) changed.set(c.cell, c);
      this.onFrame(this.frames[i], [...changed.values()], false, i);
    }
    this.index = i;
    const f = this.frames[i];
    this.q('.rp-slider').value = String(i);
    this.q('.rp-time').textContent = this.clock.hms(f.at);
    this.q('.rp-city').textContent = `city within 1/3/5 min: ${f.city.map((v) => `${Math.round(v * 100)}%`).join(' / ')}`;
    for (const el of this.els.bar.querySelectorAll('.rp-cursor')) el.setAttribute('x1', String(this.x(i))), el.setAttribute('x2', String(this.x(i)));
  }

  x(i) {
    return this.frames.length > 1 ? (i / (this.frames.length - 1)) * CHART_W : 0;
  }

  /** renderCharts draws, per zone, its rule's share over the window, red where the rule was not met. */
  renderCharts() {
    const list = this.q('.rp-zones');
    const ids = (this.frames[0].zones || []).map((z) => z.id);
    list.replaceChildren(
      ...ids.map((id, zi) => {
        const pts = this.frames.map((f, i) => `${this.x(i).toFixed(1)},${((1 - ruleShare(f.zones[zi])) * CHART_H).toFixed(1)}`);
        const misses = this.frames
          .map((f, i) => (f.zones[zi].active && !f.zones[zi].met ? `<rect x="${this.x(i).toFixed(1)}" y="0" width="${Math.max(1, CHART_W / this.frames.length).toFixed(1)}" height="${CHART_H}" class="rp-miss"/>` : ''))
          .join('');
        const met = this.frames.filter((f) => !f.zones[zi].active || f.zones[zi].met).length;
        const li = document.createElement('li');
        li.dataset.zone = id;
        li.innerHTML = `<span class="rp-zone">${esc(this.zoneNames.get(id) || id)}</span>
          <svg width="${CHART_W}" height="${CHART_H}" viewBox="0 0 ${CHART_W} ${CHART_H}" aria-hidden="true">${misses}
            <polyline points="${pts.join(' ')}" class="rp-line"/><line class="rp-cursor" x1="0" x2="0" y1="0" y2="${CHART_H}"/></svg>
          <span class="rp-met num small" title="frames meeting the rule">${Math.round((met / this.frames.length) * 100)}%</span>`;
        return li;
      }),
    );
    list.hidden = false;
  }

  play() {
    if (this.index >= this.frames.length - 1) this.show(0);
    this.playing = true;
    this.q('.rp-play').textContent = '❚❚';
    const step = this.frames.length > 1 ? (Date.parse(this.frames[1].at) - Date.parse(this.frames[0].at)) / 1000 : 1;
    let last = performance.now();
    let pos = this.index;
    const tick = (now) => {
      if (!this.playing) return;
      pos += ((now - last) / 1000) * (this.speed / step);
      last = now;
      this.show(Math.floor(pos));
      if (this.index >= this.frames.length - 1) this.pause();
      else this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.q('.rp-play').textContent = '▶';
  }

  /** leave hides the bar and goes back to the live feed. */
  leave() {
    this.pause();
    this.els.bar.hidden = true;
    if (this.active) {
      this.active = false;
      this.frames = [];
      this.index = -1;
      this.q('.rp-controls').hidden = true;
      this.q('.rp-zones').hidden = true;
      this.onLeave();
    }
  }
}

