// patrolgrid planner page.
//
// Shows a working plan over the city's H3 grid: each unit's area in a colour of its own (no two
// touching areas alike), its post as a dot, the priority zones outlined green where their rule
// is met and red where not, and the plan's evaluation beside the live plan's or a saved
// version's. A planner designs a plan or rebalances the working one, gives cells from one area
// to another and moves posts by clicking the map (the server keeps every area in one piece and
// re-evaluates the plan), undoes edits, and saves and opens named versions.
//
// Page URL parameters: ?token=T (a planner token edits; a viewer token only looks).
// Test hooks live on window.planner (see hooks below).
import maplibregl from './maplibre.js';
import { cellToLatLng, gridDisk } from 'h3-js';
import { Client, HTTPError } from './api.js';
import { buildGrid } from './cells.js';
import { addBoundary, geometryBounds } from './zones.js';
import { errorRecorder, esc } from './format.js';
import { BACKGROUND_COLOR, ZONE_STATUS, mechanismStyle } from './theme.js';

/** PALETTE colours the unit areas; touching areas never share one. */
const PALETTE = ['#3d7be0', '#e0a23d', '#4fbf7a', '#c75ec2', '#d9d45a', '#4cc3c9', '#e06a5b', '#8d7be8', '#9acb52', '#e08fb8', '#5d9fb0', '#c9a27a'];
const NO_AREA = '#1b2430';

/**
 * hooks is the page's state for automated tests:
 *   ready       true once the map has loaded and the working plan is drawn with its evaluation
 *   units       units of the working plan
 *   edits       edits made (cells given, posts moved); designs: designs and rebalances applied
 *   selected    id of the selected unit ('' for none); mode: select, cells or post
 *   evaluation  the working plan's evaluation; compare: the evaluation it is compared with
 *   busy        true while a request to the server runs
 *   errors      messages of errors the page ran into; lastError the latest edit refused
 *   borderMove()  a cell that may pass to a touching area: {cell, from, to}, or null
 *   screenPoint(cell)  the window point [x, y] of a cell's centre; focus(cell) centres the map on it
 *   neighbourIn(cell, unit)  a cell of unit's area touching cell ('' for none)
 *   map         the MapLibre map
 */
const hooks = {
  ready: false,
  units: 0,
  edits: 0,
  designs: 0,
  selected: '',
  mode: 'select',
  evaluation: null,
  compare: null,
  busy: false,
  errors: [],
  lastError: '',
  map: null,
};
window.planner = hooks;

const $ = (id) => document.getElementById(id);

const recordError = errorRecorder(hooks.errors, 'patrolgrid planner:');

/** state is the working plan, its evaluation, what it is compared with and the edits to undo. */
const state = {
  plan: null,
  evaluation: null,
  compare: { name: 'the live plan', evaluation: null },
  history: [],
  selected: '',
  mode: 'select',
  grid: null,
  index: new Map(), // cell → feature id
  owner: [], // feature id → unit index, -1 for none
  colour: [], // unit index → palette index
};

/** rows of the evaluation table: label, value, formatted, and whether more is better. */
const ROWS = [
  ['Units (responding)', (e) => e.units, (e) => `${e.units} (${e.responding})`, 0],
  ['Demand ≤ 1 min', (e) => e.coverage.m1, (e) => pct1(e.coverage.m1), 1],
  ['Demand ≤ 3 min', (e) => e.coverage.m3, (e) => pct1(e.coverage.m3), 1],
  ['Demand ≤ 5 min', (e) => e.coverage.m5, (e) => pct1(e.coverage.m5), 1],
  ['With backup', (e) => e.backup, (e) => pct1(e.backup), 1],
  ['Mean drive (s)', (e) => e.mean_eta_s, (e) => e.mean_eta_s.toFixed(1), -1],
  ['Zones meeting rule', (e) => zonesMet(e), (e) => `${zonesMet(e)} of ${(e.zones || []).length}`, 1],
  ['Workload max/min', (e) => e.workload.ratio, (e) => e.workload.ratio.toFixed(2), -1],
  ['Workload CV', (e) => e.workload.cv, (e) => e.workload.cv.toFixed(3), -1],
  ['Compactness', (e) => e.workload.compactness, (e) => e.workload.compactness.toFixed(3), 1],
  ['Areas not contiguous', (e) => e.workload.split, (e) => String(e.workload.split), -1],
];

