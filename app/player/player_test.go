package player

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

var ctx = context.Background()

func TestPlayThrough(t *testing.T) {
	tests := []struct {
		name       string
		loop       LoopMode
		ticks      int
		want       []string
		wantQueue  []string
		wantEvents []string
	}{
		{
			name:      "loop off plays each once, gapless, then idles",
			loop:      LoopOff,
			ticks:     11,
			want:      concat(frames("a", 0, 3), frames("b", 0, 3), frames("c", 0, 3), []string{"", ""}),
			wantQueue: nil,
			wantEvents: []string{
				"started a", "ended a", "started b", "ended b", "started c", "ended c", "idle ",
			},
		},
		{
			name:       "loop track repeats the head",
			loop:       LoopTrack,
			ticks:      7,
			want:       concat(frames("a", 0, 3), frames("a", 0, 3), frames("a", 0, 1)),
			wantQueue:  []string{"a", "b", "c"},
			wantEvents: []string{"started a", "ended a", "started a", "ended a", "started a"},
		},
		{
			name:      "loop queue rotates",
			loop:      LoopQueue,
			ticks:     10,
			want:      concat(frames("a", 0, 3), frames("b", 0, 3), frames("c", 0, 3), frames("a", 0, 1)),
			wantQueue: []string{"a", "b", "c"},
			wantEvents: []string{
				"started a", "ended a", "started b", "ended b", "started c", "ended c", "started a",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 3), track("b", 3), track("c", 3))
			h.must(h.p.SetLoop(tt.loop))
			h.must(h.p.Start(ctx))
			h.wantFrames(tt.ticks, tt.want...)
			h.wantQueue(tt.wantQueue...)
			h.wantEvents(tt.wantEvents...)
			if got := h.p.Underruns(); got != 0 {
				t.Errorf("%d underruns", got)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	h := newHarness(t)
	wantCode(t, h.p.Start(ctx), music.ENOTFOUND)
	if st := h.p.Status(); st.State != StateIdle {
		t.Errorf("state %v, want idle", st.State)
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, track("a", 10))
	wantCode(t, h.p.Pause(), music.ENOTFOUND)
	h.must(h.p.Start(ctx))
	h.wantFrames(2, frames("a", 0, 2)...)
	h.must(h.p.Pause())
	wantCode(t, h.p.Pause(), music.ECONFLICT)
	h.wantFrames(3, "", "", "")
	st := h.p.Status()
	if st.State != StatePaused || st.Position != 2*FrameDuration {
		t.Errorf("paused status %v at %v, want paused at 40ms", st.State, st.Position)
	}
	h.must(h.p.Resume())
	wantCode(t, h.p.Resume(), music.ECONFLICT)
	h.wantFrames(2, frames("a", 2, 4)...)
	h.wantEvents("started a", "paused a", "resumed a")
	if got := h.p.Underruns(); got != 0 {
		t.Errorf("%d underruns while paused", got)
	}
}

func TestSkip(t *testing.T) {
	tests := []struct {
		name      string
		loop      LoopMode
		to        int
		want      []string
		wantQueue []string
		wantCode  string
	}{
		{"next", LoopOff, 0, frames("b", 0, 2), []string{"b", "c", "d"}, ""},
		{"next in loop track moves on", LoopTrack, 0, frames("b", 0, 2), []string{"b", "c", "d"}, ""},
		{"next in loop queue requeues", LoopQueue, 0, frames("b", 0, 2), []string{"b", "c", "d", "a"}, ""},
		{"to position 3", LoopOff, 3, frames("c", 0, 2), []string{"c", "d"}, ""},
		{"to position 3 in loop queue", LoopQueue, 3, frames("c", 0, 2), []string{"c", "d", "a", "b"}, ""},
		{"to the playing one", LoopOff, 1, frames("a", 1, 3), []string{"a", "b", "c", "d"}, music.EINVALID},
		{"past the end", LoopOff, 5, frames("a", 1, 3), []string{"a", "b", "c", "d"}, music.EINVALID},
		{"negative", LoopOff, -1, frames("a", 1, 3), []string{"a", "b", "c", "d"}, music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 5), track("b", 5), track("c", 5), track("d", 5))
			h.must(h.p.SetLoop(tt.loop))
			h.must(h.p.Start(ctx))
			h.wantFrames(1, "a#0")
			wantCode(t, h.p.Skip(ctx, tt.to), tt.wantCode)
			h.wantFrames(2, tt.want...)
			h.wantQueue(tt.wantQueue...)
		})
	}
	t.Run("nothing playing", func(t *testing.T) {
		h := newHarness(t, track("a", 5))
		wantCode(t, h.p.Skip(ctx, 0), music.ENOTFOUND)
	})
}

