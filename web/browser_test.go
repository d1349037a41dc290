package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/patrolgrid/patrolgrid/data/datatest"
)

// chromiumPath is Debian's Chromium, which the browser test drives headless.
const chromiumPath = "/usr/bin/chromium"

// pageWait bounds how long the live map may take to become ready; the test
// returns as soon as it is.
const pageWait = 120 * time.Second

// browserWait bounds a whole browser test.
const browserWait = 5 * time.Minute

// pageState is window.patrolgrid, the map page's test hooks.
type pageState struct {
	Ready           bool               `json:"ready"`
	Cells           int                `json:"cells"`
	ColouredCells   int                `json:"colouredCells"`
	Units           int                `json:"units"`
	Diffs           int                `json:"diffs"`
	GeometryUploads int                `json:"geometryUploads"`
	AvgApplyMs      float64            `json:"avgApplyMs"`
	MaxApplyMs      float64            `json:"maxApplyMs"`
	Connection      string             `json:"connection"`
	Timing          map[string]float64 `json:"timing"`
	Notice          string             `json:"notice"`
	Errors          []string           `json:"errors"`
}

// readState reads the hooks (null until the page script has run).
const readState = `(() => {
	const p = window.patrolgrid;
	if (!p) return null;
	return {ready: p.ready, cells: p.cells, colouredCells: p.colouredCells, units: p.units,
		diffs: p.diffs, geometryUploads: p.geometryUploads, avgApplyMs: p.avgApplyMs,
		maxApplyMs: p.maxApplyMs, connection: p.connection, timing: p.timing, errors: p.errors,
		notice: document.getElementById('notice')?.textContent || ''};
})()`

// spyGeometry counts every later call that would hand new data to the
// hexagon source, and returns the number of diffs applied so far.
const spyGeometry = `(() => {
	const src = window.patrolgrid.map.getSource('cells');
	window.__hexDataCalls = 0;
	for (const name of ['setData', 'updateData']) {
		const orig = src[name];
		if (typeof orig !== 'function') continue;
		src[name] = function (...args) {
			window.__hexDataCalls++;
			return orig.apply(this, args);
		};
	}
	return window.patrolgrid.diffs;
})()`

// requireBrowser skips the test, or fails it under CI, when Chromium or
// the built map page is missing.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		datatest.Missing(t, chromiumPath+" (apt-get install chromium)", err)
	}
	if _, err := os.Stat(filepath.Join("static", "dist", "app.js")); err != nil {
		datatest.Missing(t, "the built map page web/static/dist/app.js (run `go generate ./web`)", err)
	}
}

// consoleLog collects the page's console errors and uncaught exceptions.
type consoleLog struct {
	mu     sync.Mutex
	errors []string
}

func (l *consoleLog) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	default:
		return
	}
	l.mu.Lock()
	l.errors = append(l.errors, msg)
	l.mu.Unlock()
}

func (l *consoleLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errors...)
}

// browser is a headless Chromium with one page, the page's console log and
// the folder screenshots are saved to.
type browser struct {
	t         *testing.T
	ctx       context.Context
	console   *consoleLog
	artifacts string
}

// startBrowser starts headless Chromium with a window of width × height
// pixels; it stops when the test ends. Screenshots go to
// PATROLGRID_ARTIFACTS when set, else to a temporary folder.
func startBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	artifacts := os.Getenv("PATROLGRID_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("artifacts folder: %v", err)
	}
	// A browser that stops answering fails its test at the deadline
	// instead of stalling the package until go test's timeout.
	ctx, cancelTime := context.WithTimeout(t.Context(), browserWait)
	t.Cleanup(cancelTime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	t.Cleanup(cancelAlloc)
	console := &consoleLog{}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(console.listen))
	t.Cleanup(cancel)
	return &browser{t: t, ctx: ctx, console: console, artifacts: artifacts}
}

// shot saves a screenshot of the page as name in the artifacts folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.artifacts, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// check fails the test, with a screenshot, if the page logged an error or
// its hooks s (nil for none) hold one.
func (b *browser) check(s *pageState) {
	b.t.Helper()
	var errs []string
	if s != nil {
		errs = s.Errors
	}
	b.checkErrors("live-map-failed.png", errs)
}

