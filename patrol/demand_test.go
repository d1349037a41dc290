package patrol_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

func TestDemandOfDemoCity(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	incidents := patroltest.DemoIncidents(t)
	if len(incidents) != 4000 {
		t.Fatalf("demo city history holds %d incidents, want 4000", len(incidents))
	}
	inGrid := 0
	for _, in := range incidents {
		if _, ok := grid.Locate(in.Point); ok {
			inGrid++
		}
		if in.Kind == "" || in.Time.IsZero() {
			t.Fatalf("incident %+v lacks a kind or a time", in)
		}
	}
	d := patrol.NewDemand(grid, incidents)
	want := float64(inGrid) + patrol.BaseDemand*float64(grid.Len())
	if got := d.Total(); math.Abs(got-want) > 1e-6 {
		t.Errorf("demand total %.3f, want %.3f (%d incidents in the grid of %s)", got, want, inGrid, plan.Name)
	}
	if inGrid < len(incidents)*99/100 {
		t.Errorf("only %d of %d incidents fall in the grid", inGrid, len(incidents))
	}
}

// TestRoadDemand weighs the demo city's cells by straight streets: one in
// the centre weighs its length in kilometres, one leaving the city less
// than its length, no cell more than a street across a hexagon (132 m),
// most cells nothing; roads that miss the city altogether are refused.
func TestRoadDemand(t *testing.T) {
	_, grid := patroltest.DemoGrid(t)
	centre := orb.LineString{{122.25, 43.62}, {122.27, 43.62}} // 1.6 km east-west
	north := orb.LineString{{122.26, 43.61}, {122.26, 44.00}}  // 43 km north, out of the city after a few
	away := orb.LineString{{100.00, 30.00}, {100.01, 30.00}}
	km := func(l orb.LineString) float64 { return float64(geo.Distance(l[0], l[1])) / 1000 }
	for _, tc := range []struct {
		name     string
		streets  []orb.LineString
		min, max float64 // km in the city
	}{
		{"in the centre", []orb.LineString{centre, away}, km(centre), km(centre)},
		{"leaving the city", []orb.LineString{north}, 1, km(north) / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := patrol.NewRoadDemand(grid, lines(tc.streets))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Total(); got < tc.min-1e-9 || got > tc.max+1e-9 {
				t.Errorf("demand total %.4f, want %.4f to %.4f km", got, tc.min, tc.max)
			}
			if top := slices.Max(d); top > 0.132 {
				t.Errorf("a cell has %.3f km of a straight street, want at most 0.132", top)
			}
			weighed := 0
			for _, w := range d {
				if w > 0 {
					weighed++
				}
			}
			if weighed > len(d)/10 {
				t.Errorf("%d of %d cells have demand, want few", weighed, len(d))
			}
		})
	}
	if _, err := patrol.NewRoadDemand(grid, lines{away}); !errors.Is(err, patrol.ErrNoRoads) {
		t.Errorf("roads far away: error %v, want ErrNoRoads", err)
	}
}

// lines is a road graph of straight streets, one edge each.
type lines []orb.LineString

func (l lines) Len() (nodes, edges int)          { return 2 * len(l), len(l) }
func (l lines) EdgeShape(e int32) orb.LineString { return l[e] }

func TestReadIncidentsErrors(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "header"},
		{"wrong header", "time,lat,lon,kind\n", `"lat", want "lon"`},
		{"bad time", "time,lon,lat,kind\nyesterday,122.2,43.6,theft\n", "line 2: time"},
		{"bad lon", "time,lon,lat,kind\n2026-08-01T00:13:45+08:00,east,43.6,theft\n", "line 2: position"},
		{"lat out of range", "time,lon,lat,kind\n2026-08-01T00:13:45+08:00,122.2,93.6,theft\n", "line 2: position"},
		{"short row", "time,lon,lat,kind\n2026-08-01T00:13:45+08:00,122.2\n", "wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := patrol.ReadIncidents(strings.NewReader(tc.csv))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadIncidents: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadIncidents(f *testing.F) {
	f.Add("time,lon,lat,kind\n2026-08-01T00:13:45+08:00,122.277825,43.597241,traffic\n")
	f.Add("time,lon,lat,kind\n\"x\n")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := patrol.ReadIncidents(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, x := range in {
			if math.Abs(x.Point[0]) > 180 || math.Abs(x.Point[1]) > 90 || math.IsNaN(x.Point[0]) || math.IsNaN(x.Point[1]) {
				t.Fatalf("accepted position %v", x.Point)
			}
		}
	})
}
