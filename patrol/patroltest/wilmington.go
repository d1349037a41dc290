package patroltest

import (
	"bytes"
	"testing"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// DelawareRoads returns the road network of the shared extract
// osm/delaware.osm.pbf (the whole state) with the default profiles,
// skipping when the file is missing (failing under CI=true or
// PATROLGRID_REQUIRE=1). The import takes about a second, several under
// -race, once per test binary.
func DelawareRoads(t testing.TB) *road.Network {
	t.Helper()
	return delawareNet.open(t, "osm/delaware.osm.pbf")
}

// Wilmington returns the demo plan over the embedded boundary of
// Wilmington, Delaware (data.WilmingtonBoundary): the demo city's
// profiles and mechanisms at resolution 10, with no units and no zones,
// which all lie in Horqin.
func Wilmington(t testing.TB) *patrol.Plan {
	t.Helper()
	b, err := patrol.ReadBoundary(bytes.NewReader(data.WilmingtonBoundary()))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := DemoPlan(t).WithBoundary(b)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
