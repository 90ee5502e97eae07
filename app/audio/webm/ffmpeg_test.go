package webm

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/ogg"
)

// oggPackets reads every packet of an Ogg Opus stream.
func oggPackets(t *testing.T, in []byte) [][]byte {
	t.Helper()
	r := ogg.NewReader(bytes.NewReader(in))
	var out [][]byte
	for {
		p, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ogg: %v", err)
		}
		out = append(out, bytes.Clone(p))
	}
}

// TestReaderMatchesOgg encodes once to Ogg, remuxes that to WebM without
// re-encoding, and checks that both readers extract the same packets.
func TestReaderMatchesOgg(t *testing.T) {
	tests := []struct {
		name    string
		frameMs int
		live    bool
		extra   []string
	}{
		{"20 ms, file", 20, false, nil},
		{"20 ms, live pipe", 20, true, nil},
		{"60 ms, file", 60, false, nil},
		{"20 ms, cues at the front", 20, false, []string{"-cues_to_front", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := audiotest.Ogg(t, 2, 2, tt.frameMs)
			want := oggPackets(t, in)
			head, err := ogg.NewReader(bytes.NewReader(in)).Head()
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(audiotest.WebM(t, in, tt.live, tt.extra...)))
			if err != nil {
				t.Fatal(err)
			}
			if tr := r.Track(); tr.Head != head || tr.Channels != 2 || tr.SampleRate != 48000 {
				t.Errorf("Track() = %+v, want head %+v, 2 channels at 48 kHz", tr, head)
			}
			out, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("ReadPacket error = %v, want io.EOF", err)
			}
			got := make([][]byte, len(out))
			frame := time.Duration(tt.frameMs) * time.Millisecond
			for i, g := range out {
				got[i] = g.Packet
				// Timestamps are whole milliseconds from a shifted start.
				if step := g.TS - out[0].TS; i > 0 && (step < time.Duration(i)*frame-time.Millisecond || step > time.Duration(i)*frame+time.Millisecond) {
					t.Fatalf("packet %d at %v, %v after the first; want %v", i, g.TS, step, time.Duration(i)*frame)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("WebM packets differ from Ogg packets (-ogg +webm):\n%s", diff)
			}
			if len(got) < 2000/tt.frameMs {
				t.Errorf("%d packets, want at least %d", len(got), 2000/tt.frameMs)
			}
		})
	}
}

// TestReaderResumesAtCue resumes a file at the cue before a time, as a
// caller with range requests would, and checks that it reads on exactly as
// a reader that read from the start.
func TestReaderResumesAtCue(t *testing.T) {
	in := audiotest.Ogg(t, 8, 2, 20)
	tests := []struct {
		name      string
		extra     []string
		cuesFirst bool
	}{
		{"cues at the end, found through the SeekHead", []string{"-cluster_time_limit", "1000"}, false},
		{"cues at the front", []string{"-cluster_time_limit", "1000", "-cues_to_front", "1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := audiotest.WebM(t, in, false, tt.extra...)
			full, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			all, err := readAll(t, full)
			if err != io.EOF {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := r.SeekOffset(5 * time.Second); ok != tt.cuesFirst {
				t.Fatalf("SeekOffset before reading cues found one: %t, want %t", ok, tt.cuesFirst)
			}
			if !tt.cuesFirst {
				at, ok := r.CuesOffset()
				if !ok {
					t.Fatal("no cues before the first cluster and no SeekHead entry for them")
				}
				if err := r.ReadCues(bytes.NewReader(file[at:])); err != nil {
					t.Fatal(err)
				}
			}
			at, ok := r.SeekOffset(5 * time.Second)
			if !ok {
				t.Fatal("SeekOffset(5s) found no cue")
			}
			if err := r.Resume(bytes.NewReader(file[at:]), at); err != nil {
				t.Fatal(err)
			}
			rest, err := readAll(t, r)
			if err != io.EOF {
				t.Fatal(err)
			}
			if len(rest) == 0 || rest[0].TS > 5*time.Second || rest[0].TS < 3*time.Second {
				t.Fatalf("resumed at %v with %d packets, want a cue between 3 s and 5 s", rest[0].TS, len(rest))
			}
			if diff := cmp.Diff(all[len(all)-len(rest):], rest); diff != "" {
				t.Errorf("packets after resuming differ (-from start +resumed):\n%s", diff)
			}
		})
	}
}
