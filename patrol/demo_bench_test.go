package patrol_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// BenchmarkDemoCity measures coverage of the embedded demo city, every
// unit at its post: the full computation, and one unit moving between two
// cells 400 m apart with the diff taken after each move.
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
		posts := make([]orb.Point, len(p.Units))
		for i, u := range p.Units {
			posts[i] = geo.CellCenter(u.Post)
		}
		benchCoverage(b, fmt.Sprintf("res=%02d", res), p, geo.NewLattice(grid), posts, geo.PointAt(posts[0], 90, 400))
	}
}

// placeUnits returns an engine for plan on router with unit i available at
// at[i].
func placeUnits(tb testing.TB, plan *patrol.Plan, router geo.Router, at []orb.Point) *patrol.Coverage {
	tb.Helper()
	cv, err := patrol.NewCoverage(plan, router)
	if err != nil {
		tb.Fatal(err)
	}
	for i, u := range plan.Units {
		if _, err := cv.Move(u.ID, at[i], patrol.Available); err != nil {
			tb.Fatal(err)
		}
	}
	return cv
}

// benchCoverage runs two sub-benchmarks named after suffix: "full" builds
// the engine and places every unit at at (ms/plan, cells reached); "move"
// moves the first unit between at[0] and there, which must be in another
// cell, taking the diff after each move (ms/move).
func benchCoverage(b *testing.B, suffix string, plan *patrol.Plan, router geo.Router, at []orb.Point, there orb.Point) {
	b.Run("full/"+suffix, func(b *testing.B) {
		b.ReportAllocs()
		cells := 0
		for b.Loop() {
			cells = len(placeUnits(b, plan, router, at).Cells())
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/plan")
		b.ReportMetric(float64(cells), "cells")
	})
	b.Run("move/"+suffix, func(b *testing.B) {
		if geo.Cell(at[0], plan.Resolution) == geo.Cell(there, plan.Resolution) {
			b.Fatal("the two positions share a cell: a move would compute nothing")
		}
		cv := placeUnits(b, plan, router, at)
		cv.Changes()
		id := plan.Units[0].ID
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := at[0]
			if i%2 == 0 {
				p = there
			}
			if _, err := cv.Move(id, p, patrol.Available); err != nil {
				b.Fatal(err)
			}
			cv.Changes()
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/move")
	})
}
