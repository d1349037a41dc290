// The hexagon layer: every H3 cell of the plan's boundary, drawn once as a GeoJSON source
// with numeric feature ids, and coloured by response tier through feature state. Snapshots
// and diffs only call map.setFeatureState; the geometry is never re-uploaded for them.
//
// Cells the server reports outside the boundary go into a second, small source ('cells-extra'),
// whose data is replaced only when such a new cell first appears, so the large source
// ('cells') is uploaded exactly once.
//
// The backup layer, off by default, tints the cells that fewer than BACKUP_UNITS units reach
// within 3 minutes. It reads the 'backed' feature state, set alongside 'tier' from each cell's
// n3, so showing or hiding it only changes the layer's visibility.
import { cellToBoundary, polygonToCells } from 'h3-js';
import { BACKUP_COLOR, BACKUP_UNITS, HEX_OPACITY, TIERS, tierOf } from './theme.js';

const MAIN = 'cells';
const EXTRA = 'cells-extra';

/** tierColor is a paint expression colouring a hexagon by its 'tier' feature state. */
const tierColor = [
  'match',
  ['coalesce', ['feature-state', 'tier'], 0],
  ...TIERS.filter((t) => t.id !== 0).flatMap((t) => [t.id, t.color]),
  TIERS.find((t) => t.id === 0).color,
];

/** backupOpacity is a paint expression: clear where the 'backed' feature state holds, tinted elsewhere. */
const backupOpacity = ['case', ['boolean', ['feature-state', 'backed'], false], 0, 0.5];

/** backedOf tells whether a wire record's cell has backup: BACKUP_UNITS units within 3 minutes. */
export function backedOf(rec) {
  return (rec?.n3 ?? 0) >= BACKUP_UNITS;
}

/** polygonsOf returns the polygons (arrays of [lon, lat] rings) of a Polygon or MultiPolygon. */
function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/** feature builds one hexagon feature; boundaries come as closed [lon, lat] rings. */
function feature(cell, id) {
  return {
    type: 'Feature',
    id,
    properties: { h: cell },
    geometry: { type: 'Polygon', coordinates: [cellToBoundary(cell, true)] },
  };
}

/**
 * buildGrid returns every H3 cell (sorted) whose centre lies in the boundary (a GeoJSON
 * Polygon or MultiPolygon, lon/lat) at the resolution, and their hexagons as a GeoJSON
 * FeatureCollection whose feature ids are the cells' indexes. It is the costly part of the
 * layer, so it can run while the map is still loading.
 */
export function buildGrid(boundary, resolution) {
  const set = new Set();
  for (const poly of polygonsOf(boundary)) {
    for (const c of polygonToCells(poly, resolution, true)) set.add(c);
  }
  const cells = [...set].sort();
  return { cells, data: { type: 'FeatureCollection', features: cells.map(feature) } };
}

/**
 * HexLayer draws and colours the grid. Construct it after the map's 'load' event with a grid
 * from buildGrid. beforeLayer is the id of the layer to draw under ('' to draw on top).
 */
