package patrol_test

import (
	"bytes"
	"testing"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// BenchmarkDemoCity measures coverage of the embedded demo city, every
// unit at its post: the full computation, and one unit moving between two
// cells with the diff taken after each move.
func BenchmarkDemoCity(b *testing.B) {
	plan, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		b.Fatal(err)
	}
	for _, res := range []int{9, 10} {
		p, err := plan.WithResolution(res)
		if err != nil {
			b.Fatal(err)
		}
		grid, err := geo.NewPolygonGrid(p.Boundary, res)
		if err != nil {
			b.Fatal(err)
		}
		lat := geo.NewLattice(grid)
		placeAll := func() *patrol.Coverage {
			cv, err := patrol.NewCoverage(p, lat)
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range p.Units {
				if _, err := cv.Move(u.ID, geo.CellCenter(u.Post), patrol.Available); err != nil {
					b.Fatal(err)
				}
			}
			return cv
		}
		b.Run(name("full", res), func(b *testing.B) {
			b.ReportAllocs()
			cells := 0
			for b.Loop() {
				cells = len(placeAll().Cells())
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/plan")
			b.ReportMetric(float64(cells), "cells")
		})
		b.Run(name("move", res), func(b *testing.B) {
			cv := placeAll()
			cv.Changes()
			u := p.Units[0] // a vehicle
			here := geo.CellCenter(u.Post)
			there := geo.PointAt(here, 90, 400)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				at := here
				if i%2 == 0 {
					at = there
				}
				cv.Move(u.ID, at, patrol.Available)
				cv.Changes()
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/move")
		})
	}
}

func name(kind string, res int) string {
	return kind + "/res=" + string(rune('0'+res/10)) + string(rune('0'+res%10))
}