// checkErrors fails the test, with a screenshot named shot, if the page
// logged an error or errs holds one.
func (b *browser) checkErrors(shot string, errs []string) {
	b.t.Helper()
	if all := append(b.console.all(), errs...); len(all) > 0 {
		b.shot(shot)
		b.t.Fatalf("the page reported errors:\n  %s", strings.Join(all, "\n  "))
	}
}

// waitState reads the page's hooks until done holds for them, failing on a
// page error or after wait.
func (b *browser) waitState(wait time.Duration, what string, done func(*pageState) bool) *pageState {
	b.t.Helper()
	return waitPage(b, wait, what, readState, "live-map-failed.png", func(s *pageState) []string {
		if s == nil {
			return nil
		}
		return s.Errors
	}, done)
}

// waitPage evaluates script until done holds for its value, failing on a
// page error (of the console, or those errs finds in the value) or after
// wait, with a screenshot named shot.
func waitPage[T any](b *browser, wait time.Duration, what, script, shot string, errs func(T) []string, done func(T) bool) T {
	b.t.Helper()
	for deadline := time.Now().Add(wait); ; {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](script))
		if err != nil {
			b.t.Fatalf("%s: evaluate: %v", what, err)
		}
		b.checkErrors(shot, errs(v))
		if done(v) {
			return v
		}
		if time.Now().After(deadline) {
			b.shot(shot)
			b.t.Fatalf("%s: not after %s: %+v", what, wait, v)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// openMap opens the live map at base and waits until it is ready with
// live data: hexagons drawn (and some coloured, when coloured is set: with
// every unit off duty none are), all 88 units placed, a diff applied.
func (b *browser) openMap(base string, coloured bool) *pageState {
	b.t.Helper()
	return b.open(base, coloured, 1)
}

// openStill opens the live map of a city whose units stand still, where
// no diff need come: the page is ready with the snapshot.
func (b *browser) openStill(base string) *pageState {
	b.t.Helper()
	return b.open(base, true, 0)
}

// open opens the live map at base and waits until it is ready, with at
// least diffs live diffs applied.
func (b *browser) open(base string, coloured bool, diffs int) *pageState {
	b.t.Helper()
	start := time.Now()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/")); err != nil {
		b.t.Fatalf("open %s: %v", base, err)
	}
	st := b.waitState(pageWait, "page ready", func(s *pageState) bool {
		return s != nil && s.Ready && s.Cells > 1000 && (s.ColouredCells > 0 || !coloured) && s.Units == 88 && s.Diffs >= diffs
	})
	b.t.Logf("ready in %s: %d hexagons (%d reached within 5 min), %d units, %d diffs, connection %q; page milestones (ms): %v",
		time.Since(start).Round(time.Millisecond), st.Cells, st.ColouredCells, st.Units, st.Diffs, st.Connection, st.Timing)
	return st
}