// TestSkipPlaysThePreparedTrack: a skip plays the track prepared to follow
// without opening it again; one prepared for something else (the current
// track again, in loop-track mode) is stopped and the next one opened.
func TestSkipPlaysThePreparedTrack(t *testing.T) {
	tests := []struct {
		name      string
		loop      LoopMode
		wantOpens int
	}{
		{"the next track", LoopOff, 2},                            // a, then b prepared
		{"the same track again in loop-track mode", LoopTrack, 3}, // a, a again, b
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 5), track("b", 5))
			h.must(h.p.SetLoop(tt.loop))
			h.must(h.p.Start(ctx))
			h.wantFrames(1, "a#0")
			waitFor(t, "the next track to be prepared", func() bool { return len(h.op.openedFrames()) == 2 })
			h.must(h.p.Skip(ctx, 0))
			h.wantFrames(2, "b#0", "b#1")
			opened := h.op.openedFrames()
			if tt.loop == LoopTrack && len(opened) == 4 {
				opened = opened[:3] // b's own successor: b again, looped
			}
			if len(opened) != tt.wantOpens || opened[tt.wantOpens-1].title != "b" {
				t.Fatalf("%d opens, want %d, the last b's", len(opened), tt.wantOpens)
			}
			if tt.wantOpens == 3 {
				waitFor(t, "the track prepared for the loop to close", opened[1].closed.Load)
			}
		})
	}
}

func TestStop(t *testing.T) {
	h := newHarness(t, track("a", 5), track("b", 5))
	wantCode(t, h.p.Stop(ctx), "") // clears a queue that is not playing yet
	h.wantQueue()
	wantCode(t, h.p.Stop(ctx), music.ENOTFOUND)
	h.enqueue(track("a", 5), track("b", 5))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.must(h.p.Stop(ctx))
	h.wantFrames(2, "", "")
	h.wantQueue()
	h.wantEvents("started a", "ended a", "idle ")
	if st := h.p.Status(); st.State != StateIdle {
		t.Errorf("state %v, want idle", st.State)
	}
}

func TestPreviousAndReplay(t *testing.T) {
	h := newHarness(t, track("a", 2), track("b", 4))
	wantCode(t, h.p.Previous(ctx), music.ENOTFOUND)
	h.must(h.p.Start(ctx))
	h.wantFrames(3, "a#0", "a#1", "b#0")
	h.must(h.p.Previous(ctx))
	h.wantFrames(3, "a#0", "a#1", "b#0")
	h.wantQueue("b")
	h.wantFrames(1, "b#1")
	h.must(h.p.Replay(ctx))
	h.wantFrames(3, "b#0", "b#1", "b#2")
	h.wantQueue("b")
}

// After ForgetRequester, Previous queues a played track naming nobody;
// another member's stays theirs.
func TestForgetRequesterLeavesPreviousNamingNobody(t *testing.T) {
	a, b, c := track("a", 2), track("b", 2), track("c", 4)
	a.RequestedBy, b.RequestedBy, c.RequestedBy = "200", "300", "200"
	h := newHarness(t, a, b, c)
	h.must(h.p.Start(ctx))
	h.wantFrames(5, "a#0", "a#1", "b#0", "b#1", "c#0")
	h.must(h.p.ForgetRequester(ctx, "200"))
	for _, want := range []music.Track{b, {Title: "a", URL: a.URL, Duration: a.Duration}} {
		h.must(h.p.Previous(ctx))
		head, err := h.q.Peek(ctx, testGuild)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, head.Track); diff != "" {
			t.Errorf("Previous queued (-want +got):\n%s", diff)
		}
	}
}

