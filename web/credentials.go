package web

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// A credentials file lists tokens by their SHA-256, one a line:
//
//	# role    label          sha256 of the token
//	dispatcher desk-3        5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
//
// Blank lines and lines from # are skipped. NewToken draws a token and
// writes its line; the file never holds a token.

// ReadCredentialsFile reads the credentials file at path; "" is none.
func ReadCredentialsFile(path string) ([]Credential, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	creds, err := ReadCredentials(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return creds, nil
}

// Holds reports whether a has a credential of role.
func (a Access) Holds(role string) bool {
	return slices.ContainsFunc(a.credentials(), func(c Credential) bool { return c.Role == role })
}

// ReadCredentials reads a credentials file; its errors name the line.
func ReadCredentials(r io.Reader) ([]Credential, error) {
	var out []Credential
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) != 3:
			return nil, fmt.Errorf("credentials line %d: want role, label and the token's SHA-256, got %d fields", n, len(f))
		}
		out = append(out, Credential{Role: f[0], Label: f[1], Sum: strings.ToLower(f[2])})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, Access{Credentials: out}.Check()
}

// NewToken draws a token of 32 random bytes (43 characters of base64url)
// for role and label, and returns it with its line of a credentials file.
func NewToken(role, label string) (token, line string, err error) {
	c := Credential{Role: role, Label: label}
	if strings.ContainsAny(label, " \t#") || label == "" {
		return "", "", fmt.Errorf("label %q: want a word without spaces or #", label)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	c.Sum = TokenSum(token)
	if err := (Access{Credentials: []Credential{c}}).Check(); err != nil {
		return "", "", err
	}
	return token, fmt.Sprintf("%s %s %s", c.Role, c.Label, c.Sum), nil
}

// SplitTokens returns the tokens of a comma-separated list, spaces
// trimmed, as a flag gives them.
func SplitTokens(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