// TestBrowserLiveMap opens the live map of the demo city in headless
// Chromium and waits until the page has drawn the hexagons, coloured the
// reached ones, placed all 88 units and applied live diffs, without a console
// error. It then checks that diffs change feature state only: the hexagon
// geometry is never handed to the map again, not even when the legend's
// toggle shows the backup layer, which highlights by feature state the
// cells that fewer than two units reach within 3 minutes.
func TestBrowserLiveMap(t *testing.T) {
	requireBrowser(t)
	base := startDemoServer(t)
	b := startBrowser(t, 1600, 1000)
	st := b.openMap(base, true)
	if st.Connection != "live" {
		t.Errorf("connection = %q, want live", st.Connection)
	}
	if st.Notice == "" {
		t.Errorf("the plan's notice label is not shown")
	}

	// Diffs must recolour through feature state only: no new geometry.
	uploads := st.GeometryUploads
	diffs0, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](spyGeometry))
	if err != nil {
		t.Fatalf("spy on the hexagon source: %v", err)
	}
	const moreDiffs = 3
	st = b.waitState(30*time.Second, fmt.Sprintf("%d diffs after the first ones", moreDiffs), func(s *pageState) bool {
		return s.Diffs >= diffs0+moreDiffs
	})
	calls, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.__hexDataCalls`))
	if err != nil {
		t.Fatalf("read the geometry spy: %v", err)
	}
	if calls != 0 || st.GeometryUploads != uploads {
		t.Errorf("after %d diffs: hexagon source data set %d times and geometry uploads %d → %d, want none",
			st.Diffs-diffs0, calls, uploads, st.GeometryUploads)
	}
	t.Logf("%d diffs applied by feature state only; apply time %.1f ms on average, %.1f ms at most (snapshot included)",
		st.Diffs, st.AvgApplyMs, st.MaxApplyMs)

	// The demo motion's units say so: the unit list counts them as
	// simulated, none live.
	summary, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('unit-summary').textContent`))
	if err != nil {
		t.Fatalf("read the unit summary: %v", err)
	}
	if !regexp.MustCompile(`[1-9]\d* simulated · 0 live$`).MatchString(summary) {
		t.Errorf("unit summary %q, want the demo's units counted as simulated, none live", summary)
	}

	// Showing the backup layer changes its visibility only: no new geometry.
	b.checkBackupLayer()
	b.shot("live-map-backup.png")
	calls, err = chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.__hexDataCalls`))
	if err != nil {
		t.Fatalf("read the geometry spy: %v", err)
	}
	st, err = chromedp.Run(b.ctx, chromedp.Evaluate[*pageState](readState))
	if err != nil {
		t.Fatalf("read window.patrolgrid: %v", err)
	}
	if calls != 0 || st.GeometryUploads != uploads {
		t.Errorf("after the backup layer was shown: hexagon source data set %d times and geometry uploads %d → %d, want none",
			calls, uploads, st.GeometryUploads)
	}

	b.eval(`document.getElementById('backup-toggle').click() ?? 0`) // off again for the shot
	b.shot("live-map.png")
	b.check(nil)
}

// backupState is what the page shows of backup coverage: the backup
// layers' visibility, the toggle, and the hexagons by their feature state.
type backupState struct {
	Visibility []string `json:"visibility"` // of cells-backup and cells-extra-backup
	Checked    bool     `json:"checked"`    // the legend's toggle
	Shown      bool     `json:"shown"`      // window.patrolgrid.backupLayer
	Unbacked   int      `json:"unbacked"`   // window.patrolgrid.unbackedCells
	Cells      int      `json:"cells"`      // hexagons drawn
	Backed     int      `json:"backed"`     // those whose feature state says backed
	Lone       int      `json:"lone"`       // those reached (tier set) but not backed: highlighted
}

// readBackup reads the backup state of the page.
const readBackup = `(() => {
	const p = window.patrolgrid, map = p.map;
	const n = p.cells; // main and extra hexagons: each source's ids count from 0
	let backed = 0, lone = 0;
	for (const source of ['cells', 'cells-extra']) {
		for (let id = 0; id < n; id++) {
			const s = map.getFeatureState({source, id});
			if (s.backed) backed++;
			else if (s.tier) lone++;
		}
	}
	return {visibility: ['cells-backup', 'cells-extra-backup'].map((l) => map.getLayoutProperty(l, 'visibility') || 'visible'),
		checked: document.getElementById('backup-toggle').checked, shown: p.backupLayer,
		unbacked: p.unbackedCells, cells: n, backed, lone};
})()`

// checkBackupLayer checks the backup layer: hidden until the legend's
// toggle is checked, then shown, with some hexagons backed and some
// reached ones highlighted for lacking backup, all told by feature state.
func (b *browser) checkBackupLayer() {
	b.t.Helper()
	read := func() backupState {
		st, err := chromedp.Run(b.ctx, chromedp.Evaluate[backupState](readBackup))
		if err != nil {
			b.t.Fatalf("read the backup layer: %v", err)
		}
		return st
	}
	if st := read(); st.Checked || st.Shown || !slices.Equal(st.Visibility, []string{"none", "none"}) {
		b.t.Errorf("before the toggle: backup layer %+v, want it off", st)
	}
	b.eval(`document.getElementById('backup-toggle').click() ?? 0`)
	b.waitState(10*time.Second, "backup layer shown", func(*pageState) bool { return read().Shown })
	st := read()
	if !st.Checked || !slices.Equal(st.Visibility, []string{"visible", "visible"}) {
		b.t.Errorf("after the toggle: backup layer %+v, want it on", st)
	}
	if st.Backed == 0 || st.Lone == 0 {
		b.t.Errorf("backup feature state: %d hexagons backed, %d reached without backup; want some of each", st.Backed, st.Lone)
	}
	if st.Unbacked != st.Cells-st.Backed {
		b.t.Errorf("unbackedCells = %d, want %d: %d hexagons less %d backed", st.Unbacked, st.Cells-st.Backed, st.Cells, st.Backed)
	}
	b.t.Logf("backup layer: %d of %d hexagons backed, %d reached without backup highlighted", st.Backed, st.Cells, st.Lone)
}

// box is a rectangle on the page in CSS pixels, y pointing down.
type box struct {
	X0 float64 `json:"x0"`
	Y0 float64 `json:"y0"`
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
}

// within reports whether b lies inside o, give or take a pixel.
func (b box) within(o box) bool {
	const px = 1
	return b.X0 >= o.X0-px && b.Y0 >= o.Y0-px && b.X1 <= o.X1+px && b.Y1 <= o.Y1+px
}

// meets reports whether b and o share more than a pixel's width.
func (b box) meets(o box) bool {
	const px = 1
	return min(b.X1, o.X1)-max(b.X0, o.X0) > px && min(b.Y1, o.Y1)-max(b.Y0, o.Y0) > px
}

// mapLayout is what the page shows, as read by inspectLayout.
type mapLayout struct {
	Window   struct{ W, H, ScrollW, ScrollH float64 } `json:"window"`
	Zoom     float64                                  `json:"zoom"`
	MinZoom  float64                                  `json:"minZoom"`
	Layers   []string                                 `json:"layers"`
	Outlined map[string]string                        `json:"outlined"` // zone id → its feature state
	Map      box                                      `json:"map"`
	Legend   box                                      `json:"legend"`
	Labels   []struct {
		Zone   string `json:"zone"`
		Status string `json:"status"`
		Text   string `json:"text"`
		Border string `json:"border"`
		Box    box    `json:"box"`
	} `json:"labels"`
	Units []struct {
		ID    string  `json:"id"`
		X     float64 `json:"x"`
		Y     float64 `json:"y"`
		R     float64 `json:"r"`
		Hit   bool    `json:"hit"`
		Under string  `json:"under"`
	} `json:"units"`
	Panels []struct {
		Name string `json:"name"`
		Box  box    `json:"box"`
	} `json:"panels"`
	GapList struct {
		ScrollH   float64 `json:"scrollH"`
		ClientH   float64 `json:"clientH"`
		OverflowY string  `json:"overflowY"`
		Count     string  `json:"count"`
		Cards     []struct {
			Zone   string `json:"zone"`
			Inside bool   `json:"inside"`
		} `json:"cards"`
	} `json:"gapList"`
	Wrapped []string `json:"wrapped"`
}

// inspectLayout reads the page's layout once markers and labels are laid
// out for a settled map: the zone outlines the map renders (from the
// zones-line layer: it throws when the layer is gone), the zone labels, the
// unit discs and whether a click at each disc's centre reaches its marker,
// the panels' boxes, each gap card scrolled into view within its list, and
// the text that wraps where it should not.
const inspectLayout = `(() => {
	const p = window.patrolgrid, map = p.map;
	const rect = (el) => { const r = el.getBoundingClientRect(); return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
	const outlined = {};
	for (const f of map.queryRenderedFeatures({layers: ['zones-line']})) outlined[f.properties.zone] = (f.state && f.state.status) || '';
	const labels = [...document.querySelectorAll('#map .zone-label')].filter((el) => !el.hidden).map((el) => ({
		zone: el.dataset.zone, status: el.dataset.status, text: el.innerText,
		border: getComputedStyle(el).borderTopColor, box: rect(el)}));
	const units = [...document.querySelectorAll('#map .unit')].map((el) => {
		const d = el.querySelector('.unit-disc').getBoundingClientRect();
		const x = (d.left + d.right) / 2, y = (d.top + d.bottom) / 2;
		const hit = document.elementFromPoint(x, y);
		return {id: el.title, x, y, r: d.width / 2, hit: !!hit && hit.closest('.unit') === el,
			under: hit ? (hit.closest('[id]')?.id || hit.className || hit.tagName) : 'nothing'};
	});
	const panels = [...document.querySelectorAll('.topbar, .side, .side .card, #legend')].map((el) => ({
		name: el.id || String(el.className), box: rect(el)}));
	const list = document.getElementById('gaps');
	const top0 = list.scrollTop;
	const cards = [...list.querySelectorAll('li.gap')].map((li) => {
		// Scroll the list alone (scrollIntoView would scroll the page too) to the card's top.
		list.scrollTop += li.getBoundingClientRect().top - list.getBoundingClientRect().top;
		const r = rect(li), l = rect(list);
		return {zone: li.dataset.zone, inside: r.y0 >= l.y0 - 0.5 && r.y1 <= l.y1 + 0.5 && r.x0 >= l.x0 - 0.5 && r.x1 <= l.x1 + 0.5};
	});
	list.scrollTop = top0;
	const wrapped = [...document.querySelectorAll('.tier-label, .tier-val, .gap-head, .legend-row, .legend-states > span, #zone-summary')]
		.filter((el) => el.getBoundingClientRect().height > 2.1 * parseFloat(getComputedStyle(el).fontSize))
		.map((el) => String(el.className || el.id) + ': ' + el.textContent.trim());
	return {
		window: {w: innerWidth, h: innerHeight, scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight},
		zoom: map.getZoom(), minZoom: map.getMinZoom(), layers: map.getStyle().layers.map((l) => l.id), outlined,
		map: rect(document.getElementById('map')), legend: rect(document.getElementById('legend')), labels, units, panels,
		gapList: {scrollH: list.scrollHeight, clientH: list.clientHeight, overflowY: getComputedStyle(list).overflowY,
			count: document.getElementById('gap-count').textContent, cards},
		wrapped,
	};
})()`

// settled is true once the map has stopped moving, drawn its sources and
// laid out markers and labels after the last frame it was asked for.
const settled = `(() => {
	const p = window.patrolgrid, map = p.map;
	if (!map.loaded() || map.isMoving()) { window.__layouts = -1; return false; }
	const was = window.__layouts;
	window.__layouts = p.layouts;
	return was === p.layouts && p.layouts > 0;
})()`

// readLayout waits until the map has settled, then reads its layout.
func (b *browser) readLayout() *mapLayout {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](settled, chromedp.WithPollingInterval(300*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.shot("live-map-failed.png")
		b.t.Fatalf("map not settled: %v", err)
	}
	lay, err := chromedp.Run(b.ctx, chromedp.Evaluate[*mapLayout](inspectLayout))
	if err != nil {
		b.shot("live-map-failed.png")
		b.t.Fatalf("inspect the layout: %v", err)
	}
	return lay
}

// zoneState is one zone of GET /api/v1/gaps.
type zoneState struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Gap    bool   `json:"gap"`
}

// fetchZones reads every zone's state from GET /api/v1/gaps.
func fetchZones(t *testing.T, base string) []zoneState {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/gaps")
	if err != nil {
		t.Fatalf("GET gaps: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Zones []zoneState `json:"zones"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET gaps = %d, %v", resp.StatusCode, err)
	}
	return body.Zones
}

