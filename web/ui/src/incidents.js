// Incidents: report one (a click on the map or a typed H3 cell), see the units that may be sent
// ranked by drive time with what sending each one costs in coverage and the move-up that
// restores the most of it, dispatch one, close the incident. Incidents are HTML markers on the
// map, coloured by state; the suggested move-up is an arrow from the mover to its target.
import maplibregl from './maplibre.js';
import { cellToLatLng, isValidCell } from 'h3-js';
import { esc, eta, pct } from './format.js';

/** STATE_LABEL names the incident states of the wire. */
const STATE_LABEL = { open: 'Open', dispatched: 'Unit sent', closed: 'Closed' };

/** MOVE_COLOR is the colour of the move-up arrow. */
export const MOVE_COLOR = '#7ee0ff';

/** minSec formats seconds as '2 min 10 s'. */
export function minSec(seconds) {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}

/**
 * Incidents keeps the incident markers, the incident list and the open incident's card in step
 * with the live feed and the API. client is the API client, units the unit markers (for the
 * move-up arrow's start), els the page's elements: listEl (<ul>), countEl, cardEl (the open
 * incident), formEl (the report form); onChange() is called after the state changes.
 */
export class Incidents {
  constructor(map, { client, units, clock, els, onChange }) {
    this.map = map;
    this.client = client;
    this.units = units;
    this.clock = clock;
    this.els = els;
    this.onChange = onChange || (() => {});
    /** @type {Map<string, object>} incidents by id, as last received */
    this.byId = new Map();
    this.markers = new Map();
    /** the incident whose card is open, its answer from the API ({...incident, candidates}) */
    this.open = null;
    /** whether the next map click places a new incident */
    this.placing = false;
    this.pending = null; // [lon, lat] of the incident being reported
    this.pendingMarker = null;
    this.error = '';
    this.addArrowLayer();
    this.bindForm();
    els.listEl.addEventListener('click', (ev) => {
      const li = ev.target.closest('[data-incident]');
      if (li) this.select(li.dataset.incident);
    });
    els.cardEl.addEventListener('click', (ev) => this.onCardClick(ev));
  }

  /** count is the number of incidents not closed. */
  get activeCount() {
    let n = 0;
    for (const inc of this.byId.values()) if (inc.state !== 'closed') n++;
    return n;
  }

  // --- the live feed ---

  /** applySnapshot replaces every incident with the snapshot's. */
  applySnapshot(list) {
    this.byId.clear();
    this.apply(list);
  }

  /** apply takes the incidents of a message (a newer version replaces an older one). */
  apply(list) {
    if (!list?.length && this.byId.size === this.markers.size) return;
    for (const inc of list || []) {
      const old = this.byId.get(inc.id);
      if (!old || old.version <= inc.version) this.byId.set(inc.id, inc);
    }
    for (const [id, m] of this.markers) {
      if (!this.byId.has(id)) {
        m.remove();
        this.markers.delete(id);
      }
    }
    for (const inc of this.byId.values()) this.drawMarker(inc);
    this.renderList();
    if (this.open && (list || []).some((inc) => inc.id === this.open.id)) this.refreshOpen();
    this.onChange();
  }

  // --- markers ---

