package main

import "github.com/paulmach/orb"

// boundaryPolygon returns the outline of the urban area, counter-clockwise.
// The south side follows the Xiliao River, which runs west to east below
// the town; the other sides follow the edge of the built-up area.
func boundaryPolygon() orb.Polygon {
	km := [][2]float64{
		// south, along the river, west to east
		{-7.4, -3.9}, {-6.0, -4.3}, {-4.5, -4.6}, {-3.0, -4.5}, {-1.5, -4.75}, {0.0, -5.0},
		{1.5, -5.2}, {3.0, -5.0}, {4.5, -5.3}, {6.0, -5.1}, {7.3, -4.6},
		// east, south to north
		{7.6, -2.5}, {7.2, -0.5}, {7.5, 1.8}, {7.0, 4.0}, {6.2, 5.6},
		// north, east to west
		{4.5, 6.3}, {2.5, 6.7}, {0.5, 6.5}, {-1.5, 6.8}, {-3.5, 6.3}, {-5.5, 5.7}, {-6.8, 4.6},
		// west, north to south
		{-7.3, 2.5}, {-7.0, 0.3}, {-7.6, -1.8},
	}
	ring := make(orb.Ring, 0, len(km)+1)
	for _, v := range km {
		ring = append(ring, toPoint(v[0]*1000, v[1]*1000))
	}
	return orb.Polygon{append(ring, ring[0])}
}