function pct1(f) {
  return `${(100 * f).toFixed(1)}%`;
}

function zonesMet(e) {
  return (e.zones || []).filter((z) => z.met).length;
}

/** renderEvaluation draws the table of the working plan against the plan compared with. */
function renderEvaluation() {
  const a = state.evaluation;
  const b = state.compare.evaluation;
  if (!a) return;
  const head = `<tr><th></th><th>working</th><th>${esc(state.compare.name)}</th></tr>`;
  const body = ROWS.map(([label, value, text, sign]) => {
    let cls = '';
    if (b && sign !== 0) {
      const d = (value(a) - value(b)) * sign;
      if (Math.abs(d) > 1e-9) cls = d > 0 ? 'better' : 'worse';
    }
    return `<tr><td>${esc(label)}</td><td class="num ${cls}">${esc(text(a))}</td><td class="num">${b ? esc(text(b)) : '—'}</td></tr>`;
  }).join('');
  $('evaluation').innerHTML = head + body;
  hooks.evaluation = a;
  hooks.compare = b;
}

/** areaColours gives each unit a palette colour that no touching area has (greedy colouring). */
function areaColours(plan) {
  const ownerOf = new Map();
  plan.units.forEach((u, i) => (u.area || []).forEach((c) => ownerOf.set(c, i)));
  const touching = plan.units.map(() => new Set());
  for (const [c, i] of ownerOf) {
    for (const n of gridDisk(c, 1)) {
      const j = ownerOf.get(n);
      if (j !== undefined && j !== i) touching[i].add(j);
    }
  }
  const colour = [];
  plan.units.forEach((_, i) => {
    const used = new Set([...touching[i]].map((j) => colour[j]).filter((x) => x !== undefined));
    let k = 0;
    while (used.has(k) && k < PALETTE.length - 1) k++;
    colour[i] = k;
  });
  return colour;
}

/** drawPlan sets every cell's area colour and the posts; recolour recomputes the colours. */
function drawPlan(map, recolour) {
  const plan = state.plan;
  if (recolour || state.colour.length !== plan.units.length) state.colour = areaColours(plan);
  const owner = new Array(state.grid.cells.length).fill(-1);
  plan.units.forEach((u, i) => {
    for (const c of u.area || []) {
      const id = state.index.get(c);
      if (id !== undefined) owner[id] = i;
    }
  });
  owner.forEach((u, id) => {
    if (u !== state.owner[id] || recolour) {
      map.setFeatureState({ source: 'areas', id }, { c: u < 0 ? -1 : state.colour[u] });
    }
  });
  state.owner = owner;
  map.getSource('posts').setData({
    type: 'FeatureCollection',
    features: plan.units.map((u) => {
      const [lat, lon] = cellToLatLng(u.post);
      return {
        type: 'Feature',
        properties: { unit: u.id, colour: mechanismStyle(u.mechanism).color, sel: u.id === state.selected },
        geometry: { type: 'Point', coordinates: [lon, lat] },
      };
    }),
  });
  const met = new Map((state.evaluation?.zones || []).map((z) => [z.zone, z.met]));
  (plan.zones || []).forEach((z, i) => map.setFeatureState({ source: 'plan-zones', id: i }, { met: met.get(z.id) ?? false }));
  hooks.units = plan.units.length;
  renderSelected(map);
}

