// Spreading of map markers that would overlap on screen. Markers closer than a marker's width
// are gathered into groups and laid out as a honeycomb around each group's centre, so every
// marker stays visible and clickable; the caller draws a leader line from each moved marker
// back to its true position. A group may be kept off holes (circles such as small zones, which
// it would otherwise hide): it then rings the hole instead. Pure screen-space geometry in CSS
// pixels, y pointing down.

/** MAX_ROUNDS bounds how often groups whose layouts collide are merged and laid out again. */
const MAX_ROUNDS = 16;

/** MAX_RINGS bounds how far out a group's layout looks for free slots. */
const MAX_RINGS = 40;

/**
 * spread returns an offset {dx, dy} (CSS pixels) for each of the screen points pts ({x, y}),
 * such that no two moved points are closer than gap pixels (gap > 0), each offset as small as a
 * compact layout allows. A point nobody crowds gets {dx: 0, dy: 0}. Moved points keep their
 * centres at least gap/2 outside every hole ({x, y, r}). The layout depends only on the input
 * and its order, so calling it again with the same input gives the same answer.
 */
export function spread(pts, gap, holes = []) {
  let groups = connected(pts, gap);
  let placed;
  for (let round = 1; ; round++) {
    placed = pts.map((p) => ({ x: p.x, y: p.y }));
    for (const g of groups) if (g.length > 1) layOut(g, pts, placed, gap, holes);
    const merged = round < MAX_ROUNDS && mergeColliding(groups, placed, gap);
    if (!merged) break;
    groups = merged;
  }
  return placed.map((q, i) => ({ dx: q.x - pts[i].x, dy: q.y - pts[i].y }));
}

/** connected returns the groups (arrays of indexes) of points linked by distances under gap. */
function connected(pts, gap) {
  const parent = pts.map((_, i) => i);
  const find = (i) => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      if (Math.hypot(pts[i].x - pts[j].x, pts[i].y - pts[j].y) < gap) parent[find(i)] = find(j);
    }
  }
  return collect(parent.map((_, i) => find(i)));
}

/** collect turns a root per index into groups of indexes, in order of their first index. */
function collect(roots) {
  const byRoot = new Map();
  roots.forEach((r, i) => {
    if (!byRoot.has(r)) byRoot.set(r, []);
    byRoot.get(r).push(i);
  });
  return [...byRoot.values()];
}

/**
 * mergeColliding returns the groups with every two whose placed points come closer than gap
 * joined into one, or null when no two do.
 */
function mergeColliding(groups, placed, gap) {
  const owner = new Int32Array(placed.length);
  groups.forEach((g, k) => g.forEach((i) => (owner[i] = k)));
  const parent = groups.map((_, k) => k);
  const find = (k) => {
    while (parent[k] !== k) k = parent[k] = parent[parent[k]];
    return k;
  };
  let any = false;
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      if (owner[i] === owner[j] || find(owner[i]) === find(owner[j])) continue;
      if (Math.hypot(placed[i].x - placed[j].x, placed[i].y - placed[j].y) < gap - 0.5) {
        parent[find(owner[i])] = find(owner[j]);
        any = true;
      }
    }
  }
  if (!any) return null;
  const roots = new Array(placed.length);
  groups.forEach((g, k) => g.forEach((i) => (roots[i] = find(k))));
  return collect(roots).map((g) => g.sort((a, b) => a - b));
}

/**
 * layOut places the points of group g (indexes into pts) on the slots of a honeycomb of
 * spacing gap centred on the group's mean. The point farthest from the centre chooses first,
 * so each keeps roughly its direction from the centre; then leader lines are untangled.
 */
function layOut(g, pts, placed, gap, holes) {
  let cx = 0;
  let cy = 0;
  for (const i of g) {
    cx += pts[i].x;
    cy += pts[i].y;
  }
  cx /= g.length;
  cy /= g.length;
  const [dx, dy] = g.length === 2 ? direction(pts[g[0]], pts[g[1]]) : [1, 0];
  const slots = slotsFor(g.length, gap, cx, cy, dx, dy, holes).map(([x, y]) => ({ x, y, free: true }));
  const order = [...g].sort(
    (a, b) => Math.hypot(pts[b].x - cx, pts[b].y - cy) - Math.hypot(pts[a].x - cx, pts[a].y - cy) || a - b,
  );
  const slotOf = new Map();
  for (const i of order) {
    let best = null;
    let bestD = Infinity;
    for (const s of slots) {
      if (!s.free) continue;
      const d = Math.hypot(s.x - pts[i].x, s.y - pts[i].y);
      if (d < bestD - 1e-9) {
        best = s;
        bestD = d;
      }
    }
    best.free = false;
    slotOf.set(i, best);
  }
  untangle(g, pts, slotOf);
  for (const i of g) placed[i] = { x: slotOf.get(i).x, y: slotOf.get(i).y };
}

