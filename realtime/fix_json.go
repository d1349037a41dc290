package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"
)

// fixJSON is the wire form of a Fix: the position as separate lat and lon
// fields, which is how every GPS client writes it.
type fixJSON struct {
	Unit      string    `json:"unit"`
	Time      time.Time `json:"time"`
	Lat       *float64  `json:"lat"`
	Lon       *float64  `json:"lon"`
	SpeedMPS  *float64  `json:"speed_mps,omitempty"`
	Heading   *float64  `json:"heading,omitempty"`
	AccuracyM float64   `json:"accuracy_m,omitempty"`
	AltitudeM float64   `json:"altitude_m,omitempty"`
	Battery   *float64  `json:"battery,omitempty"`
	Source    string    `json:"source,omitempty"`
}

// MarshalJSON writes the fix with "lat" and "lon" fields.
func (f Fix) MarshalJSON() ([]byte, error) {
	lat, lon := f.Lat(), f.Lon()
	v := fixJSON{Unit: f.Unit, Time: f.Time, Lat: &lat, Lon: &lon,
		AccuracyM: f.AccuracyM, AltitudeM: f.AltitudeM, Source: f.Source}
	if f.SpeedMPS >= 0 {
		v.SpeedMPS = &f.SpeedMPS
	}
	if f.Heading >= 0 {
		v.Heading = &f.Heading
	}
	if f.Battery >= 0 {
		v.Battery = &f.Battery
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a fix with "lat" and "lon" fields; a missing
// coordinate becomes NaN so that validation rejects it, and missing speed,
// heading or battery become unknown (-1).
func (f *Fix) UnmarshalJSON(b []byte) error {
	var v fixJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Fix{Unit: v.Unit, Time: v.Time, Point: orb.Point{nan(v.Lon), nan(v.Lat)},
		SpeedMPS: unknown(v.SpeedMPS), Heading: unknown(v.Heading), Battery: unknown(v.Battery),
		AccuracyM: v.AccuracyM, AltitudeM: v.AltitudeM, Source: v.Source}
	return nil
}

func nan(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func unknown(p *float64) float64 {
	if p == nil || *p < 0 {
		return -1
	}
	return *p
}

// MaxBatchFixes is the most fixes DecodeFixBatch takes in one batch.
const MaxBatchFixes = 10000

// DecodeFixBatch decodes a batch of fixes: {"fixes": [...]} or a bare
// array of fixes.
func DecodeFixBatch(body []byte) ([]Fix, error) {
	var fixes []Fix
	var err error
	if len(body) > 0 && body[0] == '[' {
		err = json.Unmarshal(body, &fixes)
	} else {
		var v struct {
			Fixes []Fix `json:"fixes"`
		}
		err = json.Unmarshal(body, &v)
		fixes = v.Fixes
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("body is not a JSON batch of fixes: %w", err)
	case len(fixes) == 0:
		return nil, errors.New("no fixes in the batch")
	case len(fixes) > MaxBatchFixes:
		return nil, fmt.Errorf("%d fixes in one batch, at most %d", len(fixes), MaxBatchFixes)
	}
	return fixes, nil
}
