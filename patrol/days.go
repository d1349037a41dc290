package patrol

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DateRange is a span of local days, FROM..TO, both ends included, either
// open: the days of an incident history a plan is designed or judged on,
// so that a plan drawn on some months can be judged on the months after.
// Its zero value holds every day.
type DateRange struct {
	from, to string // YYYY-MM-DD, "" for open
}

// String returns r as Set reads it, "" for every day.
func (r *DateRange) String() string {
	if r == nil || *r == (DateRange{}) {
		return ""
	}
	if r.from == r.to {
		return r.from
	}
	return r.from + ".." + r.to
}

// Set reads FROM..TO, FROM.., ..TO or a single day.
func (r *DateRange) Set(s string) error {
	from, to, isRange := strings.Cut(s, "..")
	if !isRange {
		to = from
	}
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return fmt.Errorf("%q: want FROM..TO of YYYY-MM-DD dates", s)
		}
	}
	switch {
	case from == "" && to == "":
		return fmt.Errorf("%q: want FROM..TO of YYYY-MM-DD dates", s)
	case from != "" && to != "" && to < from:
		return fmt.Errorf("%q: ends before it starts", s)
	}
	r.from, r.to = from, to
	return nil
}

// Holds reports whether the local day date (YYYY-MM-DD) is in r.
func (r DateRange) Holds(date string) bool {
	return (r.from == "" || date >= r.from) && (r.to == "" || date <= r.to)
}

// Filter returns the incidents of history on r's days in loc; an error
// when none is.
func (r DateRange) Filter(history []Incident, loc *time.Location) ([]Incident, error) {
	if r == (DateRange{}) {
		return history, nil
	}
	out := slices.DeleteFunc(slices.Clone(history), func(in Incident) bool {
		return !r.Holds(in.Time.In(loc).Format(time.DateOnly))
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("the history holds no incident on the days %s", r.String())
	}
	return out, nil
}
