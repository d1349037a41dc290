package road

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// BenchmarkRoadIsochrone is a 5-minute isochrone on the Monaco road graph
// from the Casino, cells included.
func BenchmarkRoadIsochrone(b *testing.B) {
	for _, res := range []int{9, 10} {
		r := monacoRouter(b, res, RouterConfig{})
		for _, p := range []geo.Profile{carProfile, {Name: "bike"}, footProfile} {
			b.Run(fmt.Sprintf("%s/res%d", p.Name, res), func(b *testing.B) {
				var s geo.Search
				var dst []geo.Reach
				cells := 0
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = r.Isochrone(&s, casino, p, 5*time.Minute, dst[:0])
					cells += len(dst)
				}
				b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
			})
		}
	}
}

// BenchmarkImportMonaco imports the Monaco extract (PBF) into car, bike
// and foot graphs.
func BenchmarkImportMonaco(b *testing.B) {
	raw, err := io.ReadAll(openTestData(b, monacoPBF))
	if err != nil {
		b.Fatal(err)
	}
	cfg := ImportConfig{Profiles: testProfiles(b, "default")}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	edges := 0
	for b.Loop() {
		net, err := ImportOSM(context.Background(), bytes.NewReader(raw), OSMPBF, cfg)
		if err != nil {
			b.Fatal(err)
		}
		edges = totalEdges(net)
	}
	b.ReportMetric(float64(edges), "edges/op")
}

// BenchmarkLoadGraphFile reads Monaco's three graphs back from their
// graph file (in memory), snap indexes included.
func BenchmarkLoadGraphFile(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteNetwork(&buf, testNetwork(b, monacoPBF)); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	edges := 0
	for b.Loop() {
		net, err := ReadNetwork(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		edges = totalEdges(net)
	}
	b.ReportMetric(float64(edges), "edges/op")
}

// BenchmarkNewRoadRouter finds the cells every edge of Monaco's three
// graphs crosses at resolution 10.
func BenchmarkNewRoadRouter(b *testing.B) {
	net := testNetwork(b, monacoPBF)
	r := monacoRouter(b, 10, RouterConfig{})
	b.ReportAllocs()
	for b.Loop() {
		NewRouter(net, r.grid, RouterConfig{})
	}
	b.ReportMetric(float64(totalEdges(net)), "edges/op")
}

// BenchmarkRoadIsochrone88 is the reach of a whole patrol deployment on
// the Monaco road graph: 88 units at fixed pseudo-random points, 40 by
// car, 28 by bike and 20 on foot, each a 5-minute isochrone with cells,
// as the coverage engine computes them on a full rebuild.
func BenchmarkRoadIsochrone88(b *testing.B) {
	r := monacoRouter(b, 10, RouterConfig{})
	rng := rand.New(rand.NewPCG(8, 8))
	type unit struct {
		at orb.Point
		p  geo.Profile
	}
	var units []unit
	for len(units) < 88 {
		p := carProfile
		switch {
		case len(units) >= 68:
			p = footProfile
		case len(units) >= 40:
			p = geo.Profile{Name: "bike"}
		}
		at := orb.Point{7.41 + rng.Float64()*0.028, 43.727 + rng.Float64()*0.022}
		if _, err := r.Snap(at, p.Name); err == nil {
			units = append(units, unit{at, p})
		}
	}
	var s geo.Search
	var dst []geo.Reach
	cells := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, u := range units {
			dst, _ = r.Isochrone(&s, u.at, u.p, 5*time.Minute, dst[:0])
			cells += len(dst)
		}
	}
	b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
}

// totalEdges counts the edges of every graph of net.
func totalEdges(net *Network) int {
	n := 0
	for _, g := range net.Graphs {
		_, e := g.Len()
		n += e
	}
	return n
}