// After ForgetRequester, the playing track's status names nobody at once,
// and the track prepared to follow still plays without a second open: its
// entry matches the queue's again.
func TestForgetRequesterOfThePlayingAndPreparedTracks(t *testing.T) {
	a, b := track("a", 3), track("b", 3)
	a.RequestedBy, b.RequestedBy = "200", "200"
	h := newHarness(t, a, b)
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	waitFor(t, "the next track to be prepared", func() bool { return len(h.op.openedFrames()) == 2 })
	h.q.forgetRequester("200")
	h.must(h.p.ForgetRequester(ctx, "200"))
	if by := h.p.Status().Entry.Track.RequestedBy; by != "" {
		t.Errorf("the playing track is requested by %q after ForgetRequester, want nobody", by)
	}
	h.wantFrames(4, "a#1", "a#2", "b#0", "b#1")
	h.settle()
	if by := h.p.Status().Entry.Track.RequestedBy; by != "" {
		t.Errorf("the next track is requested by %q, want nobody", by)
	}
	if n := len(h.op.openedFrames()); n != 2 {
		t.Errorf("%d opens, want 2: the prepared track was opened again", n)
	}
}

func TestSeek(t *testing.T) {
	tests := []struct {
		name     string
		seek     func(p *Player) error
		want     []string
		wantPos  time.Duration
		wantCode string
	}{
		{"forward", func(p *Player) error { return p.Seek(ctx, 7*FrameDuration) }, frames("a", 7, 9), 9 * FrameDuration, ""},
		{"back", func(p *Player) error { return p.Seek(ctx, FrameDuration) }, frames("a", 1, 3), 3 * FrameDuration, ""},
		{"by plus", func(p *Player) error { return p.SeekBy(ctx, 2*FrameDuration) }, frames("a", 5, 7), 7 * FrameDuration, ""},
		{"by minus", func(p *Player) error { return p.SeekBy(ctx, -2*FrameDuration) }, frames("a", 1, 3), 3 * FrameDuration, ""},
		{"by minus clamps at the start", func(p *Player) error { return p.SeekBy(ctx, -time.Minute) }, frames("a", 0, 2), 2 * FrameDuration, ""},
		{"by plus clamps at the end", func(p *Player) error { return p.SeekBy(ctx, time.Minute) }, frames("b", 0, 2), 2 * FrameDuration, ""},
		{"past the end", func(p *Player) error { return p.Seek(ctx, time.Minute) }, frames("a", 5, 7), 7 * FrameDuration, music.EINVALID},
		{"negative", func(p *Player) error { return p.Seek(ctx, -time.Second) }, frames("a", 5, 7), 7 * FrameDuration, music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 10), track("b", 10))
			h.must(h.p.Start(ctx))
			h.wantFrames(3, frames("a", 0, 3)...)
			release := h.op.gate("a")
			wantCode(t, tt.seek(h.p), tt.wantCode)
			// The old audio goes on while the new is opened.
			h.wantFrames(2, frames("a", 3, 5)...)
			release()
			h.wantFrames(2, tt.want...)
			if st := h.p.Status(); st.Position != tt.wantPos {
				t.Errorf("position %v, want %v", st.Position, tt.wantPos)
			}
		})
	}
	t.Run("nothing playing", func(t *testing.T) {
		h := newHarness(t)
		wantCode(t, h.p.Seek(ctx, 0), music.ENOTFOUND)
		wantCode(t, h.p.SeekBy(ctx, 0), music.ENOTFOUND)
		wantCode(t, h.p.Replay(ctx), music.ENOTFOUND)
	})
}

func TestSeekWhilePaused(t *testing.T) {
	h := newHarness(t, track("a", 10))
	h.must(h.p.Start(ctx))
	h.wantFrames(2, "a#0", "a#1")
	h.must(h.p.Pause())
	h.must(h.p.Seek(ctx, 6*FrameDuration))
	h.wantFrames(1, "")
	if st := h.p.Status(); st.Position != 6*FrameDuration || st.Changing {
		t.Errorf("position %v (changing %v) after a seek while paused, want 120ms", st.Position, st.Changing)
	}
	h.must(h.p.Resume())
	h.wantFrames(1, "a#6")
}