/** renderSelected highlights the selected unit's area and describes it. */
function renderSelected(map) {
  const i = state.plan.units.findIndex((u) => u.id === state.selected);
  state.owner.forEach((u, id) => map.setFeatureState({ source: 'areas', id }, { sel: i >= 0 && u === i }));
  hooks.selected = state.selected;
  if (i < 0) {
    $('selected').textContent = 'Click an area to select its unit.';
    return;
  }
  const u = state.plan.units[i];
  const area = state.evaluation?.areas?.find((a) => a.unit === u.id);
  const m = mechanismStyle(u.mechanism);
  $('selected').innerHTML =
    `<span class="badge" style="--mc:${m.color}">${esc(m.letter)}</span> <b>${esc(u.id)}</b> ${esc(u.name || '')} · ${esc(m.name)} · ` +
    `${(u.area || []).length} cells${area ? ` · workload ${area.workload.toFixed(2)}` : ''}`;
}

/** setWorking makes answer ({plan, evaluation}) the working plan, keeping the old one to undo. */
function setWorking(map, answer, { undoable = true, recolour = false } = {}) {
  if (undoable && state.plan) state.history.push({ plan: state.plan, evaluation: state.evaluation });
  state.plan = answer.plan;
  state.evaluation = answer.evaluation;
  $('undo').disabled = state.history.length === 0;
  drawPlan(map, recolour);
  renderEvaluation();
}

/** request runs an API call with the busy indicator on, showing a refused edit's reason. */
async function request(what, call) {
  hooks.busy = true;
  $('busy').textContent = `${what}…`;
  $('edit-error').hidden = true;
  try {
    return await call();
  } catch (err) {
    const msg = err instanceof HTTPError && err.status === 401 ? 'this token may not change plans: a planner token is needed' : err.message;
    hooks.lastError = msg;
    $('edit-error').textContent = msg;
    $('edit-error').hidden = false;
    if (!(err instanceof HTTPError && err.status < 500)) recordError(`${what}: ${err.message}`);
    return null;
  } finally {
    hooks.busy = false;
    $('busy').textContent = '';
  }
}

/** mixOf returns a plan's units per mechanism as design's mix text. */
function mixOf(plan) {
  const n = new Map();
  for (const u of plan.units) n.set(u.mechanism, (n.get(u.mechanism) || 0) + 1);
  return [...n].map(([m, k]) => `${m}=${k}`).join(',');
}

/** onCell acts on a click on the map at cell, by the mode. */
async function onCell(map, client, cell) {
  const owner = state.owner[state.index.get(cell)];
  if (state.mode === 'select' || !state.selected) {
    state.selected = owner >= 0 ? state.plan.units[owner].id : '';
    drawPlan(map, false);
    return;
  }
  const path = state.mode === 'cells' ? 'api/v1/planner/cells' : 'api/v1/planner/posts';
  const answer = await request(state.mode === 'cells' ? 'Moving the cell' : 'Moving the post', () =>
    client.post(path, { plan: state.plan, cell, unit: state.selected }),
  );
  if (answer) {
    hooks.edits++;
    $('edit-count').textContent = String(hooks.edits);
    setWorking(map, answer);
  }
}

/** borderMove finds a cell that may pass to a touching area, both staying in one piece. */
function borderMove() {
  const plan = state.plan;
  const ownerOf = new Map();
  plan.units.forEach((u, i) => (u.area || []).forEach((c) => ownerOf.set(c, i)));
  for (const [i, u] of plan.units.entries()) {
    for (const c of u.area || []) {
      if (c === u.post) continue;
      const to = gridDisk(c, 1).map((n) => ownerOf.get(n)).find((j) => j !== undefined && j !== i);
      if (to === undefined) continue;
      const rest = new Set(u.area.filter((x) => x !== c));
      const start = rest.values().next().value;
      const seen = new Set([start]);
      const stack = [start];
      while (stack.length) {
        for (const n of gridDisk(stack.pop(), 1)) {
          if (rest.has(n) && !seen.has(n)) {
            seen.add(n);
            stack.push(n);
          }
        }
      }
      if (seen.size === rest.size) return { cell: c, from: u.id, to: plan.units[to].id };
    }
  }
  return null;
}

