package jt808

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Register is a decoded 0x0100 body: the terminal says where it is
// installed and who it is.
type Register struct {
	Province, City uint16
	// Maker and Model are the manufacturer and model ids, padding
	// trimmed.
	Maker, Model string
	// TerminalID is the terminal's id, padding (NULs, spaces) trimmed: the
	// id a terminal is provisioned with beside its phone.
	TerminalID string
	// PlateColor is the colour code of the plate (0 for none); the plate
	// itself, GBK text, is not decoded.
	PlateColor byte
}

// registerFields are the widths of the maker, model and terminal id
// fields of a 0x0100 body in the 2013 and the 2019 editions.
var registerFields = map[bool][3]int{false: {5, 20, 7}, true: {11, 30, 30}}

// register2011 are those of the 2011 edition, which shares the 2013
// header: a 2013 body holds at least 37 bytes, a 2011 one 25.
var register2011 = [3]int{5, 8, 7}

// DecodeRegister decodes the 0x0100 body of a message with header h, in
// the layout of h's edition: 2019, or 2013, or 2011 for a body under the
// 2013 fixed fields' 37 bytes. It fails, wrapping ErrBody, for a body
// shorter than its fixed fields.
func DecodeRegister(h Header, body []byte) (Register, error) {
	w := registerFields[h.V2019]
	if !h.V2019 && len(body) < 37 {
		w = register2011
	}
	need := 4 + w[0] + w[1] + w[2] + 1
	if len(body) < need {
		return Register{}, fmt.Errorf("%w: register body of %d bytes, want at least %d", ErrBody, len(body), need)
	}
	r := Register{Province: binary.BigEndian.Uint16(body), City: binary.BigEndian.Uint16(body[2:])}
	b := body[4:]
	for i, f := range []*string{&r.Maker, &r.Model, &r.TerminalID} {
		*f = strings.Trim(string(b[:w[i]]), "\x00 ")
		b = b[w[i]:]
	}
	r.PlateColor = b[0]
	return r, nil
}

// AppendRegister appends to dst the 0x0100 body of r and plate (its
// bytes as given) in the layout of the edition v2019 says; each text
// field is cut to its width and padded with NULs.
func AppendRegister(dst []byte, v2019 bool, r Register, plate string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, r.Province)
	dst = binary.BigEndian.AppendUint16(dst, r.City)
	w := registerFields[v2019]
	for i, f := range []string{r.Maker, r.Model, r.TerminalID} {
		field := make([]byte, w[i])
		copy(field, f)
		dst = append(dst, field...)
	}
	return append(append(dst, r.PlateColor), plate...)
}