export class HexLayer {
  constructor(map, { grid, overTiles, beforeLayer }) {
    this.map = map;
    /** @type {Map<string, {src: string, id: number}>} where each known cell is drawn */
    this.where = new Map();
    /** cells of the main source (the boundary's) and of the extra one, by feature id */
    this.mainCells = grid.cells;
    this.extraCells = [];
    /** @type {Map<string, object>} the latest wire record of every reached cell */
    this.info = new Map();
    /** tier per feature id, per source */
    this.tiers = { [MAIN]: new Uint8Array(0), [EXTRA]: [] };
    /** backup per feature id, per source: 1 where the cell has backup */
    this.backed = { [MAIN]: new Uint8Array(0), [EXTRA]: [] };
    /** backedCount is the number of drawn cells with backup */
    this.backedCount = 0;
    /** showingBackup tells whether the backup layer is visible */
    this.showingBackup = false;
    /** counts[tier] over all drawn cells, and insideCounts over boundary cells only */
    this.counts = { 0: 0, 1: 0, 3: 0, 5: 0 };
    this.insideCounts = { 0: 0, 1: 0, 3: 0, 5: 0 };
    /** times the main source's geometry was handed to the map (once), and the extra source's */
    this.geometryUploads = 0;
    this.extraUploads = 0;

    this.mainCells.forEach((c, i) => this.where.set(c, { src: MAIN, id: i }));
    this.tiers[MAIN] = new Uint8Array(this.mainCells.length);
    this.backed[MAIN] = new Uint8Array(this.mainCells.length);
    this.counts[0] = this.mainCells.length;
    this.insideCounts[0] = this.mainCells.length;

    map.addSource(MAIN, {
      type: 'geojson',
      data: grid.data,
      // Hexagons are tiled up to z14 and overzoomed past it: precise enough, and less tiling work.
      maxzoom: 14,
      buffer: 16,
    });
    this.geometryUploads++;
    map.addSource(EXTRA, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

    const opacity = overTiles ? HEX_OPACITY.overTiles : HEX_OPACITY.plain;
    for (const src of [MAIN, EXTRA]) {
      map.addLayer(
        {
          id: `${src}-fill`,
          type: 'fill',
          source: src,
          paint: {
            'fill-color': tierColor,
            // Unreached cells stay faint so the reached area reads at a glance.
            'fill-opacity': ['match', ['coalesce', ['feature-state', 'tier'], 0], 0, opacity * 0.55, opacity],
            'fill-antialias': false,
          },
        },
        beforeLayer || undefined,
      );
      map.addLayer(
        {
          id: `${src}-backup`,
          type: 'fill',
          source: src,
          layout: { visibility: 'none' },
          paint: { 'fill-color': BACKUP_COLOR, 'fill-opacity': backupOpacity, 'fill-antialias': false },
        },
        beforeLayer || undefined,
      );
      map.addLayer(
        {
          id: `${src}-edge`,
          type: 'line',
          source: src,
          minzoom: 13.5,
          paint: { 'line-color': '#000000', 'line-opacity': 0.28, 'line-width': 0.6 },
        },
        beforeLayer || undefined,
      );
    }
  }

  /** backupLayerIds are the ids of the backup layers, one per source. */
  get backupLayerIds() {
    return [`${MAIN}-backup`, `${EXTRA}-backup`];
  }

  /** layerIds are the ids of the clickable fill layers. */
  get layerIds() {
    return [`${MAIN}-fill`, `${EXTRA}-fill`];
  }

  /** size is the number of hexagon features drawn. */
  get size() {
    return this.mainCells.length + this.extraCells.length;
  }

  /** coloured is the number of drawn cells reached within 5 minutes. */
  get coloured() {
    return this.counts[1] + this.counts[3] + this.counts[5];
  }

  /** unbacked is the number of drawn cells that lack backup (fewer than BACKUP_UNITS units within 3 minutes). */
  get unbacked() {
    return this.size - this.backedCount;
  }

  /** showBackup shows or hides the backup layer; no feature state changes. */
  showBackup(on) {
    this.showingBackup = !!on;
    for (const src of [MAIN, EXTRA]) {
      this.map.setLayoutProperty(`${src}-backup`, 'visibility', on ? 'visible' : 'none');
    }
  }

  /** cellAt returns the H3 cell of a rendered hexagon feature. */
  cellAt(f) {
    return f?.properties?.h || (f?.source === EXTRA ? this.extraCells[f.id] : this.mainCells[f?.id]);
  }

  /**
   * addMissing draws the given cells that are not drawn yet (outside the boundary). It
   * replaces the small extra source's data once for all of them, never the main source's.
   */
  addMissing(cells) {
    const fresh = cells.filter((c) => c && !this.where.has(c));
    if (fresh.length === 0) return;
    for (const c of fresh) {
      this.where.set(c, { src: EXTRA, id: this.extraCells.length });
      this.extraCells.push(c);
      this.tiers[EXTRA].push(0);
      this.backed[EXTRA].push(0);
      this.counts[0]++;
    }
    this.map.getSource(EXTRA).setData({
      type: 'FeatureCollection',
      features: this.extraCells.map(feature),
    });
    this.extraUploads++;
  }

  /** set records one cell's wire record and updates its feature state if its tier or backup changed. */
  set(rec) {
    const at = this.where.get(rec.cell);
    if (!at) return;
    const tier = tierOf(rec.eta_s);
    if (tier === 0) this.info.delete(rec.cell);
    else this.info.set(rec.cell, rec);
    const state = {};
    const old = this.tiers[at.src][at.id];
    if (old !== tier) {
      this.tiers[at.src][at.id] = tier;
      this.counts[old]--;
      this.counts[tier]++;
      if (at.src === MAIN) {
        this.insideCounts[old]--;
        this.insideCounts[tier]++;
      }
      state.tier = tier;
    }
    const backed = backedOf(rec) ? 1 : 0;
    if (this.backed[at.src][at.id] !== backed) {
      this.backed[at.src][at.id] = backed;
      this.backedCount += backed ? 1 : -1;
      state.backed = !!backed;
    }
    if ('tier' in state || 'backed' in state) this.map.setFeatureState({ source: at.src, id: at.id }, state);
  }

  /** applyDiff applies the changed cells of a diff. */
  applyDiff(cells) {
    if (!cells?.length) return;
    this.addMissing(cells.map((c) => c.cell));
    for (const rec of cells) this.set(rec);
  }

  /**
   * applySnapshot makes the layer show exactly the snapshot's reached cells: cells it does not
   * list are unreached. Only cells whose tier changes get a feature-state update.
   */
  applySnapshot(cells) {
    const list = cells || [];
    this.addMissing(list.map((c) => c.cell));
    const listed = new Set();
    for (const rec of list) {
      listed.add(rec.cell);
      this.set(rec);
    }
    for (const cell of [...this.info.keys()]) {
      if (!listed.has(cell)) this.set({ cell });
    }
  }

  /** shares returns the fraction of boundary cells within each tier (cumulative ≤1, ≤3, ≤5). */
  shares() {
    const n = this.mainCells.length || 1;
    const c = this.insideCounts;
    return { 1: c[1] / n, 3: (c[1] + c[3]) / n, 5: (c[1] + c[3] + c[5]) / n };
  }
}
