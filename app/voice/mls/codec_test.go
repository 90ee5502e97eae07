package mls

import (
	"errors"
	"testing"
)

func TestReaderRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"length beyond input", []byte{0x05, 1, 2}, errTruncated},
		{"two-byte prefix cut", []byte{0x40}, errTruncated},
		{"non-minimal two-byte", []byte{0x40, 0x05, 1, 2, 3, 4, 5}, errVarint},
		{"non-minimal four-byte", []byte{0x80, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5}, errVarint},
		{"reserved prefix", []byte{0xc0, 0, 0, 0, 0, 0, 0, 1}, errVarint},
		{"trailing bytes", []byte{0x01, 0xaa, 0xbb}, errTrailingBytes},
		{"huge length", []byte{0xbf, 0xff, 0xff, 0xff}, errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(tt.in, "opaque", func(r *reader) { r.opaque() })
			if !errors.Is(err, tt.want) {
				t.Errorf("decode = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 16383, 16384, 70000} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i)
		}
		enc := encode(func(w *writer) {
			w.u8(7)
			w.u16(0x1234)
			w.u32(0xdeadbeef)
			w.u64(1 << 40)
			w.opaque(payload)
			w.optional(true, func(w *writer) { w.u8(9) })
			w.optional(false, nil)
		})
		var (
			a       uint8
			b       uint16
			c       uint32
			d       uint64
			got     []byte
			opt     uint8
			present [2]bool
		)
		err := decode(enc, "round trip", func(r *reader) {
			a, b, c, d = r.u8(), r.u16(), r.u32(), r.u64()
			got = r.opaque()
			present[0] = r.optional(func(r *reader) { opt = r.u8() })
			present[1] = r.optional(func(r *reader) { r.fail(errors.New("absent value read")) })
		})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if a != 7 || b != 0x1234 || c != 0xdeadbeef || d != 1<<40 || opt != 9 || !present[0] || present[1] {
			t.Errorf("n=%d: decoded %v %v %v %v %v %v", n, a, b, c, d, opt, present)
		}
		assertBytes(t, "payload", got, payload)
	}
}
