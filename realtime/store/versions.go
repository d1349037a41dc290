package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode"
)

// Errors of named plan versions.
var (
	// ErrNoVersion is returned by Plans.LoadVersion for a name never saved.
	ErrNoVersion = errors.New("store: no plan version of that name")
	// ErrVersionName is matched by the error of a name that is not one.
	ErrVersionName = errors.New("store: plan version name")
)

// maxVersionName is the longest name of a plan version, in bytes.
const maxVersionName = 64

// VersionInfo describes a named plan version: a planner's draft or a plan
// kept to compare against.
type VersionInfo struct {
	Name string `json:"name"`
	// SavedAt is the store clock at the latest save under Name, in UTC;
	// By the label of the credential that saved it.
	SavedAt time.Time `json:"saved_at"`
	By      string    `json:"by"`
	// Bytes is the size of the plan's compacted JSON.
	Bytes int `json:"bytes"`
}

// Version is a named plan version and its plan.
type Version struct {
	VersionInfo
	// Plan is the plan as compacted JSON (patrol.ReadPlan reads it).
	Plan json.RawMessage `json:"plan"`
}

// checkVersionName returns an error matching ErrVersionName unless name
// is 1 to 64 bytes of letters, digits, spaces and "-_.()" that neither
// starts nor ends with a space.
func checkVersionName(name string) error {
	if name == "" || len(name) > maxVersionName || name[0] == ' ' || name[len(name)-1] == ' ' {
		return fmt.Errorf("%w %q: want 1 to %d characters, no space at either end", ErrVersionName, name, maxVersionName)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-' && r != '_' && r != '.' && r != '(' && r != ')' {
			return fmt.Errorf("%w %q: %q is not a letter, digit, space or one of -_.()", ErrVersionName, name, r)
		}
	}
	return nil
}

// newVersion checks and compacts a version to save.
func newVersion(name string, plan []byte, by string, now time.Time) (Version, error) {
	if err := checkVersionName(name); err != nil {
		return Version{}, err
	}
	b, err := compactPlan(plan)
	if err != nil {
		return Version{}, fmt.Errorf("store: save plan version %q: %w", name, err)
	}
	return Version{VersionInfo: VersionInfo{Name: name, SavedAt: now.UTC(), By: by, Bytes: len(b)}, Plan: b}, nil
}
