package localstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

const guild music.GuildID = "100000000000000001"

// mustOpen opens a store in a fresh file and closes it when the test ends.
func mustOpen(tb testing.TB, path string, now func() time.Time) *localstore.Store {
	tb.Helper()
	s, err := localstore.Open(path, localstore.WithClock(now))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) func() storetest.Stores {
		// One file serves one process: both "clients" share the store.
		s := mustOpen(t, filepath.Join(t.TempDir(), "timmybot.db"), now)
		return func() storetest.Stores {
			return storetest.Stores{Queue: s, Allowlist: s, Preferences: s, Playlists: s, Cache: s, Requesters: s}
		}
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timmybot.db")
	s, err := localstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, guild, music.Track{Title: "kept", URL: "https://audio.example/kept"}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if _, err := localstore.Open(path); err == nil {
		t.Fatal("a second Open of a file in use succeeded")
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping of an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping of a closed store succeeded")
	}
	s = mustOpen(t, path, time.Now)
	e, err := s.Peek(ctx, guild)
	if err != nil || e.Track.Title != "kept" {
		t.Errorf("Peek after reopening = %+v, %v; want the kept track", e, err)
	}
}

// TestMoveRenumbers moves back and forth between the same neighbours until
// no order key is left between them, which forces a renumbering.
func TestMoveRenumbers(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "timmybot.db"), time.Now)
	ctx := context.Background()
	model := []string{"a", "b", "c"}
	for _, title := range model {
		if _, err := s.Enqueue(ctx, guild, music.Track{Title: title, URL: "https://audio.example/" + title}); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	for range 3 * 20 { // 20 halvings exhaust a gap of 2^20
		if err := s.Move(ctx, guild, 2, 1); err != nil {
			t.Fatalf("Move: %v", err)
		}
		model[1], model[2] = model[2], model[1]
	}
	page, err := s.Page(ctx, guild, 0, 10)
	if err != nil {
		t.Fatalf("Page: %v", err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Track.Title)
	}
	if diff := cmp.Diff(model, got); diff != "" {
		t.Errorf("order after many moves (-want +got):\n%s", diff)
	}
}

func TestPing(t *testing.T) {
	s, err := localstore.Open(filepath.Join(t.TempDir(), "ping.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping on an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("ping on a closed store succeeded")
	}
}

// BenchmarkQueue measures the queue operations at 10, 1,000 and 10,000
// entries (see storetest.BenchQueue).
func BenchmarkQueue(b *testing.B) {
	storetest.BenchQueue(b, mustOpen(b, filepath.Join(b.TempDir(), "timmybot.db"), time.Now), nil)
}
