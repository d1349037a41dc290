package patrol

import (
	"fmt"
	"slices"
	"time"
)

// Shift hours of the named shifts: a day shift from 08:00 to 20:00, a
// night shift from 20:00 to 08:00.
const (
	dayStart   = 8 * time.Hour
	nightStart = 20 * time.Hour
)

// shiftHours returns the start and end of shift s as times of day; a
// shift that is always on has start == end. s is "" or "24h" (always),
// "day" (08:00–20:00), "night" (20:00–08:00), or "HH:MM-HH:MM", which runs
// past midnight when the end is earlier than the start.
func shiftHours(s string) (start, end time.Duration, err error) {
	switch s {
	case "", "24h":
		return 0, 0, nil
	case "day":
		return dayStart, nightStart, nil
	case "night":
		return nightStart, dayStart, nil
	}
	var h1, m1, h2, m2 int
	if n, _ := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); n != 4 || fmt.Sprintf("%02d:%02d-%02d:%02d", h1, m1, h2, m2) != s ||
		h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || h2 == 24 && m2 != 0 {
		return 0, 0, fmt.Errorf("patrol: shift %q: want 24h, day, night or HH:MM-HH:MM", s)
	}
	start = time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute
	end = time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute
	if start == end {
		return 0, 0, fmt.Errorf("patrol: shift %q: it starts when it ends (24h is always on)", s)
	}
	return start, end % (24 * time.Hour), nil
}

// OnShift reports whether u's shift has it on duty at the time of day at
// (from midnight, local time). A unit whose shift does not read is on
// duty; Plan.Validate refuses such a shift.
func (u Unit) OnShift(at time.Duration) bool {
	start, end, err := shiftHours(u.Shift)
	if err != nil || start == end {
		return true
	}
	if start < end {
		return at >= start && at < end
	}
	return at >= start || at < end
}

// AtTime returns a copy of p as it stands at the time of day at (from
// local midnight): the units whose shift has them off duty then are off
// duty (see Unit.OnShift).
func (p *Plan) AtTime(at time.Duration) *Plan {
	q := *p
	q.Units = slices.Clone(p.Units)
	for i, u := range q.Units {
		if !u.OnShift(at) {
			q.Units[i].Status = OffDuty
		}
	}
	return &q
}

// ParseTimeOfDay reads "HH:MM" as a time of day, from midnight.
func ParseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("patrol: time of day %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
