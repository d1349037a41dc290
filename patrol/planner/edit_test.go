package planner

import (
	"errors"
	"slices"
	"testing"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestMoveCell moves border cells of the demo plan between areas: a move
// that keeps both areas whole is made (on a copy), one that would cut the
// giving area in two, join a cell to an area it does not touch, or take a
// post is refused with its reason.
func TestMoveCell(t *testing.T) {
	plan := patroltest.DemoPlan(t)
	owner := map[h3.Cell]int{}
	for i, u := range plan.Units {
		for _, c := range u.Area {
			owner[c] = i
		}
	}
	var moved, split bool
	for i, u := range plan.Units {
		for _, c := range u.Area {
			if c == u.Post || moved && split {
				continue
			}
			to := -1
			for _, n := range c.GridDisk(1) {
				if j, ok := owner[n]; ok && j != i {
					to = j
				}
			}
			if to < 0 {
				continue
			}
			rest := slices.DeleteFunc(slices.Clone(u.Area), func(x h3.Cell) bool { return x == c })
			next, err := MoveCell(plan, c, plan.Units[to].ID)
			switch whole := geo.Contiguous(rest); {
			case whole && !moved:
				if err != nil {
					t.Fatalf("move %v from %s to %s: %v", c, u.ID, plan.Units[to].ID, err)
				}
				if slices.Contains(next.Units[i].Area, c) || !slices.Contains(next.Units[to].Area, c) || !slices.Contains(plan.Units[i].Area, c) {
					t.Errorf("move %v from %s to %s: not moved, or the plan given changed", c, u.ID, plan.Units[to].ID)
				}
				if err := next.Validate(); err != nil {
					t.Errorf("moved plan: %v", err)
				}
				moved = true
			case !whole && !split:
				if !errors.Is(err, ErrSplit) {
					t.Errorf("move %v out of %s, which it cuts in two: %v, want ErrSplit", c, u.ID, err)
				}
				split = true
			}
		}
	}
	if !moved || !split {
		t.Fatalf("the demo plan gave no move (%v) or no cut (%v) to try", moved, split)
	}
	u, v := plan.Units[0], plan.Units[len(plan.Units)-1]
	if _, err := MoveCell(plan, u.Post, plan.Units[owner[u.Post.GridDisk(3)[30]]].ID); !errors.Is(err, ErrEdit) {
		t.Errorf("move of a post or to an area not touching it: %v, want ErrEdit", err)
	}
	if _, err := MoveCell(plan, v.Area[0], "NOPE"); !errors.Is(err, ErrEdit) {
		t.Errorf("move to an unknown unit: %v", err)
	}
	if _, err := MovePost(plan, u.ID, v.Post); !errors.Is(err, ErrEdit) {
		t.Errorf("post outside the area: %v", err)
	}
	next, err := MovePost(plan, u.ID, u.Area[len(u.Area)-1])
	if err != nil || next.Units[0].Post != u.Area[len(u.Area)-1] || plan.Units[0].Post != u.Post {
		t.Errorf("MovePost: %v", err)
	}
}
