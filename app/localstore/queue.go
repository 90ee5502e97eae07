package localstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// orderGap spaces order keys so that moves rarely renumber: a full queue's
// keys stay far below 2^64.
const orderGap = 1 << 20

// guildQueue returns the guild's queue bucket; nil when it has never had one
// and create is false.
func guildQueue(tx *bolt.Tx, guild music.GuildID, create bool) (*bolt.Bucket, error) {
	queues := tx.Bucket(bucketQueues)
	if !create {
		return queues.Bucket([]byte(guild)), nil
	}
	return queues.CreateBucketIfNotExists([]byte(guild))
}

// pair is one queue position: its order key and the encoded entry.
type pair struct{ key, value []byte }

// entries returns the queue's positions in order; nil for a missing bucket.
func entries(b *bolt.Bucket) []pair {
	if b == nil {
		return nil
	}
	var out []pair
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		out = append(out, pair{key: k, value: v})
	}
	return out
}

// count returns the queue length without decoding anything.
func count(b *bolt.Bucket) int {
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

func orderKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func decodeEntry(p pair) (music.Entry, error) {
	var e music.Entry
	if err := json.Unmarshal(p.value, &e); err != nil {
		return music.Entry{}, fmt.Errorf("decoding entry at %x: %w", p.key, err)
	}
	return e, nil
}

// Enqueue implements music.QueueStore.
func (s *Store) Enqueue(_ context.Context, guild music.GuildID, tracks ...music.Track) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	if err := music.ValidateTracks(tracks); err != nil {
		return 0, err
	}
	now := s.now().UTC()
	var first int
	err := s.update("enqueueing", func(tx *bolt.Tx) error {
		b, err := guildQueue(tx, guild, true)
		if err != nil {
			return err
		}
		first = count(b)
		if err := music.CheckRoom(first, len(tracks)); err != nil {
			return err
		}
		var last uint64
		if k, _ := b.Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		for _, t := range tracks {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			last += orderGap
			e := music.Entry{ID: fmt.Sprintf("%016x", seq), Track: t, AddedAt: now}
			if err := putJSON(b, orderKey(last), e); err != nil {
				return err
			}
		}
		return nil
	})
	return first, err
}

// Page implements music.QueueStore.
func (s *Store) Page(_ context.Context, guild music.GuildID, offset, limit int) (music.QueuePage, error) {
	if err := guild.Validate(); err != nil {
		return music.QueuePage{}, err
	}
	page := music.QueuePage{Offset: offset}
	err := s.view("reading the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		page.Total = count(b)
		start, end, err := music.PageWindow(page.Total, offset, limit)
		if err != nil {
			return err
		}
		page.Entries = make([]music.Entry, 0, end-start)
		if start == end {
			return nil
		}
		c := b.Cursor()
		k, v := seek(c, start)
		for range end - start {
			e, err := decodeEntry(pair{key: k, value: v})
			if err != nil {
				return err
			}
			page.Entries = append(page.Entries, e)
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return music.QueuePage{}, err
	}
	return page, nil
}

// Peek implements music.QueueStore.
func (s *Store) Peek(_ context.Context, guild music.GuildID) (music.Entry, error) {
	if err := guild.Validate(); err != nil {
		return music.Entry{}, err
	}
	var e music.Entry
	err := s.view("reading the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		if err := music.CheckIndex(count(b), 0); err != nil {
			return err
		}
		k, v := b.Cursor().First()
		var err error
		e, err = decodeEntry(pair{key: k, value: v})
		return err
	})
	return e, err
}

// Pop implements music.QueueStore.
func (s *Store) Pop(ctx context.Context, guild music.GuildID) (music.Entry, error) {
	return s.RemoveAt(ctx, guild, 0)
}

// RemoveAt implements music.QueueStore.
func (s *Store) RemoveAt(_ context.Context, guild music.GuildID, index int) (music.Entry, error) {
	if err := guild.Validate(); err != nil {
		return music.Entry{}, err
	}
	var e music.Entry
	err := s.update("removing from the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		if err := music.CheckIndex(count(b), index); err != nil {
			return err
		}
		k, v := seek(b.Cursor(), index)
		var err error
		if e, err = decodeEntry(pair{key: k, value: v}); err != nil {
			return err
		}
		return b.Delete(k)
	})
	return e, err
}

