package data

import (
	"embed"
	"path"
	"sort"
	"strings"
)

//go:embed profiles/*.json
var profileFiles embed.FS

// Profiles returns the road profile file called name as JSON, the form
// read by geo.ReadProfileFile, and false when no such file is embedded.
// "default" holds the car, bike and foot profiles; "pgrouting" a car
// profile whose classes and speeds match osm2pgrouting's car
// configuration. Each call returns a fresh copy.
func Profiles(name string) ([]byte, bool) {
	b, err := profileFiles.ReadFile(path.Join("profiles", name+".json"))
	return b, err == nil
}

// ProfileNames returns the names of the embedded profile files, sorted.
func ProfileNames() []string {
	entries, _ := profileFiles.ReadDir("profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}
