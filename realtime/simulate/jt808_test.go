package simulate

import (
	"encoding/binary"
	"testing"

	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
)

func TestJT808Reply(t *testing.T) {
	reply := func(h jt808.Header, serial, id uint16, result byte) []byte {
		h.ID = jt808.MsgPlatformReply
		body := binary.BigEndian.AppendUint16(nil, serial)
		body = binary.BigEndian.AppendUint16(body, id)
		b, err := jt808.AppendFrame(nil, h, append(body, result))
		if err != nil {
			t.Fatal(err)
		}
		return b[1 : len(b)-1]
	}
	h2013 := jt808.Header{Phone: "13900000001", Serial: 0x7d7e}
	h2019 := jt808.Header{V2019: true, Version: 1, Phone: "13900000001", Serial: 7}
	tests := []struct {
		name       string
		frame      []byte
		wantSerial uint16
		wantID     uint16
		wantResult byte
		wantOK     bool
	}{
		{"2013", reply(h2013, 0x7e7d, 0x0200, 0), 0x7e7d, 0x0200, 0, true},
		{"2019", reply(h2019, 1, 0x0704, 2), 1, 0x0704, 2, true},
		{"not a general reply", func() []byte {
			b, _ := jt808.AppendFrame(nil, jt808.Header{ID: 0x8100, Phone: "1"}, []byte{0, 1, 0, 'x', 'y'})
			return b[1 : len(b)-1]
		}(), 0, 0, 0, false},
		{"bad check byte", func() []byte { b := reply(h2019, 1, 0x0200, 0); b[len(b)-1] ^= 1; return b }(), 0, 0, 0, false},
		{"bad escape", append(reply(h2019, 1, 0x0200, 0), 0x7d, 0x05), 0, 0, 0, false},
		{"short", []byte{0x80, 0x01}, 0, 0, 0, false},
	}
	var buf []byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serial, id, result, ok := jt808Reply(tc.frame, &buf)
			if serial != tc.wantSerial || id != tc.wantID || result != tc.wantResult || ok != tc.wantOK {
				t.Errorf("jt808Reply(% x) = %d, 0x%04x, %d, %v; want %d, 0x%04x, %d, %v", tc.frame,
					serial, id, result, ok, tc.wantSerial, tc.wantID, tc.wantResult, tc.wantOK)
			}
		})
	}
}
