// Package picture draws a plan as a picture: the unit areas, posts,
// boundary and zones, for planners comparing plans (plan compare).
package picture

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// svgWidth is the width of a plan's picture in pixels; its height follows
// the city's shape.
const svgWidth = 1000

// WriteSVG draws plan as an SVG picture: each unit's area in a colour of
// its own, a dot at each post, the boundary, and the zones outlined, red
// where ev (plan's evaluation) says the rule is not met and dark green
// where it is.
func WriteSVG(w io.Writer, plan *patrol.Plan, ev planner.Evaluation) error {
	bw := bufio.NewWriter(w)
	pr := newProjection(plan.Boundary.Bound())
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n",
		svgWidth, pr.height, svgWidth, pr.height)
	fmt.Fprintf(bw, `<title>%s</title>`+"\n", html.EscapeString(plan.Name))
	fmt.Fprintln(bw, `<rect width="100%" height="100%" fill="#f7f7f4"/>`)
	for i, u := range plan.Units {
		fmt.Fprintf(bw, `<g fill="%s" stroke="#ffffff" stroke-width="0.3"><title>%s</title>`, unitColour(i), html.EscapeString(u.ID))
		for _, c := range u.Area {
			fmt.Fprintf(bw, `<path d="%s"/>`, pr.path(geo.CellPolygon(c)))
		}
		fmt.Fprintln(bw, `</g>`)
	}
	fmt.Fprintf(bw, `<path d="%s" fill="none" stroke="#333" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n", pr.path(plan.Boundary))
	met := map[string]bool{}
	for _, z := range ev.Zones {
		met[z.Zone] = z.Met
	}
	for _, z := range plan.Zones {
		colour := "#1b7a3a"
		if !met[z.ID] {
			colour = "#d62828"
		}
		fmt.Fprintf(bw, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"><title>%s</title></path>`+"\n",
			pr.path(z.Area), colour, html.EscapeString(z.ID+" "+z.Name))
	}
	for _, u := range plan.Units {
		x, y := pr.xy(geo.CellCenter(u.Post))
		fmt.Fprintf(bw, `<circle cx="%.1f" cy="%.1f" r="3" fill="#111" stroke="#fff" stroke-width="1"><title>%s post</title></circle>`+"\n",
			x, y, html.EscapeString(u.ID))
	}
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

// projection maps (lon, lat) onto the picture: equirectangular, east to
// the right, north up, scaled by the cosine of the middle latitude so that
// the city keeps its shape.
type projection struct {
	b      orb.Bound
	scale  float64 // pixels per degree of longitude
	kx     float64 // cosine of the middle latitude
	height int
}

func newProjection(b orb.Bound) projection {
	kx := math.Cos((b.Min[1] + b.Max[1]) / 2 * math.Pi / 180)
	w := (b.Max[0] - b.Min[0]) * kx
	h := b.Max[1] - b.Min[1]
	p := projection{b: b, kx: kx, scale: svgWidth / math.Max(w, 1e-9)}
	p.height = int(math.Ceil(h * p.scale))
	return p
}

func (p projection) xy(pt orb.Point) (float64, float64) {
	return (pt[0] - p.b.Min[0]) * p.kx * p.scale, (p.b.Max[1] - pt[1]) * p.scale
}

// path returns the SVG path data of poly's rings.
func (p projection) path(poly orb.Polygon) string {
	var out []byte
	for _, ring := range poly {
		for i, pt := range ring {
			x, y := p.xy(pt)
			cmd := byte('L')
			if i == 0 {
				cmd = 'M'
			}
			out = fmt.Appendf(out, "%c%.1f %.1f", cmd, x, y)
		}
		out = append(out, 'Z')
	}
	return string(out)
}

// unitColour returns the colour of the i-th unit's area: hues spread by
// the golden angle, so that neighbours in plan order differ.
func unitColour(i int) string {
	return fmt.Sprintf("hsl(%.0f,55%%,%d%%)", math.Mod(float64(i)*137.508, 360), 62+8*(i%3))
}