func TestStartedWaitsForTheFirstFrame(t *testing.T) {
	h := newHarness(t, track("a", 10))
	h.must(h.p.Start(ctx))
	h.must(h.p.Pause())
	h.must(h.p.Seek(ctx, 3*FrameDuration))
	h.wantFrames(1, "") // the seek switches in while paused
	h.wantEvents("paused a")
	h.must(h.p.Resume())
	h.wantFrames(1, "a#3")
	h.wantEvents("resumed a", "started a")
}

func TestEffectChangeIsSeamless(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Player) error
		label  string
		check  func(st Status) bool
	}{
		{"volume", func(p *Player) error { return p.SetVolume(ctx, 50) }, " v50", func(st Status) bool { return st.Volume == 50 }},
		{"filters", func(p *Player) error { return p.SetFilters(ctx, []string{"bassboost"}) }, " v100", func(st Status) bool { return cmp.Equal(st.Filters, []string{"bassboost"}) }},
		{"normalize", func(p *Player) error { return p.SetNormalize(ctx, true) }, " v100", func(st Status) bool { return st.Normalize }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 300), track("b", 3))
			h.must(h.p.Start(ctx))
			h.wantFrames(3, frames("a", 0, 3)...)
			release := h.op.gate("a")
			h.must(tt.change(h.p))
			if st := h.p.Status(); !st.Changing || !tt.check(st) {
				t.Errorf("status while changing: %+v", st)
			}
			h.wantFrames(4, frames("a", 3, 7)...)
			release()
			h.wantFrames(2, "a#7"+tt.label, "a#8"+tt.label)
			if st := h.p.Status(); st.Changing || st.Position != 9*FrameDuration {
				t.Errorf("status after the switch: changing %v at %v", st.Changing, st.Position)
			}
		})
	}
	t.Run("out of range", func(t *testing.T) {
		h := newHarness(t)
		wantCode(t, h.p.SetVolume(ctx, 201), music.EINVALID)
		wantCode(t, h.p.SetVolume(ctx, -1), music.EINVALID)
	})
	t.Run("applies to the next track", func(t *testing.T) {
		h := newHarness(t, track("a", 2), track("b", 2))
		h.must(h.p.Start(ctx))
		h.must(h.p.SetVolume(ctx, 150))
		h.wantFrames(4, "a#0 v150", "a#1 v150", "b#0 v150", "b#1 v150")
	})
}

func TestSupersededChangeClosesItsFrames(t *testing.T) {
	h := newHarness(t, track("a", 1000))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.must(h.p.Seek(ctx, 100*FrameDuration))
	h.settle() // the seek's Frames are open, its buffer full
	h.must(h.p.Seek(ctx, 500*FrameDuration))
	h.settle()
	opened := h.op.openedFrames()
	if len(opened) != 3 {
		t.Fatalf("%d opens, want 3", len(opened))
	}
	waitFor(t, "the superseded seek's Frames to close", opened[1].closed.Load)
	if opened[0].closed.Load() || opened[2].closed.Load() {
		t.Error("the playing or the newest Frames closed")
	}
	h.wantFrames(2, "a#500", "a#501")
	waitFor(t, "the replaced Frames to close", opened[0].closed.Load)
}

func TestSlowOpenerBlocksNothing(t *testing.T) {
	h := newHarness(t, track("a", 5), track("b", 5))
	other := newHarness(t, track("x", 3))
	release := h.op.gate("a")
	defer release()
	h.must(h.p.Start(ctx))
	// Output, controls and Status answer while Open waits.
	h.wantFrames(3, "", "", "")
	h.must(h.p.SetLoop(LoopQueue))
	h.must(h.p.SetVolume(ctx, 80))
	h.must(h.p.Pause())
	h.must(h.p.Resume())
	if st := h.p.Status(); st.State != StateLoading || st.Loop != LoopQueue {
		t.Errorf("status %+v, want loading with loop queue", st)
	}
	if got := h.p.Underruns(); got != 0 {
		t.Errorf("%d underruns while loading", got)
	}
	h.wantEvents("paused a", "resumed a") // not started: nothing handed out yet
	// Another guild's player is not held up.
	other.must(other.p.Start(ctx))
	other.wantFrames(3, frames("x", 0, 3)...)
}

