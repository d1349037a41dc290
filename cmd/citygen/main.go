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
