package store

import (
	"context"
	"slices"
)

// SaveIncident implements Incidents.
func (s *Memory) SaveIncident(ctx context.Context, inc Incident) (Incident, error) {
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	if inc.Version == 0 {
		inc.ID = incidentID(int64(len(s.incidents) + 1))
		s.incidents = append(s.incidents, Incident{})
	}
	n, ok := incidentNumber(inc.ID)
	if !ok || n > int64(len(s.incidents)) {
		s.mu.Unlock()
		return Incident{}, noIncident(inc.ID)
	}
	if stored := s.incidents[n-1].Version; stored != inc.Version {
		s.mu.Unlock()
		return Incident{}, incidentVersionError(inc.ID, stored, inc.Version)
	}
	inc.Version++
	s.incidents[n-1] = cloneIncident(inc) // the caller keeps inc's log to itself
	subs := s.subs
	s.mu.Unlock()
	ev := cloneIncident(inc)
	return inc, s.publish(ctx, subs, Event{Kind: IncidentEvent, Incident: &ev})
}

// Incident implements Incidents.
func (s *Memory) Incident(_ context.Context, id string) (Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := incidentNumber(id)
	if !ok || n > int64(len(s.incidents)) {
		return Incident{}, noIncident(id)
	}
	return cloneIncident(s.incidents[n-1]), nil
}

// ListIncidents implements Incidents.
func (s *Memory) ListIncidents(context.Context) ([]Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, len(s.incidents))
	for i, inc := range s.incidents {
		out[i] = cloneIncident(inc)
	}
	return out, nil
}

// cloneIncident returns inc with a log of its own.
func cloneIncident(inc Incident) Incident {
	inc.Log = slices.Clone(inc.Log)
	return inc
}
