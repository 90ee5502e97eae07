package music

import (
	"context"
	"time"
	"unicode/utf8"
)

// MaxCacheKeyLen bounds a track cache key (a URL or a search query).
const MaxCacheKeyLen = MaxURLLen

// ValidateCacheKey checks a track cache key before it reaches a store.
func ValidateCacheKey(key string) error {
	if key == "" || len(key) > MaxCacheKeyLen || !utf8.ValidString(key) {
		return Errorf(EINVALID, "That is not a valid track lookup (at most %d bytes of UTF-8).", MaxCacheKeyLen)
	}
	return nil
}

// TrackCache remembers what a lookup (a page URL, a search query) resolved
// to, until an expiry time: resolving is slow, and resolved stream URLs stop
// working after a while.
//
// An entry is expired from the instant now >= its expiry; stores check this
// themselves on every read, whatever their backend deletes lazily.
//
// Errors: EINVALID for a bad key or track, ENOTFOUND when nothing unexpired is
// cached, EUNAVAILABLE when the backend cannot be reached.
type TrackCache interface {
	CachedTrack(ctx context.Context, key string) (Track, error)
	// CacheTrack stores or replaces the track for key until expiresAt.
	CacheTrack(ctx context.Context, key string, t Track, expiresAt time.Time) error
}

// CacheMiss is the error of a TrackCache read that finds nothing unexpired.
func CacheMiss() *Error { return Errorf(ENOTFOUND, "That track is not cached.") }