// checkZones checks that the map outlines every zone zones call active,
// above the hexagons, as met or in gap, and labels it with its name inside
// the map, clear of the other labels and the legend; that a zone's label
// shows the status its outline does, zones in gap are those of the gap
// cards, and their labels look unlike those of zones that meet their rule.
// Met or in gap is read from the page alone: in the demo a zone near its
// threshold flips as units move, so the API may already say otherwise.
func checkZones(t *testing.T, when string, lay *mapLayout, zones []zoneState) {
	t.Helper()
	if idx, cells := slices.Index(lay.Layers, "zones-line"), slices.Index(lay.Layers, "cells-fill"); idx < 0 || idx < cells {
		t.Errorf("%s: layers %v, want zones-line above cells-fill", when, lay.Layers)
	}
	labels := map[string]int{}
	for i, l := range lay.Labels {
		labels[l.Zone] = i
	}
	var inGap []string
	borders := map[string]map[string]bool{"gap": {}, "met": {}}
	for _, z := range zones {
		if !z.Active {
			continue
		}
		state, ok := lay.Outlined[z.ID]
		if !ok || (state != "gap" && state != "met") {
			t.Errorf("%s: outline of active zone %s (%s) rendered %v with state %q, want gap or met", when, z.ID, z.Name, ok, state)
			continue
		}
		if state == "gap" {
			inGap = append(inGap, z.ID)
		}
		i, ok := labels[z.ID]
		if !ok {
			t.Errorf("%s: active zone %s (%s) has no label", when, z.ID, z.Name)
			continue
		}
		l := lay.Labels[i]
		if strings.Join(strings.Fields(l.Text), " ") != z.Name || l.Status != state {
			t.Errorf("%s: label of %s = %q (%s), want %q (%s, as its outline)", when, z.ID, l.Text, l.Status, z.Name, state)
		}
		if !l.Box.within(lay.Map) || l.Box.meets(lay.Legend) {
			t.Errorf("%s: label of %s at %+v, want inside the map %+v and off the legend %+v", when, z.ID, l.Box, lay.Map, lay.Legend)
		}
		borders[state][l.Border] = true
	}
	for b := range borders["gap"] {
		if borders["met"][b] {
			t.Errorf("%s: labels of zones in gap and of zones that meet their rule share the border colour %s", when, b)
		}
	}
	var cards []string
	for _, c := range lay.GapList.Cards {
		cards = append(cards, c.Zone)
	}
	slices.Sort(inGap)
	slices.Sort(cards)
	if !slices.Equal(inGap, cards) {
		t.Errorf("%s: zones outlined as in gap %v, gap cards %v", when, inGap, cards)
	}
	for i, a := range lay.Labels {
		for _, c := range lay.Labels[i+1:] {
			if a.Box.meets(c.Box) {
				t.Errorf("%s: labels of %s %+v and %s %+v overlap", when, a.Zone, a.Box, c.Zone, c.Box)
			}
		}
	}
}

