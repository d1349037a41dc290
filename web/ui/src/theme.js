// Colours, tiers and mechanism symbols shared by the map layers, markers and HTML panels.
// The page is a dark command-center display; every colour used on the map is defined here.

/** Response tiers. A cell's tier follows from its best ETA in seconds (see tierOf). */
export const TIERS = [
  { id: 1, label: '≤ 1 min', color: '#3ee0c0' },
  { id: 3, label: '≤ 3 min', color: '#2f9fe0' },
  { id: 5, label: '≤ 5 min', color: '#5b5fd6' },
  { id: 0, label: '> 5 min', color: '#5a2630' },
];

/** BACKUP_UNITS is how many units within 3 minutes give a cell backup (patrol.BackupUnits). */
export const BACKUP_UNITS = 2;

/** Tint of the backup layer's cells that lack backup. */
export const BACKUP_COLOR = '#ff9f1c';

/** Fill opacity of hexagons by tier, without and with a raster basemap underneath. */
export const HEX_OPACITY = { plain: 0.62, overTiles: 0.45 };

/**
 * tierOf returns the tier of a cell from its ETA in seconds:
 * 1 (≤ 60 s), 3 (≤ 180 s), 5 (≤ 300 s) or 0 (not reached within 5 minutes, or no ETA).
 */
export function tierOf(etaS) {
  if (typeof etaS !== 'number' || !Number.isFinite(etaS)) return 0;
  if (etaS <= 60) return 1;
  if (etaS <= 180) return 3;
  if (etaS <= 300) return 5;
  return 0;
}

/** Zone outline colours by rule status. */
export const ZONE_STATUS = {
  met: { label: 'Rule met', color: '#4ade80' },
  gap: { label: 'Gap (rule not met)', color: '#ff4d6d' },
  inactive: { label: 'Outside active hours', color: '#7b8794' },
};

/** City boundary outline. */
export const BOUNDARY_COLOR = '#c9d4e3';

/** Streets drawn under the hexagons when travel times run on a road network. */
export const ROAD_COLOR = '#9fb3c8';

/** Background of the built-in style (no basemap). */
export const BACKGROUND_COLOR = '#0a0f16';

/**
 * Mechanism symbols: a letter and a colour per mechanism id. Plans may define other
 * mechanisms; those get their initial and a colour from FALLBACK_COLORS.
 */
export const MECHANISMS = {
  vehicle: { letter: 'V', color: '#4c8dff', name: 'Vehicle patrol' },
  ebike: { letter: 'E', color: '#b07cff', name: 'E-bike patrol' },
  foot: { letter: 'F', color: '#53d769', name: 'Foot patrol' },
  post: { letter: 'P', color: '#ffb020', name: 'Fixed post' },
  joint: { letter: 'J', color: '#ff6fb5', name: 'Joint patrol' },
  video: { letter: 'C', color: '#e8e8e8', name: 'Video patrol' },
};

const FALLBACK_COLORS = ['#00c2d1', '#f4d35e', '#ee964b', '#9fd356', '#c2a0ff'];

/**
 * mechanismStyle returns {letter, color, name, full} for a mechanism id (never undefined):
 * name is a short label for tight places, full the plan's own name (planName) when it has one.
 */
export function mechanismStyle(id, planName) {
  const known = MECHANISMS[id];
  if (known) return { ...known, full: planName || known.name };
  let h = 0;
  for (const ch of String(id)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return {
    letter: String(id || '?').charAt(0).toUpperCase(),
    color: FALLBACK_COLORS[h % FALLBACK_COLORS.length],
    name: planName || String(id),
    full: planName || String(id),
  };
}

/** Unit status labels (the wire values are available, dispatched, on_scene and off_duty). */
export const STATUS_LABEL = {
  available: 'Available',
  dispatched: 'Dispatched',
  on_scene: 'On scene',
  off_duty: 'Off duty',
};

/** statusStyle returns the style group of a status: a dispatched unit and one on scene are both drawn on call ('busy'). */
export function statusStyle(status) {
  return status === 'dispatched' || status === 'on_scene' || status === 'busy' ? 'busy' : status;
}
