// The warnings panel: every open warning and those closed in the last hour, from the live
// feed (snapshot and diffs), each with its level, what raised it, its state and the step a
// dispatcher may take next: acknowledge, hand to a station, close with feedback.

import { esc } from './format.js';

const NEXT = { pushed: ['acknowledge', 'close'], acknowledged: ['handle', 'close'], handling: ['close'] };
const LABEL = { acknowledge: 'Acknowledge', handle: 'Hand to station', close: 'Close' };
const KIND = { gap: 'Zone in gap', lost: 'Unit lost', hotspot: 'Repeated calls' };

/** Warnings owns the panel. */
export class Warnings {
  constructor({ client, clock, listEl, countEl, names }) {
    this.client = client;
    this.clock = clock;
    this.listEl = listEl;
    this.countEl = countEl;
    this.names = names || new Map();
    this.byId = new Map();
    listEl.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-step]');
      if (btn) this.step(btn.dataset.id, btn.dataset.step, btn);
    });
  }

  applySnapshot(list) {
    this.byId.clear();
    this.apply(list);
  }

  apply(list) {
    for (const w of list || []) this.byId.set(w.id, w);
    this.render();
  }

  get open() {
    return [...this.byId.values()].filter((w) => w.state !== 'closed').length;
  }

  render() {
    const list = [...this.byId.values()].sort((a, b) => (a.state === 'closed') - (b.state === 'closed') || b.id.localeCompare(a.id, 'en', { numeric: true }));
    this.countEl.textContent = String(this.open);
    this.listEl.replaceChildren(
      ...list.map((w) => {
        const li = document.createElement('li');
        li.className = `warning lv-${w.level} st-${w.state}`;
        li.dataset.id = w.id;
        const last = w.steps[w.steps.length - 1];
        const what = this.names.get(w.subject) || w.subject;
        const steps = (NEXT[w.state] || []).map((s) => `<button type="button" data-id="${esc(w.id)}" data-step="${s}">${LABEL[s]}</button>`).join('');
        li.innerHTML = `<div class="wn-head"><span class="wn-level">${esc(w.level)}</span> <b>${esc(KIND[w.kind] || w.kind)}</b> · ${esc(what)}</div>
          <div class="wn-state small muted">${esc(w.state)} by ${esc(last.by)} at ${esc(this.clock.hms(last.at))}${w.feedback ? ` · ${esc(w.feedback.outcome)}` : ''}</div>
          ${steps ? `<div class="wn-steps">${steps}</div>` : ''}`;
        return li;
      }),
    );
  }

  /** step takes a step of warning id's loop; a close asks for its outcome. */
  async step(id, step, btn) {
    let body;
    if (step === 'close') {
      const outcome = window.prompt('Outcome (resolved, false_alarm, referred…)', 'resolved');
      if (!outcome) return;
      body = { outcome, note: '' };
    } else if (step === 'handle') {
      body = { note: '' };
    }
    btn.disabled = true;
    try {
      const ans = await this.client.post(`api/v1/warnings/${encodeURIComponent(id)}/${step}`, body);
      this.apply([ans.warning]);
    } catch (err) {
      btn.disabled = false;
      btn.title = err.message;
      console.warn('patrolgrid: warning step:', err.message);
    }
  }
}
