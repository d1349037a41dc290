// Priority zones and the city boundary. Zones are drawn above the hexagons: a tinted fill, a
// dark casing and an outline coloured by rule status through feature state ('met', 'gap',
// 'inactive'), with a red glow around a zone in gap, so status changes never touch the
// geometry. Each zone has an HTML label with its name beside it (the map has no glyphs), placed
// clear of the other labels, the zones and the unit markers, and joined to its zone by a leader
// line when it has to stand off; labels lie under the unit markers.
import { BOUNDARY_COLOR, ZONE_STATUS } from './theme.js';
import { leaderLine, placeLabels } from './labels.js';
import { esc } from './format.js';

const SRC = 'zones';

/** statusOf returns the display status of a wire zone record Z. */
export function statusOf(z) {
  if (!z || z.active === false) return 'inactive';
  return z.met ? 'met' : 'gap';
}

/** statusOrder ranks zones for their labels' places: gaps first, zones outside hours last. */
const statusOrder = { gap: 0, met: 1, inactive: 2 };

/** byStatus is a paint expression choosing [gap, met, inactive] by a zone's 'status' state. */
const byStatus = (gap, met, inactive) => ['match', ['coalesce', ['feature-state', 'status'], 'inactive'], 'gap', gap, 'met', met, inactive];

const statusColor = byStatus(ZONE_STATUS.gap.color, ZONE_STATUS.met.color, ZONE_STATUS.inactive.color);

/** addBoundary draws the city boundary outline (GeoJSON Polygon or MultiPolygon). */
export function addBoundary(map, boundary) {
  map.addSource('boundary', {
    type: 'geojson',
    data: { type: 'Feature', properties: {}, geometry: boundary },
  });
  map.addLayer({
    id: 'boundary-casing',
    type: 'line',
    source: 'boundary',
    paint: { 'line-color': '#000000', 'line-width': 4, 'line-opacity': 0.5 },
  });
  map.addLayer({
    id: 'boundary-line',
    type: 'line',
    source: 'boundary',
    paint: { 'line-color': BOUNDARY_COLOR, 'line-width': 1.6, 'line-dasharray': [4, 2] },
  });
}

/**
 * ZoneLayer draws the plan's priority zones and their labels. zones are the plan's zone objects
 * ({id, name, kind, geometry, rule, ...}); feature ids are their index in that list.
 * onSelect(zoneId) is called when a label is clicked.
 */
