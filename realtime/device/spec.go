package device

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// record checks spec and returns its record and key, drawing a key for
// an OsmAnd or NMEA device that has none.
func (r *Registry) record(spec Spec) (record, string, error) {
	phone, err := normalizePhone(spec.Phone)
	if err != nil {
		return record{}, "", err
	}
	proto := spec.Protocol
	if proto == "" {
		proto = fix.SourceOsmAnd
		if phone != "" {
			proto = fix.SourceJT808
		}
	}
	switch {
	case !validID(spec.ID):
		return record{}, "", fmt.Errorf("%w: id %.70q: want 1 to 64 of A-Z a-z 0-9 . _ : -", ErrBad, spec.ID)
	case spec.Unit == "" || len(spec.Unit) > 64 || !utf8.ValidString(spec.Unit) || strings.ContainsFunc(spec.Unit, unicode.IsControl):
		return record{}, "", fmt.Errorf("%w: unit %.70q: want 1 to 64 bytes of text", ErrBad, spec.Unit)
	case proto != fix.SourceOsmAnd && proto != fix.SourceNMEA && proto != fix.SourceJT808:
		return record{}, "", fmt.Errorf("%w: protocol %.30q: want %s, %s or %s", ErrBad, proto, fix.SourceOsmAnd, fix.SourceNMEA, fix.SourceJT808)
	case proto == fix.SourceJT808:
		return r.terminalRecord(spec, phone)
	case phone != "" || spec.Terminal != "":
		return record{}, "", fmt.Errorf("%w: a phone and a terminal id are a JT/T 808 terminal's; %s is an %s device", ErrBad, spec.ID, proto)
	case spec.Key != "" && !validKey(spec.Key):
		return record{}, "", fmt.Errorf("%w: key: want 1 to 64 printable characters other than space, comma and *", ErrBad)
	}
	key := spec.Key
	if key == "" {
		if key, err = r.draw(); err != nil {
			return record{}, "", fmt.Errorf("device: draw a device key: %w", err)
		}
	}
	d := Device{ID: spec.ID, Unit: spec.Unit, Protocol: proto, Created: r.cfg.Now().UTC()}
	return record{Device: d, KeySum: sum(key)}, key, nil
}

// terminalRecord returns the record of a JT/T 808 terminal spec, whose
// phone is normalized.
func (r *Registry) terminalRecord(spec Spec, phone string) (record, string, error) {
	switch {
	case phone == "":
		return record{}, "", fmt.Errorf("%w: a JT/T 808 terminal needs its phone", ErrBad)
	case !validTerminal(spec.Terminal):
		return record{}, "", fmt.Errorf("%w: terminal id %.40q: want 1 to 30 printable ASCII characters", ErrBad, spec.Terminal)
	case spec.Key != "":
		return record{}, "", fmt.Errorf("%w: a JT/T 808 terminal has no key: it draws an authentication code when it registers", ErrBad)
	}
	d := Device{ID: spec.ID, Unit: spec.Unit, Protocol: fix.SourceJT808, Phone: phone, Terminal: spec.Terminal,
		Created: r.cfg.Now().UTC()}
	return record{Device: d}, "", nil
}

// draw returns a new random credential: 16 bytes in 32 hex digits.
func (r *Registry) draw() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r.cfg.Rand, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// sum returns the hex SHA-256 of a credential, the form the registry
// keeps it in.
func sum(credential string) string {
	s := sha256.Sum256([]byte(credential))
	return hex.EncodeToString(s[:])
}

// sumMatches reports, in constant time, whether credential's SHA-256 is
// want; an empty want matches nothing.
func sumMatches(credential, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(sum(credential)), []byte(want)) == 1
}

// credentialSum is the SHA-256 a device's credential is checked against:
// its terminal's code for a JT/T 808 device, its key otherwise.
func (rec *record) credentialSum() string {
	if rec.Protocol == fix.SourceJT808 {
		return rec.CodeSum
	}
	return rec.KeySum
}

// TrimPhone returns a terminal phone without its leading zeros, the form
// under which terminals are registered ("013912345678" is "13912345678");
// "0" for a phone of zeros, "" for "".
func TrimPhone(phone string) string {
	if phone == "" {
		return ""
	}
	for i := 0; i < len(phone); i++ {
		if phone[i] != '0' {
			return phone[i:]
		}
	}
	return "0"
}

// normalizePhone returns phone without leading zeros, hex nibbles in
// lower case (jt808.Phone's form); "" stays "".
func normalizePhone(phone string) (string, error) {
	if phone == "" {
		return "", nil
	}
	if len(phone) > 20 {
		return "", fmt.Errorf("%w: phone %.30q: want at most 20 digits", ErrBad, phone)
	}
	phone = strings.ToLower(phone)
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%w: phone %q: want digits only (a BCD nibble over 9 as a-f)", ErrBad, phone)
		}
	}
	return TrimPhone(phone), nil
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c > '~' || c == ',' || c == '*' {
			return false
		}
	}
	return true
}

// validTerminal reports whether id is a terminal id: 1 to 30 printable
// ASCII characters, the 2019 edition's field (the 2013 one holds 7).
func validTerminal(id string) bool {
	if id == "" || len(id) > 30 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}
