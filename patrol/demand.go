package patrol

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Incident is one past incident of a city's history: when it was reported,
// where and of what kind. Demand is drawn from a history of them.
type Incident struct {
	Time  time.Time
	Point orb.Point // (lon, lat), degrees on WGS 84
	Kind  string
}

// incidentHeader is the header of an incident history CSV.
var incidentHeader = []string{"time", "lon", "lat", "kind"}

// ReadIncidents reads an incident history as CSV with the header
// "time,lon,lat,kind": time in RFC 3339, lon and lat in degrees on WGS 84.
// A bad row fails the whole read with its line number.
func ReadIncidents(r io.Reader) ([]Incident, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(incidentHeader)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("patrol: incidents: header: %w", err)
	}
	for i, h := range incidentHeader {
		if head[i] != h {
			return nil, fmt.Errorf("patrol: incidents: header column %d is %q, want %q", i+1, head[i], h)
		}
	}
	var out []Incident
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("patrol: incidents: %w", err)
		}
		line, _ := cr.FieldPos(0)
		in, err := parseIncident(rec)
		if err != nil {
			return nil, fmt.Errorf("patrol: incidents: line %d: %w", line, err)
		}
		out = append(out, in)
	}
}

func parseIncident(rec []string) (Incident, error) {
	t, err := time.Parse(time.RFC3339, rec[0])
	if err != nil {
		return Incident{}, fmt.Errorf("time %q: want RFC 3339", rec[0])
	}
	lon, err1 := strconv.ParseFloat(rec[1], 64)
	lat, err2 := strconv.ParseFloat(rec[2], 64)
	if err1 != nil || err2 != nil || !(math.Abs(lon) <= 180) || !(math.Abs(lat) <= 90) { // NaN fails too
		return Incident{}, fmt.Errorf("position (%q, %q): want lon in [-180, 180] and lat in [-90, 90]", rec[1], rec[2])
	}
	return Incident{Time: t, Point: orb.Point{lon, lat}, Kind: rec[3]}, nil
}

// BaseDemand is the demand of a cell where the history holds no incident,
// in incidents: small enough that cells with incidents dominate, and not
// zero, so that coverage of a quiet street still counts for something.
const BaseDemand = 0.15

// Demand is how much response a grid's cells need, per grid number: the
// incidents of a history that fell in the cell plus BaseDemand
// (NewDemand), or where there is no history the kilometres of road inside
// the cell (NewRoadDemand).
type Demand []float64

// NewDemand returns the demand of g's cells from incidents; incidents off
// the grid count nowhere.
func NewDemand(g *geo.Grid, incidents []Incident) Demand {
	d := make(Demand, g.Len())
	for i := range d {
		d[i] = BaseDemand
	}
	for _, in := range incidents {
		if i, ok := g.Locate(in.Point); ok {
			d[i]++
		}
	}
	return d
}

// ErrNoRoads is returned by NewRoadDemand when no road runs through the
// grid.
var ErrNoRoads = errors.New("patrol: no road runs through the grid")

// RoadGraph is what NewRoadDemand reads of a road graph (such as
// *road.Graph): its number of edges and the (lon, lat) shape of each.
type RoadGraph interface {
	Len() (nodes, edges int)
	EdgeShape(e int32) orb.LineString
}

// NewRoadDemand returns the demand of g's cells for a city with a road
// network and no incident history: each cell's demand is the length of
// road of roads inside it in kilometres (see geo.Grid.AddLength), so that
// the workload of a unit area is the length of street it patrols and a
// cell without a road (a river, a park without drives) counts nothing.
// Each edge counts once, whichever ways it is open. It fails with
// ErrNoRoads when no road runs through g.
func NewRoadDemand(g *geo.Grid, roads RoadGraph) (Demand, error) {
	bound := g.Bound()
	m := make([]geo.Meters, g.Len())
	_, edges := roads.Len()
	for e := range int32(edges) {
		if line := roads.EdgeShape(e); line.Bound().Intersects(bound) {
			g.AddLength(m, line)
		}
	}
	d := make(Demand, len(m))
	for i, x := range m {
		d[i] = float64(x) / 1000
	}
	if d.Total() == 0 {
		return nil, ErrNoRoads
	}
	return d, nil
}

// Total returns the demand of all cells.
func (d Demand) Total() float64 {
	var sum float64
	for _, w := range d {
		sum += w
	}
	return sum
}
