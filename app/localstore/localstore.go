// Package localstore implements the music ports (queues, allowlist, user
// preferences, saved playlists, track cache) in one bbolt file, for running the bot on one
// machine without AWS. It owns that file's layout; it does not decide where
// the file lives (the binary's configuration does).
//
// It has the same semantics as the DynamoDB store, proven by the shared
// conformance suite: bbolt serialises writers, so each operation is one
// read-write transaction and no update can be lost. The file is locked
// while open, so one process serves it.
//
// # Layout
//
//	queues/<guild>/<order key>   one entry (JSON); the bucket's sequence
//	                             numbers entry ids
//	allowlist/<guild>            approval or pending request (JSON)
//	preferences/<user>           preferences (JSON)
//	playlists/<user>/<name>      one saved playlist with its tracks (JSON)
//	track-cache/<lookup>         track and expiry (JSON)
//
// Order keys are 8-byte big-endian numbers spaced orderGap apart, so that
// moving an entry takes a key between its new neighbours; when none is left
// the guild's keys are renumbered. Operations by index walk the guild's
// keys in order: at most 10,000 small keys in a memory-mapped file, which is
// cheaper than keeping an index up to date.
package localstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// Bucket names.
var (
	bucketQueues      = []byte("queues")
	bucketAllowlist   = []byte("allowlist")
	bucketPreferences = []byte("preferences")
	bucketTrackCache  = []byte("track-cache")
	bucketPlaylists   = []byte("playlists")
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

// Interface guards.
var (
	_ music.QueueStore      = (*Store)(nil)
	_ music.AllowlistStore  = (*Store)(nil)
	_ music.PreferenceStore = (*Store)(nil)
	_ music.PlaylistStore   = (*Store)(nil)
	_ music.TrackCache      = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps entries and expires cached tracks.
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// lockTimeout bounds the wait for another process's lock on the file.
const lockTimeout = 2 * time.Second

// Open opens (creating if needed) the store in the file at path.
func Open(path string, opts ...Option) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("opening the store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketQueues, bucketAllowlist, bucketPreferences, bucketTrackCache, bucketPlaylists} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("creating buckets in %s: %w", path, err), db.Close())
	}
	s := &Store{db: db, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	return nil
}

// view and update run fn in a read-only or read-write transaction, keeping a
// domain error as it is and marking any other failure as the store's.
func (s *Store) view(what string, fn func(tx *bolt.Tx) error) error {
	return wrap(what, s.db.View(fn))
}

func (s *Store) update(what string, fn func(tx *bolt.Tx) error) error {
	return wrap(what, s.db.Update(fn))
}

func wrap(what string, err error) error {
	var domain *music.Error
	if err == nil || errors.As(err, &domain) {
		return err
	}
	return fmt.Errorf("localstore: %s: %w", what, err)
}

// getJSON decodes the value at key into v and reports whether it was there.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decoding %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %q: %w", key, err)
	}
	return b.Put(key, raw)
}
