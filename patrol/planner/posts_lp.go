package planner

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/uber/h3-go/v4"
)

// lpTermsPerLine keeps the lines of an LP file short, as some readers
// want.
const lpTermsPerLine = 8

// WriteLP writes the post placement as a mixed-integer program in CPLEX LP
// format, which CBC, GLPK, HiGHS and CPLEX read. Variable x<u>_<j> is 1
// when unit u (in the order of the units) stands at its candidate j; for a
// cell c (grid number) reached by some candidate, y<c> is its first
// coverage, b<c> its backup, and for a zone cell z<c> and q<c> count the
// units toward the zone's 3- and 1-minute rules. The objective is Value's:
//
//	max Σ d_c·y_c + backupWeight·d_c·b_c + zoneBonus·w_c·(z_c + q_c)
//	Σ_j x_uj = 1                for every unit that responds
//	y_c + b_c − Σ x_uj ≤ 0      over the candidates reaching c within 3 min
//	z_c − Σ x_uj ≤ 0,  q_c − Σ x_uj ≤ 0 (within 1 min),  f_c − Σ x_uj ≤ 0 (within 5)
//	0 ≤ y_c, b_c ≤ 1,  0 ≤ z_c ≤ r3_c,  0 ≤ q_c ≤ r1_c,  0 ≤ f_c ≤ r5_c,  x binary
//
// Units that do not respond stand where Solve puts them and are left out.
func (ps *Posts) WriteLP(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := ps.program()
	fmt.Fprintf(bw, "\\ post placement: %d units, %d cells reached\nMaximize\n obj:", p.units, len(p.cells))
	ps.writeObjective(bw, p)
	bw.WriteString("\nSubject To\n")
	for u, pu := range ps.units {
		if pu.responds {
			writeRow(bw, "u"+strconv.Itoa(u), p.xs[u], "", " = 1")
		}
	}
	for _, c := range p.cells {
		id := strconv.Itoa(int(c))
		writeRow(bw, "c"+id, p.by3[c], " + y"+id+" + b"+id, " <= 0")
		if ps.need[c][1] > 0 {
			writeRow(bw, "t"+id, p.by3[c], " + z"+id, " <= 0")
		}
		if len(p.by1[c]) > 0 {
			writeRow(bw, "o"+id, p.by1[c], " + q"+id, " <= 0")
		}
	}
	for _, c := range p.cells5 {
		id := strconv.Itoa(int(c))
		writeRow(bw, "v"+id, p.by5[c], " + f"+id, " <= 0")
	}
	bw.WriteString("Bounds\n")
	for _, c := range p.cells {
		id := strconv.Itoa(int(c))
		fmt.Fprintf(bw, " 0 <= y%s <= 1\n 0 <= b%s <= 1\n", id, id)
		if n := ps.need[c][1]; n > 0 {
			fmt.Fprintf(bw, " 0 <= z%s <= %d\n", id, n)
		}
		if len(p.by1[c]) > 0 {
			fmt.Fprintf(bw, " 0 <= q%s <= %d\n", id, ps.need[c][0])
		}
	}
	for _, c := range p.cells5 {
		fmt.Fprintf(bw, " 0 <= f%d <= %d\n", c, ps.need[c][2])
	}
	bw.WriteString("Binaries\n")
	for _, xs := range p.xs {
		for _, x := range xs {
			fmt.Fprintf(bw, " %s\n", x)
		}
	}
	bw.WriteString("End\n")
	return bw.Flush()
}

// program is what WriteLP writes: the x of each unit (none for a unit
// that does not respond), the cells some candidate reaches in order of
// first reach, and per cell the x reaching it within 3 minutes and, for a
// cell whose zone asks units within 1 minute, within 1; and the cells
// whose zones ask units within 5 minutes that some candidate reaches then,
// with the x reaching them.
type program struct {
	units         int
	xs            [][]string
	cells, cells5 []int32
	by3, by1, by5 map[int32][]string
}

