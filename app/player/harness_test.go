package player

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

const testGuild music.GuildID = "100"

// harness runs one player on fakes and plays the voice connection's part.
type harness struct {
	t      *testing.T
	p      *Player
	out    *Output
	q      *memQueue
	op     *fakeOpener
	clk    *fakeClock
	rel    *fakeRelated // nil unless the test gave one
	events chan Event
}

func newHarness(t *testing.T, tracks ...music.Track) *harness {
	t.Helper()
	return newHarnessWith(t, nil, tracks...)
}

// newHarnessWith is newHarness with autoplay's related tracks from rel.
func newHarnessWith(t *testing.T, rel *fakeRelated, tracks ...music.Track) *harness {
	t.Helper()
	h := &harness{t: t, q: newMemQueue(), op: newFakeOpener(), clk: &fakeClock{}, rel: rel, events: make(chan Event, 1000)}
	if len(tracks) > 0 {
		h.enqueue(tracks...)
	}
	cfg := Config{
		Guild:   testGuild,
		Queue:   h.q,
		Opener:  h.op,
		Clock:   h.clk,
		OnEvent: func(e Event) { h.events <- e },
	}
	if rel != nil {
		cfg.Related = rel
	}
	h.p = New(cfg)
	h.out = h.p.Output()
	t.Cleanup(func() {
		h.p.Close()
		if n := h.op.open.Load(); n != 0 {
			t.Errorf("%d Frames open after Close", n)
		}
	})
	return h
}

func (h *harness) enqueue(tracks ...music.Track) {
	h.t.Helper()
	if _, err := h.q.Enqueue(context.Background(), testGuild, tracks...); err != nil {
		h.t.Fatal(err)
	}
}

// playLong starts a track longer than any test plays.
func (h *harness) playLong() {
	h.t.Helper()
	h.enqueue(track("a", 1000))
	h.must(h.p.Start(ctx))
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// settle waits until the player has acted on everything that happened:
// no wake-up or stream report is waiting for the loop, and every stream
// it holds is read to its end or blocked by the test's design.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var settled bool
		h.must(h.p.do(context.Background(), func(context.Context) error {
			settled = h.settledOnLoop()
			return nil
		}))
		if settled {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the player did not settle")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (h *harness) settledOnLoop() bool {
	if len(h.p.wake) > 0 || len(h.p.streamEnded) > 0 {
		return false
	}
	if r := h.p.related; r != nil && h.rel != nil && h.rel.answered(r.seed) {
		return false // the answer is on its way to the loop
	}
	for _, s := range []*stream{h.p.cur, h.p.pending, h.p.next} {
		if s == nil {
			continue
		}
		finished := s.readDone.Load() || s.failed.Load()
		if finished != s.readEnded {
			return false // its report is on the way
		}
		if !finished && !h.op.blocked(s.entry.Track.Title) && !resting(s) {
			return false // still reading
		}
	}
	return true
}

// pull plays n ticks, settling before each, and returns the frames handed
// out ("" for an empty frame).
func (h *harness) pull(n int) []string {
	h.t.Helper()
	var got []string
	for range n {
		h.settle()
		f, err := h.out.ProvideOpusFrame()
		if err != nil {
			h.t.Fatalf("ProvideOpusFrame: %v", err)
		}
		got = append(got, string(f))
	}
	h.settle()
	return got
}

func (h *harness) wantFrames(n int, want ...string) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.pull(n)); diff != "" {
		h.t.Errorf("frames (-want +got):\n%s", diff)
	}
}

// takeEvents returns the events so far as "kind title" strings.
func (h *harness) takeEvents() []string {
	var got []string
	for {
		select {
		case e := <-h.events:
			got = append(got, fmt.Sprintf("%s %s", e.Kind, e.Entry.Track.Title))
		default:
			return got
		}
	}
}

func (h *harness) wantEvents(want ...string) {
	h.t.Helper()
	h.settle()
	if diff := cmp.Diff(want, h.takeEvents()); diff != "" {
		h.t.Errorf("events (-want +got):\n%s", diff)
	}
}

func (h *harness) wantQueue(want ...string) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.q.titles(testGuild)); diff != "" {
		h.t.Errorf("queue (-want +got):\n%s", diff)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := music.ErrorCode(err); got != code {
		t.Errorf("error %v, want code %q", err, code)
	}
}

// frames lists title's frames from..to-1 at volume 100.
func frames(title string, from, to int) []string {
	var fs []string
	for i := from; i < to; i++ {
		fs = append(fs, fmt.Sprintf("%s#%d", title, i))
	}
	return fs
}

func concat(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// resting reports whether s's reader waits with nothing to do: its buffer
// is full, or it rests above half and the output has not asked for more.
func resting(s *stream) bool {
	n, limit := s.buf.len(), s.buf.limit
	return n == limit || (s.resting.Load() && n > limit/2)
}