// checkUnits checks that no two unit markers overlap and that a click at
// each marker's centre reaches that marker (nothing lies over it).
func checkUnits(t *testing.T, when string, lay *mapLayout) {
	t.Helper()
	for i, a := range lay.Units {
		if !a.Hit {
			t.Errorf("%s: a click at the centre of %s (%.0f, %.0f) reaches %q, not the marker", when, a.ID, a.X, a.Y, a.Under)
		}
		for _, c := range lay.Units[i+1:] {
			if d := math.Hypot(a.X-c.X, a.Y-c.Y); d < a.R+c.R-0.5 {
				t.Errorf("%s: markers %s and %s overlap: centres %.1f px apart, discs %.1f px wide", when, a.ID, c.ID, d, 2*a.R)
			}
		}
	}
}

// checkPanels checks that the page fits its window without scrolling, every
// panel lies inside it, every gap card can be scrolled fully into view inside
// the gap list, and no figure or name wraps.
func checkPanels(t *testing.T, when string, lay *mapLayout) {
	t.Helper()
	w := lay.Window
	view := box{X1: w.W, Y1: w.H}
	if w.ScrollW > w.W || w.ScrollH > w.H {
		t.Errorf("%s: page is %.0f × %.0f in a %.0f × %.0f window", when, w.ScrollW, w.ScrollH, w.W, w.H)
	}
	for _, p := range lay.Panels {
		if !p.Box.within(view) {
			t.Errorf("%s: panel %q at %+v, outside the %.0f × %.0f window", when, p.Name, p.Box, w.W, w.H)
		}
	}
	g := lay.GapList
	if n, _ := strconv.Atoi(g.Count); n != len(g.Cards) {
		t.Errorf("%s: gap list has %d cards, its count says %s", when, len(g.Cards), g.Count)
	}
	if g.ScrollH > g.ClientH+1 && g.OverflowY != "auto" && g.OverflowY != "scroll" {
		t.Errorf("%s: gap list holds %.0f px in %.0f px with overflow-y %s: cards are hidden, not scrolled to", when, g.ScrollH, g.ClientH, g.OverflowY)
	}
	for _, c := range g.Cards {
		if !c.Inside {
			t.Errorf("%s: gap card of %s does not fit inside the gap list even scrolled into view", when, c.Zone)
		}
	}
	for _, s := range lay.Wrapped {
		t.Errorf("%s: text wraps: %s", when, s)
	}
}

