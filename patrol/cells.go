package patrol

import (
	"slices"

	"github.com/uber/h3-go/v4"
)

// moveCell returns c at resolution res: its parent, or its centre child.
func moveCell(c h3.Cell, res int) h3.Cell {
	switch r := c.Resolution(); {
	case r > res:
		return c.Parent(res)
	case r < res:
		return c.CenterChild(res)
	}
	return c
}

// moveCells returns cells at resolution res, sorted and without duplicates.
func moveCells(cells []h3.Cell, res int) []h3.Cell {
	var out []h3.Cell
	for _, c := range cells {
		if c.Resolution() < res {
			out = append(out, c.Children(res)...)
		} else {
			out = append(out, moveCell(c, res))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
