package framecache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonas747/dca"
)

// frames returns n distinct packets of the given size.
func frames(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte(i), byte(i >> 8)}, size/2)
	}
	return out
}

func mustOpen(tb testing.TB, cfg Config) *Cache {
	tb.Helper()
	c, err := Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// put writes and commits an entry.
func put(tb testing.TB, c *Cache, key string, packets [][]byte) {
	tb.Helper()
	w, err := c.Writer(key)
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WriteFrame(p); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// get reads an entry from frame from to its end.
func get(tb testing.TB, c *Cache, key string, from int) ([][]byte, error) {
	tb.Helper()
	r, err := c.Reader(key, from)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out [][]byte
	for {
		b, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, bytes.Clone(b))
	}
}

// files lists the directory.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteCommitRead(t *testing.T) {
	c := mustOpen(t, Config{Dir: t.TempDir(), MaxBytes: 1 << 20})
	packets := frames(50, 120)
	put(t, c, "https://example.com/a.ogg", packets)
	tests := []struct {
		name    string
		from    int
		want    [][]byte
		wantErr error
	}{
		{"from the start", 0, packets, nil},
		{"from frame 10", 10, packets[10:], nil},
		{"at the end", 50, nil, nil},
		{"past the end", 51, nil, ErrPastEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := get(t, c, "https://example.com/a.ogg", tt.from)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
	// The whole entry's length, from wherever a Reader starts.
	for _, from := range []int{0, 10, 50} {
		r, err := c.Reader("https://example.com/a.ogg", from)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Duration(); got != time.Second {
			t.Errorf("from frame %d: Duration %v, want 1s (50 frames)", from, got)
		}
		r.Close()
	}
	if _, err := c.Reader("https://example.com/b.ogg", 0); !errors.Is(err, ErrMiss) {
		t.Errorf("another key: err %v, want ErrMiss", err)
	}
	st := c.Stats()
	if st.Hits != 7 || st.Misses != 1 || st.Entries != 1 || st.Bytes == 0 {
		t.Errorf("stats %+v, want 7 hits, 1 miss, 1 entry", st)
	}
}

// TestUnfinishedTrackLeavesNothing: only Commit makes an entry; an abort,
// an oversized track and a crash's temporary file leave no file and no
// entry.
func TestUnfinishedTrackLeavesNothing(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, w *Writer)
	}{
		{"aborted", func(t *testing.T, w *Writer) {
			for _, p := range frames(10, 100) {
				if err := w.WriteFrame(p); err != nil {
					t.Fatal(err)
				}
			}
			w.Abort()
		}},
		{"too large", func(t *testing.T, w *Writer) {
			var err error
			for _, p := range frames(100, 100) {
				if err = w.WriteFrame(p); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err %v, want ErrTooLarge", err)
			}
			if err := w.Commit(); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Commit after ErrTooLarge: %v", err)
			}
		}},
		{"empty frame", func(t *testing.T, w *Writer) {
			if err := w.WriteFrame(nil); err == nil {
				t.Fatal("an empty frame was accepted")
			}
			w.Abort()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20, MaxEntryBytes: 4 << 10})
			w, err := c.Writer("k")
			if err != nil {
				t.Fatal(err)
			}
			tt.write(t, w)
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("left %v", got)
			}
			if _, err := c.Reader("k", 0); !errors.Is(err, ErrMiss) {
				t.Errorf("err %v, want ErrMiss", err)
			}
		})
	}
	t.Run("crashed writer", func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20})
		w, err := c.Writer("k")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame([]byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		// No Commit or Abort: the process died. The next start cleans up.
		c = mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20})
		if got := files(t, dir); len(got) != 0 {
			t.Errorf("left %v", got)
		}
		if _, err := c.Reader("k", 0); !errors.Is(err, ErrMiss) {
			t.Errorf("err %v, want ErrMiss", err)
		}
	})
}

// TestEvictsLeastRecentlyUsed: with room for two entries, a third evicts
// the one used longest ago, and the same order holds after a restart.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	packets := frames(40, 100) // ≈ 4.2 kB an entry
	dir := t.TempDir()
	cfg := Config{Dir: dir, MaxBytes: 9000, MaxEntryBytes: 9000}
	c := mustOpen(t, cfg)
	put(t, c, "a", packets)
	put(t, c, "b", packets)
	if _, err := get(t, c, "a", 0); err != nil { // a is now the most recent
		t.Fatal(err)
	}
	put(t, c, "c", packets)
	present := func(c *Cache) []string {
		var got []string
		for _, k := range []string{"a", "b", "c", "d"} {
			if el, ok := c.entries[hashKey(k)]; ok && el != nil {
				got = append(got, k)
			}
		}
		return got
	}
	if diff := cmp.Diff([]string{"a", "c"}, present(c)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	st := c.Stats()
	if st.Evictions != 1 || st.Bytes > cfg.MaxBytes || st.Entries != 2 {
		t.Errorf("stats %+v, want 1 eviction and at most %d bytes", st, cfg.MaxBytes)
	}
	if got := len(files(t, dir)); got != 2 {
		t.Errorf("%d files, want 2", got)
	}

	// A use is remembered across a restart: a, read after c was written,
	// stays, and c goes first.
	if _, err := get(t, c, "a", 0); err != nil {
		t.Fatal(err)
	}
	c = mustOpen(t, cfg)
	put(t, c, "d", packets)
	if diff := cmp.Diff([]string{"a", "d"}, present(c)); diff != "" {
		t.Errorf("after a restart, entries (-want +got):\n%s", diff)
	}

	// A smaller bound at start evicts down to it.
	c = mustOpen(t, Config{Dir: dir, MaxBytes: 5000})
	if diff := cmp.Diff([]string{"d"}, present(c)); diff != "" {
		t.Errorf("with a smaller bound, entries (-want +got):\n%s", diff)
	}
}

