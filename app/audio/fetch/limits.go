package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Limits bound what one user request may cost. A zero field takes its
// default; Validate refuses negative ones.
//
// The byte limit and the duration limit work together: MaxBytes caps every
// response whose length the server states (refused before the first byte
// when the stated size is too large). A response of unknown length — a live
// radio stream — is capped by MaxBytes as well, unless LiveStreams is set;
// then it is read without a byte cap and MaxTrackDuration, which the player
// enforces on decoded audio, is what ends it. (A track whose duration is
// known beforehand is refused at /play already, with music.CheckDuration.)
type Limits struct {
	MaxTrackDuration time.Duration // Default: 2h
	MaxBytes         int64         // Default: 200 MB
	// LiveStreams exempts responses of unknown length from MaxBytes.
	// Default: false (every response is capped by MaxBytes).
	LiveStreams bool
	// MaxConcurrentFetchesPerGuild bounds one guild's tracks loading at
	// once. Default: 3, a playing track, the next one prepared and a
	// seek's replacement, so that a seek never waits for a track to end.
	MaxConcurrentFetchesPerGuild int
}

// DefaultLimits returns the limits a deployment gets without configuration.
func DefaultLimits() Limits {
	return Limits{
		MaxTrackDuration:             2 * time.Hour,
		MaxBytes:                     200 << 20,
		MaxConcurrentFetchesPerGuild: 3,
	}
}

// Validate refuses limits that cannot be meant, naming the field so an
// operator can fix the configuration.
func (l Limits) Validate() error {
	switch {
	case l.MaxTrackDuration < 0:
		return fmt.Errorf("fetch limits: MaxTrackDuration %v is negative", l.MaxTrackDuration)
	case l.MaxBytes < 0:
		return fmt.Errorf("fetch limits: MaxBytes %d is negative", l.MaxBytes)
	case l.MaxConcurrentFetchesPerGuild < 0:
		return fmt.Errorf("fetch limits: MaxConcurrentFetchesPerGuild %d is negative", l.MaxConcurrentFetchesPerGuild)
	}
	return nil
}

// withDefaults replaces zero (and invalid negative) fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTrackDuration <= 0 {
		l.MaxTrackDuration = d.MaxTrackDuration
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxConcurrentFetchesPerGuild <= 0 {
		l.MaxConcurrentFetchesPerGuild = d.MaxConcurrentFetchesPerGuild
	}
	return l
}

// tooLarge is the refusal for a body over MaxBytes.
func (l Limits) tooLarge() error {
	return music.Errorf(music.EINVALID, "That file is larger than the %s limit.", formatBytes(l.MaxBytes))
}

func formatBytes(n int64) string {
	const mb = 1 << 20
	switch {
	case n >= mb && n%mb == 0:
		return fmt.Sprintf("%d MB", n/mb)
	case n >= mb:
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	}
	return fmt.Sprintf("%d-byte", n)
}

// Limiter bounds how many fetches each guild runs at once. Acquire waits
// for a free slot for as long as its context allows, so a short burst (a
// track and its preload) queues instead of failing; when the context ends
// first, the caller gets a clear ECONFLICT error that a retry may clear.
type Limiter struct {
	max    int
	mu     sync.Mutex
	guilds map[music.GuildID]*guildSlots
}

type guildSlots struct {
	sem   chan struct{}
	users int // holders and waiters; the entry is dropped at zero
}

// NewLimiter returns a Limiter with l's MaxConcurrentFetchesPerGuild.
func NewLimiter(l Limits) *Limiter {
	return &Limiter{max: l.withDefaults().MaxConcurrentFetchesPerGuild, guilds: map[music.GuildID]*guildSlots{}}
}

// Acquire takes one of guild's fetch slots; call release once when done.
func (l *Limiter) Acquire(ctx context.Context, guild music.GuildID) (release func(), err error) {
	l.mu.Lock()
	s := l.guilds[guild]
	if s == nil {
		s = &guildSlots{sem: make(chan struct{}, l.max)}
		l.guilds[guild] = s
	}
	s.users++
	l.mu.Unlock()

	release = sync.OnceFunc(func() { <-s.sem; l.leave(guild, s) })
	select {
	case s.sem <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case s.sem <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		l.leave(guild, s)
		return nil, fmt.Errorf("%w: %w", music.Errorf(music.ECONFLICT,
			"This server is already loading %d tracks; try again in a moment.", l.max), ctx.Err())
	}
}

func (l *Limiter) leave(guild music.GuildID, s *guildSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(l.guilds, guild)
	}
}