  drawMarker(inc) {
    let m = this.markers.get(inc.id);
    if (!m) {
      const el = document.createElement('div');
      el.className = 'incident';
      el.innerHTML = '<span class="incident-mark"></span><span class="incident-label"></span>';
      el.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.select(inc.id);
      });
      m = new maplibregl.Marker({ element: el, anchor: 'bottom' }).setLngLat([inc.lon, inc.lat]).addTo(this.map);
      this.markers.set(inc.id, m);
    }
    const el = m.getElement();
    el.dataset.state = inc.state;
    el.dataset.priority = String(inc.priority);
    el.classList.toggle('selected', this.open?.id === inc.id);
    el.title = `${inc.id} · priority ${inc.priority} · ${STATE_LABEL[inc.state] || inc.state}`;
    el.lastChild.textContent = inc.id;
  }

  // --- the list ---

  renderList() {
    const list = [...this.byId.values()].sort((a, b) => (a.state === 'closed') - (b.state === 'closed') || num(b.id) - num(a.id));
    this.els.countEl.textContent = String(this.activeCount);
    this.els.countEl.classList.toggle('alarm', this.activeCount > 0);
    this.els.listEl.innerHTML = list.length
      ? list
          .map(
            (inc) =>
              `<li class="incident-row" data-incident="${esc(inc.id)}" data-state="${esc(inc.state)}">` +
              `<span class="inc-id">${esc(inc.id)}</span><span class="inc-prio p${inc.priority}">P${inc.priority}</span>` +
              `<span class="inc-kind">${esc(inc.kind || 'incident')}</span>` +
              `<span class="inc-state">${esc(STATE_LABEL[inc.state] || inc.state)}${inc.unit ? ` · ${esc(inc.unit)}` : ''}</span></li>`,
          )
          .join('')
      : '<li class="empty">No incidents.</li>';
  }

  // --- reporting ---

  bindForm() {
    const f = this.els.formEl;
    f.querySelector('#report-start').addEventListener('click', () => this.startPlacing());
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    f.querySelector('#report-cell').addEventListener('change', (ev) => {
      const cell = ev.target.value.trim();
      if (!cell) return;
      if (!isValidCell(cell)) {
        this.setError(`"${cell}" is not an H3 cell`);
        return;
      }
      const [lat, lng] = cellToLatLng(cell);
      this.place([lng, lat]);
      this.map.easeTo({ center: [lng, lat], zoom: Math.max(this.map.getZoom(), 14), duration: 400 });
    });
  }

  /** startPlacing makes the next map click place the incident. */
  startPlacing() {
    this.placing = true;
    this.els.formEl.dataset.placing = 'yes';
    this.map.getCanvas().style.cursor = 'crosshair';
    this.setError('');
  }

  /** handleClick takes a map click while placing; it returns true when it used the click. */
  handleClick(lngLat) {
    if (!this.placing) return false;
    this.place([lngLat.lng, lngLat.lat]);
    return true;
  }

  /** place puts the incident being reported at [lon, lat]. */
  place(p) {
    this.placing = false;
    this.pending = p;
    this.map.getCanvas().style.cursor = '';
    const f = this.els.formEl;
    f.dataset.placing = 'placed';
    f.querySelector('#report-where').textContent = `${p[1].toFixed(5)}, ${p[0].toFixed(5)}`;
    if (!this.pendingMarker) {
      const el = document.createElement('div');
      el.className = 'incident pending';
      el.innerHTML = '<span class="incident-mark"></span>';
      this.pendingMarker = new maplibregl.Marker({ element: el, anchor: 'bottom' });
    }
    this.pendingMarker.setLngLat(p).addTo(this.map);
    f.querySelector('#report-submit').disabled = false;
  }

  async submit() {
    if (!this.pending) {
      this.setError('Click the map or type a cell first');
      return;
    }
    const f = this.els.formEl;
    const body = {
      lat: this.pending[1],
      lon: this.pending[0],
      priority: Number(f.querySelector('#report-priority').value),
      kind: f.querySelector('#report-kind').value.trim(),
      note: f.querySelector('#report-note').value.trim(),
    };
    try {
      const inc = await this.client.post('api/v1/incidents', body);
      this.pending = null;
      this.pendingMarker?.remove();
      f.reset();
      f.dataset.placing = '';
      f.querySelector('#report-where').textContent = '';
      f.querySelector('#report-submit').disabled = true;
      this.apply([inc]);
      this.show(inc);
    } catch (err) {
      this.setError(actionError(err));
    }
  }

  setError(text) {
    this.error = text;
    const el = this.els.formEl.querySelector('#report-error');
    el.textContent = text;
    el.hidden = !text;
  }

  // --- the open incident ---

  /** select opens incident id's card with its candidates as the server ranks them now. */
  async select(id) {
    try {
      this.show(await this.client.get(`api/v1/incidents/${encodeURIComponent(id)}`));
    } catch (err) {
      this.setError(actionError(err));
    }
  }

  /** refreshOpen reloads the open incident after it changed. */
  refreshOpen() {
    if (this.open) this.select(this.open.id);
  }

  /** show opens the card of answer ({...incident, candidates}). */
  show(answer) {
    this.open = answer;
    for (const inc of this.byId.values()) this.drawMarker(inc);
    this.renderCard();
    // Once a unit is sent, the arrow keeps the move-up its dispatch called for.
    const sent = this.lastDispatched?.incident === answer.id ? this.lastDispatched.candidate : null;
    this.drawMoveUp(answer.state === 'open' ? answer.candidates?.[0] : sent);
    this.onChange();
  }

  /** close shuts the incident card. */
  closeCard() {
    this.open = null;
    this.els.cardEl.hidden = true;
    this.drawMoveUp(null);
    for (const inc of this.byId.values()) this.drawMarker(inc);
    this.onChange();
  }

  renderCard() {
    const a = this.open;
    const el = this.els.cardEl;
    el.hidden = false;
    const cands = a.candidates || [];
    const log = (a.log || [])
      .map((l) => `<li><span class="num">${esc(this.clock.hms(l.at))}</span> ${esc(STATE_LABEL[l.state] || l.state)}${l.unit ? ` ${esc(l.unit)}` : ''} <span class="muted">by ${esc(l.by || '—')}</span></li>`)
      .join('');
    el.innerHTML =
      `<div class="inc-head"><b>${esc(a.id)}</b> <span class="inc-prio p${a.priority}">P${a.priority}</span> ` +
      `<span>${esc(a.kind || 'incident')}</span> <span class="inc-state" data-state="${esc(a.state)}">${esc(STATE_LABEL[a.state] || a.state)}${a.unit ? ` · ${esc(a.unit)}` : ''}</span>` +
      `<button type="button" class="inc-x" data-action="dismiss" title="Close this card">×</button></div>` +
      (a.note ? `<div class="inc-note">${esc(a.note)}</div>` : '') +
      (a.state === 'open'
        ? `<table class="cand-table"><thead><tr><th>Unit</th><th class="num">ETA</th><th class="num">Dist.</th><th>Cost of sending</th><th></th></tr></thead><tbody>` +
          (cands.length ? cands.slice(0, 8).map((c, i) => this.candidateHTML(c, i)).join('') : '<tr><td colspan="5" class="empty">No unit available.</td></tr>') +
          `</tbody></table>`
        : '') +
      (a.state !== 'closed' ? `<div class="inc-actions"><button type="button" data-action="close-incident">Close incident</button></div>` : '') +
      `<ul class="inc-log">${log}</ul>` +
      `<div id="inc-error" class="form-error" hidden></div>`;
  }

  candidateHTML(c, i) {
    const cost = c.cost;
    const lost3 = cost?.lost_share?.m3;
    const costText = cost ? `${cost.zones?.length ? `<span class="bad">${cost.zones.length} zone${cost.zones.length === 1 ? '' : 's'} below rule</span> · ` : ''}−${pct(lost3 ?? 0)} 3-min` : '—';
    const move = cost?.move_up;
    const reason = cost?.reason ? `<div class="cand-reason">${esc(cost.reason)}</div>` : '';
    return (
      `<tr class="cand${i === 0 ? ' fastest' : ''}" data-unit="${esc(c.unit)}">` +
      `<td><b>${esc(c.unit)}</b>${i === 0 ? ' <span class="muted">fastest</span>' : ''}</td>` +
      `<td class="num">${esc(eta(c.eta_s))}</td><td class="num">${(c.distance_m / 1000).toFixed(1)} km</td>` +
      `<td class="cand-cost">${costText}${move ? `<div class="cand-move">move ${esc(move.unit)} → ${esc(move.to_post || move.to_cell)} (${esc(minSec(move.eta_s))})</div>` : ''}${reason}</td>` +
      `<td><button type="button" data-action="dispatch" data-unit="${esc(c.unit)}"${i === 0 ? ' class="primary"' : ''}>Dispatch</button></td></tr>`
    );
  }

  async onCardClick(ev) {
    const btn = ev.target.closest('button[data-action]');
    const row = ev.target.closest('tr.cand');
    if (!btn) {
      if (row) this.drawMoveUp(this.open?.candidates?.find((c) => c.unit === row.dataset.unit));
      return;
    }
    const a = this.open;
    try {
      if (btn.dataset.action === 'dismiss') return this.closeCard();
      btn.disabled = true;
      let answer;
      if (btn.dataset.action === 'dispatch') {
        answer = await this.client.post(`api/v1/incidents/${encodeURIComponent(a.id)}/dispatch`, { unit: btn.dataset.unit });
        this.lastDispatched = { incident: a.id, unit: btn.dataset.unit, candidate: a.candidates.find((c) => c.unit === btn.dataset.unit) };
      } else if (btn.dataset.action === 'close-incident') {
        answer = await this.client.post(`api/v1/incidents/${encodeURIComponent(a.id)}/close`, {});
      }
      this.apply([answer]);
      this.show(answer);
    } catch (err) {
      btn.disabled = false;
      const el = this.els.cardEl.querySelector('#inc-error');
      el.textContent = actionError(err);
      el.hidden = false;
    }
  }

  // --- the move-up arrow ---

  addArrowLayer() {
    this.map.addSource('moveup', { type: 'geojson', data: emptyFC() });
    this.map.addLayer({
      id: 'moveup-line',
      type: 'line',
      source: 'moveup',
      filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': MOVE_COLOR, 'line-width': 3, 'line-dasharray': [2, 1.5] },
    });
    this.map.addLayer({
      id: 'moveup-head',
      type: 'fill',
      source: 'moveup',
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': MOVE_COLOR },
    });
    /** the move drawn now: {unit, to_cell, ...} or null */
    this.arrow = null;
  }

  /** drawMoveUp draws the move-up of candidate c as an arrow (none when c has none). */
  drawMoveUp(c) {
    const move = c?.cost?.move_up;
    const from = move && this.units.get(move.unit);
    const start = from && this.units.lngLat(from);
    const src = this.map.getSource('moveup');
    if (!start || !move.to_cell) {
      this.arrow = null;
      src.setData(emptyFC());
      return;
    }
    const [lat, lng] = cellToLatLng(move.to_cell);
    this.arrow = { ...move, from: start, to: [lng, lat] };
    src.setData(arrowFC(this.map, start, [lng, lat]));
  }

  /** redrawArrow keeps the arrow head's size on screen after a zoom. */
  redrawArrow() {
    if (this.arrow) this.map.getSource('moveup').setData(arrowFC(this.map, this.arrow.from, this.arrow.to));
  }
}

