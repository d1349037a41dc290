package web

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestBrowserLiveMap opens the live map of the demo city in headless
// Chromium and waits until the page has drawn the hexagons, coloured the
// reached ones, placed all 88 units and applied live diffs, without a console
// error. It then checks that diffs change feature state only: the hexagon
// geometry is never handed to the map again.
func TestBrowserLiveMap(t *testing.T) {
	requireBrowser(t)
	artifacts := os.Getenv("PATROLGRID_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("artifacts folder: %v", err)
	}

	base := startDemoServer(t)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	defer cancelAlloc()
	console := &consoleLog{}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(console.listen))
	defer cancel()

	shot := func(name string) {
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		path := filepath.Join(artifacts, name)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Errorf("save screenshot: %v", err)
			return
		}
		t.Logf("screenshot: %s", path)
	}

	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open %s: %v", base, err)
	}

	// Wait until the page is ready with live data, failing early on an error.
	var st *pageState
	ready := func(s *pageState) bool {
		return s != nil && s.Ready && s.Cells > 1000 && s.ColouredCells > 0 && s.Units == 88 && s.Diffs >= 1
	}
	check := func(s *pageState) {
		t.Helper()
		errs := console.all()
		if s != nil {
			errs = append(errs, s.Errors...)
		}
		if len(errs) > 0 {
			shot("live-map-failed.png")
			t.Fatalf("the page reported errors:\n  %s", strings.Join(errs, "\n  "))
		}
	}
	for deadline := start.Add(pageWait); ; {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*pageState](readState))
		if err != nil {
			t.Fatalf("read window.patrolgrid: %v", err)
		}
		st = s
		check(st)
		if ready(st) {
			break
		}
		if time.Now().After(deadline) {
			shot("live-map-failed.png")
			t.Fatalf("page not ready after %s: window.patrolgrid = %+v", pageWait, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("ready in %s: %d hexagons (%d reached within 5 min), %d units, %d diffs, connection %q; page milestones (ms): %v",
		time.Since(start).Round(time.Millisecond), st.Cells, st.ColouredCells, st.Units, st.Diffs, st.Connection, st.Timing)
	if st.Connection != "live" {
		t.Errorf("connection = %q, want live", st.Connection)
	}
	if st.Notice == "" {
		t.Errorf("the plan's notice label is not shown")
	}

	// Diffs must recolour through feature state only: no new geometry.
	uploads := st.GeometryUploads
	diffs0, err := chromedp.Run(ctx, chromedp.Evaluate[int](spyGeometry))
	if err != nil {
		t.Fatalf("spy on the hexagon source: %v", err)
	}
	const moreDiffs = 3
	for deadline := time.Now().Add(30 * time.Second); ; {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*pageState](readState))
		if err != nil {
			t.Fatalf("read window.patrolgrid: %v", err)
		}
		st = s
		check(st)
		if st.Diffs >= diffs0+moreDiffs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d diffs arrived in 30 s after the first ones", st.Diffs-diffs0)
		}
		time.Sleep(200 * time.Millisecond)
	}
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__hexDataCalls`))
	if err != nil {
		t.Fatalf("read the geometry spy: %v", err)
	}
	if calls != 0 || st.GeometryUploads != uploads {
		t.Errorf("after %d diffs: hexagon source data set %d times and geometry uploads %d → %d, want none",
			st.Diffs-diffs0, calls, uploads, st.GeometryUploads)
	}
	t.Logf("%d diffs applied by feature state only; apply time %.1f ms on average, %.1f ms at most (snapshot included)",
		st.Diffs, st.AvgApplyMs, st.MaxApplyMs)

	shot("live-map.png")
	check(nil)
}