func (ps *Posts) program() program {
	p := program{xs: make([][]string, len(ps.units)), by3: map[int32][]string{}, by1: map[int32][]string{}, by5: map[int32][]string{}}
	for u, pu := range ps.units {
		if !pu.responds {
			continue
		}
		p.units++
		for j, reach := range pu.reach {
			x := "x" + strconv.Itoa(u) + "_" + strconv.Itoa(j)
			p.xs[u] = append(p.xs[u], x)
			for k, c := range reach {
				if p.by3[c] == nil {
					p.cells = append(p.cells, c)
				}
				p.by3[c] = append(p.by3[c], x)
				if k < pu.n1[j] && ps.need[c][0] > 0 {
					p.by1[c] = append(p.by1[c], x)
				}
			}
			for _, c := range pu.reach5[j] {
				if p.by5[c] == nil {
					p.cells5 = append(p.cells5, c)
				}
				p.by5[c] = append(p.by5[c], x)
			}
		}
	}
	return p
}

// writeObjective writes the objective's terms.
func (ps *Posts) writeObjective(bw *bufio.Writer, p program) {
	terms := 0
	term := func(coef float64, name string) {
		if coef == 0 {
			return
		}
		if terms > 0 && terms%lpTermsPerLine == 0 {
			bw.WriteString("\n ")
		}
		fmt.Fprintf(bw, " + %s %s", strconv.FormatFloat(coef, 'g', 10, 64), name)
		terms++
	}
	for _, c := range p.cells {
		id := strconv.Itoa(int(c))
		term(ps.demand[c], "y"+id)
		term(backupWeight*ps.demand[c], "b"+id)
		if ps.need[c][1] > 0 {
			term(zoneBonus*ps.zoneW[c], "z"+id)
		}
		if len(p.by1[c]) > 0 {
			term(zoneBonus*ps.zoneW[c], "q"+id)
		}
	}
	for _, c := range p.cells5 {
		term(zoneBonus*ps.zoneW[c], "f"+strconv.Itoa(int(c)))
	}
}

// writeRow writes the constraint name: head − Σ xs, then tail; with no
// head, + Σ xs.
func writeRow(bw *bufio.Writer, name string, xs []string, head, tail string) {
	fmt.Fprintf(bw, " %s:%s", name, head)
	for i, x := range xs {
		if i > 0 && i%lpTermsPerLine == 0 {
			bw.WriteString("\n ")
		}
		switch {
		case head != "":
			bw.WriteString(" - ")
		case i > 0:
			bw.WriteString(" + ")
		default:
			bw.WriteString(" ")
		}
		bw.WriteString(x)
	}
	bw.WriteString(tail + "\n")
}

// ReadSolution reads the posts of a solution of WriteLP's program in CBC's
// solution format (the file of "cbc model.lp solve solu FILE": a status
// line, then one line per nonzero variable: index, name, value, reduced
// cost), in the order of the units; a unit that does not respond keeps
// the post Solve gave it. It returns the status line too, such as
// "Optimal - objective value 1234.5".
func (ps *Posts) ReadSolution(r io.Reader) ([]h3.Cell, string, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, "", fmt.Errorf("%w: empty solution: %v", ErrPosts, sc.Err())
	}
	status := strings.TrimSpace(sc.Text())
	out := ps.Cells()
	set := make([]bool, len(ps.units))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasPrefix(f[1], "x") {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil || v < 0.5 {
			continue
		}
		us, js, ok := strings.Cut(f[1][1:], "_")
		u, err1 := strconv.Atoi(us)
		j, err2 := strconv.Atoi(js)
		if !ok || err1 != nil || err2 != nil || u < 0 || u >= len(ps.units) || j < 0 || j >= len(ps.units[u].cands) {
			return nil, status, fmt.Errorf("%w: solution variable %q is not the program's", ErrPosts, f[1])
		}
		out[u], set[u] = ps.grid.Cell(ps.units[u].cands[j]), true
	}
	if err := sc.Err(); err != nil {
		return nil, status, err
	}
	for u, pu := range ps.units {
		if pu.responds && !set[u] {
			return nil, status, fmt.Errorf("%w: the solution gives %s no post", ErrPosts, pu.id)
		}
	}
	return out, status, nil
}