// TestBrowserMapLegible opens the demo city's live map at its default zoom
// in a 1366 × 768 window and checks what a first look needs: every active
// zone outlined above the hexagons and labelled with its name, zones in gap
// told apart from those that meet their rule, no unit marker over another,
// and panels that fit the window with every gap card reachable. It checks the
// labels again one zoom step out, then the panels with most zones in gap (all
// units off duty), then all of it opened afresh at 1920 × 1080, saving a
// screenshot of each.
func TestBrowserMapLegible(t *testing.T) {
	requireBrowser(t)
	base := startDemoServer(t)
	b := startBrowser(t, 1366, 768)
	b.openMap(base, true)

	lay := b.readLayout()
	zones := fetchZones(t, base)
	t.Logf("window %.0f × %.0f, zoom %.2f (min %.2f): %d zones outlined, %d labels, %d markers",
		lay.Window.W, lay.Window.H, lay.Zoom, lay.MinZoom, len(lay.Outlined), len(lay.Labels), len(lay.Units))
	b.shot("live-map-1366.png")
	checkZones(t, "default zoom", lay, zones)
	checkUnits(t, "default zoom", lay)
	checkPanels(t, "default zoom", lay)

	fit := lay.Zoom
	b.eval(fmt.Sprintf(`window.patrolgrid.map.jumpTo({zoom: %f}) && 0`, fit-1))
	lay = b.readLayout()
	b.shot("live-map-1366-out.png")
	checkZones(t, "one zoom step out", lay, fetchZones(t, base))
	checkUnits(t, "one zoom step out", lay)
	b.eval(fmt.Sprintf(`window.patrolgrid.map.jumpTo({zoom: %f}) && 0`, fit))

	gaps := allOffDuty(t, base)
	b.waitState(30*time.Second, fmt.Sprintf("%d gap cards", gaps), func(*pageState) bool {
		return b.eval(`document.querySelectorAll('#gaps li.gap').length`) == float64(gaps)
	})
	lay = b.readLayout()
	b.shot("live-map-1366-gaps.png")
	checkZones(t, "all units off duty", lay, fetchZones(t, base))
	checkPanels(t, "all units off duty", lay)

	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1920, 1080)); err != nil {
		t.Fatalf("resize to 1920 × 1080: %v", err)
	}
	b.openMap(base, false)
	lay = b.readLayout()
	b.shot("live-map-1920-gaps.png")
	checkZones(t, "1920 × 1080", lay, fetchZones(t, base))
	checkUnits(t, "1920 × 1080", lay)
	checkPanels(t, "1920 × 1080", lay)
	b.check(nil)
}

// eval runs a script in the page and returns its value (as JSON decodes it).
func (b *browser) eval(script string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](script))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", script, err)
	}
	return v
}

// allOffDuty sets every unit of the plan off duty through the API and
// returns how many zones are then in gap.
func allOffDuty(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/plan")
	if err != nil {
		t.Fatalf("GET plan: %v", err)
	}
	var plan struct {
		Units []struct {
			ID string `json:"id"`
		} `json:"units"`
	}
	err = json.NewDecoder(resp.Body).Decode(&plan)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("decode plan: %v", err)
	}
	for _, u := range plan.Units {
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/units/"+u.ID+"/status", strings.NewReader(`{"status":"off_duty"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT status of %s = %v, %v; want 204", u.ID, resp, err)
		}
		resp.Body.Close()
	}
	// Coverage follows within a tick or two: wait until the count of zones in
	// gap holds for a second.
	count := func() int {
		n := 0
		for _, z := range fetchZones(t, base) {
			if z.Gap {
				n++
			}
		}
		return n
	}
	last := -1
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		n := count()
		if n == last && n > 0 {
			return n
		}
		last = n
	}
	t.Fatalf("zones in gap did not settle with every unit off duty (last %d)", last)
	return 0
}
