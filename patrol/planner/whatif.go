package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// WhatIf is a change to a plan's units to try before making it: units
// taken out, units put off duty, units given another mechanism or other
// shift hours, and new units at posts (office staff sent to the street,
// say).
type WhatIf struct {
	Remove    []string          // unit ids
	OffDuty   []string          // unit ids
	Mechanism map[string]string // unit id to its new mechanism
	Shift     map[string]string // unit id to its new shift (see patrol.Unit.Shift)
	Add       []Added
}

// Added is a unit a what-if adds: its mechanism and post.
type Added struct {
	Mechanism string
	Post      h3.Cell
}

// Empty reports whether w changes nothing.
func (w WhatIf) Empty() bool {
	return len(w.Remove) == 0 && len(w.OffDuty) == 0 && len(w.Mechanism) == 0 && len(w.Shift) == 0 && len(w.Add) == 0
}

// ParseWhatIf reads the what-if of the plan evaluate flags: remove and
// offDuty are comma-separated unit ids, mechanism "V03=ebike,...", shift
// "V03=night,F01=22:00-06:00,..." and add "vehicle@8a310eb863affff,...".
func ParseWhatIf(remove, offDuty, mechanism, shift, add string) (WhatIf, error) {
	w := WhatIf{Remove: list(remove), OffDuty: list(offDuty), Mechanism: map[string]string{}, Shift: map[string]string{}}
	for _, set := range []struct {
		text, what string
		into       map[string]string
	}{{mechanism, "MECHANISM", w.Mechanism}, {shift, "SHIFT", w.Shift}} {
		for _, kv := range list(set.text) {
			id, v, ok := strings.Cut(kv, "=")
			if !ok || id == "" || v == "" {
				return WhatIf{}, fmt.Errorf("%w: %q: want UNIT=%s", ErrDesign, kv, set.what)
			}
			set.into[id] = v
		}
	}
	for _, a := range list(add) {
		m, cell, ok := strings.Cut(a, "@")
		var c h3.Cell
		if err := c.UnmarshalText([]byte(cell)); !ok || m == "" || err != nil || !c.IsValid() {
			return WhatIf{}, fmt.Errorf("%w: add %q: want MECHANISM@H3CELL", ErrDesign, a)
		}
		w.Add = append(w.Add, Added{Mechanism: m, Post: c})
	}
	return w, nil
}

// list splits a comma-separated list, dropping empty items.
func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// Apply returns a copy of plan changed by w, refusing a unit the plan
// does not have, a mechanism it does not have, and a plan the change makes
// invalid (a post off the plan's resolution, say). Added units are named
// W01, W02, … and have no area.
func (w WhatIf) Apply(plan *patrol.Plan) (*patrol.Plan, error) {
	q := *plan
	q.Units = slices.Clone(plan.Units)
	index := map[string]int{}
	for i, u := range q.Units {
		index[u.ID] = i
	}
	known := func(id string) (int, error) {
		i, ok := index[id]
		if !ok {
			return 0, fmt.Errorf("%w: what-if: unit %q is not in plan %q", ErrDesign, id, plan.Name)
		}
		return i, nil
	}
	mechanism := func(m string) error {
		if _, ok := plan.Mechanism(m); !ok {
			return fmt.Errorf("%w: what-if: mechanism %q is not the plan's", ErrDesign, m)
		}
		return nil
	}
	for _, id := range w.OffDuty {
		i, err := known(id)
		if err != nil {
			return nil, err
		}
		q.Units[i].Status = patrol.OffDuty
	}
	for id, m := range w.Mechanism {
		i, err := known(id)
		if err != nil {
			return nil, err
		}
		if err := mechanism(m); err != nil {
			return nil, err
		}
		q.Units[i].Mechanism = m
	}
	for id, sh := range w.Shift {
		i, err := known(id)
		if err != nil {
			return nil, err
		}
		q.Units[i].Shift = sh // Validate refuses a shift that does not read
	}
	drop := map[string]bool{}
	for _, id := range w.Remove {
		if _, err := known(id); err != nil {
			return nil, err
		}
		drop[id] = true
	}
	q.Units = slices.DeleteFunc(q.Units, func(u patrol.Unit) bool { return drop[u.ID] })
	for n, a := range w.Add {
		if err := mechanism(a.Mechanism); err != nil {
			return nil, err
		}
		q.Units = append(q.Units, patrol.Unit{ID: fmt.Sprintf("W%02d", n+1), Name: fmt.Sprintf("What-if %02d", n+1),
			Mechanism: a.Mechanism, Post: a.Post, Shift: "24h"})
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: what-if: %v", ErrDesign, err)
	}
	return &q, nil
}
