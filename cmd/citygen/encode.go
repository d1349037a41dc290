package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// encodePlan writes the plan as compact JSON with each unit and each zone
// on a line of its own.
func encodePlan(p *patrol.Plan) ([]byte, error) {
	shell := *p
	shell.Units, shell.Zones = []patrol.Unit{}, []patrol.Zone{}
	b, err := json.Marshal(shell)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	units, err := jsonLines(p.Units)
	if err != nil {
		return nil, err
	}
	zones, err := jsonLines(p.Zones)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		key  string
		list []byte
	}{{"units", units}, {"zones", zones}} {
		empty := []byte(`"` + s.key + `":[]`)
		if bytes.Count(b, empty) != 1 {
			return nil, fmt.Errorf("encode plan: want one %s in the plan shell", empty)
		}
		b = bytes.Replace(b, empty, append([]byte(`"`+s.key+`":[`), s.list...), 1)
	}
	return append(b, '\n'), nil
}

// jsonLines encodes v as a JSON array with one element per line, the
// closing bracket included.
func jsonLines[T any](v []T) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\n")
	for i, x := range v {
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encode plan: %w", err)
		}
		buf.Write(b)
		if i < len(v)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// encodeIncidents writes the incidents as CSV with a header: time in
// RFC 3339 local time, lon and lat in degrees, kind.
func encodeIncidents(incidents []patrol.Incident) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"time", "lon", "lat", "kind"}) // a bytes.Buffer does not fail
	for _, in := range incidents {
		_ = w.Write([]string{
			in.Time.Format(time.RFC3339),
			strconv.FormatFloat(in.Point[0], 'f', 6, 64),
			strconv.FormatFloat(in.Point[1], 'f', 6, 64),
			in.Kind,
		})
	}
	w.Flush()
	return buf.Bytes()
}
