package planner

import (
	"errors"
	"fmt"
	"slices"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Errors of the edits of a plan by hand.
var (
	// ErrEdit is matched by every error of MoveCell and MovePost.
	ErrEdit = errors.New("planner: edit")
	// ErrSplit is matched by the error of a move that would cut an area
	// in two, or join a cell to an area it does not touch.
	ErrSplit = fmt.Errorf("%w: the areas would not stay in one piece", ErrEdit)
)

// MoveCell returns a copy of plan in which cell passes from the area that
// holds it to the area of unit to, both staying contiguous: the cell must
// touch to's area, must not be the last cell nor the post of its own area,
// and taking it out must leave that area in one piece. A cell in no area
// joins to's area when it touches it. plan is not modified.
func MoveCell(plan *patrol.Plan, cell h3.Cell, to string) (*patrol.Plan, error) {
	ti := slices.IndexFunc(plan.Units, func(u patrol.Unit) bool { return u.ID == to })
	if ti < 0 {
		return nil, fmt.Errorf("%w: unit %q is not the plan's", ErrEdit, to)
	}
	from := -1
	for i, u := range plan.Units {
		if slices.Contains(u.Area, cell) {
			from = i
			break
		}
	}
	if from == ti {
		return nil, fmt.Errorf("%w: cell %v is already in %s's area", ErrEdit, cell, to)
	}
	if !geo.Touches(plan.Units[ti].Area, cell) {
		return nil, fmt.Errorf("%w: cell %v does not touch %s's area", ErrSplit, cell, to)
	}
	out := *plan
	out.Units = slices.Clone(plan.Units)
	if from >= 0 {
		u := &out.Units[from]
		switch rest := slices.DeleteFunc(slices.Clone(u.Area), func(c h3.Cell) bool { return c == cell }); {
		case cell == u.Post:
			return nil, fmt.Errorf("%w: cell %v is %s's post: move the post first", ErrEdit, cell, u.ID)
		case len(rest) == 0:
			return nil, fmt.Errorf("%w: cell %v is the whole of %s's area", ErrEdit, cell, u.ID)
		case !geo.Contiguous(rest):
			return nil, fmt.Errorf("%w: taking cell %v out of %s's area cuts it in two", ErrSplit, cell, u.ID)
		default:
			u.Area = rest
		}
	}
	out.Units[ti].Area = append(slices.Clone(plan.Units[ti].Area), cell)
	return &out, nil
}

// MovePost returns a copy of plan in which unit's post is cell, a cell of
// its area. plan is not modified.
func MovePost(plan *patrol.Plan, unit string, cell h3.Cell) (*patrol.Plan, error) {
	i := slices.IndexFunc(plan.Units, func(u patrol.Unit) bool { return u.ID == unit })
	if i < 0 {
		return nil, fmt.Errorf("%w: unit %q is not the plan's", ErrEdit, unit)
	}
	if !slices.Contains(plan.Units[i].Area, cell) {
		return nil, fmt.Errorf("%w: cell %v is not in %s's area", ErrEdit, cell, unit)
	}
	out := *plan
	out.Units = slices.Clone(plan.Units)
	out.Units[i].Post = cell
	return &out, nil
}
