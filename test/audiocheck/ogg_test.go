package audiocheck

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

func TestPacketSamples(t *testing.T) {
	tests := []struct {
		name   string
		packet []byte
		want   int
	}{
		{"CELT 20 ms, one frame", []byte{31 << 3}, 960},
		{"CELT 2.5 ms, one frame", []byte{16 << 3}, 120},
		{"CELT 10 ms, two frames", []byte{30<<3 | 1}, 960},
		{"SILK 60 ms, one frame", []byte{3 << 3}, 2880},
		{"hybrid 10 ms, two unequal frames", []byte{12<<3 | 2}, 960},
		{"CELT 20 ms, three frames", []byte{31<<3 | 3, 3}, 2880},
		{"silence frame", []byte{0xf8, 0xff, 0xfe}, 960},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PacketSamples(tt.packet)
			if err != nil || got != tt.want {
				t.Errorf("PacketSamples = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {31<<3 | 3}} {
		if _, err := PacketSamples(bad); err == nil {
			t.Errorf("PacketSamples(% x) gave no error", bad)
		}
	}
}

// TestOggOpusRoundTrip takes the packets out of ffmpeg's own Ogg Opus (which
// also checks oggCRC against ffmpeg's CRCs), wraps them again, and checks
// ffmpeg decodes the result to the same tone for the same time.
func TestOggOpusRoundTrip(t *testing.T) {
	original := encodeTone(t, 990, 2)
	packets := oggPackets(t, original)
	// 2 s of 20 ms packets, plus one for the encoder's 312-sample pre-skip.
	if len(packets) != 101 {
		t.Fatalf("%d packets in 2 s of 20 ms Opus, want 101", len(packets))
	}
	wrapped, err := OggOpus(packets)
	if err != nil {
		t.Fatal(err)
	}
	if wrapped[5] != flagBeginning {
		t.Errorf("first page flags %#x, want beginning of stream", wrapped[5])
	}
	last := wrapped[bytes.LastIndex(wrapped, []byte("OggS")):]
	if last[5] != flagEnd {
		t.Errorf("last page flags %#x, want end of stream", last[5])
	}
	if granule := binary.LittleEndian.Uint64(last[6:]); granule != 101*960 {
		t.Errorf("last granule position %d, want %d samples", granule, 101*960)
	}
	rewrapped := oggPackets(t, wrapped)
	if len(rewrapped) != len(packets) {
		t.Fatalf("wrapped stream holds %d packets, want %d", len(rewrapped), len(packets))
	}
	runs := Runs(Listen(t, wrapped), 10)
	if len(runs) != 1 || math.Abs(runs[0].Frequency-990) > 3 || runs[0].Duration < 1900*time.Millisecond {
		t.Errorf("heard %+v, want 990 Hz for about 2 s", runs)
	}
}

func encodeTone(t *testing.T, freq, seconds float64) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency="+ftoa(freq)+":duration="+ftoa(seconds)+":sample_rate=48000",
		"-ac", "2", "-c:a", "libopus", "-frame_duration", "20", "-f", "ogg", "pipe:1").Output()
	if err != nil {
		t.Fatalf("encoding a tone: %v", err)
	}
	return out
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// oggPackets returns the audio packets of one logical Ogg Opus stream,
// failing on a bad CRC; it skips OpusHead and OpusTags.
func oggPackets(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	var packets [][]byte
	var partial []byte
	for page := 0; len(stream) > 0; page++ {
		if len(stream) < 27 || !bytes.HasPrefix(stream, []byte("OggS")) {
			t.Fatalf("page %d: no capture pattern", page)
		}
		segments := int(stream[26])
		lacing := stream[27 : 27+segments]
		size := 27 + segments
		for _, l := range lacing {
			size += int(l)
		}
		raw := append([]byte(nil), stream[:size]...)
		want := binary.LittleEndian.Uint32(raw[22:])
		binary.LittleEndian.PutUint32(raw[22:], 0)
		if got := oggCRC(raw); got != want {
			t.Fatalf("page %d: CRC %08x, the page says %08x", page, got, want)
		}
		body := stream[27+segments : size]
		for _, l := range lacing {
			partial = append(partial, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, partial)
				partial = nil
			}
		}
		stream = stream[size:]
	}
	if len(packets) < 2 || !bytes.HasPrefix(packets[0], []byte("OpusHead")) || !bytes.HasPrefix(packets[1], []byte("OpusTags")) {
		t.Fatal("stream does not open with OpusHead and OpusTags")
	}
	return packets[2:]
}
