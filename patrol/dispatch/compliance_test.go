package dispatch

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// shareTolerance is how far two demand shares may differ and still be
// equal.
const shareTolerance = 1e-9

// demoTable returns the demo city's compliance table on the lattice,
// weighted by its incident history.
func demoTable(t testing.TB) (Table, *patrol.Plan) {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	tab, err := Compliance(plan, geo.NewLattice(grid), patrol.NewDemand(grid, patroltest.DemoIncidents(t)))
	if err != nil {
		t.Fatal(err)
	}
	return tab, plan
}

// TestComplianceDemoRows: the demo city's table has a row per responding
// unit, each of k distinct posts of responding units, with shares that
// never fall within 3 minutes as k grows and that are ordered by tier.
func TestComplianceDemoRows(t *testing.T) {
	tab, plan := demoTable(t)
	want := len(Responding(plan))
	if len(tab.Rows) != want || want != 78 {
		t.Fatalf("Compliance(demo) has %d rows, want %d (78 responding units)", len(tab.Rows), want)
	}
	if tab.Profile != "car" {
		t.Errorf("Compliance(demo).Profile = %q, want car", tab.Profile)
	}
	responding := map[Post]bool{}
	for _, p := range Responding(plan) {
		responding[p] = true
	}
	prev := Share{}
	for _, r := range tab.Rows {
		seen := map[Post]bool{}
		for _, p := range r.Posts {
			if !responding[p] || seen[p] {
				t.Errorf("row %d: post %v is not a responding unit's, or repeated", r.K, p)
			}
			seen[p] = true
		}
		if len(r.Posts) != r.K {
			t.Errorf("row %d has %d posts, want %d", r.K, len(r.Posts), r.K)
		}
		if r.Share.M3 < prev.M3-shareTolerance {
			t.Errorf("row %d covers %.4f within 3 minutes, less than row %d's %.4f", r.K, r.Share.M3, r.K-1, prev.M3)
		}
		if !(r.Share.M1 <= r.Share.M3+shareTolerance && r.Share.M3 <= r.Share.M5+shareTolerance && r.Share.M5 <= 1+shareTolerance) {
			t.Errorf("row %d: shares %+v, want m1 <= m3 <= m5 <= 1", r.K, r.Share)
		}
		prev = r.Share
	}
}

// TestComplianceNested: a row says it is nested exactly when it holds every
// post of the row before, and most rows of the demo city are.
func TestComplianceNested(t *testing.T) {
	tab, _ := demoTable(t)
	nested := 0
	for i, r := range tab.Rows {
		want := true
		if i > 0 {
			want = holdsPosts(r.Posts, tab.Rows[i-1].Posts)
		}
		if r.Nested != want {
			t.Errorf("row %d: Nested = %v, want %v", r.K, r.Nested, want)
		}
		if r.Nested {
			nested++
		}
	}
	if nested < len(tab.Rows)*3/4 {
		t.Errorf("%d of %d rows nested, want at least three quarters", nested, len(tab.Rows))
	}
}

func holdsPosts(set, sub []Post) bool {
	in := map[Post]bool{}
	for _, p := range set {
		in[p] = true
	}
	for _, p := range sub {
		if !in[p] {
			return false
		}
	}
	return true
}

// line returns sites over a row of cells numbered 0 to 5, each site
// reaching its cells within 3 minutes, and a demand of 1 per cell:
//
//	cells   0   1   2   3   4   5
//	L      [L   L   L]
//	M          [M   M   M   M]
//	R                  [R   R   R]
//
// Greedy takes M first (4 cells), then L or R (one more cell); the best
// pair is L and R (all 6), which one swap finds.
func line() ([][]tierCell, patrol.Demand, []Post) {
	span := func(from, to int32) []tierCell {
		var out []tierCell
		for c := from; c <= to; c++ {
			out = append(out, tierCell{cell: c, tier: int8(patrol.Tier3)})
		}
		return out
	}
	sites := [][]tierCell{span(0, 2), span(1, 4), span(3, 5)}
	posts := []Post{{Unit: "L"}, {Unit: "M"}, {Unit: "R"}}
	return sites, patrol.Demand{1, 1, 1, 1, 1, 1}, posts
}

