// Package hotspot finds repeated calls: places where incidents of one
// kind keep coming back within a sliding window (one household calling 6
// times in 3 months), the seed of a risk warning.
package hotspot

import (
	"cmp"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Level is a warning's level, from blue (watch) to red (act).
type Level string

// The levels, in order.
const (
	Blue   Level = "blue"
	Yellow Level = "yellow"
	Orange Level = "orange"
	Red    Level = "red"
)

// Config says what counts as repeated. The zero value of each field is its
// documented default.
type Config struct {
	// Window is how far back calls count from the moment asked; default
	// 90 days.
	Window time.Duration
	// Red is how many calls of one kind in one cell within Window make a
	// red hotspot; default 6. Orange is one fewer, yellow two fewer, blue
	// half of Red (rounded up), and fewer are no hotspot.
	Red int
	// Resolution is the H3 resolution of the cells calls are counted in;
	// default 11 (cells of about 0.026 km², a block).
	Resolution int
}

func (c Config) withDefaults() Config {
	c.Window = cmp.Or(c.Window, 90*24*time.Hour)
	c.Red = cmp.Or(c.Red, 6)
	c.Resolution = cmp.Or(c.Resolution, 11)
	return c
}

// Level returns the level of count calls, false when they are no hotspot.
func (c Config) Level(count int) (Level, bool) {
	c = c.withDefaults()
	switch {
	case count >= c.Red:
		return Red, true
	case count >= c.Red-1:
		return Orange, true
	case count >= c.Red-2:
		return Yellow, true
	case count >= (c.Red+1)/2:
		return Blue, true
	}
	return "", false
}

// Cell returns the cell calls at p are counted in.
func (c Config) Cell(p orb.Point) h3.Cell { return geo.Cell(p, c.withDefaults().Resolution) }

// Hotspot is one cell where calls of one kind repeat.
type Hotspot struct {
	Cell  h3.Cell   `json:"cell"`
	Kind  string    `json:"kind"`
	Calls int       `json:"calls"` // within the window
	First time.Time `json:"first"` // the window's first call there
	Last  time.Time `json:"last"`  // and its latest
	Level Level     `json:"level"`
}

// key is a cell and a kind.
type key struct {
	cell h3.Cell
	kind string
}

// Find returns the hotspots of the calls of history within cfg.Window up
// to at (calls after at are not counted): every cell and kind with at
// least blue's count, the most calls first, then the latest.
func Find(history []patrol.Incident, at time.Time, cfg Config) []Hotspot {
	cfg = cfg.withDefaults()
	from := at.Add(-cfg.Window)
	spots := map[key]*Hotspot{}
	for _, in := range history {
		if !in.Time.After(from) || in.Time.After(at) {
			continue
		}
		cell := cfg.Cell(in.Point)
		k := key{cell, in.Kind}
		s := spots[k]
		if s == nil {
			s = &Hotspot{Cell: cell, Kind: in.Kind, First: in.Time, Last: in.Time}
			spots[k] = s
		}
		s.Calls++
		if in.Time.Before(s.First) {
			s.First = in.Time
		}
		if in.Time.After(s.Last) {
			s.Last = in.Time
		}
	}
	var out []Hotspot
	for _, s := range spots {
		if lv, ok := cfg.Level(s.Calls); ok {
			s.Level = lv
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Hotspot) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), b.Last.Compare(a.Last), cmp.Compare(a.Cell, b.Cell), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
