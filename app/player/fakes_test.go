package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// memQueue is an in-memory music.QueueStore for one or many guilds.
type memQueue struct {
	mu     sync.Mutex
	queues map[music.GuildID][]music.Entry
	nextID int
}

func newMemQueue() *memQueue { return &memQueue{queues: map[music.GuildID][]music.Entry{}} }

var _ music.QueueStore = (*memQueue)(nil)

func (q *memQueue) Enqueue(_ context.Context, g music.GuildID, tracks ...music.Track) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	first := len(q.queues[g])
	for _, t := range tracks {
		q.nextID++
		q.queues[g] = append(q.queues[g], music.Entry{ID: strconv.Itoa(q.nextID), Track: t})
	}
	return first, nil
}

func (q *memQueue) Page(_ context.Context, g music.GuildID, offset, limit int) (music.QueuePage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	es := q.queues[g]
	start, end, err := music.PageWindow(len(es), offset, limit)
	if err != nil {
		return music.QueuePage{}, err
	}
	return music.QueuePage{Entries: slices.Clone(es[start:end]), Offset: start, Total: len(es)}, nil
}

func (q *memQueue) Peek(_ context.Context, g music.GuildID) (music.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := music.CheckIndex(len(q.queues[g]), 0); err != nil {
		return music.Entry{}, err
	}
	return q.queues[g][0], nil
}

func (q *memQueue) Pop(ctx context.Context, g music.GuildID) (music.Entry, error) {
	return q.RemoveAt(ctx, g, 0)
}

func (q *memQueue) RemoveAt(_ context.Context, g music.GuildID, i int) (music.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	es := q.queues[g]
	if err := music.CheckIndex(len(es), i); err != nil {
		return music.Entry{}, err
	}
	e := es[i]
	q.queues[g] = slices.Delete(es, i, i+1)
	return e, nil
}

func (q *memQueue) Move(_ context.Context, g music.GuildID, from, to int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	es := q.queues[g]
	if err := music.CheckIndex(len(es), from); err != nil {
		return err
	}
	if err := music.CheckIndex(len(es), to); err != nil {
		return err
	}
	e := es[from]
	es = slices.Delete(es, from, from+1)
	q.queues[g] = slices.Insert(es, to, e)
	return nil
}

func (q *memQueue) Shuffle(context.Context, music.GuildID, int64) error {
	return errors.New("memQueue: shuffle is not needed by the player tests")
}

func (q *memQueue) Clear(_ context.Context, g music.GuildID) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.queues[g])
	delete(q.queues, g)
	return n, nil
}

func (q *memQueue) Len(_ context.Context, g music.GuildID) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queues[g]), nil
}

// titles lists a guild's queue by track title.
// forgetRequester clears RequestedBy of user's entries in every guild, as
// the stores' ForgetRequester does.
func (q *memQueue) forgetRequester(user music.UserID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, es := range q.queues {
		for i := range es {
			if es[i].Track.RequestedBy == user {
				es[i].Track.RequestedBy = ""
			}
		}
	}
}

func (q *memQueue) titles(g music.GuildID) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ts []string
	for _, e := range q.queues[g] {
		ts = append(ts, e.Track.Title)
	}
	return ts
}

// track is a test track of n frames, titled and addressed by title.
func track(title string, n int) music.Track {
	return music.Track{Title: title, URL: "https://tracks.test/" + title, Duration: time.Duration(n) * FrameDuration}
}

// fakeOpener opens numbered frames: track "a" at volume 100 yields "a#0",
// "a#1", ... up to its duration (forever when it has none); other effects
// add " v<volume>". Titles can be made to fail or block.
type fakeOpener struct {
	mu       sync.Mutex
	gates    map[string]chan struct{} // Open waits until the channel closes
	failOpen map[string]bool
	failAt   map[string]int           // ReadFrame fails at this frame
	stallAt  map[string]int           // ReadFrame waits at this frame until unstalled
	stalls   map[string]chan struct{} // closed to unstall
	measured map[string]time.Duration // what a title's Frames say its length is
	// lengthAtEnd: a title's Frames end at this frame and say their length
	// only once read to it.
	lengthAtEnd map[string]int
	opened      []*fakeFrames
	open        atomic.Int64 // Frames opened and not closed
	frame       []byte       // when set, every frame is this slice (benchmarks)
}

func newFakeOpener() *fakeOpener {
	return &fakeOpener{
		gates:       map[string]chan struct{}{},
		failOpen:    map[string]bool{},
		failAt:      map[string]int{},
		stallAt:     map[string]int{},
		stalls:      map[string]chan struct{}{},
		measured:    map[string]time.Duration{},
		lengthAtEnd: map[string]int{},
	}
}

