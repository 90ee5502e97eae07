package localstore

import (
	"context"
	"time"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

type cachedTrack struct {
	Track     music.Track
	ExpiresAt time.Time
}

// CachedTrack implements music.TrackCache.
func (s *Store) CachedTrack(_ context.Context, key string) (music.Track, error) {
	if err := music.ValidateCacheKey(key); err != nil {
		return music.Track{}, err
	}
	var c cachedTrack
	var found bool
	err := s.view("reading the track cache", func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketTrackCache), []byte(key), &c)
		return err
	})
	if err != nil {
		return music.Track{}, err
	}
	if !found || !s.now().Before(c.ExpiresAt) {
		return music.Track{}, music.CacheMiss()
	}
	return c.Track, nil
}

// CacheTrack implements music.TrackCache. Entries that expired are
// overwritten when their key is cached again; the cache holds one entry per
// lookup, so it grows only with the number of distinct lookups.
func (s *Store) CacheTrack(_ context.Context, key string, t music.Track, expiresAt time.Time) error {
	if err := music.ValidateCacheKey(key); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	return s.update("caching a track", func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTrackCache), []byte(key), cachedTrack{Track: t, ExpiresAt: expiresAt.UTC()})
	})
}