/** renderVersions lists the saved versions with buttons to open and compare them. */
async function renderVersions(client) {
  const list = await request('Listing versions', () => client.get('api/v1/planner/versions'));
  const versions = list?.versions || [];
  $('versions').innerHTML = versions.length
    ? versions
        .map(
          (v) =>
            `<li><span class="name" title="saved ${esc(v.saved_at)} by ${esc(v.by)}">${esc(v.name)}</span>` +
            `<button type="button" data-open="${esc(v.name)}">Open</button><button type="button" data-compare="${esc(v.name)}">Compare</button></li>`,
        )
        .join('')
    : '<li class="muted">No saved versions.</li>';
  const select = $('compare-with');
  select.innerHTML = `<option value="live">the live plan</option>` + versions.map((v) => `<option value="v:${esc(v.name)}">${esc(v.name)}</option>`).join('');
  hooks.versions = versions.length;
}

function addLayers(map, plan, grid) {
  map.addSource('areas', { type: 'geojson', data: grid.data, maxzoom: 14, buffer: 16 });
  const colour = ['match', ['coalesce', ['feature-state', 'c'], -1], ...PALETTE.flatMap((c, i) => [i, c]), NO_AREA];
  const sel = ['boolean', ['feature-state', 'sel'], false];
  map.addLayer({ id: 'areas-fill', type: 'fill', source: 'areas', paint: { 'fill-color': colour, 'fill-opacity': ['case', sel, 0.85, 0.45] } });
  map.addLayer({ id: 'areas-sel', type: 'line', source: 'areas', paint: { 'line-color': '#ffffff', 'line-width': 0.6, 'line-opacity': ['case', sel, 0.7, 0] } });
  map.addSource('plan-zones', {
    type: 'geojson',
    data: { type: 'FeatureCollection', features: (plan.zones || []).map((z, i) => ({ type: 'Feature', id: i, properties: { zone: z.id }, geometry: z.geometry })) },
  });
  const zoneColour = ['case', ['boolean', ['feature-state', 'met'], false], ZONE_STATUS.met.color, ZONE_STATUS.gap.color];
  map.addLayer({ id: 'zones-line', type: 'line', source: 'plan-zones', paint: { 'line-color': zoneColour, 'line-width': 2 } });
  addBoundary(map, plan.boundary);
  map.addSource('posts', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'posts',
    type: 'circle',
    source: 'posts',
    paint: {
      'circle-radius': ['case', ['get', 'sel'], 7, 3.5],
      'circle-color': ['get', 'colour'],
      'circle-stroke-color': '#05080c',
      'circle-stroke-width': 1.2,
    },
  });
}

function renderLegend() {
  $('legend').innerHTML =
    `<div class="legend-title">Unit areas</div><div class="legend-row muted small">a colour per area, a dot at each post</div>` +
    `<div class="legend-title">Priority zones</div>` +
    `<div class="legend-row"><span class="sw zone" style="border-color:${ZONE_STATUS.met.color}"></span>rule met</div>` +
    `<div class="legend-row"><span class="sw zone" style="border-color:${ZONE_STATUS.gap.color}"></span>rule not met</div>`;
}

