package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLogin opens the live map of a server that asks for
// credentials in headless Chromium: the page sends it to the login form,
// the viewer token typed there brings it back to the map, which draws
// the city and its units with the session cookie alone, a cookie no
// script on the page can read.
func TestBrowserLogin(t *testing.T) {
	requireBrowser(t)
	const viewer = "viewer-token-of-the-browser-login"
	base := startCity(t, Access{ViewerTokens: []string{viewer}}, true).url
	b := startBrowser(t, 1400, 900)
	for _, step := range []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/"), chromedp.WaitVisible("#token")} {
		if err := chromedp.Do(b.ctx, step); err != nil {
			t.Fatalf("open the map without a credential: %v", err)
		}
	}
	if path, _ := b.eval(`location.pathname`).(string); path != "/login" {
		t.Fatalf("the map without a credential ended at %q, want /login", path)
	}
	b.shot("login.png")
	start := time.Now()
	for _, step := range []chromedp.Action[chromedp.Void]{chromedp.SendKeys("#token", viewer), chromedp.Submit("#token")} {
		if err := chromedp.Do(b.ctx, step); err != nil {
			t.Fatalf("sign in: %v", err)
		}
	}
	st := b.waitState(pageWait, "the map after signing in", func(s *pageState) bool {
		return s != nil && s.Ready && s.Cells > 1000 && s.Units == 88
	})
	t.Logf("map ready %s after signing in: %d hexagons, %d units", time.Since(start).Round(time.Millisecond), st.Cells, st.Units)
	if cookie, _ := b.eval(`document.cookie`).(string); cookie != "" {
		t.Errorf("the page's script reads cookies %q, want none (the session is HttpOnly)", cookie)
	}
	if p, _ := b.eval(`location.pathname + location.search`).(string); p != "/" {
		t.Errorf("the map's URL is %q, want / with no token in it", p)
	}
}
