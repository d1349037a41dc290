package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// SaveVersion implements Plans.
func (s *Memory) SaveVersion(_ context.Context, name string, plan []byte, by string) (VersionInfo, error) {
	v, err := newVersion(name, plan, by, s.cfg.Now())
	if err != nil {
		return VersionInfo{}, err
	}
	s.planMu.Lock()
	defer s.planMu.Unlock()
	if s.versions == nil {
		s.versions = map[string]Version{}
	}
	s.versions[name] = v
	return v.VersionInfo, nil
}

// ListVersions implements Plans.
func (s *Memory) ListVersions(context.Context) ([]VersionInfo, error) {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	out := make([]VersionInfo, 0, len(s.versions))
	for _, v := range s.versions {
		out = append(out, v.VersionInfo)
	}
	slices.SortFunc(out, func(a, b VersionInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// LoadVersion implements Plans.
func (s *Memory) LoadVersion(_ context.Context, name string) (Version, error) {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	v, ok := s.versions[name]
	if !ok {
		return Version{}, fmt.Errorf("%w: %q", ErrNoVersion, name)
	}
	v.Plan = slices.Clone(v.Plan)
	return v, nil
}
