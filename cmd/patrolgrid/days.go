package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// dateRange is a span of local days, FROM..TO, both ends included, either
// open: the days of an incident history a plan is designed or judged on,
// so that a plan drawn on some months can be judged on the months after.
// Its zero value holds every day.
type dateRange struct {
	from, to string // YYYY-MM-DD, "" for open
}

// daysFlag registers --days on fs.
func daysFlag(fs *flag.FlagSet, r *dateRange, what string) {
	fs.Var(r, "days", what+" only the incidents of these local days: FROM..TO (YYYY-MM-DD, both included; "+
		"either may be left out, as 2026-09-15..), or one day (default: every day of the history)")
}

func (r *dateRange) String() string {
	if r == nil || *r == (dateRange{}) {
		return ""
	}
	if r.from == r.to {
		return r.from
	}
	return r.from + ".." + r.to
}

// Set reads FROM..TO, FROM.., ..TO or a single day.
func (r *dateRange) Set(s string) error {
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

// holds reports whether the local day date (YYYY-MM-DD) is in r.
func (r dateRange) holds(date string) bool {
	return (r.from == "" || date >= r.from) && (r.to == "" || date <= r.to)
}

// filter returns the incidents of history on r's days in loc; an error
// when none is.
func (r dateRange) filter(history []patrol.Incident, loc *time.Location) ([]patrol.Incident, error) {
	if r == (dateRange{}) {
		return history, nil
	}
	out := slices.DeleteFunc(slices.Clone(history), func(in patrol.Incident) bool {
		return !r.holds(in.Time.In(loc).Format(time.DateOnly))
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("--days %s: the history holds no incident on those days", r.String())
	}
	return out, nil
}