// TestComplianceSwap: on the line, row 1 is M; row 2 adds L, then swaps M
// out for R (in M's place) and says it is not nested; row 3 adds M back,
// nested.
func TestComplianceSwap(t *testing.T) {
	sites, demand, posts := line()
	rows := newCovering(sites, demand).rows(posts)
	want := []struct {
		units  string
		m3     float64
		nested bool
	}{{"M", 4.0 / 6, true}, {"R L", 1, false}, {"R L M", 1, true}}
	for i, w := range want {
		r := rows[i]
		var units []string
		for _, p := range r.Posts {
			units = append(units, p.Unit)
		}
		if got := strings.Join(units, " "); got != w.units || math.Abs(r.Share.M3-w.m3) > shareTolerance || r.Nested != w.nested {
			t.Errorf("row %d = %s (m3 %.4f, nested %v), want %s (m3 %.4f, nested %v)", r.K, got, r.Share.M3, r.Nested, w.units, w.m3, w.nested)
		}
	}
}

// centralSites returns the n responding posts of the demo city nearest its
// centre, their reaches on the car over the lattice, and the demand.
func centralSites(t *testing.T, n int) ([][]tierCell, patrol.Demand, []Post) {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	posts := Responding(plan)
	sortByDistance(posts, orb.Point{122.26, 43.62})
	posts = posts[:n]
	car, _ := FleetProfile(plan)
	sites, err := siteReaches(geo.NewLattice(grid), posts, car)
	if err != nil {
		t.Fatal(err)
	}
	return sites, patrol.NewDemand(grid, patroltest.DemoIncidents(t)), posts
}

func sortByDistance(posts []Post, from orb.Point) {
	d := func(p Post) geo.Meters { return geo.Distance(geo.CellCenter(p.Cell), from) }
	for i := 1; i < len(posts); i++ { // insertion sort: a dozen posts
		for j := i; j > 0 && d(posts[j]) < d(posts[j-1]); j-- {
			posts[j], posts[j-1] = posts[j-1], posts[j]
		}
	}
}

// coveredBy returns, from scratch, the demand the sites of set reach per
// tier.
func coveredBy(sites [][]tierCell, demand patrol.Demand, set []int) objective {
	best := map[int32]int8{}
	for _, s := range set {
		for _, tc := range sites[s] {
			if b, ok := best[tc.cell]; !ok || tc.tier < b {
				best[tc.cell] = tc.tier
			}
		}
	}
	var o objective
	for c, tier := range best {
		for t := int(tier); t < numTiers; t++ {
			o[t] += demand[c]
		}
	}
	return o
}

// combinations calls f with every k-subset of 0..n-1.
func combinations(n, k int, f func([]int)) {
	set := make([]int, 0, k)
	var rec func(from int)
	rec = func(from int) {
		if len(set) == k {
			f(set)
			return
		}
		for i := from; i < n; i++ {
			set = append(set, i)
			rec(i + 1)
			set = set[:len(set)-1]
		}
	}
	rec(0)
}

// TestComplianceMatchesBruteForce: on the 14 posts nearest the demo city's
// centre, whose reaches overlap, rows 1 to 3 cover as much as the best of
// all sets of that size (3 minutes first, then 1, then 5), and their
// shares are what the posts cover counted from scratch.
func TestComplianceMatchesBruteForce(t *testing.T) {
	sites, demand, posts := centralSites(t, 14)
	rows := newCovering(sites, demand).rows(posts)
	tol := relTolerance * demand.Total()
	index := map[Post]int{}
	for i, p := range posts {
		index[p] = i
	}
	for k := 1; k <= 3; k++ {
		var best objective
		var bestSet []int
		combinations(len(sites), k, func(set []int) {
			if o := coveredBy(sites, demand, set); bestSet == nil || o.better(best, tol) {
				best, bestSet = o, append([]int(nil), set...)
			}
		})
		var set []int
		for _, p := range rows[k-1].Posts {
			set = append(set, index[p])
		}
		got := coveredBy(sites, demand, set)
		if best.better(got, tol) {
			t.Errorf("row %d = sites %v covering %v, want as much as sites %v covering %v", k, set, got, bestSet, best)
		}
		if s := got.share(demand.Total()); math.Abs(s.M3-rows[k-1].Share.M3) > shareTolerance ||
			math.Abs(s.M1-rows[k-1].Share.M1) > shareTolerance || math.Abs(s.M5-rows[k-1].Share.M5) > shareTolerance {
			t.Errorf("row %d share = %+v, want %+v from its posts", k, rows[k-1].Share, s)
		}
	}
}

