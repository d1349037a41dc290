// patrolgrid command-center live map.
//
// Loads the plan, draws the city's H3 grid once, then follows the live feed: a snapshot on
// every (re)connection and diffs after it. Hexagons are coloured by response tier through
// feature state, priority zones are outlined above them, units are HTML markers (spread apart
// where they would overlap), and every text is HTML (the map has no glyphs): zone labels too.
//
// Page URL parameters: ?token=T (sent as a bearer token to the API and as ?token= to the
// websocket), ?tiles=URL (a raster tile template to draw under everything; otherwise
// GET /api/v1/config decides, and without one the page draws on a plain background, with the
// streets of GET /api/v1/roads under the hexagons when travel times run on a road network).
//
// Test hooks live on window.patrolgrid (see hooks below).
import maplibregl from './maplibre.js';
import { Client } from './api.js';
import { Live } from './live.js';
import { HexLayer, backedOf, buildGrid } from './cells.js';
import { ZoneLayer, addBoundary, geometryBounds, statusOf } from './zones.js';
import { Units } from './units.js';
import { GapPanel, required } from './panel.js';
import { Incidents } from './incidents.js';
import { Replay } from './replay.js';
import { Warnings } from './warnings.js';
import { Clock, errorRecorder, esc, eta, pct } from './format.js';
import { BACKGROUND_COLOR, BACKUP_COLOR, MECHANISMS, ROAD_COLOR, TIERS, ZONE_STATUS, mechanismStyle, tierOf } from './theme.js';

const ILLUSTRATIVE_LABEL = 'Illustrative data — positions approximate, not official';

/**
 * noticeLabel returns the short label the top bar shows for a plan's notice: the notice itself
 * when it is short, else the plain illustrative-data label (the full text stays available).
 */
function noticeLabel(notice) {
  if (notice.length <= 64) return notice;
  if (/illustrative|synthetic|demo/i.test(notice)) return ILLUSTRATIVE_LABEL;
  return `${notice.slice(0, 60).trimEnd()}…`;
}

/**
 * hooks is the page's state for automated tests:
 *   ready          true once the map has loaded, a snapshot is applied and the hexagons are drawn
 *   cells          number of hexagon features
 *   colouredCells  number of hexagons reached within 5 minutes
 *   units          number of unit markers
 *   diffs          number of diffs applied
 *   snapshots      number of snapshots applied (one per connection)
 *   geometryUploads  times the grid's hexagon geometry was handed to the map (once: diffs only set
 *                  feature state)
 *   extraUploads   times the small source of cells reported outside the boundary was replaced
 *   lastApplyMs, avgApplyMs, maxApplyMs  time spent applying the last diff / diffs on average
 *                  (moving) / the slowest message, in ms
 *   timing         milestones in ms since navigation (plan, grid, mapLoad, geometry, snapshot, ready)
 *   connection     the live feed's state: connecting, live, retrying or closed
 *   errors         messages of errors the page ran into
 *   travel         'road' or 'lattice': what travel times run on
 *   roads          number of road lines drawn as the base layer (0 without)
 *   offNetwork     number of units off the road network
 *   zoneLabels     number of zone labels shown (those of the zones in view)
 *   spreadUnits    number of unit markers moved off their position so that none overlap
 *   layouts        times markers and labels were laid out (after a view change or live message)
 *   backupLayer    whether the backup layer (cells lacking backup tinted) is shown
 *   unbackedCells  number of drawn hexagons with fewer than two units within 3 minutes
 *   incidents      number of incident markers; openIncident the id of the incident whose card
 *                  is open ('' for none), candidates the number of units it ranks
 *   moveUp         the move-up drawn as an arrow: {unit, to_cell, ...} or null
 *   map            the MapLibre map, for inspection
 */
const hooks = {
  ready: false,
  cells: 0,
  colouredCells: 0,
  units: 0,
  diffs: 0,
  snapshots: 0,
  geometryUploads: 0,
  extraUploads: 0,
  lastApplyMs: 0,
  avgApplyMs: 0,
  maxApplyMs: 0,
  connection: 'connecting',
  timing: {},
  errors: [],
  travel: '',
  roads: 0,
  offNetwork: 0,
  zoneLabels: 0,
  spreadUnits: 0,
  layouts: 0,
  backupLayer: false,
  unbackedCells: 0,
  incidents: 0,
  openIncident: '',
  candidates: 0,
  moveUp: null,
  replay: null,
  warnings: 0,
  map: null,
};
window.patrolgrid = hooks;