export class ZoneLayer {
  constructor(map, zones, { onSelect } = {}) {
    this.map = map;
    this.zones = (zones || []).filter((z) => z.geometry);
    this.index = new Map(this.zones.map((z, i) => [z.id, i]));
    this.status = new Map();
    this.extents = this.zones.map((z) => geometryBounds(z.geometry));
    map.addSource(SRC, {
      type: 'geojson',
      data: {
        type: 'FeatureCollection',
        features: this.zones.map((z, i) => ({
          type: 'Feature',
          id: i,
          properties: { zone: z.id },
          geometry: z.geometry,
        })),
      },
    });
    map.addLayer({
      id: 'zones-fill',
      type: 'fill',
      source: SRC,
      paint: { 'fill-color': statusColor, 'fill-opacity': byStatus(0.32, 0.16, 0.07) },
    });
    // A zone in gap glows red beyond its outline, so it reads at the city-wide zoom.
    map.addLayer({
      id: 'zones-glow',
      type: 'line',
      source: SRC,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': ZONE_STATUS.gap.color,
        'line-width': 12,
        'line-blur': 6,
        'line-opacity': byStatus(0.75, 0, 0),
      },
    });
    map.addLayer({
      id: 'zones-casing',
      type: 'line',
      source: SRC,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#000000', 'line-opacity': 0.75, 'line-width': byStatus(7, 5.5, 4) },
    });
    map.addLayer({
      id: 'zones-line',
      type: 'line',
      source: SRC,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': statusColor,
        'line-width': byStatus(3.5, 2.5, 1.6),
        'line-opacity': byStatus(1, 1, 0.85),
      },
    });
    this.buildLabels(onSelect);
  }

  /**
   * buildLabels makes the label overlay: one element per zone and an SVG for the leader lines,
   * inside the map's canvas container (where the unit markers go, so labels lie under them).
   */
  buildLabels(onSelect) {
    const overlay = document.createElement('div');
    overlay.className = 'zone-labels';
    overlay.innerHTML = '<svg class="zone-leaders" aria-hidden="true"></svg>';
    this.leaders = overlay.firstChild;
    this.labels = this.zones.map((z) => {
      const el = document.createElement('div');
      el.className = 'zone-label';
      el.dataset.zone = z.id;
      el.dataset.status = 'inactive';
      el.innerHTML = `<span class="zone-dot"></span>${twoLines(z.name || z.id).map(esc).join('<br>')}`;
      el.addEventListener('click', (ev) => {
        ev.stopPropagation();
        onSelect?.(z.id);
      });
      overlay.appendChild(el);
      return { el, size: null };
    });
    this.map.getCanvasContainer().appendChild(overlay);
    this.placed = new Map();
  }

  /**
   * placeLabels puts the label of every zone in view beside its zone, clear of blocked (boxes
   * of panels and controls over the map) and as far as it can of markers (boxes of unit
   * markers), all {x0, y0, x1, y1} in CSS pixels of the map canvas. It returns the number of
   * labels shown.
   */
  placeLabels({ blocked = [], markers = [] } = {}) {
    const canvas = this.map.getCanvas();
    const area = { x0: 4, y0: 4, x1: canvas.clientWidth - 4, y1: canvas.clientHeight - 4 };
    const items = [];
    this.zones.forEach((z, i) => {
      const box = this.screenBox(i);
      const label = this.labels[i];
      // A zone out of view has no label: it would only point off the map.
      const inView = box && box.x1 > area.x0 && box.x0 < area.x1 && box.y1 > area.y0 && box.y0 < area.y1;
      label.el.hidden = !inView;
      if (!inView) return;
      label.size ||= { w: label.el.offsetWidth, h: label.el.offsetHeight };
      items.push({ id: z.id, i, box, w: label.size.w, h: label.size.h });
    });
    items.sort((a, b) => statusOrder[this.statusOf(a.id)] - statusOrder[this.statusOf(b.id)] || a.i - b.i);
    this.placed = placeLabels({ items, area, blocked, markers, previous: this.placed });
    const lines = [];
    for (const it of items) {
      const p = this.placed.get(it.id);
      const { el } = this.labels[it.i];
      el.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
      if (p.leader) {
        const [x0, y0, x1, y1] = leaderLine(it.box, { x0: p.x, y0: p.y, x1: p.x + it.w, y1: p.y + it.h });
        lines.push(`<line data-status="${this.statusOf(it.id)}" x1="${x0.toFixed(1)}" y1="${y0.toFixed(1)}" x2="${x1.toFixed(1)}" y2="${y1.toFixed(1)}"/>`);
      }
    }
    this.leaders.innerHTML = lines.join('');
    return items.length;
  }

  /**
   * holes returns the zones that are small on screen as circles ({x, y, r}, CSS pixels of the
   * map) that crowds of markers should ring rather than cover: those at most maxRadius across
   * half their box (a larger zone shows around any crowd).
   */
  holes(maxRadius = 40) {
    const out = [];
    this.zones.forEach((_, i) => {
      const b = this.screenBox(i);
      const r = b && Math.max(b.x1 - b.x0, b.y1 - b.y0) / 2;
      if (r && r <= maxRadius) out.push({ x: (b.x0 + b.x1) / 2, y: (b.y0 + b.y1) / 2, r });
    });
    return out;
  }

  /** screenBox returns the box a zone covers on screen at the current view, or null. */
  screenBox(i) {
    const b = this.extents[i];
    if (!b) return null;
    const sw = this.map.project(b[0]);
    const ne = this.map.project(b[1]);
    return { x0: Math.min(sw.x, ne.x), y0: Math.min(sw.y, ne.y), x1: Math.max(sw.x, ne.x), y1: Math.max(sw.y, ne.y) };
  }

  /** statusOf returns a zone's shown status: gap, met or inactive (before any record). */
  statusOf(id) {
    return this.status.get(id) || 'inactive';
  }

  /** layerIds are the ids of the clickable zone layers. */
  get layerIds() {
    return ['zones-fill'];
  }

  /** zoneAt returns the plan zone of a rendered zone feature. */
  zoneAt(f) {
    return this.zones[f?.id];
  }

  /** update sets the status of the given wire zone records Z; it reports whether any changed. */
  update(records) {
    let changed = false;
    for (const z of records || []) {
      const i = this.index.get(z.id);
      if (i === undefined) continue;
      const status = statusOf(z);
      if (this.status.get(z.id) === status) continue;
      this.status.set(z.id, status);
      this.map.setFeatureState({ source: SRC, id: i }, { status });
      const label = this.labels[i];
      label.el.dataset.status = status;
      label.el.title = `${z.name || this.zones[i].name || z.id}: ${ZONE_STATUS[status].label}`;
      label.size = null;
      changed = true;
    }
    return changed;
  }

  /** bounds returns [[west, south], [east, north]] of a zone, or null. */
  bounds(id) {
    const z = this.zones[this.index.get(id)];
    return z ? geometryBounds(z.geometry) : null;
  }
}

/**
 * twoLines splits a label's text into at most two lines of about equal length at a space;
 * a text of up to ONE_LINE characters stays on one.
 */
export function twoLines(text) {
  const ONE_LINE = 16;
  if (text.length <= ONE_LINE) return [text];
  let best = null;
  for (let i = text.indexOf(' '); i > 0; i = text.indexOf(' ', i + 1)) {
    const longest = Math.max(i, text.length - i - 1);
    if (!best || longest < best.longest) best = { i, longest };
  }
  return best ? [text.slice(0, best.i), text.slice(best.i + 1)] : [text];
}

/** geometryBounds returns [[west, south], [east, north]] of a GeoJSON geometry (lon/lat). */
export function geometryBounds(geometry) {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1]);
      n = Math.max(n, c[1]);
    } else {
      for (const x of c) walk(x);
    }
  };
  if (geometry?.coordinates) walk(geometry.coordinates);
  return Number.isFinite(w) ? [[w, s], [e, n]] : null;
}
