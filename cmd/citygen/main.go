// Command citygen writes the demo city of patrolgrid, the urban area of
// Horqin district in Tongliao, Inner Mongolia, as a patrol plan and a
// synthetic incident history. Everything in it is illustrative and
// approximate, and the output depends on the seed alone: the same seed
// always yields the same bytes.
//
// Usage:
//
//	citygen [-out DIR] [-seed N]
//
// It writes DIR/plan.json and DIR/incidents.csv. The deployment is laid
// out to meet the priority zones' response rules most of the time: fixed
// posts and foot and joint patrols inside the zones, an e-bike circling
// each zone and a vehicle at each of the busiest, the other vehicles over
// the whole town and video patrol away from the zones. The incident
// history is the demand that places those vehicles and balances the areas
// outside the zones.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// defaultSeed is the seed of the committed demo city.
const defaultSeed = 2688

func main() {
	out := flag.String("out", "tongliao", "directory to write plan.json and incidents.csv into")
	seed := flag.Uint64("seed", defaultSeed, "seed of the random source")
	flag.Parse()
	if err := run(*out, *seed, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "citygen:", err)
		os.Exit(1)
	}
}

// run generates the city from seed and writes its files into dir,
// reporting what it wrote to log.
func run(dir string, seed uint64, log io.Writer) error {
	c, err := generate(seed)
	if err != nil {
		return err
	}
	planJSON, err := encodePlan(c.plan)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"plan.json", planJSON},
		{"incidents.csv", encodeIncidents(c.incidents)},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(log, "citygen: wrote %s (%d bytes)\n", path, len(f.data))
	}
	fmt.Fprintf(log, "citygen: %d cells, %d units, %d zones, %d incidents; demand per unit %.2f to %.2f of its share\n",
		c.cells, len(c.plan.Units), len(c.plan.Zones), len(c.incidents), c.minLoad, c.maxLoad)
	return nil
}
