package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// SaveIncident implements Incidents: a new incident takes its number from
// pg:{city}:incident_seq, then one Lua script (lua/save_incident.lua)
// compares the versions, writes the incident and announces it, in one
// step.
func (s *Redis) SaveIncident(ctx context.Context, inc Incident) (Incident, error) {
	if inc.Version == 0 {
		n, err := s.c.Incr(ctx, s.keys.incidentSeq).Result()
		if err != nil {
			return Incident{}, fmt.Errorf("store: number a new incident of %s: %w", s.cfg.City, err)
		}
		inc.ID = incidentID(n)
	} else if _, ok := incidentNumber(inc.ID); !ok {
		return Incident{}, noIncident(inc.ID)
	}
	read := inc.Version
	inc.Version++
	d, err := json.Marshal(inc)
	if err != nil {
		return Incident{}, fmt.Errorf("store: encode incident %s: %w", inc.ID, err)
	}
	r, err := s.saveIncident.Run(ctx, s.c, []string{s.keys.incidents, s.keys.fixes}, s.keys.events, inc.ID, read, d,
		s.trim(s.cfg.Now())).Int64()
	switch {
	case err != nil:
		return Incident{}, fmt.Errorf("store: save incident %s: %w", inc.ID, err)
	case r == -1 && read > 0:
		return Incident{}, noIncident(inc.ID)
	case r < 0:
		return Incident{}, incidentVersionError(inc.ID, -r-1, read)
	}
	return inc, nil
}

// Incident implements Incidents.
func (s *Redis) Incident(ctx context.Context, id string) (Incident, error) {
	b, err := s.c.HGet(ctx, s.keys.incidents, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Incident{}, noIncident(id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("store: read incident %s: %w", id, err)
	}
	return decodeIncident(id, b)
}

// ListIncidents implements Incidents with one HGETALL: incidents are few
// next to fixes. Closed incidents are kept.
func (s *Redis) ListIncidents(ctx context.Context) ([]Incident, error) {
	all, err := s.c.HGetAll(ctx, s.keys.incidents).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list incidents of %s: %w", s.cfg.City, err)
	}
	out := make([]Incident, 0, len(all))
	for id, v := range all {
		inc, err := decodeIncident(id, []byte(v))
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b Incident) int {
		na, _ := incidentNumber(a.ID)
		nb, _ := incidentNumber(b.ID)
		return cmp.Compare(na, nb)
	})
	return out, nil
}

func decodeIncident(id string, b []byte) (Incident, error) {
	var inc Incident
	if err := json.Unmarshal(b, &inc); err != nil {
		return Incident{}, fmt.Errorf("store: decode incident %s: %w", id, err)
	}
	return inc, nil
}