const $ = (id) => document.getElementById(id);

/** mark records a start-up milestone once. */
function mark(name) {
  hooks.timing[name] ??= Math.round(performance.now());
}

/** recordError keeps an error for the test hooks and logs it once. */
const recordError = errorRecorder(hooks.errors, 'patrolgrid:');

/** baseStyle is the map style: a plain background, with raster tiles under everything if given. */
function baseStyle(tiles, attribution) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } }],
  };
  if (tiles) {
    style.sources.basemap = {
      type: 'raster',
      tiles: [tiles],
      tileSize: 256,
      maxzoom: 19,
      ...(attribution ? { attribution } : {}),
    };
    // Dimmed so the coverage colours stay readable on a dark display.
    style.layers.push({
      id: 'basemap',
      type: 'raster',
      source: 'basemap',
      paint: { 'raster-brightness-max': 0.5, 'raster-saturation': -0.6, 'raster-contrast': 0.1 },
    });
  }
  return style;
}

/** fitPadding keeps the city clear of the legend that floats over the map's lower left. */
function fitPadding() {
  const legend = $('legend');
  const map = $('map');
  const roomy = map.clientWidth > 900;
  return { top: 28, bottom: 28, right: 28, left: roomy ? legend.offsetWidth + 28 : 28 };
}

/** fitZoom returns the zoom at which bounds fill the map's view (NaN when it cannot tell). */
function fitZoom(map, bounds) {
  return map.cameraForBounds(bounds, { padding: fitPadding() })?.zoom ?? NaN;
}

/**
 * blockedBoxes returns the boxes of the cards and controls over the map, in CSS pixels of the
 * map ({x0, y0, x1, y1}), for labels to keep clear of.
 */
function blockedBoxes() {
  const m = $('map').getBoundingClientRect();
  const els = [$('legend'), $('notice-full'), $('feed-banner'), ...document.querySelectorAll('#map .maplibregl-ctrl')];
  return els
    .filter((el) => el && !el.hidden && el.offsetParent)
    .map((el) => el.getBoundingClientRect())
    .map((r) => ({ x0: r.left - m.left, y0: r.top - m.top, x1: r.right - m.left, y1: r.bottom - m.top }));
}

/**
 * popupOffset returns a popup offset for each anchor that points it at a unit marker drawn
 * [dx, dy] pixels off the unit's position, clear of the marker's disc.
 */
function popupOffset([dx, dy]) {
  const r = 14;
  const d = r * Math.SQRT1_2;
  return {
    center: [dx, dy],
    top: [dx, dy + r],
    bottom: [dx, dy - r],
    left: [dx + r, dy],
    right: [dx - r, dy],
    'top-left': [dx + d, dy + d],
    'top-right': [dx - d, dy + d],
    'bottom-left': [dx + d, dy - d],
    'bottom-right': [dx - d, dy - d],
  };
}

/** showFatal replaces the map with an error message (the page cannot work without a plan). */
function showFatal(title, detail) {
  const el = $('fatal');
  el.innerHTML = `<h2>${esc(title)}</h2><p>${esc(detail)}</p>`;
  el.hidden = false;
}