// TestDamagedEntryIsRejected: a file that does not match what was
// committed is never read; it is removed and counted as a miss.
func TestDamagedEntryIsRejected(t *testing.T) {
	packets := frames(30, 100)
	tests := []struct {
		name   string
		damage func(t *testing.T, dir, path string)
	}{
		{"truncated", func(t *testing.T, _, path string) {
			info, _ := os.Stat(path)
			if err := os.Truncate(path, info.Size()-50); err != nil {
				t.Fatal(err)
			}
		}},
		{"a flipped byte", func(t *testing.T, _, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-10] ^= 0x40
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"another key's file under this key's name", func(t *testing.T, dir, path string) {
			other := mustOpen(t, Config{Dir: t.TempDir(), MaxBytes: 1 << 20})
			put(t, other, "other", packets)
			src := filepath.Join(other.cfg.Dir, files(t, other.cfg.Dir)[0])
			b, _ := os.ReadFile(src)
			// Same hash prefix as the damaged entry, the other file's CRC.
			e, _ := parseName(filepath.Base(path))
			oe, _ := parseName(filepath.Base(src))
			e.crc = oe.crc
			_ = os.Remove(path)
			if err := os.WriteFile(filepath.Join(dir, e.name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20})
			put(t, c, "k", packets)
			tt.damage(t, dir, filepath.Join(dir, files(t, dir)[0]))
			c = mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20}) // a restart finds the file
			if _, err := c.Reader("k", 0); !errors.Is(err, ErrMiss) {
				t.Fatalf("err %v, want ErrMiss", err)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("left %v", got)
			}
			if st := c.Stats(); st.Misses != 1 || st.Hits != 0 || st.Bytes != 0 {
				t.Errorf("stats %+v, want one miss and nothing left", st)
			}
		})
	}
}

// TestReadersWhileWriting reads one entry from several goroutines while
// another is written and committed (run with -race).
func TestReadersWhileWriting(t *testing.T) {
	c := mustOpen(t, Config{Dir: t.TempDir(), MaxBytes: 1 << 20})
	packets := frames(100, 80)
	put(t, c, "played", packets)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				got, err := get(t, c, "played", 0)
				if err == nil && len(got) != len(packets) {
					err = fmt.Errorf("%d frames, want %d", len(got), len(packets))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		w, err := c.Writer("playing")
		if err == nil {
			for _, p := range packets {
				if err = w.WriteFrame(p); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = w.Commit()
		}
		if err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, err := get(t, c, "playing", 0); err != nil || len(got) != len(packets) {
		t.Errorf("the entry written meanwhile: %d frames, %v", len(got), err)
	}
}

// TestFileNamesAreHashes: a key never becomes part of a path.
func TestFileNamesAreHashes(t *testing.T) {
	dir := t.TempDir()
	c := mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20})
	keys := []string{"../../escape", "/etc/passwd", "https://example.com/a b?c=d#e", "\x00nul"}
	for _, k := range keys {
		put(t, c, k, frames(2, 10))
	}
	names := files(t, dir)
	if len(names) != len(keys) {
		t.Fatalf("files %v, want %d", names, len(keys))
	}
	name := regexp.MustCompile(`^[0-9a-f]{64}-[0-9a-f]{8}\.dca$`)
	for _, n := range names {
		if !name.MatchString(n) {
			t.Errorf("file name %q is not a hash and a CRC", n)
		}
	}
	for _, k := range keys {
		if _, err := get(t, c, k, 0); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
}

// TestEntriesAreDCA: jonas747/dca's own Decoder reads an entry frame by
// frame, so the files are the library's format.
func TestEntriesAreDCA(t *testing.T) {
	dir := t.TempDir()
	c := mustOpen(t, Config{Dir: dir, MaxBytes: 1 << 20})
	packets := frames(20, 64)
	put(t, c, "https://example.com/a.ogg", packets)
	f, err := os.Open(filepath.Join(dir, files(t, dir)[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := dca.NewDecoder(f)
	var got [][]byte
	for {
		b, err := dec.OpusFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	if diff := cmp.Diff(packets, got); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
	if dec.Metadata == nil || dec.Metadata.Origin.Url != "https://example.com/a.ogg" || dec.FrameDuration() != 20*time.Millisecond {
		t.Errorf("metadata %+v, frame duration %v", dec.Metadata, dec.FrameDuration())
	}
}