func TestGaplessAcrossLongTracks(t *testing.T) {
	// Tracks longer than the buffer: the next one opens when the current
	// source is read to its end, with 150 frames still to play.
	h := newHarness(t, track("a", 400), track("b", 400))
	h.must(h.p.Start(ctx))
	got := h.pull(399)
	if diff := cmp.Diff(frames("a", 0, 399), got); diff != "" {
		t.Fatalf("a (-want +got):\n%s", diff)
	}
	h.wantEvents("started a")
	if st := h.p.Status(); st.Buffered != 1+DefaultBuffer {
		t.Errorf("buffered %d at the boundary, want a's last and a full buffer of b", st.Buffered)
	}
	h.wantFrames(3, "a#399", "b#0", "b#1")
	h.wantEvents("ended a", "started b")
}

func TestUnderrun(t *testing.T) {
	h := newHarness(t, track("a", 10))
	release := h.op.stall("a", 3)
	h.must(h.p.Start(ctx))
	h.wantFrames(6, "a#0", "a#1", "a#2", "", "", "")
	if got := h.p.Underruns(); got != 3 {
		t.Errorf("%d underruns, want 3", got)
	}
	if st := h.p.Status(); st.Underruns != 3 || st.State != StatePlaying || st.Position != 3*FrameDuration {
		t.Errorf("status %+v", st)
	}
	release()
	h.wantFrames(2, "a#3", "a#4")
}

func TestSourceFailures(t *testing.T) {
	t.Run("mid-track", func(t *testing.T) {
		h := newHarness(t, track("a", 10), track("b", 2))
		h.op.failAt["a"] = 2
		h.must(h.p.SetLoop(LoopTrack)) // a broken track is not repeated
		h.must(h.p.Start(ctx))
		h.wantFrames(4, "a#0", "a#1", "b#0", "b#1")
		h.wantEvents("started a", "error a", "ended a", "started b")
		h.wantQueue("b")
	})
	t.Run("open", func(t *testing.T) {
		h := newHarness(t, track("a", 2), track("b", 2), track("c", 2))
		h.op.failOpen["a"] = true
		h.op.failOpen["b"] = true
		h.must(h.p.Start(ctx))
		h.wantFrames(2, "c#0", "c#1")
		h.wantEvents("error a", "error b", "started c")
		h.wantQueue("c")
	})
	t.Run("open of the next", func(t *testing.T) {
		h := newHarness(t, track("a", 2), track("b", 2), track("c", 2))
		h.op.failOpen["b"] = true
		h.must(h.p.Start(ctx))
		h.wantFrames(4, "a#0", "a#1", "c#0", "c#1")
		h.wantEvents("error b", "started a", "ended a", "started c")
	})
	t.Run("a failed change keeps the old audio", func(t *testing.T) {
		h := newHarness(t, track("a", 10))
		h.must(h.p.Start(ctx))
		h.wantFrames(1, "a#0")
		h.op.failOpen["a"] = true
		h.must(h.p.Seek(ctx, 5*FrameDuration))
		h.wantFrames(2, "a#1", "a#2")
		h.wantEvents("started a", "error a")
	})
}

