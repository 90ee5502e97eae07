package opus

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestPacketDuration(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		name    string
		packet  []byte
		want    time.Duration
		wantErr bool
	}{
		{"celt fb 20 ms, one frame", []byte{31 << 3, 0xaa}, ms(20), false},
		{"celt fb 2.5 ms", []byte{28 << 3}, ms(2.5), false},
		{"celt nb 5 ms", []byte{17 << 3}, ms(5), false},
		{"celt 10 ms, two equal frames", []byte{30<<3 | 1, 1, 2}, ms(20), false},
		{"celt 10 ms, two sized frames", []byte{30<<3 | 2, 1, 2}, ms(20), false},
		{"silk nb 10 ms", []byte{0 << 3}, ms(10), false},
		{"silk wb 40 ms", []byte{10 << 3}, ms(40), false},
		{"silk mb 60 ms", []byte{7 << 3}, ms(60), false},
		{"hybrid swb 10 ms", []byte{12 << 3}, ms(10), false},
		{"hybrid fb 20 ms", []byte{15 << 3}, ms(20), false},
		{"code 3, three 20 ms frames", []byte{31<<3 | 3, 3}, ms(60), false},
		{"code 3, padding and vbr flags ignored", []byte{31<<3 | 3, 0xc0 | 6}, ms(120), false},
		{"code 3, 48 frames of 2.5 ms", []byte{28<<3 | 3, 48}, ms(120), false},
		{"empty", nil, 0, true},
		{"code 3 without count", []byte{31<<3 | 3}, 0, true},
		{"code 3 with zero frames", []byte{31<<3 | 3, 0}, 0, true},
		{"code 3 longer than 120 ms", []byte{31<<3 | 3, 7}, 0, true},
		{"silk 60 ms twice", []byte{3<<3 | 1}, ms(120), false},
		{"code 3, three 60 ms frames", []byte{3<<3 | 3, 3}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PacketDuration(tt.packet)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidPacket) {
					t.Fatalf("PacketDuration(%x) = %v, %v; want ErrInvalidPacket", tt.packet, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PacketDuration(%x) = %v, %v; want %v", tt.packet, got, err, tt.want)
			}
		})
	}
}

// head builds an OpusHead; extra is appended after the 19 fixed bytes.
func head(version, channels uint8, preSkip uint16, rate uint32, gain int16, family uint8, extra ...byte) []byte {
	b := []byte("OpusHead")
	b = append(b, version, channels)
	b = binary.LittleEndian.AppendUint16(b, preSkip)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint16(b, uint16(gain))
	b = append(b, family)
	return append(b, extra...)
}

func TestParseHead(t *testing.T) {
	tests := []struct {
		name            string
		b               []byte
		want            Head
		wantErr         error
		wantPassthrough bool
	}{
		{"stereo", head(1, 2, 312, 44100, -256, 0), Head{1, 2, 312, 44100, -256, 0}, nil, true},
		{"mono", head(1, 1, 3840, 48000, 0, 0), Head{1, 1, 3840, 48000, 0, 0}, nil, true},
		{"minor version 15", head(15, 2, 0, 0, 0, 0), Head{15, 2, 0, 0, 0, 0}, nil, true},
		{"5.1 family 1", head(1, 6, 312, 48000, 0, 1, 4, 2, 0, 4, 1, 2, 3, 5),
			Head{1, 6, 312, 48000, 0, 1}, nil, false},
		{"stereo family 255", head(1, 2, 0, 48000, 0, 255, 2, 0, 0, 1),
			Head{1, 2, 0, 48000, 0, 255}, nil, false},
		{"short", head(1, 2, 0, 0, 0, 0)[:18], Head{}, ErrInvalidHead, false},
		{"wrong magic", append([]byte("OpusTags"), head(1, 2, 0, 0, 0, 0)[8:]...), Head{}, ErrInvalidHead, false},
		{"major version 1", head(16, 2, 0, 0, 0, 0), Head{}, ErrInvalidHead, false},
		{"zero channels", head(1, 0, 0, 0, 0, 0), Head{}, ErrInvalidHead, false},
		{"family 0 with 3 channels", head(1, 3, 0, 0, 0, 0), Head{}, ErrInvalidHead, false},
		{"family 1 without mapping table", head(1, 6, 0, 0, 0, 1, 4, 2), Head{}, ErrInvalidHead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHead(tt.b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseHead = %+v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseHead = %+v, %v; want %+v", got, err, tt.want)
			}
			err = got.Passthrough()
			if tt.wantPassthrough != (err == nil) {
				t.Fatalf("Passthrough() = %v, want passthrough %v", err, tt.wantPassthrough)
			}
			if err != nil && !errors.Is(err, ErrNotPassthrough) {
				t.Fatalf("Passthrough() = %v, want ErrNotPassthrough", err)
			}
		})
	}
	if err := (Head{Channels: 3}).Passthrough(); !errors.Is(err, ErrNotPassthrough) {
		t.Errorf("Passthrough of a hand-made 3-channel family 0 head = %v, want ErrNotPassthrough", err)
	}
}

func TestHeadAppendBinary(t *testing.T) {
	h := Head{Version: 1, Channels: 2, PreSkip: 312, InputSampleRate: 44100, OutputGain: -256}
	b, err := h.AppendBinary([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1+HeadSize || b[0] != 'x' {
		t.Fatalf("AppendBinary wrote %d bytes after the prefix, want %d", len(b)-1, HeadSize)
	}
	if got, err := ParseHead(b[1:]); err != nil || got != h {
		t.Errorf("ParseHead(AppendBinary(h)) = %+v, %v; want %+v", got, err, h)
	}
	if _, err := (Head{Version: 1, Channels: 6, MappingFamily: 1}).AppendBinary(nil); !errors.Is(err, ErrInvalidHead) {
		t.Errorf("mapping family 1: %v, want ErrInvalidHead", err)
	}
}
