package localstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// TestCachedTrackReadsItemsStoredBeforeArtwork reads an entry in the JSON
// that stores wrote before tracks had artwork.
func TestCachedTrackReadsItemsStoredBeforeArtwork(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "timmybot.db"), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	const key = "https://video.example/watch?v=old"
	old := `{"Track":{"Title":"Old","URL":"https://audio.example/old.opus","Duration":180000000000,"Source":"http","RequestedBy":"200000000000000001"},"ExpiresAt":"2026-01-02T04:04:05Z"}`
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketTrackCache).Put([]byte(key), []byte(old)) })
	if err != nil {
		t.Fatalf("writing the old entry: %v", err)
	}
	got, err := s.CachedTrack(context.Background(), key)
	if err != nil {
		t.Fatalf("CachedTrack: %v", err)
	}
	want := music.Track{Title: "Old", URL: "https://audio.example/old.opus", Duration: 3 * time.Minute, Source: "http", RequestedBy: "200000000000000001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("old entry (-want +got):\n%s", diff)
	}
}
