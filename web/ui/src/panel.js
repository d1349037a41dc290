// The gap panel: the priority zones that are active now and whose response rule is not met,
// and the recent alerts (gaps opened and closed, units lost and found).
import { esc, pct } from './format.js';
import { statusOf } from './zones.js';

const MAX_ALERTS = 50;

/**
 * required reports whether a rule tier ({units, share}) asks for anything: at least one unit, as
 * the server counts it. A tier of 0 units asks nothing, is always met and has no share.
 */
export function required(tier) {
  return !!tier && tier.units > 0;
}

/** shownHTML remembers the markup last written into each element. */
const shownHTML = new WeakMap();

/** setHTML replaces an element's content only when it differs, to spare the page a relayout. */
function setHTML(el, html) {
  if (shownHTML.get(el) === html) return;
  el.innerHTML = html;
  shownHTML.set(el, html);
}

/** setText sets an element's text only when it differs. */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
const TIER_KEYS = [
  ['m1', '1 min'],
  ['m3', '3 min'],
  ['m5', '5 min'],
];

/**
 * GapPanel renders gaps into gapsEl and alerts into alertsEl. planZones are the plan's zones
 * (for names, kinds and rules); onSelect(zoneId) is called when a gap is clicked.
 */
export class GapPanel {
  constructor({ planZones, clock, gapsEl, gapCountEl, alertsEl, zoneSummaryEl, onSelect }) {
    this.plan = new Map((planZones || []).map((z) => [z.id, z]));
    this.clock = clock;
    this.gapsEl = gapsEl;
    this.gapCountEl = gapCountEl;
    this.alertsEl = alertsEl;
    this.zoneSummaryEl = zoneSummaryEl;
    this.onSelect = onSelect;
    /** @type {Map<string, object>} latest wire zone record Z by id */
    this.zones = new Map();
    this.alerts = [];
    /** time a zone's current gap opened, from the alerts */
    this.openedAt = new Map();
    gapsEl.addEventListener('click', (ev) => {
      const li = ev.target.closest('[data-zone]');
      if (li) this.onSelect(li.dataset.zone);
    });
    alertsEl.addEventListener('click', (ev) => {
      const li = ev.target.closest('[data-zone]');
      if (li) this.onSelect(li.dataset.zone);
    });
  }

  /** gaps returns the wire records of the zones in gap, worst first. */
  gaps() {
    const short = (z) => TIER_KEYS.reduce((sum, [k]) => sum + this.shortfall(z, k), 0);
    return [...this.zones.values()]
      .filter((z) => statusOf(z) === 'gap')
      .sort((a, b) => short(b) - short(a) || String(a.id).localeCompare(String(b.id)));
  }

  /** rule returns a zone's rule: the live record's, else the plan's. */
  rule(z) {
    return z.rule || this.plan.get(z.id)?.rule || {};
  }

  /** shortfall returns how far below its required share a zone is in one tier (0 when met or not asked). */
  shortfall(z, key) {
    const tier = this.rule(z)[key];
    const need = tier?.share;
    const have = z.shares?.[key];
    if (!required(tier) || typeof need !== 'number') return 0;
    return Math.max(0, need - (typeof have === 'number' ? have : 0));
  }

  /** applySnapshot replaces zones and alerts with the snapshot's. */
  applySnapshot(zones, alerts) {
    this.zones.clear();
    this.alerts = [];
    this.openedAt.clear();
    this.addZones(zones);
    this.addAlerts(alerts);
    this.render();
  }

  /** applyDiff merges a diff's changed zones and new alerts. */
  applyDiff(zones, alerts) {
    if (!zones?.length && !alerts?.length) return;
    this.addZones(zones);
    this.addAlerts(alerts);
    this.render();
  }

  addZones(zones) {
    for (const z of zones || []) this.zones.set(z.id, { ...this.zones.get(z.id), ...z });
  }