function wire(map, client) {
  map.on('click', 'areas-fill', (ev) => {
    const id = ev.features?.[0]?.id;
    if (id !== undefined) onCell(map, client, state.grid.cells[id]);
  });
  for (const el of document.querySelectorAll('input[name="mode"]')) {
    el.addEventListener('change', () => {
      state.mode = el.value;
      hooks.mode = el.value;
    });
  }
  $('undo').addEventListener('click', () => {
    const prev = state.history.pop();
    if (prev) setWorking(map, prev, { undoable: false });
  });
  $('design-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const answer = await request('Designing', () =>
      client.post('api/v1/planner/design', { mix: $('design-mix').value.trim(), seed: Number($('design-seed').value) || 0 }),
    );
    if (answer) {
      hooks.designs++;
      state.selected = '';
      setWorking(map, answer, { recolour: true });
    }
  });
  $('rebalance-run').addEventListener('click', async () => {
    const share = Math.min(100, Math.max(0, Number($('rebalance-share').value) || 0)) / 100;
    const answer = await request('Rebalancing', () => client.post('api/v1/planner/design', { from: state.plan, max_moved: share }));
    if (answer) {
      hooks.designs++;
      setWorking(map, answer);
    }
  });
  $('save-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('version-name').value.trim();
    if (!name) return;
    const saved = await request('Saving', () => client.put(`api/v1/planner/versions/${encodeURIComponent(name)}`, { plan: state.plan }));
    if (saved) await renderVersions(client);
  });
  $('versions').addEventListener('click', async (ev) => {
    const name = ev.target.dataset?.open ?? ev.target.dataset?.compare;
    if (name === undefined) return;
    const v = await request('Opening', () => client.get(`api/v1/planner/versions/${encodeURIComponent(name)}`));
    if (!v) return;
    if (ev.target.dataset.open !== undefined) {
      state.selected = '';
      setWorking(map, v, { recolour: true });
    } else {
      state.compare = { name, evaluation: v.evaluation };
      $('compare-with').value = `v:${name}`;
      renderEvaluation();
    }
  });
  $('compare-with').addEventListener('change', async () => {
    const value = $('compare-with').value;
    const path = value === 'live' ? 'api/v1/planner/evaluate' : `api/v1/planner/versions/${encodeURIComponent(value.slice(2))}`;
    const v = await request('Evaluating', () => client.get(path));
    if (v) {
      state.compare = { name: value === 'live' ? 'the live plan' : value.slice(2), evaluation: v.evaluation };
      renderEvaluation();
    }
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  const client = new Client(location.href, params.get('token') || '');
  let live;
  try {
    live = await client.get('api/v1/planner/evaluate');
  } catch (err) {
    $('fatal').innerHTML = `<h2>Cannot load the plan</h2><p>${esc(err.message)}</p>`;
    $('fatal').hidden = false;
    recordError(`plan: ${err.message}`);
    return;
  }
  const plan = live.plan;
  document.title = `${plan.name || 'patrolgrid'} — planner`;
  $('plan-name').textContent = plan.name || 'Unnamed plan';
  $('plan-city').textContent = plan.city ? ` · ${plan.city}` : '';
  if (plan.notice) {
    $('notice').textContent = plan.notice.length > 64 ? `${plan.notice.slice(0, 60)}…` : plan.notice;
    $('notice').title = plan.notice;
    $('notice').hidden = false;
  }
  $('design-mix').value = mixOf(plan);
  renderLegend();
  state.grid = buildGrid(plan.boundary, plan.resolution);
  state.grid.cells.forEach((c, i) => state.index.set(c, i));
  const bounds = geometryBounds(plan.boundary);
  const map = new maplibregl.Map({
    container: 'map',
    style: { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } }] },
    bounds: bounds || undefined,
    fitBoundsOptions: { padding: 28 },
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    maxPitch: 0,
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  hooks.map = map;
  hooks.borderMove = borderMove;
  hooks.focus = (cell, zoom = 16) => {
    const [lat, lon] = cellToLatLng(cell);
    map.jumpTo({ center: [lon, lat], zoom });
  };
  hooks.neighbourIn = (cell, unit) => {
    const area = new Set(state.plan.units.find((u) => u.id === unit)?.area || []);
    return gridDisk(cell, 1).find((n) => n !== cell && area.has(n)) || '';
  };
  hooks.screenPoint = (cell) => {
    const [lat, lon] = cellToLatLng(cell);
    const at = map.project([lon, lat]);
    const r = map.getCanvas().getBoundingClientRect();
    return [r.left + at.x, r.top + at.y];
  };
  map.on('load', async () => {
    addLayers(map, plan, state.grid);
    state.compare = { name: 'the live plan', evaluation: live.evaluation };
    setWorking(map, live, { undoable: false, recolour: true });
    wire(map, client);
    await renderVersions(client);
    map.once('idle', () => {
      hooks.ready = true;
    });
  });
}

main();
