package player

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

func newAutoplayHarness(t *testing.T, tracks ...music.Track) *harness {
	t.Helper()
	h := newHarnessWith(t, newFakeRelated(), tracks...)
	h.must(h.p.SetAutoplay(true))
	return h
}

// nextCall waits for the player's next request for related tracks.
func (h *harness) nextCall() *relatedCall {
	h.t.Helper()
	select {
	case c := <-h.rel.calls:
		return c
	case <-time.After(10 * time.Second):
		h.t.Fatal("the player asked for no related tracks")
		return nil
	}
}

// wantNoRequest checks that no request for related tracks is in flight.
func (h *harness) wantNoRequest() {
	h.t.Helper()
	h.settle()
	var inFlight bool
	h.must(h.p.do(ctx, func(context.Context) error {
		inFlight = h.p.related != nil
		return nil
	}))
	if inFlight {
		h.t.Error("a request for related tracks is in flight")
	}
}

func wantSeed(t *testing.T, c *relatedCall, title string) {
	t.Helper()
	if c.seed.Title != title {
		t.Errorf("related tracks asked for %q, want %q", c.seed.Title, title)
	}
}

func TestAutoplayQueuesARelatedTrack(t *testing.T) {
	h := newAutoplayHarness(t, track("a", 3))
	release := h.op.stall("a", 2)
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	// Asked as soon as the last queued track starts, answered before it
	// ends: the related track follows without a gap.
	c := h.nextCall()
	wantSeed(t, c, "a")
	c.reply([]music.Track{track("a", 3), track("x", 2)}, nil)
	h.settle()
	h.wantQueue("a") // held until the queue runs out
	release()
	h.wantFrames(4, "a#1", "a#2", "x#0", "x#1")
	h.wantEvents("started a", "ended a", "started x")
	h.wantQueue("x")
	if by := h.p.Status().Entry.Track.RequestedBy; by != music.Autoplay {
		t.Errorf("x requested by %q, want autoplay", by)
	}
	wantSeed(t, h.nextCall(), "x") // and so on
}

func TestAutoplayAnswerAfterTheQueueRanOut(t *testing.T) {
	h := newAutoplayHarness(t, track("a", 2))
	h.must(h.p.Start(ctx))
	c := h.nextCall()
	h.wantFrames(4, "a#0", "a#1", "", "")
	h.wantEvents("started a", "ended a", "idle ")
	c.reply([]music.Track{track("x", 2)}, nil)
	h.wantFrames(2, "x#0", "x#1")
	h.wantEvents("started x")
}

func TestAutoplaySkipsPlayedTracks(t *testing.T) {
	h := newAutoplayHarness(t, track("a", 1), track("b", 2), track("c", 1))
	h.must(h.p.Start(ctx))
	h.wantFrames(4, "a#0", "b#0", "b#1", "c#0")
	c := h.nextCall()
	wantSeed(t, c, "c")
	for _, tt := range []struct {
		title string
		want  bool
	}{{"a", true}, {"b", true}, {"c", true}, {"y", false}} {
		if got := c.played(track(tt.title, 1)); got != tt.want {
			t.Errorf("played(%s) = %v, want %v", tt.title, got, tt.want)
		}
	}
	// The player checks again: an answer may list played tracks.
	c.reply([]music.Track{track("b", 2), track("c", 1), track("a", 1), track("y", 2)}, nil)
	h.wantFrames(2, "y#0", "y#1")
	h.wantQueue("y")
}

func TestAutoplayNothingNew(t *testing.T) {
	tests := []struct {
		name   string
		tracks []music.Track
		err    error
	}{
		{"a failure", nil, errors.New("related: the site refused")},
		{"no tracks", nil, nil},
		{"only played tracks", []music.Track{track("a", 2)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAutoplayHarness(t, track("a", 2))
			h.must(h.p.Start(ctx))
			h.nextCall().reply(tt.tracks, tt.err)
			h.wantFrames(4, "a#0", "a#1", "", "")
			// Nothing said in the channel: idle as without autoplay.
			h.wantEvents("started a", "ended a", "idle ")
			h.wantNoRequest() // and the same seed is not asked again
			h.clk.Advance(DefaultIdleTimeout)
			waitFor(t, "the idle timeout", func() bool { return len(h.events) > 0 })
			if e := <-h.events; e.Kind != EventIdleTimeout {
				t.Errorf("event %v, want idle timeout", e.Kind)
			}
		})
	}
}