func TestIdleTimeout(t *testing.T) {
	timeout := DefaultIdleTimeout
	tests := []struct {
		name     string
		setup    func(h *harness)
		wantIdle bool
	}{
		{"empty queue", func(h *harness) {}, true},
		{"after the queue ends", func(h *harness) {
			h.enqueue(track("a", 1))
			h.must(h.p.Start(ctx))
			h.pull(2)
		}, true},
		{"alone while playing", func(h *harness) {
			h.playLong()
			h.must(h.p.SetListeners(0))
		}, true},
		{"paused", func(h *harness) {
			h.playLong()
			h.must(h.p.Pause())
		}, true},
		{"playing with listeners", func(h *harness) {
			h.playLong()
			h.must(h.p.SetListeners(2))
		}, false},
		{"always on", func(h *harness) {
			h.must(h.p.SetAlwaysOn(true))
			h.must(h.p.SetListeners(0))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h)
			h.settle()
			h.takeEvents()
			h.clk.Advance(timeout - time.Millisecond)
			h.wantEvents()
			h.clk.Advance(time.Millisecond)
			if tt.wantIdle {
				waitFor(t, "the idle timeout", func() bool { return len(h.events) > 0 })
				if e := <-h.events; e.Kind != EventIdleTimeout {
					t.Errorf("event %v, want idle timeout", e.Kind)
				}
			}
			h.clk.Advance(10 * timeout)
			h.wantEvents() // once per idle spell
		})
	}
	t.Run("listeners back restart the count", func(t *testing.T) {
		h := newHarness(t)
		h.playLong()
		h.must(h.p.SetListeners(0))
		h.clk.Advance(timeout - time.Millisecond)
		h.must(h.p.SetListeners(1))
		h.must(h.p.SetListeners(0))
		h.clk.Advance(time.Millisecond)
		h.wantEvents()
	})
}

func TestVoteSkip(t *testing.T) {
	h := newHarness(t, track("a", 10), track("b", 10))
	if _, _, _, err := h.p.VoteSkip(ctx, "1", 3); music.ErrorCode(err) != music.ENOTFOUND {
		t.Errorf("vote while idle: %v", err)
	}
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	type vote struct {
		votes, needed int
		skipped       bool
	}
	for _, tt := range []struct {
		user music.UserID
		want vote
	}{
		{"1", vote{1, 2, false}},
		{"1", vote{1, 2, false}}, // once per user
		{"2", vote{2, 2, true}},
		{"1", vote{1, 2, false}}, // reset for b
	} {
		v, n, s, err := h.p.VoteSkip(ctx, tt.user, 3)
		h.must(err)
		if got := (vote{v, n, s}); got != tt.want {
			t.Errorf("vote by %s: %+v, want %+v", tt.user, got, tt.want)
		}
	}
	h.wantFrames(1, "b#0")
}

func TestQueueChanged(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(q *memQueue) error
		want      []string
		wantQueue []string
	}{
		{"current removed", func(q *memQueue) error { _, err := q.RemoveAt(ctx, testGuild, 0); return err },
			[]string{"b#0", "b#1", "c#0"}, []string{"c"}},
		{"another moved to position 1", func(q *memQueue) error { return q.Move(ctx, testGuild, 2, 0) },
			[]string{"c#0", "c#1", "a#0"}, []string{"a", "b"}},
		{"position 2 removed after the next was opened", func(q *memQueue) error { _, err := q.RemoveAt(ctx, testGuild, 1); return err },
			[]string{"a#1", "c#0", "c#1"}, []string{"c"}},
		{"cleared", func(q *memQueue) error { _, err := q.Clear(ctx, testGuild); return err },
			[]string{"", "", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, track("a", 2), track("b", 2), track("c", 2))
			h.must(h.p.Start(ctx))
			h.wantFrames(1, "a#0")
			h.must(tt.edit(h.q))
			h.must(h.p.QueueChanged(ctx))
			h.wantFrames(3, tt.want...)
			h.wantQueue(tt.wantQueue...)
		})
	}
}

func TestLoopQueueOfOneTrack(t *testing.T) {
	h := newHarness(t, track("a", 2))
	h.must(h.p.SetLoop(LoopQueue))
	h.must(h.p.Start(ctx))
	h.wantFrames(5, "a#0", "a#1", "a#0", "a#1", "a#0")
	// The requeued entry is the current one: nothing to switch to.
	h.must(h.p.QueueChanged(ctx))
	h.wantFrames(2, "a#1", "a#0")
	h.wantQueue("a")
}

func TestStartAfterEnqueueKeepsGapless(t *testing.T) {
	h := newHarness(t, track("a", 3))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.enqueue(track("b", 2))
	h.must(h.p.Start(ctx))
	h.wantFrames(4, "a#1", "a#2", "b#0", "b#1")
}