func (o *fakeOpener) Open(ctx context.Context, t music.Track, at time.Duration, fx Effects) (Frames, error) {
	o.mu.Lock()
	gate, fail := o.gates[t.Title], o.failOpen[t.Title]
	o.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail {
		return nil, fmt.Errorf("fake: %s cannot be opened", t.Title)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f := &fakeFrames{o: o, ctx: ctx, title: t.Title, fx: fx, next: int(at / FrameDuration), end: -1, failAt: -1, stallAt: -1, measured: o.measured[t.Title]}
	if t.Duration > 0 {
		f.end = int(t.Duration / FrameDuration)
	}
	if n, ok := o.failAt[t.Title]; ok {
		f.failAt = n
	}
	if n, ok := o.lengthAtEnd[t.Title]; ok {
		f.end, f.lengthAtEnd = n, true
	}
	if n, ok := o.stallAt[t.Title]; ok {
		f.stallAt, f.unstall = n, o.stalls[t.Title]
	}
	o.opened = append(o.opened, f)
	o.open.Add(1)
	return f, nil
}

// gate makes opens of title wait until the returned func is called.
func (o *fakeOpener) gate(title string) (release func()) {
	return o.block(func(c chan struct{}) { o.gates[title] = c }, func() { delete(o.gates, title) })
}

// stall makes reads of title wait at frame n until the returned func is called.
func (o *fakeOpener) stall(title string, n int) (release func()) {
	return o.block(func(c chan struct{}) { o.stallAt[title], o.stalls[title] = n, c }, func() { delete(o.stallAt, title) })
}

// block installs a wait under o.mu and returns what ends it.
func (o *fakeOpener) block(install func(chan struct{}), uninstall func()) (release func()) {
	c := make(chan struct{})
	o.mu.Lock()
	install(c)
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		uninstall()
		o.mu.Unlock()
		close(c)
	}
}

// blocked reports whether reading title may wait by design.
func (o *fakeOpener) blocked(title string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gates[title] != nil {
		return true
	}
	// A stall blocks once the reader has reached it, until released.
	if _, installed := o.stallAt[title]; !installed {
		return false
	}
	for _, f := range o.opened {
		if f.title == title && f.stalled.Load() {
			return true
		}
	}
	return false
}

func (o *fakeOpener) openedFrames() []*fakeFrames {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.opened)
}

type fakeFrames struct {
	o               *fakeOpener
	ctx             context.Context
	title           string
	fx              Effects
	next, end       int
	failAt, stallAt int
	unstall         chan struct{}
	stalled         atomic.Bool // waiting at stallAt now
	closed          atomic.Bool
	measured        time.Duration
	lengthAtEnd     bool
	ended           bool   // ReadFrame returned io.EOF
	buf             []byte // reused by every frame, as the demuxers do
}

var _ Measured = (*fakeFrames)(nil)

func (f *fakeFrames) Duration() time.Duration {
	if f.lengthAtEnd {
		if !f.ended {
			return 0
		}
		return time.Duration(f.end) * FrameDuration
	}
	return f.measured
}

func (f *fakeFrames) ReadFrame() ([]byte, error) {
	if f.closed.Load() {
		return nil, errors.New("fake: read after close")
	}
	if f.next == f.stallAt {
		f.stalled.Store(true)
		select {
		case <-f.unstall:
			f.stalled.Store(false)
		case <-f.ctx.Done():
			return nil, f.ctx.Err()
		}
	}
	if f.next == f.failAt {
		return nil, errors.New("fake: source broke")
	}
	if f.end >= 0 && f.next >= f.end {
		f.ended = true
		return nil, io.EOF
	}
	n := f.next
	f.next++
	if f.o.frame != nil {
		return f.o.frame, nil
	}
	f.buf = append(f.buf[:0], label(f.title, n, f.fx)...)
	return f.buf, nil
}

func (f *fakeFrames) Close() error {
	if f.closed.Swap(true) {
		return errors.New("fake: closed twice")
	}
	f.o.open.Add(-1)
	return nil
}

func label(title string, n int, fx Effects) string {
	if fx.Volume == 100 && len(fx.Filters) == 0 && !fx.Normalize {
		return fmt.Sprintf("%s#%d", title, n)
	}
	return fmt.Sprintf("%s#%d v%d", title, n, fx.Volume)
}

// fakeClock fires timers when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	clk     *fakeClock
	at      time.Duration
	c       chan time.Time
	stopped bool
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, at: c.now + d, c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.stopped {
			return true
		}
		if t.at > c.now {
			return false
		}
		t.c <- time.Time{}
		return true
	})
}

func (t *fakeTimer) Chan() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// fakeRelated is a RelatedFinder the test drives: each request arrives on
// calls, and Related returns what the test answers, or ctx's error when
// the player cancels first.
type fakeRelated struct {
	calls chan *relatedCall

	mu   sync.Mutex
	done map[string]bool // seeds answered whose request has not been made again
}

type relatedCall struct {
	ctx    context.Context
	seed   music.Track
	played func(music.Track) bool
	f      *fakeRelated
	answer chan relatedAnswer
}

type relatedAnswer struct {
	tracks []music.Track
	err    error
}

func newFakeRelated() *fakeRelated {
	return &fakeRelated{calls: make(chan *relatedCall), done: map[string]bool{}}
}

func (f *fakeRelated) Related(ctx context.Context, seed music.Track, played func(music.Track) bool) ([]music.Track, error) {
	f.mu.Lock()
	delete(f.done, trackKey(seed))
	f.mu.Unlock()
	c := &relatedCall{ctx: ctx, seed: seed, played: played, f: f, answer: make(chan relatedAnswer, 1)}
	select {
	case f.calls <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case a := <-c.answer:
		return a.tracks, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// reply answers the call.
func (c *relatedCall) reply(tracks []music.Track, err error) {
	c.f.mu.Lock()
	c.f.done[trackKey(c.seed)] = true
	c.f.mu.Unlock()
	c.answer <- relatedAnswer{tracks: tracks, err: err}
}

// answered reports whether a request for seed was answered.
func (f *fakeRelated) answered(seed music.Track) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[trackKey(seed)]
}