/** renderLegend fills the legend card; shares are the fractions of city cells per tier. */
function renderLegend(plan, shares, travel) {
  const mechs = (plan.mechanisms?.length ? plan.mechanisms : Object.keys(MECHANISMS).map((id) => ({ id })))
    .map((m) => ({ id: m.id, ...mechanismStyle(m.id, m.name) }));
  const cum = { 1: shares?.[1], 3: shares?.[3], 5: shares?.[5] };
  $('legend').innerHTML =
    `<div class="legend-title">Response time <span class="muted">· share of city (cumulative)</span></div>` +
    TIERS.map(
      (t) =>
        `<div class="legend-row"><span class="sw hex" style="background:${t.color}"></span>${t.label}` +
        `<span class="legend-val num" id="share-${t.id}">${t.id ? pct(cum[t.id]) : ''}</span></div>`,
    ).join('') +
    `<label class="legend-row legend-toggle" title="Cells that fewer than two available units reach within 3 minutes">` +
    `<input type="checkbox" id="backup-toggle"><span class="sw hex" style="background:${BACKUP_COLOR}"></span>No backup (&lt; 2 units ≤ 3 min)</label>` +
    `<div class="legend-title">Priority zones</div>` +
    Object.values(ZONE_STATUS)
      .map((s) => `<div class="legend-row"><span class="sw zone" style="border-color:${s.color}"></span>${s.label}</div>`)
      .join('') +
    `<div class="legend-title">Units</div><div class="legend-mechs">` +
    mechs
      .map((m) => `<div class="legend-row" title="${esc(m.full)}"><span class="badge" style="--mc:${m.color}">${esc(m.letter)}</span>${esc(m.name)}</div>`)
      .join('') +
    `</div><div class="legend-states">` +
    `<span><span class="mini unit has-heading" data-status="available" data-fix="yes" style="--mc:#9aa7b8"><span class="unit-arrow"></span><span class="unit-disc"></span></span>moving (heading)</span>` +
    `<span><span class="mini unit" data-status="busy" data-fix="yes" style="--mc:#9aa7b8"><span class="unit-disc"></span></span>on call</span>` +
    `<span><span class="mini incident" data-state="open" data-priority="1"><span class="incident-mark"></span></span>incident</span>` +
    `<span><span class="mini move-sw"></span>suggested move-up</span>` +
    `<span><span class="mini unit" data-status="off_duty" data-fix="yes" style="--mc:#9aa7b8"><span class="unit-disc"></span></span>off duty</span>` +
    `<span><span class="mini unit" data-status="available" data-fix="no" style="--mc:#9aa7b8"><span class="unit-disc"></span></span>no fix (at post)</span>` +
    `<span class="wide"><span class="mini unit spread" style="--mc:#9aa7b8;margin-left:9px"><span class="unit-leg" style="width:11px;transform:rotate(165deg)"></span><span class="unit-disc"></span></span>moved apart (line to its position)</span>` +
    (travel === 'road'
      ? `<span class="wide"><span class="mini unit off-network" data-status="available" data-fix="yes" style="--mc:#9aa7b8"><span class="unit-disc"></span></span>off network (not counted)</span>`
      : '') +
    `</div>`;
}

/** updateShares refreshes the legend's coverage figures. */
function updateShares(shares) {
  for (const id of [1, 3, 5]) {
    const el = $(`share-${id}`);
    if (el) el.textContent = pct(shares[id]);
  }
}

/** conn is the live feed's state as shown in the top bar. */
const conn = { state: 'connecting', retryAt: 0, lastMessageAt: 0, lastServerTime: '', clock: null };

/** setConnection records the live feed's state and shows it. */
function setConnection(state, detail) {
  hooks.connection = state;
  conn.state = state;
  conn.retryAt = state === 'retrying' ? Date.now() + (detail?.delayMs || 0) : 0;
  renderConnection();
}

/**
 * renderConnection draws the top bar indicator (with the reconnect countdown) and, while the
 * feed is down after data has arrived, a banner saying how old the data on screen is.
 */
function renderConnection() {
  const clock = conn.clock;
  const el = $('conn');
  el.dataset.state = conn.state;
  const text = {
    connecting: 'Connecting…',
    live: 'Live',
    retrying: `Reconnecting in ${Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000))}s`,
    closed: 'Offline',
    replay: 'Replay',
  }[conn.state];
  $('conn-text').textContent = text || conn.state;
  const quiet = conn.lastMessageAt ? (Date.now() - conn.lastMessageAt) / 1000 : 0;
  el.classList.toggle('quiet', conn.state === 'live' && quiet > 15);
  el.title = conn.lastMessageAt ? `Last update ${Math.round(quiet)} s ago` : '';

  const banner = $('feed-banner');
  const down = conn.state !== 'live' && conn.state !== 'replay' && conn.lastMessageAt > 0;
  if (down && clock) banner.textContent = `Live feed lost — showing data as of ${clock.hms(conn.lastServerTime)}`;
  if (banner.hidden === down) banner.hidden = !down;
}

