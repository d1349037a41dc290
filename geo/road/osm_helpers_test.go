package road

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/data/datatest"
)

// openTestData opens a file under the shared test data folder, skipping
// the test (failing it under CI) when the file is missing.
func openTestData(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(datatest.File(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// testProfiles reads a profile file embedded from data/profiles.
func testProfiles(t testing.TB, name string) *ProfileFile {
	t.Helper()
	b, ok := data.Profiles(name)
	if !ok {
		t.Fatalf("no embedded profile file %s", name)
	}
	pf, err := ReadProfileFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadProfileFile(%s): %v", name, err)
	}
	return pf
}

// importTestData imports an extract of the shared test data with the
// default profiles, returning the progress reports too.
func importTestData(t testing.TB, name string) (*Network, []ImportProgress) {
	t.Helper()
	fm, ok := OSMFormatOf(name)
	if !ok {
		t.Fatalf("OSMFormatOf(%s): unknown", name)
	}
	var reports []ImportProgress
	cfg := ImportConfig{Profiles: testProfiles(t, "default"), Progress: func(p ImportProgress) { reports = append(reports, p) }}
	net, err := ImportOSM(context.Background(), openTestData(t, name), fm, cfg)
	if err != nil {
		t.Fatalf("ImportOSM(%s): %v", name, err)
	}
	return net, reports
}

// imported is one import of a test extract.
type imported struct {
	net     *Network
	reports []ImportProgress
}

// networks caches imports across the tests of one run: an import takes
// a second or more under the race detector.
var networks sync.Map // name → imported

func testImport(t testing.TB, name string) imported {
	t.Helper()
	if n, ok := networks.Load(name); ok {
		return n.(imported)
	}
	net, reports := importTestData(t, name)
	im := imported{net, reports}
	networks.Store(name, im)
	return im
}

func testNetwork(t testing.TB, name string) *Network {
	t.Helper()
	return testImport(t, name).net
}

const (
	monacoPBF   = "osm/monaco.osm.pbf"
	shanghaiXML = "osm/shanghai-central.osm"
)

// etaTolerance is how far two travel times may differ and still be equal.
const etaTolerance = time.Microsecond
