package framecache

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/jonas747/dca"
)

// BenchmarkReadFrames reads a 10 s entry (500 frames of 240 bytes) with
// this package's Reader and with dca's Decoder, and seeks 3 minutes into a
// 3-minute entry with each (the Decoder reads what it skips).
func BenchmarkReadFrames(b *testing.B) {
	c := mustOpen(b, Config{Dir: b.TempDir(), MaxBytes: 64 << 20})
	put(b, c, "10s", frames(500, 240))
	put(b, c, "3min", frames(9000, 240))
	b.Run("Reader", func(b *testing.B) {
		for b.Loop() {
			if _, err := get(b, c, "10s", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dca.Decoder", func(b *testing.B) {
		for b.Loop() {
			decodeAll(b, c, "10s")
		}
	})
	b.Run("Reader seek 3 min", func(b *testing.B) {
		for b.Loop() {
			r, err := c.Reader("3min", 9000)
			if err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	b.Run("dca.Decoder seek 3 min", func(b *testing.B) {
		for b.Loop() {
			decodeAll(b, c, "3min")
		}
	})
}

// decodeAll reads key's entry to its end with dca's Decoder.
func decodeAll(b *testing.B, c *Cache, key string) {
	f, err := os.Open(filepath.Join(c.cfg.Dir, c.entries[hashKey(key)].Value.(*entry).name()))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	dec := dca.NewDecoder(f)
	for {
		if _, err := dec.OpusFrame(); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
