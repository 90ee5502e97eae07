package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// countedAudio opens every track as the frames from at to its Duration.
// closing, when set, holds the Close of the frames of the track with that
// URL until it is closed: audio whose teardown takes a while (an ffmpeg
// that has yet to exit).
type countedAudio struct {
	fail    error
	opens   chan string // "url@frame" of each open, when not nil
	holdURL string
	closing chan struct{}
}

func (a countedAudio) Open(_ context.Context, t music.Track, at time.Duration, _ player.Effects) (player.Frames, error) {
	if a.opens != nil {
		a.opens <- fmt.Sprintf("%s@%d", t.URL, at/player.FrameDuration)
	}
	if a.fail != nil {
		return nil, a.fail
	}
	f := &countedFrames{left: int((t.Duration - at) / player.FrameDuration), length: t.Duration}
	if t.URL == a.holdURL {
		f.closing = a.closing
	}
	return f, nil
}

type countedFrames struct {
	left    int
	length  time.Duration
	closing chan struct{}
}

func (f *countedFrames) ReadFrame() ([]byte, error) {
	if f.left == 0 {
		return nil, io.EOF
	}
	f.left--
	return []byte{0xf8, 0xff, 0xfe}, nil
}

func (f *countedFrames) Duration() time.Duration { return f.length }

func (f *countedFrames) Close() error {
	if f.closing != nil {
		<-f.closing
	}
	return nil
}

// TestSlottedOpener: each open holds one of its guild's slots until its
// frames close, a failed open holds none, and an open that finds no free
// slot in time says so. The wait is zero: a full guild refuses at once.
func TestSlottedOpener(t *testing.T) {
	track := music.Track{URL: "https://example.com/a.ogg", Duration: time.Second}
	const full = "This server is already loading 2 tracks; try again in a moment."
	open := func(o slottedOpener) (player.Frames, error) {
		return o.Open(context.Background(), track, 0, player.Effects{Volume: 100})
	}
	newOpener := func(slots FetchSlots, guild music.GuildID, audio player.Opener) slottedOpener {
		return slottedOpener{opener: audio, slots: slots, guild: guild}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, slots FetchSlots)
	}{
		{"closing frames frees the slot", func(t *testing.T, slots FetchSlots) {
			o := newOpener(slots, "g1", countedAudio{})
			first, err1 := open(o)
			_, err2 := open(o)
			if err1 != nil || err2 != nil {
				t.Fatalf("the first two opens: %v, %v", err1, err2)
			}
			_, err := open(o)
			if music.ErrorCode(err) != music.ECONFLICT || music.ErrorMessage(err) != full || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("third open of a full guild: %v, want %q after its deadline", err, full)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := open(o); err != nil {
				t.Errorf("open after a Close: %v", err)
			}
		}},
		{"a failed open frees its slot", func(t *testing.T, slots FetchSlots) {
			broken := errors.New("no such file")
			for range 3 {
				if _, err := open(newOpener(slots, "g1", countedAudio{fail: broken})); !errors.Is(err, broken) {
					t.Fatalf("open = %v, want the opener's error", err)
				}
			}
			o := newOpener(slots, "g1", countedAudio{})
			for range 2 {
				if _, err := open(o); err != nil {
					t.Fatalf("open after failed ones: %v", err)
				}
			}
		}},
		{"other guilds are not held up", func(t *testing.T, slots FetchSlots) {
			g1 := newOpener(slots, "g1", countedAudio{})
			for range 2 {
				if _, err := open(g1); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := open(newOpener(slots, "g2", countedAudio{})); err != nil {
				t.Errorf("another guild's open: %v", err)
			}
		}},
		{"the frames' length is passed on", func(t *testing.T, slots FetchSlots) {
			f, err := open(newOpener(slots, "g1", countedAudio{}))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := f.(player.Measured)
			if !ok || m.Duration() != time.Second {
				t.Errorf("frames measure %v (Measured %v), want 1s", f, ok)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, fetch.NewLimiter(fetch.Limits{MaxConcurrentFetchesPerGuild: 2}))
		})
	}
}

// TestSeekWhileNextIsPrepared: at the default bound, a seek succeeds while
// the track plays, a first seek has prepared the next track, and that next
// track's audio, superseded, has yet to close: three loads at once.
func TestSeekWhileNextIsPrepared(t *testing.T) {
	store, err := localstore.Open(filepath.Join(t.TempDir(), "timmybot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	a := music.Track{Title: "A", URL: "https://example.com/a.ogg", Duration: 2 * time.Second}
	b := music.Track{Title: "B", URL: "https://example.com/b.ogg", Duration: 2 * time.Second}
	if _, err := store.Enqueue(ctx, testGuild, a, b); err != nil {
		t.Fatal(err)
	}
	audio := countedAudio{opens: make(chan string, 10), holdURL: b.URL, closing: make(chan struct{})}
	errs := make(chan string, 10)
	p := player.New(player.Config{
		Guild:  testGuild,
		Queue:  store,
		Opener: guildOpener(PlaybackConfig{Opener: audio, FetchSlots: fetch.NewLimiter(fetch.DefaultLimits())}, testGuild),
		Buffer: 10, // the playing track holds its audio open
		OnEvent: func(ev player.Event) {
			if ev.Kind == player.EventError {
				errs <- ev.Message
			}
		},
	})
	t.Cleanup(func() { close(audio.closing); _ = p.Close() })

	expect := func(want string) {
		t.Helper()
		select {
		case got := <-audio.opens:
			if got != want {
				t.Fatalf("opened %s, want %s", got, want)
			}
		case msg := <-errs:
			t.Fatalf("waiting for %s to open: %s", want, msg)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not open", want)
		}
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	expect(a.URL + "@0")
	// Near the end: this replacement is read to its end at once, so B is
	// prepared to follow it while A still plays.
	if err := p.Seek(ctx, 1900*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	expect(a.URL + "@95")
	expect(b.URL + "@0")
	if err := p.Seek(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	expect(a.URL + "@50")
}
