package localstore

import (
	"context"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// SavePlaylist implements music.PlaylistStore.
func (s *Store) SavePlaylist(_ context.Context, p music.SavedPlaylist, overwrite bool) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.SavedAt = s.now().UTC()
	return s.update("saving a playlist", func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketPlaylists).CreateBucketIfNotExists([]byte(p.User))
		if err != nil {
			return err
		}
		if b.Get([]byte(p.Name)) != nil {
			if !overwrite {
				return music.PlaylistExists(p.Name)
			}
		} else if countKeys(b) >= music.MaxPlaylists {
			return music.TooManyPlaylists()
		}
		return putJSON(b, []byte(p.Name), p)
	})
}

// Playlist implements music.PlaylistStore.
func (s *Store) Playlist(_ context.Context, user music.UserID, name string) (music.SavedPlaylist, error) {
	if err := user.Validate(); err != nil {
		return music.SavedPlaylist{}, err
	}
	var p music.SavedPlaylist
	err := s.view("reading a playlist", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaylists).Bucket([]byte(user))
		if b == nil {
			return music.PlaylistNotFound(name)
		}
		found, err := getJSON(b, []byte(name), &p)
		if err == nil && !found {
			return music.PlaylistNotFound(name)
		}
		return err
	})
	return p, err
}

// Playlists implements music.PlaylistStore.
func (s *Store) Playlists(_ context.Context, user music.UserID) ([]music.PlaylistSummary, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	var list []music.PlaylistSummary
	err := s.view("listing playlists", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaylists).Bucket([]byte(user))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			var p music.SavedPlaylist
			if _, err := getJSON(b, k, &p); err != nil {
				return err
			}
			list = append(list, music.PlaylistSummary{Name: p.Name, Tracks: len(p.Tracks), SavedAt: p.SavedAt})
			return nil
		})
	})
	return list, err
}

// DeletePlaylist implements music.PlaylistStore.
func (s *Store) DeletePlaylist(_ context.Context, user music.UserID, name string) error {
	if err := user.Validate(); err != nil {
		return err
	}
	return s.update("deleting a playlist", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaylists).Bucket([]byte(user))
		if b == nil || b.Get([]byte(name)) == nil {
			return music.PlaylistNotFound(name)
		}
		return b.Delete([]byte(name))
	})
}

// DeletePlaylists implements music.PlaylistStore.
func (s *Store) DeletePlaylists(_ context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	deleted := 0
	err := s.update("deleting playlists", func(tx *bolt.Tx) error {
		all := tx.Bucket(bucketPlaylists)
		b := all.Bucket([]byte(user))
		if b == nil {
			return nil
		}
		deleted = countKeys(b)
		return all.DeleteBucket([]byte(user))
	})
	return deleted, err
}

// countKeys counts a bucket's keys: a user's playlists, at most 25.
func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
