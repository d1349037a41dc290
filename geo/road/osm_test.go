package road

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/data/datatest"
)

// kphTolerance absorbs unit conversions of speeds.
const kphTolerance = 1e-9

func TestParseMaxSpeed(t *testing.T) {
	zones := map[string]float64{"RU:urban": 60, "DE:zone30": 30, "walk": 6}
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"50", 50, true},
		{"50.5", 50.5, true},
		{" 30 ", 30, true},
		{"50 km/h", 50, true},
		{"50 mph", 50 * 1.609344, true},
		{"50mph", 50 * 1.609344, true},
		{"10 knots", 18.52, true},
		{"RU:urban", 60, true},
		{"DE:zone30", 30, true},
		{"walk", 6, true},
		{"30;50", 30, true},
		{"FR:urban", 0, false}, // not in the table
		{"none", 0, false},
		{"signals", 0, false},
		{"", 0, false},
		{"-20", 0, false},
		{"0", 0, false},
		{"50 furlongs", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseMaxSpeed(tc.in, zones)
			if ok != tc.ok || math.Abs(got-tc.want) > kphTolerance {
				t.Errorf("ParseMaxSpeed(%q) = %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// tags builds a tagger from "k=v" pairs.
func tags(kv ...string) tagger {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestWayUse(t *testing.T) {
	pf := testProfiles(t, "default")
	car, _ := pf.Profile("car")
	bike, _ := pf.Profile("bike")
	foot, _ := pf.Profile("foot")
	res := car.Highways["residential"]
	tests := []struct {
		name    string
		p       Profile
		tag     tagger
		want    wayUse
		allowed bool
	}{
		{"car residential", car, tags("highway=residential"), wayUse{res, res}, true},
		{"car oneway yes", car, tags("highway=residential", "oneway=yes"), wayUse{res, 0}, true},
		{"car oneway 1", car, tags("highway=residential", "oneway=1"), wayUse{res, 0}, true},
		{"car oneway true", car, tags("highway=residential", "oneway=true"), wayUse{res, 0}, true},
		{"car oneway -1", car, tags("highway=residential", "oneway=-1"), wayUse{0, res}, true},
		{"car oneway no", car, tags("highway=residential", "oneway=no"), wayUse{res, res}, true},
		{"car reversible", car, tags("highway=residential", "oneway=reversible"), wayUse{}, false},
		{"car roundabout", car, tags("highway=residential", "junction=roundabout"), wayUse{res, 0}, true},
		{"car roundabout two-way", car, tags("highway=residential", "junction=roundabout", "oneway=no"), wayUse{res, res}, true},
		{"car maxspeed", car, tags("highway=residential", "maxspeed=50"), wayUse{40, 40}, true},
		{"car maxspeed mph", car, tags("highway=residential", "maxspeed=25 mph"), wayUse{25 * 1.609344 * 0.8, 25 * 1.609344 * 0.8}, true},
		{"car maxspeed zone", car, tags("highway=residential", "maxspeed=RU:urban"), wayUse{48, 48}, true},
		{"car maxspeed forward", car, tags("highway=residential", "maxspeed=50", "maxspeed:backward=30"), wayUse{40, 24}, true},
		{"car top speed", car, tags("highway=motorway", "maxspeed=200", "oneway=no"), wayUse{110, 110}, true},
		{"car access no", car, tags("highway=residential", "access=no"), wayUse{}, false},
		{"car motor_vehicle overrides access", car, tags("highway=residential", "access=no", "motor_vehicle=yes"), wayUse{res, res}, true},
		{"car motor_vehicle no", car, tags("highway=residential", "motor_vehicle=no"), wayUse{}, false},
		{"car private", car, tags("highway=residential", "access=private"), wayUse{}, false},
		{"car destination", car, tags("highway=residential", "access=destination"), wayUse{res, res}, true},
		{"car driveway", car, tags("highway=service", "service=driveway"), wayUse{15 * 0.6, 15 * 0.6}, true},
		{"car drive-through", car, tags("highway=service", "service=drive-through"), wayUse{}, false},
		{"car footway", car, tags("highway=footway"), wayUse{}, false},
		{"car steps", car, tags("highway=steps"), wayUse{}, false},
		{"car area", car, tags("highway=service", "area=yes"), wayUse{}, false},
		{"bike oneway", bike, tags("highway=residential", "oneway=yes"), wayUse{18, 0}, true},
		{"bike contraflow", bike, tags("highway=residential", "oneway=yes", "oneway:bicycle=no"), wayUse{18, 18}, true},
		{"bike opposite lane", bike, tags("highway=residential", "oneway=yes", "cycleway=opposite_lane"), wayUse{18, 18}, true},
		{"bike bicycle no", bike, tags("highway=residential", "bicycle=no"), wayUse{}, false},
		{"bike steps", bike, tags("highway=steps"), wayUse{}, false},
		{"bike motorway", bike, tags("highway=motorway"), wayUse{}, false},
		{"foot oneway ignored", foot, tags("highway=residential", "oneway=yes"), wayUse{5, 5}, true},
		{"foot oneway -1 ignored", foot, tags("highway=residential", "oneway=-1"), wayUse{5, 5}, true},
		{"foot roundabout ignored", foot, tags("highway=residential", "junction=roundabout"), wayUse{5, 5}, true},
		{"foot steps", foot, tags("highway=steps"), wayUse{2.5, 2.5}, true},
		{"foot foot no", foot, tags("highway=residential", "foot=no"), wayUse{}, false},
		{"foot motor_vehicle no is fine", foot, tags("highway=residential", "motor_vehicle=no"), wayUse{5, 5}, true},
		{"foot motorway", foot, tags("highway=motorway"), wayUse{}, false},
		{"foot pedestrian area", foot, tags("highway=pedestrian", "area=yes"), wayUse{5, 5}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.p.use(tc.tag, pf.Zones)
			if ok != tc.allowed || math.Abs(got.fwd-tc.want.fwd) > kphTolerance || math.Abs(got.bwd-tc.want.bwd) > kphTolerance {
				t.Errorf("use = %+v, %v, want %+v, %v", got, ok, tc.want, tc.allowed)
			}
		})
	}
}

func TestRoadProfileBands(t *testing.T) {
	car, _ := testProfiles(t, "default").Profile("car")
	tests := []struct {
		hour int
		want string
	}{{3, BandNight}, {7, BandPeak}, {8, BandPeak}, {9, BandOffPeak}, {18, BandPeak}, {21, BandOffPeak}, {22, BandNight}, {23, BandNight}}
	for _, tc := range tests {
		if got := car.BandAt(tc.hour); got != tc.want {
			t.Errorf("BandAt(%d) = %q, want %q", tc.hour, got, tc.want)
		}
	}
	if f, ok := car.BandFactor(BandPeak); !ok || f >= 1 {
		t.Errorf("BandFactor(peak) = %v, %v, want a slow-down below 1", f, ok)
	}
}

func TestReadProfileFileRejects(t *testing.T) {
	tests := []struct{ name, json string }{
		{"unknown field", `{"name":"x","profiles":[{"name":"car","mode":"car","highways":{"primary":50}}],"extra":1}`},
		{"no profiles", `{"name":"x","profiles":[]}`},
		{"bad mode", `{"name":"x","profiles":[{"name":"car","mode":"boat","highways":{"primary":50}}]}`},
		{"bad speed", `{"name":"x","profiles":[{"name":"car","mode":"car","highways":{"primary":0}}]}`},
		{"duplicate", `{"name":"x","profiles":[{"name":"car","mode":"car","highways":{"primary":50}},{"name":"car","mode":"car","highways":{"primary":50}}]}`},
		{"bad band", `{"name":"x","profiles":[{"name":"car","mode":"car","highways":{"primary":50},"bands":{"peak":{"factor":0}}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadProfileFile(strings.NewReader(tc.json)); err == nil {
				t.Errorf("ReadProfileFile(%s) = nil error, want one", tc.json)
			}
		})
	}
}

// TestImportReportsDroppedFragments checks that the central Shanghai
// extract, cut out of a city of oneway streets, loses fragments to the
// strongly connected component and says so, and that what is kept is one
// strongly connected component.
func TestImportReportsDroppedFragments(t *testing.T) {
	var reports []ImportProgress
	cfg := ImportConfig{Profiles: testProfiles(t, "default"), Progress: func(p ImportProgress) { reports = append(reports, p) }}
	net, err := ImportOSM(context.Background(), openTestData(t, shanghaiXML), OSMXML, cfg)
	if err != nil {
		t.Fatal(err)
	}
	builds := 0
	for _, p := range reports {
		if strings.HasPrefix(p.Stage, "build ") && p.Graph != nil {
			builds++
		}
	}
	if builds != len(net.Graphs) {
		t.Errorf("progress reported %d graph builds, want %d", builds, len(net.Graphs))
	}
	for _, g := range net.Graphs {
		st := g.Stats
		t.Logf("%s: %+v", g.Name, st)
		if st.Components < 2 || st.DroppedNodes == 0 || st.DroppedEdges == 0 || st.DroppedKm <= 0 {
			t.Errorf("%s: stats %+v, want dropped fragments reported", g.Name, st)
		}
		if n, e := g.Len(); n != st.Nodes || e != st.Edges || n == 0 {
			t.Errorf("%s: Len() = %d, %d, want %d, %d", g.Name, n, e, st.Nodes, st.Edges)
		}
		if _, comps := largestSCC(len(g.nodes), g.edges); comps != 1 {
			t.Errorf("%s: kept graph has %d strongly connected components, want 1", g.Name, comps)
		}
	}
}

func TestImportMonaco(t *testing.T) {
	im := testImport(t, monacoPBF)
	net := im.net
	reads, builds, last := 0, 0, 0
	for _, p := range im.reports {
		switch {
		case p.Stage == "read":
			if n := p.Nodes + p.Ways; n <= last {
				t.Errorf("read progress went from %d to %d objects, want growth", last, n)
			}
			last = p.Nodes + p.Ways
			reads++
		case p.Graph != nil:
			builds++
		}
	}
	if reads == 0 || builds != 3 {
		t.Errorf("import reported %d reads and %d graph builds, want some and 3", reads, builds)
	}
	want := map[string]int{"car": 1500, "bike": 2000, "foot": 2000} // ways, at least
	for _, g := range net.Graphs {
		if g.Stats.Ways < want[g.Name] {
			t.Errorf("%s: %d ways, want at least %d", g.Name, g.Stats.Ways, want[g.Name])
		}
		if g.Stats.DroppedNodes*10 > g.Stats.Nodes {
			t.Errorf("%s: dropped %d of %d nodes, want under 10%%", g.Name, g.Stats.DroppedNodes, g.Stats.Nodes)
		}
		for e, ed := range g.edges {
			if !(ed.length >= 0) || ed.fwdKPH <= 0 && ed.bwdKPH <= 0 { // two OSM nodes may share a position
				t.Fatalf("%s: edge %d has length %v, speeds %v/%v", g.Name, e, ed.length, ed.fwdKPH, ed.bwdKPH)
			}
		}
	}
}

func TestImportSmallExtract(t *testing.T) {
	xml := `<?xml version="1.0"?><osm version="0.6">
<node id="1" lat="43.7300000" lon="7.4200000"/><node id="2" lat="43.7310000" lon="7.4200000"/>
<node id="3" lat="43.7310000" lon="7.4210000"/><node id="4" lat="43.7300000" lon="7.4210000"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
<way id="11"><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
<way id="12"><nd ref="4"/><nd ref="99"/><tag k="highway" v="residential"/></way>
</osm>`
	// 2 ─── 3       one oneway loop 1→2→3→4→1, cut into two edges at
	// │     │       the ways' shared ends 1 and 3; way 12 points at a
	// 1 ─── 4       node missing from the extract and is dropped.
	cfg := ImportConfig{Profiles: testProfiles(t, "default")}
	net, err := ImportOSM(context.Background(), strings.NewReader(xml), OSMXML, cfg)
	if err != nil {
		t.Fatal(err)
	}
	car := net.Graph("car")
	if n, e := car.Len(); n != 2 || e != 2 {
		t.Errorf("car graph has %d nodes, %d edges, want 2, 2", n, e)
	}
	if car.Stats.DroppedNodes != 0 || car.Stats.Components != 1 {
		t.Errorf("car stats %+v, want one component, nothing dropped", car.Stats)
	}
	if _, err := ImportOSM(context.Background(), strings.NewReader(xml), OSMXMLBz2, cfg); err == nil {
		t.Errorf("ImportOSM(plain XML as bz2) = nil error, want one")
	}
}

func TestGraphFileRoundTrip(t *testing.T) {
	for _, name := range []string{monacoPBF, shanghaiXML} {
		t.Run(name, func(t *testing.T) {
			net := testNetwork(t, name)
			var buf bytes.Buffer
			if err := WriteNetwork(&buf, net); err != nil {
				t.Fatal(err)
			}
			file := bytes.Clone(buf.Bytes())
			got, err := ReadNetwork(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, net) {
				t.Errorf("ReadRoadNetwork(WriteRoadNetwork(net)) differs from net")
			}
			for _, at := range []int{3, 10, len(file) / 2, len(file) - 1} {
				bad := bytes.Clone(file)
				bad[at] ^= 0x40
				if _, err := ReadNetwork(bytes.NewReader(bad)); !errors.Is(err, ErrGraphFile) {
					t.Errorf("ReadRoadNetwork(byte %d flipped) error = %v, want ErrGraphFile", at, err)
				}
			}
			if _, err := ReadNetwork(bytes.NewReader(file[:len(file)-9])); !errors.Is(err, ErrGraphFile) {
				t.Errorf("ReadRoadNetwork(truncated) error = %v, want ErrGraphFile", err)
			}
		})
	}
}

// FuzzReadRoadNetwork decodes arbitrary payloads wrapped in a valid
// header and checksum, so the fuzzer reaches the decoder: it must return
// a network or an error, and what it returns must write and read back.
func FuzzReadRoadNetwork(f *testing.F) {
	xml := `<osm><node id="1" lat="1" lon="1"/><node id="2" lat="1.001" lon="1"/><node id="3" lat="1.001" lon="1.001"/>` +
		`<way id="4"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/></way></osm>`
	net, err := ImportOSM(context.Background(), strings.NewReader(xml), OSMXML, ImportConfig{Profiles: testProfiles(f, "default")})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteNetwork(&buf, net); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()[graphHeaderLen : buf.Len()-4])
	f.Fuzz(func(t *testing.T, payload []byte) {
		file := append([]byte(graphFileMagic), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(file[8:], graphFileVersion)
		binary.LittleEndian.PutUint64(file[12:], uint64(len(payload)))
		file = append(file, payload...)
		file = binary.LittleEndian.AppendUint32(file, crc32.Checksum(payload, crcTable()))
		net, err := ReadNetwork(bytes.NewReader(file))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteNetwork(&out, net); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadNetwork(&out); err != nil {
			t.Fatalf("re-read of a written network: %v", err)
		}
	})
}

func TestImportKeepFragments(t *testing.T) {
	pf := testProfiles(t, "pgrouting")
	net, err := ImportOSM(context.Background(), openTestData(t, shanghaiXML), OSMXML, ImportConfig{Profiles: pf})
	if err != nil {
		t.Fatal(err)
	}
	st := net.Graph("car").Stats
	if st.Components < 2 || st.DroppedNodes != 0 || st.DroppedEdges != 0 {
		t.Errorf("pgrouting car stats %+v, want several components, none dropped", st)
	}
}

// TestPgroutingProfileMatchesMapconfig checks the shipped pgrouting
// profile against osm2pgrouting's car configuration, from Debian's
// osm2pgrouting package (make deps installs it). Without the package it
// skips, and under CI it fails.
func TestPgroutingProfileMatchesMapconfig(t *testing.T) {
	const path = "/usr/share/osm2pgrouting/mapconfig_for_cars.xml"
	b, err := os.ReadFile(path)
	if err != nil {
		datatest.Missing(t, path+" (apt-get install osm2pgrouting, or make deps)", err)
	}
	var cfg struct {
		Tags []struct {
			Name   string `xml:"name,attr"`
			Values []struct {
				Name     string  `xml:"name,attr"`
				MaxSpeed float64 `xml:"maxspeed,attr"`
			} `xml:"tag_value"`
		} `xml:"tag_name"`
	}
	if err := xml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	car, _ := testProfiles(t, "pgrouting").Profile("car")
	n := 0
	for _, tag := range cfg.Tags {
		for _, v := range tag.Values {
			n++
			if got := car.Highways[v.Name]; tag.Name != "highway" || got != v.MaxSpeed {
				t.Errorf("pgrouting car %s=%s: %v km/h, want %v", tag.Name, v.Name, got, v.MaxSpeed)
			}
		}
	}
	if n != len(car.Highways) {
		t.Errorf("pgrouting car has %d highway classes, mapconfig %d", len(car.Highways), n)
	}
}

func FuzzParseMaxSpeed(f *testing.F) {
	for _, s := range []string{"50", "50 mph", "RU:urban", "30;50", "none", "10 knots", ".5", "1e3"} {
		f.Add(s)
	}
	zones := map[string]float64{"RU:urban": 60}
	f.Fuzz(func(t *testing.T, s string) {
		kph, ok := ParseMaxSpeed(s, zones)
		if ok && !(kph > 0) {
			t.Fatalf("ParseMaxSpeed(%q) = %v, true, want a positive speed", s, kph)
		}
	})
}

// FuzzImportOSMXML feeds the importer arbitrary XML: it must return a
// network or an error, never panic, and every kept edge must join nodes
// of its graph.
func FuzzImportOSMXML(f *testing.F) {
	f.Add(`<osm><node id="1" lat="1" lon="1"/><node id="2" lat="1.001" lon="1"/>` +
		`<way id="3"><nd ref="1"/><nd ref="2"/><nd ref="1"/><tag k="highway" v="residential"/></way></osm>`)
	f.Add(`<osm><node id="2" lat="0" lon="0"/><node id="1" lat="0" lon="0"/>` +
		`<way id="3"><nd ref="1"/><nd ref="9"/><nd ref="2"/><tag k="highway" v="footway"/><tag k="oneway" v="-1"/></way></osm>`)
	pf := testProfiles(f, "default")
	f.Fuzz(func(t *testing.T, xml string) {
		net, err := ImportOSM(context.Background(), strings.NewReader(xml), OSMXML, ImportConfig{Profiles: pf})
		if err != nil {
			return
		}
		for _, g := range net.Graphs {
			n, _ := g.Len()
			for _, e := range g.edges {
				if e.from < 0 || int(e.from) >= n || e.to < 0 || int(e.to) >= n || e.shape1-e.shape0 < 2 {
					t.Fatalf("%s: bad edge %+v in a graph of %d nodes", g.Name, e, n)
				}
			}
		}
	})
}
