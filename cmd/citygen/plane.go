package main

import (
	"math"

	"github.com/paulmach/orb"
)

// The local plane: metres east and north of the town centre.
const (
	centreLon  = 122.26 // degrees east, the local origin
	centreLat  = 43.62  // degrees north
	mPerDegLat = 111_195.0
)

// mPerDegLon is the length of a degree of longitude at the centre, in metres.
func mPerDegLon() float64 { return mPerDegLat * math.Cos(centreLat*math.Pi/180) }

// toPoint returns the point x metres east and y metres north of the
// centre, rounded to 1e-6 degrees (about 0.1 m).
func toPoint(x, y float64) orb.Point {
	return orb.Point{round6(centreLon + x/mPerDegLon()), round6(centreLat + y/mPerDegLat)}
}

// toXY returns p as metres east and north of the centre.
func toXY(p orb.Point) (x, y float64) {
	return (p[0] - centreLon) * mPerDegLon(), (p[1] - centreLat) * mPerDegLat
}

// round6 rounds v to 6 decimal places.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
