package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// cleared returns plan with every unit's area emptied and its post moved
// to the first unit's, so that an import must give them all back.
func cleared(plan *patrol.Plan) *patrol.Plan {
	q := *plan
	q.Units = slices.Clone(plan.Units)
	for i := range q.Units {
		q.Units[i].Area, q.Units[i].Post = nil, plan.Units[0].Post
	}
	return &q
}

// sameUnits reports the first unit whose area (as a set) or post differs.
func sameUnits(t *testing.T, got, want *patrol.Plan) {
	t.Helper()
	for i, u := range want.Units {
		g := got.Units[i]
		a, b := slices.Clone(g.Area), slices.Clone(u.Area)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) || g.Post != u.Post {
			t.Fatalf("unit %s: %d cells, post %v; want %d cells, post %v", u.ID, len(a), g.Post, len(b), u.Post)
		}
	}
}

// TestExchangeRoundTrip writes the demo plan's areas as GeoJSON and as
// CSV and reads each back onto the plan with its areas and posts cleared:
// every area and post comes back.
func TestExchangeRoundTrip(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	ev, err := Evaluate(plan, geo.NewLattice(grid), patrol.NewDemand(grid, patroltest.DemoIncidents(t)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(GeoJSON(plan, ev))
	if err != nil {
		t.Fatal(err)
	}
	areas := strings.Count(string(b), `"kind":"area"`)
	if areas != len(plan.Units) || !strings.Contains(string(b), `"workload":`) {
		t.Fatalf("GeoJSON has %d areas, want %d with their workload", areas, len(plan.Units))
	}
	got, err := ReadGeoJSON(bytes.NewReader(b), cleared(plan))
	if err != nil {
		t.Fatal(err)
	}
	sameUnits(t, got, plan)

	var csv bytes.Buffer
	if err := WriteAreasCSV(&csv, plan); err != nil {
		t.Fatal(err)
	}
	got, err = ReadAreasCSV(&csv, cleared(plan))
	if err != nil {
		t.Fatal(err)
	}
	want := cleared(plan)
	for i := range want.Units {
		want.Units[i].Area = plan.Units[i].Area
	}
	sameUnits(t, got, want)
}

// TestImportErrors: an unknown unit, a bad cell, a cell in two areas, a
// bad header and a post of the wrong geometry each fail with ErrImport
// and a message that says what.
func TestImportErrors(t *testing.T) {
	plan := patroltest.DemoPlan(t)
	c0, c1 := plan.Units[0].Area[0], plan.Units[1].Area[0]
	for _, tc := range []struct {
		name, csv, geojson, want string
	}{
		{name: "unknown unit", csv: "unit,cell\nX99," + c0.String() + "\n", want: `"X99"`},
		{name: "bad cell", csv: "unit,cell\nV01,nonsense\n", want: "line 2"},
		{name: "coarser cell", csv: "unit,cell\nV01," + c0.Parent(8).String() + "\n", want: "resolution 10"},
		{name: "two areas", csv: "unit,cell\nV01," + c1.String() + "\nV02," + c1.String() + "\n", want: "both V01 and V02"},
		{name: "header", csv: "cell,unit\n", want: "header"},
		{name: "post as a line", geojson: `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"post","unit":"V01"},` +
			`"geometry":{"type":"LineString","coordinates":[[122.2,43.6],[122.3,43.6]]}}]}`, want: "LineString"},
		{name: "not GeoJSON", geojson: `{"type":"Feature`, want: "GeoJSON"},
	} {
		var err error
		if tc.csv != "" {
			_, err = ReadAreasCSV(strings.NewReader(tc.csv), plan)
		} else {
			_, err = ReadGeoJSON(strings.NewReader(tc.geojson), plan)
		}
		if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrImport saying %q", tc.name, err, tc.want)
		}
	}
}
