package main

import (
	"flag"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// daysFlag registers --days on fs.
func daysFlag(fs *flag.FlagSet, r *patrol.DateRange, what string) {
	fs.Var(r, "days", what+" only the incidents of these local days: FROM..TO (YYYY-MM-DD, both included; "+
		"either may be left out, as 2026-09-15..), or one day (default: every day of the history)")
}
