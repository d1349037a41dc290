package dispatch

import (
	"fmt"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// reason says in plain words what sending unit costs (c without Reason),
// total being the demand of the whole grid. The wording depends on c
// alone, so the same cost always reads the same.
func reason(unit string, c *Cost, total float64) string {
	var b strings.Builder
	b.WriteString("sending " + unit)
	if len(c.Zones) > 0 {
		b.WriteString(" leaves " + zonesShort(c.Zones))
	} else {
		b.WriteString(" leaves every zone within its rule and loses " + lossText(c.LostShare[patrol.Tier3]) +
			" 3-minute demand coverage")
	}
	b.WriteString("; " + moveText(c, total))
	return b.String()
}

// zonesShort lists the zones and the rules they fall short of.
func zonesShort(zones []ZoneLoss) string {
	parts := make([]string, len(zones))
	for i, z := range zones {
		tiers := make([]patrol.Tier, len(z.Tiers))
		for j, zt := range z.Tiers {
			tiers[j] = zt.Tier
		}
		rules := "rule"
		if len(tiers) > 1 {
			rules = "rules"
		}
		parts[i] = fmt.Sprintf("%s (%s) short of its %s %s", z.Name, z.Zone, minutesList(tiers), rules)
	}
	return andList(parts)
}

// minutesList names tiers as "3-minute", "1- and 3-minute", ...
func minutesList(tiers []patrol.Tier) string {
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = fmt.Sprintf("%d-", int(patrol.Limits[t].Minutes()))
	}
	return andList(parts) + "minute"
}

// andList joins parts as "a", "a and b", "a, b and c".
func andList(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// moveText says what the best move-up does.
func moveText(c *Cost, total float64) string {
	m := c.MoveUp
	if m == nil {
		return "no move of another unit gains any coverage"
	}
	move := fmt.Sprintf("moving %s to %s", m.Unit, targetText(m))
	if len(c.Zones) == 0 {
		return fmt.Sprintf("%s (%s) wins back %s", move, durationText(m.ETA), gainText(m.Gain, total))
	}
	if len(m.Restores) == len(c.Zones) {
		return fmt.Sprintf("%s restores %s in %s", move, itOrThem(len(c.Zones)), durationText(m.ETA))
	}
	if len(m.Restores) > 0 {
		return fmt.Sprintf("%s (%s) restores %s but not %s", move, durationText(m.ETA),
			andList(zoneNames(c.Zones, m.Restores, true)), andList(zoneNames(c.Zones, m.Restores, false)))
	}
	return fmt.Sprintf("no single move restores %s; the best, %s (%s), wins back %s",
		itOrThem(len(c.Zones)), move, durationText(m.ETA), gainText(m.Gain, total))
}

// targetText names a move's target: a post by its unit, else its cell.
func targetText(m *MoveUp) string {
	if m.ToPost != "" {
		return "post " + m.ToPost
	}
	return "cell " + m.ToCell.String()
}

func itOrThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// zoneNames returns the names of the zones whose ids are (or, with in
// false, are not) among ids.
func zoneNames(zones []ZoneLoss, ids []string, in bool) []string {
	var out []string
	for _, z := range zones {
		found := false
		for _, id := range ids {
			found = found || id == z.Zone
		}
		if found == in {
			out = append(out, z.Name)
		}
	}
	return out
}

// gainText says a move's gain in the first tier of the objective's order
// where it gains, as a share of total demand.
func gainText(g TierDemand, total float64) string {
	for _, t := range [...]patrol.Tier{patrol.Tier3, patrol.Tier1, patrol.Tier5} {
		if g[t] > gainTolerance {
			return fmt.Sprintf("%s %d-minute demand", lossText(g[t]/total), int(patrol.Limits[t].Minutes()))
		}
	}
	return "nothing"
}

// lossText writes share s (0 to 1) as a percentage of with one decimal,
// "less than 0.1% of" for a share too small to show and "no" for zero.
func lossText(s float64) string {
	switch {
	case s <= 0:
		return "no"
	case s < 0.0005:
		return "less than 0.1% of"
	}
	return fmt.Sprintf("%.1f%% of", 100*s)
}

// durationText writes d rounded to the second as "2 min 10 s", "45 s" or
// "3 min".
func durationText(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s%60 == 0:
		return fmt.Sprintf("%d min", s/60)
	}
	return fmt.Sprintf("%d min %d s", s/60, s%60)
}