  addAlerts(alerts) {
    const list = [...(alerts || [])].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    for (const a of list) {
      this.alerts.unshift(a);
      if (a.kind === 'unit_lost') continue;
      if (a.state === 'open') this.openedAt.set(a.zone, a.time);
      else this.openedAt.delete(a.zone);
    }
    this.alerts.length = Math.min(this.alerts.length, MAX_ALERTS);
  }

  /** name returns a zone's display name. */
  name(id, fallback) {
    return fallback || this.zones.get(id)?.name || this.plan.get(id)?.name || id;
  }

  render() {
    const gaps = this.gaps();
    setText(this.gapCountEl, String(gaps.length));
    this.gapCountEl.classList.toggle('alarm', gaps.length > 0);
    let active = 0;
    let met = 0;
    for (const z of this.zones.values()) {
      if (z.active === false) continue;
      active++;
      if (z.met) met++;
    }
    setText(this.zoneSummaryEl, `${active} of ${this.zones.size || this.plan.size} zones active · ${met} met`);
    setHTML(
      this.gapsEl,
      gaps.length
        ? gaps.map((z) => this.gapHTML(z)).join('')
        : '<li class="empty">No gaps: every active priority zone meets its rule.</li>',
    );
    setHTML(
      this.alertsEl,
      this.alerts.length ? this.alerts.map((a) => this.alertHTML(a)).join('') : '<li class="empty">No alerts yet.</li>',
    );
  }

  gapHTML(z) {
    const rule = this.rule(z);
    const kind = z.kind || this.plan.get(z.id)?.kind || '';
    const since = this.openedAt.get(z.id);
    const tiers = TIER_KEYS.filter(([k]) => required(rule[k]))
      .map(([k, label]) => {
        const r = rule[k];
        const have = z.shares?.[k];
        const bad = this.shortfall(z, k) > 1e-9;
        const units = r.units ? ` · ${r.units} unit${r.units === 1 ? '' : 's'}` : '';
        return (
          `<div class="tier-row ${bad ? 'bad' : 'ok'}"><span class="tier-label">≤ ${label}</span>` +
          `<span class="bar"><span class="bar-fill" style="width:${Math.round(Math.min(1, have || 0) * 100)}%"></span>` +
          `<span class="bar-need" style="left:${Math.round(Math.min(1, r.share || 0) * 100)}%"></span></span>` +
          `<span class="tier-val num">${pct(have)} <span class="muted">/ ${pct(r.share)}${units}</span></span></div>`
        );
      })
      .join('');
    return (
      `<li class="gap" data-zone="${esc(z.id)}"><div class="gap-head">` +
      `<span class="gap-name" title="${esc(this.name(z.id, z.name))}">${esc(this.name(z.id, z.name))} ` +
      `<span class="gap-kind">${esc(kind.replace(/_/g, ' '))}</span></span>` +
      `${since ? `<span class="gap-meta num">since ${esc(this.clock.hms(since))}</span>` : ''}</div>` +
      `${tiers}</li>`
    );
  }

  alertHTML(a) {
    const open = a.state === 'open';
    if (a.kind === 'unit_lost') {
      return (
        `<li class="alert ${open ? 'alert-open' : 'alert-closed'}" data-unit="${esc(a.unit)}">` +
        `<span class="num alert-time">${esc(this.clock.hms(a.time))}</span>` +
        `<span class="alert-text">${esc(a.unit)} ${esc(a.name || '')}</span>` +
        `<span class="alert-state">${open ? 'unit lost' : 'unit found'}</span></li>`
      );
    }
    return (
      `<li class="alert ${open ? 'alert-open' : 'alert-closed'}" data-zone="${esc(a.zone)}">` +
      `<span class="num alert-time">${esc(this.clock.hms(a.time))}</span>` +
      `<span class="alert-text">${esc(this.name(a.zone, a.name))}</span>` +
      `<span class="alert-state">${open ? 'gap opened' : 'gap closed'}</span></li>`
    );
  }
}
