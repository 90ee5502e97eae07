package localstore

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Ping reports whether the store can still be read, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.view("ping", func(tx *bolt.Tx) error {
		if tx.Bucket(bucketQueues) == nil {
			return errors.New("queues bucket missing")
		}
		return nil
	})
}