func TestCloseStopsEverything(t *testing.T) {
	h := newHarness(t, track("a", 1000), track("b", 1000))
	release := h.op.stall("b", 0)
	defer release()
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.must(h.p.Seek(ctx, 10*FrameDuration))
	h.settle()
	h.must(h.p.Close())
	if n := h.op.open.Load(); n != 0 {
		t.Errorf("%d Frames open after Close", n)
	}
	if _, err := h.out.ProvideOpusFrame(); err != io.EOF {
		t.Errorf("ProvideOpusFrame after Close: %v, want io.EOF", err)
	}
	wantCode(t, h.p.Start(ctx), music.EUNAVAILABLE)
	h.must(h.p.Close())
}

func TestOutputClose(t *testing.T) {
	h := newHarness(t, track("a", 10))
	h.must(h.p.Start(ctx))
	h.wantFrames(1, "a#0")
	h.must(h.out.Close())
	if _, err := h.out.ProvideOpusFrame(); err != io.EOF {
		t.Errorf("closed Output: %v, want io.EOF", err)
	}
	h.out = h.p.Output()
	h.wantFrames(1, "a#1")
}

// waitFor polls cond, which another goroutine makes true.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// TestReaderRefillsByHalves checks that the reader rests while the buffer
// is more than half full and then fills it up again, rather than waking for
// every frame handed out.
func TestReaderRefillsByHalves(t *testing.T) {
	h := newHarness(t)
	h.playLong()
	h.settle()
	var buf *frameBuffer
	h.must(h.p.do(ctx, func(context.Context) error {
		buf = &h.p.cur.buf
		return nil
	}))
	size := buf.limit
	if buf.len() != size {
		t.Fatalf("buffered %d frames at start, want a full buffer of %d", buf.len(), size)
	}
	for taken := 1; taken < size/2; taken++ {
		if _, err := h.out.ProvideOpusFrame(); err != nil {
			t.Fatal(err)
		}
		h.settle()
		if got := buf.len(); got != size-taken {
			t.Fatalf("after %d frames out: %d buffered, want %d: the reader refilled above half", taken, got, size-taken)
		}
	}
	if _, err := h.out.ProvideOpusFrame(); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := buf.len(); got != size {
		t.Fatalf("at half: %d buffered, want the buffer filled again to %d", got, size)
	}
}

// A track whose source gave no length takes the one its audio says: the
// status shows it, seeks are bounded by it, and it holds across a seek's
// new audio. A length the source gave stays.
func TestLengthFromTheAudio(t *testing.T) {
	unsized := music.Track{Title: "u", URL: "https://tracks.test/u"}
	tests := []struct {
		name     string
		track    music.Track
		measured time.Duration
		want     time.Duration
	}{
		{"measured", unsized, 100 * FrameDuration, 100 * FrameDuration},
		{"unknown", unsized, 0, 0},
		{"the source's first", track("a", 10), 100 * FrameDuration, 10 * FrameDuration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.track)
			h.op.measured[tt.track.Title] = tt.measured // before Start: no Frames yet
			h.must(h.p.Start(ctx))
			h.pull(2)
			if got := h.p.Status().Duration; got != tt.want {
				t.Errorf("duration %v, want %v", got, tt.want)
			}
			if tt.want == 0 {
				return
			}
			wantCode(t, h.p.Seek(ctx, tt.want+FrameDuration), music.EINVALID)
			// The seek's audio does not say its length (yet).
			h.op.mu.Lock()
			h.op.measured[tt.track.Title] = 0
			h.op.mu.Unlock()
			h.must(h.p.Seek(ctx, tt.want/2))
			h.pull(2)
			if got := h.p.Status().Duration; got != tt.want {
				t.Errorf("duration %v after a seek, want %v", got, tt.want)
			}
		})
	}
}

// Frames that learn their length only at their end (an Ogg file read to it
// before its last page came) still give it: the player asks once more.
func TestLengthFromTheAudioAtItsEnd(t *testing.T) {
	unsized := music.Track{Title: "u", URL: "https://tracks.test/u"}
	h := newHarness(t, unsized)
	h.op.lengthAtEnd[unsized.Title] = 10
	h.must(h.p.Start(ctx))
	h.pull(2)
	if got, want := h.p.Status().Duration, 10*FrameDuration; got != want {
		t.Errorf("duration %v, want %v", got, want)
	}
}