// Move implements music.QueueStore.
func (s *Store) Move(_ context.Context, guild music.GuildID, from, to int) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	return s.update("moving in the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		n := count(b)
		if err := music.CheckIndex(n, from); err != nil {
			return err
		}
		if err := music.CheckIndex(n, to); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		// The new neighbours of the moved entry, by index before it moves.
		lo, hi := to-1, to
		if to > from {
			lo, hi = to, to+1
		}
		key, ok := keyBetween(keyAt(b, lo), keyAt(b, hi))
		c := b.Cursor()
		k, v := seek(c, from)
		// bbolt's slices are valid only until the transaction writes.
		k, v = slices.Clone(k), slices.Clone(v)
		if !ok {
			all := entries(b)
			rest := append(all[:from:from], all[from+1:]...)
			return renumber(b, slices.Insert(rest, to, pair{value: v}))
		}
		if err := b.Delete(k); err != nil {
			return err
		}
		return b.Put(key, v)
	})
}

// seek positions c at index i of the queue and returns that entry; nil
// past the end.
func seek(c *bolt.Cursor, i int) (k, v []byte) {
	k, v = c.First()
	for ; k != nil && i > 0; i-- {
		k, v = c.Next()
	}
	return k, v
}

// keyAt returns the order key at index i, nil when there is none.
func keyAt(b *bolt.Bucket, i int) []byte {
	if i < 0 {
		return nil
	}
	k, _ := seek(b.Cursor(), i)
	return k
}

// keyBetween returns an unused order key between lo and hi (nil: the
// start, the end), or false when they are adjacent numbers.
func keyBetween(lo, hi []byte) ([]byte, bool) {
	var l uint64
	if lo != nil {
		l = binary.BigEndian.Uint64(lo)
	}
	h := l + 2*orderGap
	if hi != nil {
		h = binary.BigEndian.Uint64(hi)
	}
	if h-l < 2 {
		return nil, false
	}
	return orderKey(l + (h-l)/2), true
}

// renumber rewrites the whole queue as values, evenly spaced. The values are
// copied first: deleting invalidates bbolt's slices.
func renumber(b *bolt.Bucket, ps []pair) error {
	values := make([][]byte, len(ps))
	for i, p := range ps {
		values[i] = append([]byte(nil), p.value...)
	}
	if err := deleteAll(b); err != nil {
		return err
	}
	for i, v := range values {
		if err := b.Put(orderKey(uint64(i+1)*orderGap), v); err != nil {
			return err
		}
	}
	return nil
}

// deleteAll empties the bucket but keeps it, and with it the sequence that
// numbers entries, so that an entry id is never reused.
func deleteAll(b *bolt.Bucket) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Shuffle implements music.QueueStore.
func (s *Store) Shuffle(_ context.Context, guild music.GuildID, seed int64) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	return s.update("shuffling the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		all := entries(b)
		if len(all) < 2 {
			return nil
		}
		shuffled := make([]pair, len(all))
		for i, from := range music.ShuffleOrder(len(all), seed) {
			shuffled[i] = all[from]
		}
		return renumber(b, shuffled)
	})
}

// Clear implements music.QueueStore.
func (s *Store) Clear(_ context.Context, guild music.GuildID) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	var n int
	err := s.update("clearing the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		if n = count(b); n == 0 {
			return nil
		}
		return deleteAll(b)
	})
	return n, err
}

// Len implements music.QueueStore.
func (s *Store) Len(_ context.Context, guild music.GuildID) (int, error) {
	if err := guild.Validate(); err != nil {
		return 0, err
	}
	var n int
	err := s.view("reading the queue", func(tx *bolt.Tx) error {
		b, _ := guildQueue(tx, guild, false)
		n = count(b)
		return nil
	})
	return n, err
}

// ForgetRequester clears RequestedBy of every entry user queued, in every
// guild's queue, in one transaction, and returns how many entries it
// changed; keys, ids and order stay. Autoplay's entries are no user's.
func (s *Store) ForgetRequester(_ context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	changed := 0
	err := s.update("forgetting a requester", func(tx *bolt.Tx) error {
		queues := tx.Bucket(bucketQueues)
		var guilds [][]byte
		err := queues.ForEachBucket(func(k []byte) error {
			guilds = append(guilds, slices.Clone(k))
			return nil
		})
		if err != nil {
			return err
		}
		for _, g := range guilds {
			n, err := forgetRequester(queues.Bucket(g), user)
			if err != nil {
				return err
			}
			changed += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// forgetRequester clears RequestedBy of user's entries in one guild's
// queue. The entries are rewritten after the walk: bbolt's slices do not
// survive a write.
func forgetRequester(b *bolt.Bucket, user music.UserID) (int, error) {
	type rewrite struct {
		key   []byte
		entry music.Entry
	}
	var mine []rewrite
	for _, p := range entries(b) {
		e, err := decodeEntry(p)
		if err != nil {
			return 0, err
		}
		if e.Track.RequestedBy == user {
			e.Track.RequestedBy = ""
			mine = append(mine, rewrite{key: slices.Clone(p.key), entry: e})
		}
	}
	for _, r := range mine {
		if err := putJSON(b, r.key, r.entry); err != nil {
			return 0, err
		}
	}
	return len(mine), nil
}
