// Placement of map labels beside the things they name. Each label tries spots around its
// target's screen box, nearest first, and takes the one that covers the least: never another
// label or a panel if it can help it, then as few targets and markers as it can. Pure
// screen-space geometry in CSS pixels, y pointing down; boxes are {x0, y0, x1, y1}.

/** DISTANCES are how far from its target's box a label may sit, in CSS pixels, nearest first. */
const DISTANCES = [3, 12, 24, 40, 60, 85, 115, 150];

/** LEADER_FROM is the distance from which a label is joined to its target by a leader line. */
export const LEADER_FROM = 12;

/** Directions around a box, in order of preference: right, left, above, below, then corners. */
const DIRECTIONS = [
  [1, 0],
  [-1, 0],
  [0, -1],
  [0, 1],
  [1, -1],
  [1, 1],
  [-1, -1],
  [-1, 1],
];

/** Costs of what a spot covers; the cheapest spot wins. */
const COST = {
  label: 10000, // another label, per label (with a small margin)
  outside: 10000, // any part outside the area
  blocked: 5000, // a panel or control over the map, per panel
  target: 60, // a target's box, times the share of the label it covers
  marker: 25, // a marker, per marker
  distance: 0.5, // per pixel away from the target
  direction: 0.3, // per step down the list of directions
  keep: 6, // taken off the spot a label had last time, so labels do not flicker
};

/**
 * placeLabels returns the spot of each label: a Map from item id to {x, y, key, leader}, with
 * (x, y) the label's top left corner and leader true when it stands far enough from its target
 * to want a line to it. items are {id, box, w, h} (the target's box and the label's size) in
 * order of importance; earlier items get the better spots. area is the box labels must lie in;
 * blocked are boxes of panels over the map, markers the boxes of markers, targets the boxes of
 * every item's target. previous is the result of the last call (or an empty Map).
 */
export function placeLabels({ items, area, blocked = [], markers = [], previous = new Map() }) {
  const targets = items.map((it) => it.box);
  const placed = [];
  const out = new Map();
  for (const it of items) {
    let best = null;
    for (const c of candidates(it)) {
      const cost = costOf(c, it, { area, blocked, markers, targets, placed, previous });
      if (!best || cost < best.cost) best = { ...c, cost };
    }
    const box = { x0: best.x, y0: best.y, x1: best.x + it.w, y1: best.y + it.h };
    placed.push(box);
    out.set(it.id, { x: best.x, y: best.y, key: best.key, leader: best.d >= LEADER_FROM });
  }
  return out;
}

/** candidates lists the spots around an item's target box: {x, y, d, dir, key}. */
function candidates(it) {
  const { box, w, h } = it;
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const list = [];
  for (const d of DISTANCES) {
    DIRECTIONS.forEach(([sx, sy], dir) => {
      const diag = sx !== 0 && sy !== 0 ? Math.SQRT1_2 : 1;
      const x = sx > 0 ? box.x1 + d * diag : sx < 0 ? box.x0 - d * diag - w : cx - w / 2;
      const y = sy > 0 ? box.y1 + d * diag : sy < 0 ? box.y0 - d * diag - h : cy - h / 2;
      list.push({ x, y, d, dir, key: `${d}:${dir}` });
    });
  }
  return list;
}

/** costOf scores one spot of an item; lower is better. */
function costOf(c, it, { area, blocked, markers, targets, placed, previous }) {
  const b = { x0: c.x, y0: c.y, x1: c.x + it.w, y1: c.y + it.h };
  const size = it.w * it.h || 1;
  let cost = c.d * COST.distance + c.dir * COST.direction;
  if (b.x0 < area.x0 || b.y0 < area.y0 || b.x1 > area.x1 || b.y1 > area.y1) cost += COST.outside;
  const padded = grow(b, 2);
  for (const p of placed) if (overlap(padded, p) > 0) cost += COST.label;
  for (const p of blocked) if (overlap(b, p) > 0) cost += COST.blocked;
  for (const t of targets) cost += (COST.target * overlap(b, t)) / size;
  for (const m of markers) if (overlap(b, m) > 0) cost += COST.marker;
  if (previous.get(it.id)?.key === c.key) cost -= COST.keep;
  return cost;
}

/** overlap returns the area two boxes share (0 when they do not meet). */
export function overlap(a, b) {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/** grow returns a box widened by m pixels on every side. */
function grow(b, m) {
  return { x0: b.x0 - m, y0: b.y0 - m, x1: b.x1 + m, y1: b.y1 + m };
}

/**
 * leaderLine returns the segment [x0, y0, x1, y1] that joins a target box to its label's box:
 * from the target's edge point nearest the label's centre to the label's point nearest the
 * target's centre.
 */
export function leaderLine(target, label) {
  const tc = [(target.x0 + target.x1) / 2, (target.y0 + target.y1) / 2];
  const lc = [(label.x0 + label.x1) / 2, (label.y0 + label.y1) / 2];
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [
    clamp(lc[0], target.x0, target.x1),
    clamp(lc[1], target.y0, target.y1),
    clamp(tc[0], label.x0, label.x1),
    clamp(tc[1], label.y0, label.y1),
  ];
}
