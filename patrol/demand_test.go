package patrol_test

import (
	"math"
	"strings"
	"testing"

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