/**
 * untangle swaps the slots of two points of a group while that shortens their two leader lines
 * together. Two leader lines that cross can always be shortened so, so none cross after it.
 */
function untangle(g, pts, slotOf) {
  const len = (i, s) => Math.hypot(s.x - pts[i].x, s.y - pts[i].y);
  for (let pass = 0; pass < g.length; pass++) {
    let swapped = false;
    for (let a = 0; a < g.length; a++) {
      for (let b = a + 1; b < g.length; b++) {
        const i = g[a];
        const j = g[b];
        const si = slotOf.get(i);
        const sj = slotOf.get(j);
        if (len(i, sj) + len(j, si) < len(i, si) + len(j, sj) - 1e-6) {
          slotOf.set(i, sj);
          slotOf.set(j, si);
          swapped = true;
        }
      }
    }
    if (!swapped) return;
  }
}

/**
 * slotsFor returns n slots ([x, y]) for a group centred on (cx, cy): the honeycomb's, or when
 * any of those falls in a hole, the honeycomb's lattice points outside every hole, ring by ring
 * from the centre, the last ring used filled evenly all round.
 */
function slotsFor(n, gap, cx, cy, dirX, dirY, holes) {
  const inHole = ([x, y]) => holes.some((h) => Math.hypot(x - h.x, y - h.y) < h.r + gap / 2);
  const base = honeycomb(n, gap, dirX, dirY).map(([x, y]) => [cx + x, cy + y]);
  if (!base.some(inHole)) return base;
  const slots = inHole([cx, cy]) ? [] : [[cx, cy]];
  for (let ring = 1; slots.length < n && ring <= MAX_RINGS; ring++) {
    const free = hexRing(ring, gap)
      .flat()
      .map(([x, y]) => [cx + x, cy + y])
      .filter((p) => !inHole(p));
    const want = Math.min(free.length, n - slots.length);
    for (let k = 0; k < want; k++) slots.push(free[Math.floor((k * free.length) / want)]);
  }
  // Past MAX_RINGS (holes bigger than any zone on screen) the rest share the centre.
  while (slots.length < n) slots.push([cx, cy]);
  return slots;
}

/**
 * honeycomb returns n slot offsets ([x, y]) around a group's centre: two side by side along
 * the direction (dirX, dirY) (a unit vector), three in a triangle, else a centre and hexagonal
 * rings of spacing gap, the outermost ring filled evenly all round.
 */
export function honeycomb(n, gap, dirX = 1, dirY = 0) {
  if (n === 1) return [[0, 0]];
  if (n === 2) return [[(-gap / 2) * dirX, (-gap / 2) * dirY], [(gap / 2) * dirX, (gap / 2) * dirY]];
  if (n === 3) {
    const r = gap / Math.sqrt(3);
    return [0, 1, 2].map((k) => angled(r, -Math.PI / 2 + (k * 2 * Math.PI) / 3));
  }
  const slots = [[0, 0]];
  for (let ring = 1; slots.length < n; ring++) {
    for (const points of hexRing(ring, gap)) {
      const want = Math.min(points.length, n - slots.length);
      for (let k = 0; k < want; k++) slots.push(points[Math.floor((k * points.length) / want)]);
    }
  }
  return slots;
}

/**
 * hexRing returns the 6·ring points of a honeycomb's ring at hop distance ring in classes of
 * equal distance from the centre, nearest first (the middles of the sides before the corners);
 * each class lists its points in turn round the ring.
 */
function hexRing(ring, gap) {
  const classes = new Map();
  for (let side = 0; side < 6; side++) {
    const [ax, ay] = angled(ring * gap, (side * Math.PI) / 3);
    const [bx, by] = angled(ring * gap, ((side + 1) * Math.PI) / 3);
    for (let step = 0; step < ring; step++) {
      // Steps s and ring − s lie at the same distance from the centre.
      const key = Math.abs(2 * step - ring) * (step === 0 ? 1 : -1);
      if (!classes.has(key)) classes.set(key, []);
      const t = step / ring;
      classes.get(key).push([ax + (bx - ax) * t, ay + (by - ay) * t]);
    }
  }
  return [...classes.entries()]
    .sort(([a], [b]) => Math.abs(a) - Math.abs(b) || a - b)
    .map(([, points]) => points);
}

/** direction returns the unit vector from a to b, or [1, 0] when they (nearly) coincide. */
function direction(a, b) {
  const d = Math.hypot(b.x - a.x, b.y - a.y);
  return d < 0.5 ? [1, 0] : [(b.x - a.x) / d, (b.y - a.y) / d];
}

/** angled returns the point at distance r and angle a (radians) from the origin. */
function angled(r, a) {
  return [r * Math.cos(a), r * Math.sin(a)];
}
