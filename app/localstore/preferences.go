package localstore

import (
	"context"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// Preferences implements music.PreferenceStore.
func (s *Store) Preferences(_ context.Context, user music.UserID) (music.Preferences, error) {
	if err := user.Validate(); err != nil {
		return music.Preferences{}, err
	}
	p := music.Preferences{User: user}
	err := s.view("reading preferences", func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketPreferences), []byte(user), &p)
		return err
	})
	return p, err
}

// SetPreferences implements music.PreferenceStore.
func (s *Store) SetPreferences(_ context.Context, p music.Preferences) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = s.now().UTC()
	return s.update("saving preferences", func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketPreferences), []byte(p.User), p)
	})
}

// DeletePreferences implements music.PreferenceStore.
func (s *Store) DeletePreferences(_ context.Context, user music.UserID) (bool, error) {
	if err := user.Validate(); err != nil {
		return false, err
	}
	existed := false
	err := s.update("deleting preferences", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPreferences)
		existed = b.Get([]byte(user)) != nil
		return b.Delete([]byte(user))
	})
	return existed, err
}
