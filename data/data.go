package data

import "embed"

//go:generate go run ../cmd/citygen -out tongliao

//go:embed tongliao wilmington
var files embed.FS

// TongliaoPlan returns the demo city's plan as JSON, the form read by
// patrol.ReadPlan: Horqin district of Tongliao at H3 resolution 10, with
// 6 mechanisms, 88 patrol units whose areas partition the boundary, and
// priority zones. Each call returns a fresh copy.
func TongliaoPlan() []byte { return file("tongliao/plan.json") }

// TongliaoIncidents returns the demo city's synthetic incident history as
// CSV with the header "time,lon,lat,kind": time in RFC 3339 local time
// (+08:00), lon and lat in degrees on WGS 84, and a kind such as "theft".
// Rows are sorted by time and span 90 days. Each call returns a fresh copy.
func TongliaoIncidents() []byte { return file("tongliao/incidents.csv") }

// WilmingtonBoundary returns the boundary of the demo on real roads as
// GeoJSON, the form read by patrol.ReadBoundary: an approximate outline of
// Wilmington, Delaware, drawn by hand around its streets (not the official
// city limits), with the city's name and time zone (America/New_York). Each
// call returns a fresh copy.
func WilmingtonBoundary() []byte { return file("wilmington/boundary.geojson") }

// file returns a copy of the embedded file name. The go:embed directive
// above fixes the set of files at build time, so a missing name is a
// programming error in this package.
func file(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("data: " + name + " is not embedded: " + err.Error())
	}
	return b
}
