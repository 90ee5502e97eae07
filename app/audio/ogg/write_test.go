package ogg

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/opus"
)

// stereo48k is the header the bot writes for the frames it keeps.
var stereo48k = opus.Head{Version: 1, Channels: 2, PreSkip: 312, InputSampleRate: 48000}

// opusPacket is an n-byte 20 ms Opus packet (its TOC byte says so) whose
// payload counts from seed.
func opusPacket(n int, seed byte) []byte {
	p := fill(n, seed)
	p[0] = 0x78 // hybrid, fullband, 20 ms, one frame
	return p
}

func TestWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		pages int // besides the two header pages
	}{
		{"a second per page", repeat(130, 160), 3},
		{"sizes around the lacing edges", []int{1, 254, 255, 256, 509, 510, 511, 1275}, 1},
		{"a full segment table starts a new page", repeat(13, 5000), 2}, // 20 lacing values each: 12 fit in 255
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stream bytes.Buffer
			w, err := NewWriter(&stream, stereo48k, 7)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			for i, n := range tt.sizes {
				p := opusPacket(n, byte(i))
				want = append(want, p)
				if err := w.WritePacket(p); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := bytes.Count(stream.Bytes(), []byte("OggS")); got != 2+tt.pages {
				t.Errorf("%d pages, want %d", got, 2+tt.pages)
			}
			r := NewReader(bytes.NewReader(stream.Bytes()))
			if h, err := r.Head(); err != nil || h != stereo48k {
				t.Fatalf("Head() = %+v, %v; want %+v", h, err, stereo48k)
			}
			got, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("reading back: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packets read back (-want +got):\n%s", diff)
			}
			if want := int64(960 * len(tt.sizes)); r.Granule() != want {
				t.Errorf("final granule %d, want %d (960 samples a packet)", r.Granule(), want)
			}
		})
	}
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// TestWriterFFmpeg: ffmpeg decodes the packets of a real encoding,
// rewritten by Writer, to as much audio as the original.
func TestWriterFFmpeg(t *testing.T) {
	r := NewReader(bytes.NewReader(audiotest.Ogg(t, 2, 2, 20)))
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	w, err := NewWriter(&stream, h, 1)
	if err != nil {
		t.Fatal(err)
	}
	packets := 0
	for {
		p, err := r.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		packets++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pcm := audiotest.FFmpeg(t, stream.Bytes(), "-", "-f", "ogg", "-i", "pipe:0", "-f", "s16le", "-ac", "2", "-ar", "48000", "OUT")
	if got, want := len(pcm)/4, packets*960-int(h.PreSkip); got != want {
		t.Errorf("ffmpeg decoded %d samples, want %d (%d packets less the pre-skip)", got, want, packets)
	}
}

func TestWriterRefuses(t *testing.T) {
	if _, err := NewWriter(io.Discard, opus.Head{Version: 1, Channels: 6, MappingFamily: 1}, 1); !errors.Is(err, opus.ErrInvalidHead) {
		t.Errorf("a header of mapping family 1: %v, want ErrInvalidHead", err)
	}
	w, err := NewWriter(io.Discard, stereo48k, 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{
		"empty":              {},
		"larger than a page": opusPacket(maxBodySize, 0),
		"without a TOC":      {0x03}, // code 3 with no frame count byte
	} {
		if err := w.WritePacket(p); err == nil {
			t.Errorf("%s packet written", name)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(opusPacket(10, 0)); err == nil {
		t.Error("a packet written after Close")
	}
	failing := &failingWriter{after: 1}
	if _, err := NewWriter(failing, stereo48k, 1); err == nil {
		t.Error("NewWriter succeeded on a writer that fails")
	}
}

// failingWriter fails every write after the first few.
type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}
