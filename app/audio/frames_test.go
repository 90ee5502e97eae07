package audio

import (
	"bytes"
	"fmt"
	"testing"
)

// TestFramesAreCopiesOfTheirOwn reads frames from a source that reuses one
// buffer, as the demuxers do: every frame handed out keeps its bytes while
// later ones are read, and appending to one never reaches the next.
func TestFramesAreCopiesOfTheirOwn(t *testing.T) {
	buf := make([]byte, 0, 4000)
	n := 0
	f := &frames{next: func() ([]byte, error) {
		n++
		buf = append(buf[:0], bytes.Repeat([]byte{byte(n)}, 100+n*37%3000)...)
		return buf, nil
	}}
	var got [][]byte
	for range 400 { // several slabs, and frames larger than what a slab has left
		b, err := f.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	_ = append(got[0], 0xff) // must not write into got[1]
	for i, b := range got {
		want := bytes.Repeat([]byte{byte(i + 1)}, 100+(i+1)*37%3000)
		if !bytes.Equal(b, want) {
			t.Fatalf("frame %d changed: %s", i, fmt.Sprintf("%d bytes, first %d", len(b), b[0]))
		}
	}
}

func BenchmarkReadFrame(b *testing.B) {
	frame := make([]byte, 240)
	f := &frames{next: func() ([]byte, error) { return frame, nil }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}