func TestAutoplayCancelled(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(h *harness) error
	}{
		{"stop", func(h *harness) error { return h.p.Stop(ctx) }},
		{"skip", func(h *harness) error { return h.p.Skip(ctx, 0) }},
		{"autoplay off", func(h *harness) error { return h.p.SetAutoplay(false) }},
		{"close", func(h *harness) error { return h.p.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAutoplayHarness(t, track("a", 100))
			h.must(h.p.Start(ctx))
			h.wantFrames(1, "a#0")
			c := h.nextCall()
			h.must(tt.cancel(h))
			waitFor(t, "the request to be cancelled", func() bool { return c.ctx.Err() != nil })
		})
	}
}

func TestAutoplaySkipAsksAgain(t *testing.T) {
	// A skip of the last track cancels the request and asks again: the
	// queue has run out.
	h := newAutoplayHarness(t, track("a", 100))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	first := h.nextCall()
	h.must(h.p.Skip(ctx, 0))
	again := h.nextCall()
	if first.ctx.Err() == nil {
		t.Error("the first request was not cancelled")
	}
	wantSeed(t, again, "a")
	again.reply([]music.Track{track("x", 2)}, nil)
	h.wantFrames(2, "x#0", "x#1")
}

func TestStopEndsTheSession(t *testing.T) {
	h := newAutoplayHarness(t, track("a", 2))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	c := h.nextCall()
	if !c.played(track("a", 2)) {
		t.Error("a is not played in its session")
	}
	h.must(h.p.Stop(ctx))
	h.enqueue(track("b", 2))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "b#0")
	c = h.nextCall()
	wantSeed(t, c, "b")
	if c.played(track("a", 2)) {
		t.Error("a counts as played after Stop")
	}
	c.reply([]music.Track{track("a", 2)}, nil)
	h.wantFrames(3, "b#1", "a#0", "a#1")
}

func TestLoopModesBeforeAutoplay(t *testing.T) {
	for _, loop := range []LoopMode{LoopTrack, LoopQueue} {
		t.Run(loop.String(), func(t *testing.T) {
			h := newAutoplayHarness(t, track("a", 2))
			h.must(h.p.SetLoop(loop))
			h.must(h.p.Start(ctx))
			h.wantFrames(5, "a#0", "a#1", "a#0", "a#1", "a#0")
			h.wantNoRequest()
			h.must(h.p.SetLoop(LoopOff))
			wantSeed(t, h.nextCall(), "a") // loop off: the queue runs out
		})
	}
}

func TestAutoplayOff(t *testing.T) {
	h := newHarnessWith(t, newFakeRelated(), track("a", 2))
	h.must(h.p.Start(ctx))
	h.wantFrames(4, "a#0", "a#1", "", "")
	h.wantEvents("started a", "ended a", "idle ")
	h.wantNoRequest()
	if h.p.Status().Autoplay {
		t.Error("autoplay on by default")
	}
	// Turned on once the queue has run out, it plays on.
	h.must(h.p.SetAutoplay(true))
	if !h.p.Status().Autoplay {
		t.Error("status says autoplay is off")
	}
	c := h.nextCall()
	wantSeed(t, c, "a")
	c.reply([]music.Track{track("x", 1)}, nil)
	h.wantFrames(1, "x#0")
}

func TestAutoplayTurnedOnDuringTheLastTrack(t *testing.T) {
	h := newHarnessWith(t, newFakeRelated(), track("a", 1000))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.must(h.p.SetAutoplay(true))
	wantSeed(t, h.nextCall(), "a")
}

func TestAutoplayUnavailable(t *testing.T) {
	h := newHarness(t)
	wantCode(t, h.p.SetAutoplay(true), music.EUNAVAILABLE)
	h.must(h.p.SetAutoplay(false))
}

func TestPlayedSetIsBounded(t *testing.T) {
	s := newPlayedSet(2)
	for _, title := range []string{"a", "b", "a", "c"} {
		s.add(track(title, 1))
	}
	var got []string
	for _, title := range []string{"a", "b", "c"} {
		if s.contains(track(title, 1)) {
			got = append(got, title)
		}
	}
	if diff := cmp.Diff([]string{"b", "c"}, got); diff != "" {
		t.Errorf("remembered (-want +got):\n%s", diff)
	}
}

func TestAutoplayNeverRequeuesTheSeed(t *testing.T) {
	// The answer comes before the seed's first frame is handed out: the
	// seed is not in the session yet, and still not queued again.
	h := newAutoplayHarness(t, track("a", 1))
	h.must(h.p.Start(ctx))
	h.nextCall().reply([]music.Track{track("a", 1), track("x", 1)}, nil)
	h.wantFrames(2, "a#0", "x#0")
}