// TestComplianceCSV writes a two-row table: the header, then one line per
// post of each row.
func TestComplianceCSV(t *testing.T) {
	a, b := h3.Cell(0x8a310eb863affff), h3.Cell(0x8a310eb80b77fff)
	tab := Table{Profile: "car", Rows: []Row{
		{K: 1, Posts: []Post{{"V01", a}}, Share: Share{M1: 0.1, M3: 0.25, M5: 0.5}, Nested: true},
		{K: 2, Posts: []Post{{"V01", a}, {"V02", b}}, Share: Share{M1: 0.125, M3: 1.0 / 3, M5: 0.75}, Nested: true},
	}}
	var buf bytes.Buffer
	if err := tab.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "k,m1,m3,m5,nested,unit,cell\n" +
		"1,0.1000,0.2500,0.5000,true,V01,8a310eb863affff\n" +
		"2,0.1250,0.3333,0.7500,true,V01,8a310eb863affff\n" +
		"2,0.1250,0.3333,0.7500,true,V02,8a310eb80b77fff\n"
	if got := buf.String(); got != want {
		t.Errorf("WriteCSV =\n%s\nwant\n%s", got, want)
	}
}

// TestComplianceDemandSize: a demand of another grid's size is refused.
func TestComplianceDemandSize(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	_, err := Compliance(plan, geo.NewLattice(grid), patrol.Demand{1, 2, 3})
	if !errors.Is(err, ErrDemandSize) {
		t.Errorf("Compliance(3 demands) = %v, want ErrDemandSize", err)
	}
}

// TestTableRow: Row clamps k to the table and fails on an empty one.
func TestTableRow(t *testing.T) {
	tab := Table{Rows: []Row{{K: 1}, {K: 2}, {K: 3}}}
	for _, tc := range []struct {
		name string
		k    int
		want int
	}{{"below", 0, 1}, {"inside", 2, 2}, {"beyond", 9, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			if r, ok := tab.Row(tc.k); !ok || r.K != tc.want {
				t.Errorf("Row(%d) = row %d, %v, want row %d", tc.k, r.K, ok, tc.want)
			}
		})
	}
	if _, ok := (Table{}).Row(1); ok {
		t.Errorf("Table{}.Row(1) reports a row, want none")
	}
}

// BenchmarkCompliance builds the demo city's table on the lattice, the
// isochrones of its 78 sites included.
func BenchmarkCompliance(b *testing.B) {
	plan, grid := patroltest.DemoGrid(b)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compliance(plan, router, demand); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/table")
}

// TestFollowCompliance dispatches six units of the demo city: an advisor
// that follows the compliance table from six busy units moves units up
// only to posts of the row for the units left, and from seven busy it
// suggests what an advisor that does not follow suggests, without asking
// for the table.
func TestFollowCompliance(t *testing.T) {
	c := demoCity(t)
	table, err := Compliance(c.plan, c.router, c.demand)
	if err != nil {
		t.Fatal(err)
	}
	sc := dispatchSome(atPosts(c.plan), rand.New(rand.NewPCG(7, 8)), 6)
	snap := c.engine(t, sc).Snapshot()
	cands := everyone(snap)
	busy := len(table.Rows) - len(cands)
	if busy < 6 {
		t.Fatalf("%d of %d responding units busy, want 6 or more", busy, len(table.Rows))
	}
	plain, err := c.advisor(t).Assess(snap, cands, demoEvening(), nil)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	source := func() (Table, error) { asked++; return table, nil }
	follows := c.advisor(t)
	follows.Follow(source, busy+1)
	same, err := follows.Assess(snap, cands, demoEvening(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(same, plain) {
		t.Errorf("with fewer busy than the threshold, move-ups differ from an advisor that does not follow")
	}
	if asked != 0 {
		t.Errorf("the table was asked for %d times with fewer busy than the threshold", asked)
	}
	follows.Follow(source, busy)
	got, err := follows.Assess(snap, cands, demoEvening(), nil)
	if err != nil {
		t.Fatal(err)
	}
	row, _ := table.Row(len(cands) - 1)
	moved := 0
	for _, a := range got {
		mv := a.Cost.MoveUp
		if mv == nil {
			continue
		}
		moved++
		if !slices.ContainsFunc(row.Posts, func(p Post) bool { return p.Cell == mv.ToCell }) {
			t.Errorf("sending %s moves %s to %v, not a post of row %d", a.Unit, mv.Unit, mv.ToCell, row.K)
		}
	}
	if moved == 0 {
		t.Errorf("no move-up for any of %d candidates while following the table", len(got))
	}
}
