// Priority zones and the city boundary. Zone outlines are coloured by rule status through
// feature state ('met', 'gap', 'inactive'), so status changes never touch the geometry.
import { BOUNDARY_COLOR, ZONE_STATUS } from './theme.js';

const SRC = 'zones';

/** statusOf returns the display status of a wire zone record Z. */
export function statusOf(z) {
  if (!z || z.active === false) return 'inactive';
  return z.met ? 'met' : 'gap';
}

const statusColor = [
  'match',
  ['coalesce', ['feature-state', 'status'], 'inactive'],
  'met', ZONE_STATUS.met.color,
  'gap', ZONE_STATUS.gap.color,
  ZONE_STATUS.inactive.color,
];

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
 * ZoneLayer draws the plan's priority zones. zones are the plan's zone objects
 * ({id, name, kind, geometry, rule, ...}); feature ids are their index in that list.
 */
export class ZoneLayer {
  constructor(map, zones) {
    this.map = map;
    this.zones = (zones || []).filter((z) => z.geometry);
    this.index = new Map(this.zones.map((z, i) => [z.id, i]));
    this.status = new Map();
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
      paint: {
        'fill-color': statusColor,
        'fill-opacity': ['match', ['coalesce', ['feature-state', 'status'], 'inactive'], 'gap', 0.16, 0.05],
      },
    });
    map.addLayer({
      id: 'zones-casing',
      type: 'line',
      source: SRC,
      paint: { 'line-color': '#000000', 'line-opacity': 0.6, 'line-width': 5 },
    });
    map.addLayer({
      id: 'zones-line',
      type: 'line',
      source: SRC,
      paint: {
        'line-color': statusColor,
        'line-width': ['match', ['coalesce', ['feature-state', 'status'], 'inactive'], 'gap', 3, 'met', 2.2, 1.4],
        'line-opacity': ['match', ['coalesce', ['feature-state', 'status'], 'inactive'], 'inactive', 0.75, 1],
      },
    });
  }

  /** layerIds are the ids of the clickable zone layers. */
  get layerIds() {
    return ['zones-fill'];
  }

  /** zoneAt returns the plan zone of a rendered zone feature. */
  zoneAt(f) {
    return this.zones[f?.id];
  }

  /** update sets the outline status of the given wire zone records Z. */
  update(records) {
    for (const z of records || []) {
      const i = this.index.get(z.id);
      if (i === undefined) continue;
      const status = statusOf(z);
      if (this.status.get(z.id) === status) continue;
      this.status.set(z.id, status);
      this.map.setFeatureState({ source: SRC, id: i }, { status });
    }
  }

  /** bounds returns [[west, south], [east, north]] of a zone, or null. */
  bounds(id) {
    const z = this.zones[this.index.get(id)];
    return z ? geometryBounds(z.geometry) : null;
  }
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
