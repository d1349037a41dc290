package hotspot

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// TestOneRedHotspot: a synthetic history of 2,000 calls spread over a
// city in 90 days, and one household that called 6 times about the same
// thing: one red hotspot, that household's, and no other cell red or
// orange; a seventh call after the moment asked, or one outside the
// window, does not count.
func TestOneRedHotspot(t *testing.T) {
	at := time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	var history []patrol.Incident
	kinds := []string{"theft", "fight", "noise", "traffic", "fraud"}
	for range 2000 {
		p := orb.Point{122.20 + rng.Float64()*0.15, 43.57 + rng.Float64()*0.10}
		history = append(history, patrol.Incident{Time: at.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour)))), Point: p,
			Kind: kinds[rng.IntN(len(kinds))]})
	}
	home := orb.Point{122.2612, 43.6175}
	for i := range 6 {
		history = append(history, patrol.Incident{Time: at.Add(-time.Duration(i*15) * 24 * time.Hour), Point: home, Kind: "domestic"})
	}
	history = append(history,
		patrol.Incident{Time: at.Add(time.Hour), Point: home, Kind: "domestic"},
		patrol.Incident{Time: at.Add(-91 * 24 * time.Hour), Point: home, Kind: "domestic"})
	spots := Find(history, at, Config{})
	var red, orange int
	for _, s := range spots {
		switch s.Level {
		case Red:
			red++
		case Orange:
			orange++
		}
	}
	if red != 1 || orange != 0 || spots[0].Cell != geo.Cell(home, 11) || spots[0].Calls != 6 || spots[0].Kind != "domestic" {
		t.Fatalf("%d red and %d orange hotspots, the first %+v; want one red, the household's 6 domestic calls", red, orange, spots[0])
	}
	if !spots[0].First.Equal(at.Add(-75*24*time.Hour)) || !spots[0].Last.Equal(at) {
		t.Errorf("the household's calls from %v to %v, want 75 days before to the moment", spots[0].First, spots[0].Last)
	}
	for cfgRed, want := range map[int]Level{6: Red, 7: Orange, 8: Yellow, 12: Blue} {
		if lv, ok := (Config{Red: cfgRed}).Level(6); !ok || lv != want {
			t.Errorf("6 calls with red at %d = %v, %v; want %v", cfgRed, lv, ok, want)
		}
	}
	if _, ok := (Config{}).Level(2); ok {
		t.Error("2 calls are a hotspot")
	}
}

// TestDemoHotspots counts the demo city's hotspots over its last 90 days:
// a synthetic history drawn from demand, whose calls repeat by chance
// alone, raises no red warning at block-sized cells, and some blue ones.
func TestDemoHotspots(t *testing.T) {
	history, err := patrol.ReadIncidents(bytes.NewReader(data.TongliaoIncidents()))
	if err != nil {
		t.Fatal(err)
	}
	last := history[0].Time
	for _, in := range history {
		if in.Time.After(last) {
			last = in.Time
		}
	}
	spots := Find(history, last, Config{})
	n := map[Level]int{}
	for _, s := range spots {
		n[s.Level]++
	}
	t.Logf("the demo city's %d calls, last 90 days to %v: %d red, %d orange, %d yellow, %d blue hotspots", len(history), last, n[Red], n[Orange], n[Yellow], n[Blue])
	if n[Red] != 0 || n[Blue] == 0 {
		t.Errorf("chance alone raised %d red hotspots and %d blue, want none red and some blue", n[Red], n[Blue])
	}
}
