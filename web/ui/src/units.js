// Patrol units: one HTML marker per unit on the map (mechanism letter and colour, a heading
// arrow, status styling, a dark badge circled in orange when off the road network) and one row
// per unit in the side list (status, "off network", fix age). Markers that would overlap on
// screen are spread apart, each with a leader line to its true position. Fix ages are
// recomputed every second in the browser; the server only sends positions.
import maplibregl from './maplibre.js';
import { cellToLatLng } from 'h3-js';
import { STATUS_LABEL, mechanismStyle, statusStyle } from './theme.js';
import { age, esc } from './format.js';
import { spread } from './spread.js';

/** Fix ages past these thresholds (seconds) are shown as stale and as lost. */
const STALE_S = 60;
const LOST_S = 300;

/**
 * MARKER_GAP is the least distance (CSS pixels) between two marker centres: a disc and 2 px,
 * for full-size markers and for the compact ones drawn below COMPACT_BELOW (a map zoom), where
 * the whole city is in view and a zone is hardly wider than a marker.
 */
export const MARKER_GAP = { full: 22, compact: 18 };
const COMPACT_BELOW = 13;

/**
 * Units keeps the unit markers and list in step with the live feed.
 * plan is GET /api/v1/plan; listEl a <tbody>; summaryEl an element for the status counts;
 * onSelect(id) is called when a unit's marker or row is clicked.
 */
export class Units {
  constructor(map, { plan, clock, listEl, summaryEl, onSelect }) {
    this.map = map;
    this.clock = clock;
    this.listEl = listEl;
    this.summaryEl = summaryEl;
    this.onSelect = onSelect;
    this.mechanisms = new Map((plan.mechanisms || []).map((m, i) => [m.id, { ...m, order: i }]));
    /** @type {Map<string, object>} entries by unit id */
    this.entries = new Map();
    /** number of markers the last layout moved off their true position */
    this.spreadCount = 0;
    /** boxes ({x0, y0, x1, y1}, CSS pixels of the map) of the markers as the last layout drew them */
    this.boxes = [];
    for (const u of plan.units || []) this.entry(u.id, u);
    this.sortRows();
  }

  /** markerCount is the number of unit markers on the map. */
  get markerCount() {
    let n = 0;
    for (const e of this.entries.values()) if (e.onMap) n++;
    return n;
  }

  /** offNetworkCount is the number of units whose latest fix is off the road network. */
  get offNetworkCount() {
    let n = 0;
    for (const e of this.entries.values()) if (e.live?.off_network) n++;
    return n;
  }

  /** get returns the entry of a unit: {id, plan, live, ...}. */
  get(id) {
    return this.entries.get(id);
  }

  /** lngLat returns a unit's [lon, lat]: its last fix, else its post cell's centre, else null. */
  lngLat(e) {
    if (e.live && Number.isFinite(e.live.lat) && Number.isFinite(e.live.lon)) return [e.live.lon, e.live.lat];
    if (e.postLngLat) return e.postLngLat;
    return null;
  }

  /** entry returns the entry for id, creating its marker element and list row on first use. */
  entry(id, planUnit) {
    let e = this.entries.get(id);
    if (e) return e;
    e = { id, plan: planUnit || { id }, live: null, receivedAt: 0, onMap: false, lastAge: '' };
    if (planUnit?.post) {
      try {
        const [lat, lng] = cellToLatLng(planUnit.post);
        e.postLngLat = [lng, lat];
      } catch {
        e.postLngLat = null;
      }
    }
    this.buildMarker(e);
    this.buildRow(e);
    this.entries.set(id, e);
    this.render(e);
    return e;
  }

