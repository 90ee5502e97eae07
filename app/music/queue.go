package music

import (
	"context"
	"time"
)

// Entry is one track in a guild's queue. ID identifies the entry (not the
// track: the same track can be queued twice) and is assigned by the store.
type Entry struct {
	ID      string
	Track   Track
	AddedAt time.Time
}

// QueuePage is a window of a queue. Offset is the index of Entries[0];
// Total is the queue length when the page was read.
type QueuePage struct {
	Entries []Entry
	Offset  int
	Total   int
}

// QueueStore keeps one ordered queue per guild. Index 0 is the head (the
// next track to play). Implementations are safe for concurrent use, also by
// several processes sharing a backend: no update is lost or duplicated.
//
// Errors: EINVALID for bad arguments (bad guild ID, invalid track, index out
// of range), ENOTFOUND when the queue is empty where an entry is needed,
// EUNAVAILABLE when the backend cannot be reached.
type QueueStore interface {
	// Enqueue appends tracks in order and returns the index of the first.
	Enqueue(ctx context.Context, guild GuildID, tracks ...Track) (int, error)
	// Page returns up to limit entries starting at offset.
	Page(ctx context.Context, guild GuildID, offset, limit int) (QueuePage, error)
	// Peek returns the head without removing it.
	Peek(ctx context.Context, guild GuildID) (Entry, error)
	// Pop removes and returns the head (skip).
	Pop(ctx context.Context, guild GuildID) (Entry, error)
	// RemoveAt removes and returns the entry at index.
	RemoveAt(ctx context.Context, guild GuildID, index int) (Entry, error)
	// Move moves the entry at from to index to, shifting the ones between.
	Move(ctx context.Context, guild GuildID, from, to int) error
	// Shuffle reorders the queue randomly, deterministically for one seed.
	Shuffle(ctx context.Context, guild GuildID, seed int64) error
	// Clear empties the queue and returns how many entries it removed.
	Clear(ctx context.Context, guild GuildID) (int, error)
	// Len returns the number of entries.
	Len(ctx context.Context, guild GuildID) (int, error)
}
