package picture

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// TestWriteSVG draws the demo city: well-formed XML with a path per area
// cell, the boundary and each zone, and a dot per post.
func TestWriteSVG(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	ev, err := planner.Evaluate(plan, geo.NewLattice(grid), patrol.NewDemand(grid, nil))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteSVG(&b, plan, ev); err != nil {
		t.Fatal(err)
	}
	paths, circles := 0, 0
	dec := xml.NewDecoder(&b)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			switch el.Name.Local {
			case "path":
				paths++
			case "circle":
				circles++
			}
		}
	}
	cells := 0
	for _, u := range plan.Units {
		cells += len(u.Area)
	}
	if want := cells + 1 + len(plan.Zones); paths != want || circles != len(plan.Units) {
		t.Errorf("%d paths and %d circles, want %d (cells, boundary, zones) and %d (posts)", paths, circles, want, len(plan.Units))
	}
}