async function main() {
  const params = new URLSearchParams(location.search);
  const client = new Client(location.href, params.get('token') || '');

  let plan;
  let tiles;
  let travel;
  try {
    [plan, { tiles, travel }] = await Promise.all([client.plan(), client.settings(params.get('tiles') || '')]);
  } catch (err) {
    showFatal('Cannot load the plan', err.message);
    recordError(`plan: ${err.message}`);
    return;
  }

  mark('plan');
  const clock = new Clock(plan.timezone);
  conn.clock = clock;
  document.title = `${plan.name || 'patrolgrid'} — live map`;
  $('plan-name').textContent = plan.name || 'Unnamed plan';
  $('plan-city').textContent = plan.city ? ` · ${plan.city}` : '';
  if (plan.notice) {
    $('notice').textContent = noticeLabel(plan.notice);
    $('notice').title = plan.notice;
    $('notice').hidden = false;
    $('notice-full').textContent = plan.notice;
    $('notice-full').hidden = false;
  }
  $('clock-tz').textContent = plan.timezone || '';
  hooks.travel = travel;
  renderTravel(travel);
  renderLegend(plan, null, travel);
  // Streets are the base layer only without tiles; they load while the map does.
  const roadsData = travel === 'road' && !tiles ? loadRoads(client) : Promise.resolve(null);

  const bounds = geometryBounds(plan.boundary);
  const map = new maplibregl.Map({
    container: 'map',
    style: baseStyle(tiles, params.get('attribution') || ''),
    bounds: bounds || undefined,
    center: bounds ? undefined : [0, 0],
    zoom: bounds ? undefined : 1,
    fitBoundsOptions: { padding: fitPadding() },
    attributionControl: tiles ? { compact: true } : false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
    fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.on('error', (ev) => {
    // An unreachable basemap must not break the page; anything else is an error.
    if (ev.sourceId === 'basemap') console.warn('patrolgrid: basemap tile failed:', ev.error?.message);
    else recordError(`map: ${ev.error?.message || ev.error || 'error'}`);
  });
  hooks.map = map;

  // The live feed opens while the map loads; messages wait in a queue until the layers
  // exist. A snapshot supersedes everything queued before it.
  let queue = [];
  let handle = (msg) => {
    if (msg.type === 'snapshot') queue = [];
    queue.push(msg);
  };
  const live = new Live(client.liveURL(), { onMessage: (msg) => handle(msg), onState: setConnection });
  live.start();
  window.addEventListener('online', () => live.retryNow());
  window.addEventListener('pagehide', () => live.stop());

  const loaded = new Promise((resolve) => map.once('load', resolve));
  const grid = buildGrid(plan.boundary, plan.resolution);
  mark('grid');
  await loaded;
  mark('mapLoad');
  // The map zooms out at most one step past the zoom at which the city fills the view: further
  // out the city is a knot of markers and labels. The limit only ever goes down (on a smaller
  // window), so the whole city can always be brought into view.
  let zoomFloor = Infinity;
  const limitZoomOut = () => {
    const z = bounds && fitZoom(map, bounds);
    if (Number.isFinite(z) && z - 1 < zoomFloor) {
      zoomFloor = Math.max(0, z - 1);
      map.setMinZoom(zoomFloor);
    }
  };
  limitZoomOut();
  map.on('resize', limitZoomOut);

  // Layers, bottom to top: background, basemap or roads, hexagons, boundary, zones; zone labels
  // and unit markers above all.
  const roads = await roadsData;
  if (roads) addRoads(map, roads);
  const hex = new HexLayer(map, { grid, overTiles: !!tiles || !!roads });
  addBoundary(map, plan.boundary);
  const zones = new ZoneLayer(map, plan.zones, { onSelect: (id) => focusZone(id) });
  hooks.cells = hex.size;
  $('backup-toggle').addEventListener('change', (ev) => {
    hex.showBackup(ev.target.checked);
    hooks.backupLayer = hex.showingBackup;
  });
  mark('geometry');

  const popup = new maplibregl.Popup({ closeButton: true, closeOnClick: false, maxWidth: '300px', offset: 14, className: 'pg-popup' });
  let popupUnit = '';
  popup.on('close', () => {
    popupUnit = '';
    units.highlight('');
  });

  const units = new Units(map, {
    plan,
    clock,
    listEl: $('unit-list'),
    summaryEl: $('unit-summary'),
    onSelect: (id) => selectUnit(id, true),
  });
  $('unit-count').textContent = String(units.entries.size);

  /** selectUnit opens a unit's popup (and, from the list, flies to it). */
  function selectUnit(id, fly) {
    const e = units.get(id);
    const ll = e && units.lngLat(e);
    if (!ll) return;
    popupUnit = id;
    units.highlight(id);
    popup.setOffset(popupOffset(units.offsetOf(id))).setLngLat(ll).setHTML(units.popupHTML(id)).addTo(map);
    if (fly) map.easeTo({ center: ll, zoom: Math.max(map.getZoom(), 14), duration: 600 });
  }

  const panel = new GapPanel({
    planZones: plan.zones,
    clock,
    gapsEl: $('gaps'),
    gapCountEl: $('gap-count'),
    alertsEl: $('alerts'),
    zoneSummaryEl: $('zone-summary'),
    onSelect: (id) => focusZone(id),
  });

  /** focusZone fits the map to a zone (from a gap card, an alert or a zone label). */
  function focusZone(id) {
    const b = zones.bounds(id);
    if (b) map.fitBounds(b, { padding: 80, maxZoom: 16, duration: 700 });
  }

  // Markers and labels are laid out again, once a frame at most, whenever the view or the
  // units move: overlapping markers spread, then zone labels placed clear of them.
  let layoutFrame = 0;
  function scheduleLayout() {
    layoutFrame ||= requestAnimationFrame(() => {
      layoutFrame = 0;
      hooks.spreadUnits = units.layout(zones.holes());
      hooks.zoneLabels = zones.placeLabels({ blocked: blockedBoxes(), markers: units.boxes });
      hooks.layouts++;
      if (popupUnit) popup.setOffset(popupOffset(units.offsetOf(popupUnit)));
    });
  }
  map.on('move', scheduleLayout);
  map.on('resize', scheduleLayout);
  scheduleLayout();

  const incidents = new Incidents(map, {
    client,
    units,
    clock,
    els: { listEl: $('incidents'), countEl: $('incident-count'), cardEl: $('incident-card'), formEl: $('report-form') },
    onChange: () => {
      hooks.incidents = incidents.markers.size;
      hooks.openIncident = incidents.open?.id || '';
      hooks.candidates = incidents.open?.candidates?.length || 0;
      hooks.moveUp = incidents.arrow ? { unit: incidents.arrow.unit, to_cell: incidents.arrow.to_cell } : null;
    },
  });
  map.on('zoomend', () => incidents.redrawArrow());

  const names = new Map([...(plan.zones || []).map((z) => [z.id, z.name]), ...(plan.units || []).map((u) => [u.id, `${u.id} ${u.name || ''}`.trim()])]);
  const warnings = new Warnings({ client, clock, listEl: $('warnings'), countEl: $('warning-count'), names });

  // A click on the map places an incident being reported, or describes the hexagon (and zone)
  // under it.
  map.on('click', (ev) => {
    if (incidents.handleClick(ev.lngLat)) return;
    const hits = map.queryRenderedFeatures(ev.point, { layers: [...hex.layerIds, ...zones.layerIds] });
    const cellF = hits.find((f) => hex.layerIds.includes(f.layer.id));
    const zoneF = hits.find((f) => zones.layerIds.includes(f.layer.id));
    if (!cellF && !zoneF) {
      popup.remove();
      return;
    }
    popupUnit = '';
    units.highlight('');
    popup.setLngLat(ev.lngLat).setHTML(cellHTML(hex, cellF && hex.cellAt(cellF), zoneF && zones.zoneAt(zoneF), panel)).addTo(map);
  });
  for (const id of [...hex.layerIds, ...zones.layerIds]) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }

  /** refresh updates the counters, hooks and the open unit popup after a live message. */
  function refresh(msg) {
    hooks.cells = hex.size;
    hooks.colouredCells = hex.coloured;
    hooks.unbackedCells = hex.unbacked;
    hooks.units = units.markerCount;
    hooks.offNetwork = units.offNetworkCount;
    hooks.geometryUploads = hex.geometryUploads;
    hooks.warnings = warnings.open;
    hooks.extraUploads = hex.extraUploads;
    updateShares(hex.shares());
    // Rewriting a popup forces a layout, so only the open unit's own updates do it.
    if (popupUnit && (msg.type === 'snapshot' || msg.units?.some((u) => u.id === popupUnit))) {
      const e = units.get(popupUnit);
      const ll = e && units.lngLat(e);
      if (ll) popup.setLngLat(ll).setHTML(units.popupHTML(popupUnit));
    }
  }

  let snapshotApplied = false;
  function onMessage(msg) {
    const t0 = performance.now();
    conn.lastMessageAt = Date.now();
    conn.lastServerTime = msg.time || conn.lastServerTime;
    if (msg.time) clock.sync(msg.time);
    if (msg.type === 'snapshot') {
      if (msg.resolution && plan.resolution && msg.resolution !== plan.resolution) {
        recordError(`live feed resolution ${msg.resolution} differs from the plan's ${plan.resolution}`);
      }
      hex.applySnapshot(msg.cells);
      zones.update(msg.zones);
      units.applySnapshot(msg.units);
      panel.applySnapshot(msg.zones, msg.alerts);
      incidents.applySnapshot(msg.incidents);
      warnings.applySnapshot(msg.warnings);
      hooks.snapshots++;
      snapshotApplied = true;
      mark('snapshot');
    } else if (msg.type === 'diff') {
      hex.applyDiff(msg.cells);
      zones.update(msg.zones);
      units.applyDiff(msg.units);
      panel.applyDiff(msg.zones, msg.alerts);
      if (msg.incidents?.length) incidents.apply(msg.incidents);
      if (msg.warnings?.length) warnings.apply(msg.warnings);
      hooks.diffs++;
    } else {
      return;
    }
    refresh(msg);
    scheduleLayout();
    const ms = performance.now() - t0;
    hooks.maxApplyMs = Math.max(hooks.maxApplyMs, ms);
    if (msg.type === 'diff') {
      hooks.lastApplyMs = ms;
      hooks.avgApplyMs = hooks.diffs === 1 ? ms : hooks.avgApplyMs * 0.9 + ms * 0.1;
    }
    checkReady();
  }

  /** checkReady sets hooks.ready once a snapshot is applied and the hexagons are drawn. */
  function checkReady() {
    if (hooks.ready || !snapshotApplied) return;
    if (map.isSourceLoaded('cells')) {
      hooks.ready = true;
      mark('ready');
    }
  }
  // 'render' fires after a frame is drawn: once the hexagon source is loaded, they are on screen.
  map.on('render', checkReady);

  handle = onMessage;
  for (const msg of queue) onMessage(msg);
  queue = [];

  // Replay: while a past window plays, the live feed is set aside; back to live, a new
  // connection brings a fresh snapshot.
  const replay = new Replay({
    client,
    clock,
    zones: plan.zones || [],
    els: { bar: $('replay-bar'), toggle: $('replay-open') },
    onEnter: () => {
      handle = () => {};
      live.stop();
      setConnection('replay');
      document.body.classList.add('replaying');
    },
    onFrame: (frame, cells, full, i) => {
      if (full) hex.applySnapshot(cells);
      else hex.applyDiff(cells);
      zones.update(frame.zones);
      units.applySnapshot(frame.units);
      panel.applyDiff(frame.zones, []);
      refresh({ type: 'snapshot' });
      scheduleLayout();
      hooks.replay = { frames: replay.frames.length, index: i, at: frame.at, city: frame.city, cells: hex.coloured };
    },
    onLeave: () => {
      document.body.classList.remove('replaying');
      hooks.replay = null;
      handle = onMessage;
      live.start();
    },
  });
  hooks.replayControl = replay;

  // Once a second: clock, fix ages and the feed's state.
  setInterval(() => {
    $('clock').textContent = clock.hms(clock.now());
    units.tick();
    const ageEl = popupUnit && popup.getElement()?.querySelector('.pp-age');
    if (ageEl) ageEl.textContent = units.ageText(popupUnit);
    renderConnection();
  }, 1000);
}

/** renderTravel shows in the top bar what travel times run on. */
function renderTravel(travel) {
  const el = $('travel');
  el.dataset.travel = travel;
  el.textContent = travel === 'road' ? 'Road network' : 'Lattice travel times';
  el.title =
    travel === 'road'
      ? 'Response times are drives over the streets of an OpenStreetMap extract'
      : 'No road network loaded: response times are hops across hexagons at a speed per mechanism';
  el.hidden = false;
}

/** loadRoads fetches the road network for the base layer; on failure the map goes without. */
async function loadRoads(client) {
  try {
    return await client.roads();
  } catch (err) {
    console.warn('patrolgrid: roads unavailable, drawing without them:', err.message);
    return null;
  }
}

/** addRoads draws the streets as thin lines, the lowest layer above the background. */
function addRoads(map, data) {
  map.addSource('roads', { type: 'geojson', data, maxzoom: 15, buffer: 8 });
  map.addLayer({
    id: 'roads',
    type: 'line',
    source: 'roads',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: {
      'line-color': ROAD_COLOR,
      'line-opacity': 0.75,
      'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.5, 15, 1.2, 18, 3],
    },
  });
  hooks.roads = data.features?.length || 0;
}

/** cellHTML describes a clicked hexagon and the zone it lies in. */
function cellHTML(hex, cell, zone, panel) {
  let html = '';
  if (cell) {
    const rec = hex.info.get(cell);
    const tier = TIERS.find((t) => t.id === tierOf(rec?.eta_s));
    html +=
      `<div class="pp-title"><span class="sw hex" style="background:${tier.color}"></span><b>Cell</b> <code>${esc(cell)}</code></div>` +
      `<table class="pp-table">` +
      `<tr><th>Best ETA</th><td class="num">${esc(eta(rec?.eta_s))}${rec ? ' min' : ''}</td></tr>` +
      `<tr><th>Units ≤ 1 / 3 / 5 min</th><td class="num">${rec?.n1 ?? 0} / ${rec?.n3 ?? 0} / ${rec?.n5 ?? 0}</td></tr>` +
      `<tr><th>Backup ≤ 3 min</th><td>${backedOf(rec) ? 'yes' : 'no'}</td></tr>` +
      `</table>`;
  }
  if (zone) {
    const z = panel.zones.get(zone.id) || {};
    const status = panel.zones.has(zone.id) ? statusOf(z) : 'inactive';
    const hours = (zone.hours || []).map((h) => `${h.from}–${h.to}`).join(', ') || 'all day';
    html +=
      `<div class="pp-title pp-zone"><span class="sw zone" style="border-color:${ZONE_STATUS[status].color}"></span>` +
      `<b>${esc(zone.name || zone.id)}</b> <span class="muted">${esc((zone.kind || '').replace(/_/g, ' '))}</span></div>` +
      `<table class="pp-table"><tr><th>Status</th><td>${esc(ZONE_STATUS[status].label)}</td></tr>` +
      `<tr><th>Hours</th><td>${esc(hours)}</td></tr>` +
      ['m1', 'm3', 'm5']
        .map((k) => [k, z.rule?.[k] || zone.rule?.[k]])
        .filter(([, r]) => required(r))
        .map(([k, r]) => {
          return `<tr><th>≤ ${k.slice(1)} min</th><td class="num">${pct(z.shares?.[k])} <span class="muted">/ need ${pct(r.share)}, ${r.units} unit${r.units === 1 ? '' : 's'}</span></td></tr>`;
        })
        .join('') +
      (typeof z.backup_share === 'number' ? `<tr><th>Backup ≤ 3 min</th><td class="num">${pct(z.backup_share)} <span class="muted">of cells</span></td></tr>` : '') +
      `</table>`;
  }
  return html;
}

main().catch((err) => {
  showFatal('The map failed to start', err.message);
  recordError(err.message);
});