  buildMarker(e) {
    const el = document.createElement('div');
    el.className = 'unit';
    el.innerHTML = '<div class="unit-leg"></div><div class="unit-arrow"></div><div class="unit-disc"></div>';
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      this.onSelect(e.id);
    });
    e.el = el;
    [e.leg, e.arrow, e.disc] = el.children;
    e.offset = { dx: 0, dy: 0 };
    e.marker = new maplibregl.Marker({ element: el, anchor: 'center', subpixelPositioning: true });
  }

  buildRow(e) {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td><span class="badge"></span></td><td class="u-id"></td><td class="u-name"></td><td class="u-status"></td><td class="u-age num"></td>';
    tr.addEventListener('click', () => this.onSelect(e.id));
    e.row = tr;
    [e.badgeCell, e.idCell, e.nameCell, e.statusCell, e.ageCell] = tr.children;
    e.badge = e.badgeCell.firstChild;
  }

  /** mech returns the mechanism id and style of an entry. */
  mech(e) {
    const id = e.live?.mechanism || e.plan.mechanism;
    return { id, ...mechanismStyle(id, this.mechanisms.get(id)?.name) };
  }

  /** status returns the entry's status on the wire: available, dispatched, on_scene or off_duty. */
  status(e) {
    return e.live?.status || e.plan.status || 'available';
  }

  /** render brings an entry's marker and row up to date with its data, touching only what changed. */
  render(e) {
    const m = this.mech(e);
    const status = this.status(e);
    const hasFix = !!(e.live && Number.isFinite(e.live.lat));
    const heading = e.live?.heading;
    const hasHeading = hasFix && typeof heading === 'number' && Number.isFinite(heading) && status !== 'off_duty';
    const name = e.live?.name || e.plan.name || '';
    const offNet = hasFix && !!e.live.off_network;
    const shown = e.shown || (e.shown = {});

    if (shown.color !== m.color) {
      e.el.style.setProperty('--mc', m.color);
      e.badge.style.setProperty('--mc', m.color);
      shown.color = m.color;
    }
    if (shown.letter !== m.letter) {
      e.disc.textContent = m.letter;
      e.badge.textContent = m.letter;
      e.badge.title = m.full;
      shown.letter = m.letter;
    }
    if (shown.status !== status || shown.offNet !== offNet) {
      const style = statusStyle(status);
      e.el.dataset.status = style;
      e.el.style.zIndex = style === 'off_duty' ? '1' : style === 'busy' ? '3' : '2';
      e.el.classList.toggle('off-network', offNet);
      e.row.dataset.status = style;
      e.row.classList.toggle('off-network', offNet);
      e.statusCell.innerHTML =
        `<span class="status status-${esc(style)}">${esc(STATUS_LABEL[status] || status)}</span>` +
        (offNet ? ' <span class="offnet" title="No road within snapping distance: not counted in coverage">off network</span>' : '');
      shown.status = status;
      shown.offNet = offNet;
    }
    if (shown.hasFix !== hasFix) {
      e.el.dataset.fix = hasFix ? 'yes' : 'no';
      shown.hasFix = hasFix;
    }
    if (shown.hasHeading !== hasHeading) {
      e.el.classList.toggle('has-heading', hasHeading);
      shown.hasHeading = hasHeading;
    }
    if (hasHeading && shown.heading !== heading) {
      e.arrow.style.transform = `rotate(${heading}deg)`;
      shown.heading = heading;
    }
    if (shown.name !== name) {
      e.el.title = `${e.id} ${name}`.trim();
      e.idCell.textContent = e.id;
      e.nameCell.textContent = name;
      e.nameCell.title = name;
      shown.name = name;
    }

    const ll = this.lngLat(e);
    if (ll) {
      if (shown.lon !== ll[0] || shown.lat !== ll[1]) {
        e.marker.setLngLat(ll);
        shown.lon = ll[0];
        shown.lat = ll[1];
      }
      if (!e.onMap) {
        e.marker.addTo(this.map);
        e.onMap = true;
      }
    } else if (e.onMap) {
      e.marker.remove();
      e.onMap = false;
      shown.lon = shown.lat = undefined;
      e.offset = { dx: 0, dy: 0 };
      e.marker.setOffset([0, 0]);
    }
    this.renderAge(e);
  }

  /**
   * layout spreads the markers that overlap on screen at the map's current view, moving each by
   * as little as a compact layout allows, and draws its leader line; call it after the view or
   * the positions change. holes ({x, y, r}, CSS pixels of the map) are places that groups of
   * markers ring rather than cover. It returns the number of markers moved.
   */
  layout(holes = []) {
    const compact = this.map.getZoom() < COMPACT_BELOW;
    this.map.getContainer().classList.toggle('units-compact', compact);
    const gap = compact ? MARKER_GAP.compact : MARKER_GAP.full;
    const shown = [...this.entries.values()].filter((e) => e.onMap);
    const pts = shown.map((e) => this.map.project(this.lngLat(e)));
    const offsets = spread(pts, gap, holes);
    const r = gap / 2;
    this.boxes = pts.map((p, i) => {
      const x = p.x + offsets[i].dx;
      const y = p.y + offsets[i].dy;
      return { x0: x - r, y0: y - r, x1: x + r, y1: y + r };
    });
    let moved = 0;
    shown.forEach((e, i) => {
      const o = offsets[i];
      if (o.dx !== 0 || o.dy !== 0) moved++;
      if (Math.abs(o.dx - e.offset.dx) < 0.25 && Math.abs(o.dy - e.offset.dy) < 0.25) return;
      e.offset = o;
      e.marker.setOffset([o.dx, o.dy]);
      const len = Math.hypot(o.dx, o.dy);
      e.el.classList.toggle('spread', len >= 1);
      e.leg.style.width = `${len.toFixed(1)}px`;
      e.leg.style.transform = `rotate(${Math.atan2(-o.dy, -o.dx).toFixed(3)}rad)`;
    });
    this.spreadCount = moved;
    return moved;
  }

  /** offsetOf returns where a unit's marker is drawn relative to its position, in CSS pixels. */
  offsetOf(id) {
    const e = this.entries.get(id);
    return e ? [e.offset.dx, e.offset.dy] : [0, 0];
  }

  /** ageSeconds returns the age of an entry's last fix in seconds (NaN without a fix). */
  ageSeconds(e) {
    if (!e.live) return NaN;
    if (e.live.time) return this.clock.ageOf(e.live.time);
    if (typeof e.live.age_s === 'number') return e.live.age_s + (Date.now() - e.receivedAt) / 1000;
    return NaN;
  }

  renderAge(e) {
    const s = this.ageSeconds(e);
    const text = Number.isFinite(s) ? age(s) : 'no fix';
    if (text === e.lastAge) return;
    e.lastAge = text;
    e.ageCell.textContent = text;
    e.ageCell.className = `u-age num ${!Number.isFinite(s) ? 'age-none' : s > LOST_S ? 'age-lost' : s > STALE_S ? 'age-stale' : 'age-ok'}`;
    e.el.classList.toggle('stale', !!e.live?.stale || (Number.isFinite(s) && s > LOST_S));
  }

  /** applySnapshot replaces every unit's live record with the snapshot's. */
  applySnapshot(units) {
    const seen = new Set();
    const now = Date.now();
    let added = false;
    for (const u of units || []) {
      added ||= !this.entries.has(u.id);
      const e = this.entry(u.id);
      e.live = u;
      e.receivedAt = now;
      seen.add(u.id);
      this.render(e);
    }
    for (const e of this.entries.values()) {
      if (!seen.has(e.id) && e.live) {
        e.live = null;
        this.render(e);
      }
    }
    if (added) this.sortRows();
    this.renderSummary();
  }

  /** applyDiff replaces the live records of the units a diff lists. */
  applyDiff(units) {
    if (!units?.length) return;
    const now = Date.now();
    let added = false;
    for (const u of units) {
      added ||= !this.entries.has(u.id);
      const e = this.entry(u.id);
      e.live = u;
      e.receivedAt = now;
      this.render(e);
    }
    if (added) this.sortRows();
    this.renderSummary();
  }

  /** tick refreshes every fix age; call it once a second. */
  tick() {
    for (const e of this.entries.values()) this.renderAge(e);
  }

  /** sortRows orders the list by mechanism (plan order) and id. */
  sortRows() {
    const order = (e) => this.mechanisms.get(this.mech(e).id)?.order ?? 99;
    const sorted = [...this.entries.values()].sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id, 'en', { numeric: true }));
    this.listEl.replaceChildren(...sorted.map((e) => e.row));
  }

  renderSummary() {
    const n = { available: 0, busy: 0, off_duty: 0 };
    for (const e of this.entries.values()) {
      const s = statusStyle(this.status(e));
      n[s] = (n[s] || 0) + 1;
    }
    const off = this.offNetworkCount;
    let live = 0, sim = 0;
    for (const e of this.entries.values()) {
      if (!Number.isFinite(e.live?.lat)) continue;
      if (e.live.simulated) sim++;
      else live++;
    }
    const key = `${n.available}/${n.busy}/${n.off_duty}/${off}/${live}/${sim}`;
    if (key === this.summaryKey) return;
    this.summaryKey = key;
    this.summaryEl.innerHTML =
      `<span class="status status-available">${n.available} available</span>` +
      `<span class="status status-busy">${n.busy} on call</span>` +
      `<span class="status status-off_duty">${n.off_duty} off duty</span>` +
      (off ? `<span class="offnet">${off} off network</span>` : '') +
      (sim ? `<span class="source" title="units moved by the demo motion, and units whose fixes come from a device">${sim} simulated · ${live} live</span>` : '');
  }

  /** highlight marks one unit's row and marker as selected ('' for none). */
  highlight(id) {
    for (const e of this.entries.values()) {
      const on = e.id === id;
      e.row.classList.toggle('selected', on);
      e.el.classList.toggle('selected', on);
    }
    const e = this.entries.get(id);
    if (e) e.row.scrollIntoView({ block: 'nearest' });
  }

  /** ageText returns the formatted fix age of a unit ('' without a fix). */
  ageText(id) {
    const e = this.entries.get(id);
    const s = e ? this.ageSeconds(e) : NaN;
    return Number.isFinite(s) ? age(s) : '';
  }

  /** popupHTML describes one unit for its map popup. */
  popupHTML(id) {
    const e = this.entries.get(id);
    if (!e) return '';
    const m = this.mech(e);
    const u = e.live || {};
    const status = this.status(e);
    const s = this.ageSeconds(e);
    const rows = [
      ['Mechanism', esc(m.full)],
      ['Status', `<span class="status status-${esc(statusStyle(status))}">${esc(STATUS_LABEL[status] || status)}</span>`],
      ['Shift', esc(e.plan.shift || '—')],
    ];
    if (u.status_by) rows.push(['Status set', `${esc(this.clock.hms(u.status_at))} <span class="muted">by ${esc(u.status_by)}</span>`]);
    if (Number.isFinite(u.lat)) {
      rows.push(['Fix', `${esc(this.clock.hms(u.time))} <span class="muted">(<span class="pp-age">${esc(age(s))}</span> ago)</span>`]);
      rows.push(['Speed', Number.isFinite(u.speed_mps) ? `${(u.speed_mps * 3.6).toFixed(0)} km/h` : '—']);
      rows.push(['Heading', Number.isFinite(u.heading) ? `${Math.round(u.heading)}°` : '—']);
      rows.push(['Cell', `<code>${esc(u.cell || '—')}</code>`]);
      rows.push(['Source', u.simulated ? '<span class="muted">demo motion (simulated)</span>' : `device (${esc(u.source || '—')})`]);
      if (u.stage === 'lost') rows.push(['Coverage', '<span class="age-stale">lost: fix too old, not counted</span>']);
      else if (u.stale) rows.push(['Coverage', '<span class="age-stale">stale: each ETA grows by the fix’s age</span>']);
      else if (u.off_network) rows.push(['Coverage', '<span class="offnet">off the road network: not counted</span>']);
    } else {
      rows.push(['Fix', '<span class="muted">none yet — shown at its post</span>']);
    }
    return (
      `<div class="pp-title"><span class="badge" style="--mc:${m.color}">${esc(m.letter)}</span>` +
      `<b>${esc(e.id)}</b> ${esc(u.name || e.plan.name || '')}</div>` +
      `<table class="pp-table">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`
    );
  }
}