function num(id) {
  return Number(String(id).slice(1)) || 0;
}

function emptyFC() {
  return { type: 'FeatureCollection', features: [] };
}

/** arrowFC returns a line from a to b ([lon, lat]) and a head at b of 14 px at the map's zoom. */
function arrowFC(map, a, b) {
  const pa = map.project(a);
  const pb = map.project(b);
  const len = Math.hypot(pb.x - pa.x, pb.y - pa.y) || 1;
  const ux = (pb.x - pa.x) / len;
  const uy = (pb.y - pa.y) / len;
  const size = 14;
  const base = { x: pb.x - ux * size, y: pb.y - uy * size };
  const left = map.unproject([base.x - uy * size * 0.6, base.y + ux * size * 0.6]);
  const right = map.unproject([base.x + uy * size * 0.6, base.y - ux * size * 0.6]);
  const mid = map.unproject([base.x, base.y]);
  return {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [a, [mid.lng, mid.lat]] } },
      { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[b, [left.lng, left.lat], [right.lng, right.lat], b]] } },
    ],
  };
}

/** actionError turns an API failure into a sentence for the dispatcher. */
function actionError(err) {
  if (err?.status === 401) return 'This page’s token may not report or dispatch: open it with a dispatcher token.';
  return err?.message || String(err);
}
