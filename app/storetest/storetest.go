// Package storetest is the conformance suite of the music store ports: one
// set of behaviour tests that every backend (embedded, DynamoDB) runs, so
// that they agree on ordering, bounds, errors, expiry and concurrency. It
// owns the expected semantics, not any backend.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Stores are the ports one backend implements, usually one value six times.
type Stores struct {
	Queue       music.QueueStore
	Allowlist   music.AllowlistStore
	Preferences music.PreferenceStore
	Playlists   music.PlaylistStore
	Cache       music.TrackCache
	// Requesters is the queues seen across guilds, as /forget-me uses
	// them (app/discord declares the same port where it consumes it).
	Requesters interface {
		ForgetRequester(ctx context.Context, user music.UserID) (int, error)
	}
}

// Open prepares fresh, empty data whose stores read the time from now, and
// returns a function that opens a client of that data. Each call of the
// function returns an independent client, as two bot tasks would hold; a
// backend that serves one process only may return the same stores each time.
type Open func(t *testing.T, now func() time.Time) (client func() Stores)

// Run runs the whole suite.
func Run(t *testing.T, open Open) {
	t.Run("Queue", func(t *testing.T) { testQueue(t, open) })
	t.Run("QueueErrors", func(t *testing.T) { testQueueErrors(t, open) })
	t.Run("QueueMax", func(t *testing.T) { testQueueMax(t, open) })
	t.Run("QueueConcurrency", func(t *testing.T) { testQueueConcurrency(t, open) })
	t.Run("Allowlist", func(t *testing.T) { testAllowlist(t, open) })
	t.Run("AccessRequests", func(t *testing.T) { testAccessRequests(t, open) })
	t.Run("Declines", func(t *testing.T) { testDeclines(t, open) })
	t.Run("AccessRequestConcurrency", func(t *testing.T) { testAccessRequestConcurrency(t, open) })
	t.Run("Preferences", func(t *testing.T) { testPreferences(t, open) })
	t.Run("Playlists", func(t *testing.T) { testPlaylists(t, open) })
	t.Run("PlaylistLimit", func(t *testing.T) { testPlaylistLimit(t, open) })
	t.Run("ForgetUser", func(t *testing.T) { testForgetUser(t, open) })
	t.Run("ForgetAsker", func(t *testing.T) { testForgetAsker(t, open) })
	t.Run("ForgetRequester", func(t *testing.T) { testForgetRequester(t, open) })
	t.Run("TrackCache", func(t *testing.T) { testTrackCache(t, open) })
}

// Clock is a fake clock that tests advance by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
}

// NewClockNow returns a clock stopped at the present second: for items
// with a time-to-live, which a server's reaper deletes when their expiry
// is past by its own clock.
func NewClockNow() *Clock {
	return &Clock{now: time.Now().UTC().Truncate(time.Second)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Guild IDs the tests use; each test opens fresh data, so they can repeat.
const (
	guildA music.GuildID = "100000000000000001"
	guildB music.GuildID = "100000000000000002"
	userA  music.UserID  = "200000000000000001"
	userB  music.UserID  = "200000000000000002"
)

// track returns a distinct, valid track named by i.
func track(name string) music.Track {
	return music.Track{
		Title:       "Track " + name,
		URL:         "https://audio.example/" + name + ".opus",
		Duration:    3 * time.Minute,
		Source:      "http",
		RequestedBy: userA,
		ArtworkURL:  "https://img.example/" + name + ".jpg",
	}
}

// tracks returns n distinct tracks named prefix0, prefix1, ...
func tracks(prefix string, n int) []music.Track {
	out := make([]music.Track, n)
	for i := range out {
		out[i] = track(fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// ctx returns a context with a deadline generous enough for a slow CI host.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// wantCode fails the test unless err carries the domain error code want.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := music.ErrorCode(err); got != want {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

// must fails the test now on an unexpected error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
