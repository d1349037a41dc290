package geo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkRoadIsochrone is a 5-minute isochrone on the Monaco road graph
// from the Casino, cells included.
func BenchmarkRoadIsochrone(b *testing.B) {
	for _, res := range []int{9, 10} {
		r := monacoRouter(b, res, RoadRouterConfig{})
		for _, p := range []Profile{carProfile, {Name: "bike"}, footProfile} {
			b.Run(fmt.Sprintf("%s/res%d", p.Name, res), func(b *testing.B) {
				var s Search
				var dst []Reach
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
	for b.Loop() {
		if _, err := ImportOSM(context.Background(), bytes.NewReader(raw), OSMPBF, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
}

// BenchmarkLoadGraphFile reads Monaco's three graphs back from their
// graph file (in memory), snap indexes included.
func BenchmarkLoadGraphFile(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteRoadNetwork(&buf, testNetwork(b, monacoPBF)); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ReadRoadNetwork(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}

// BenchmarkNewRoadRouter finds the cells every edge of Monaco's three
// graphs crosses at resolution 10.
func BenchmarkNewRoadRouter(b *testing.B) {
	net := testNetwork(b, monacoPBF)
	r := monacoRouter(b, 10, RoadRouterConfig{})
	b.ReportAllocs()
	for b.Loop() {
		NewRoadRouter(net, r.grid, RoadRouterConfig{})
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/router")
}
