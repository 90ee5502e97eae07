// Package player plays one guild's queue: a state machine owned by one
// goroutine per guild, its controls (pause, skip, seek, volume, loop, ...),
// the play history, and the Output a voice connection pulls 20 ms frames
// from.
//
// It owns when a track starts, ends and is replaced, and what happens to
// the queue then, including autoplay's choice of a related track when the
// queue runs out; it does not own audio (an Opener turns a track into
// frames), finding related tracks (a RelatedFinder), voice transport (the
// adapter feeds Output to the connection) or queue editing (the adapter
// edits the QueueStore and calls QueueChanged).
// Nothing is shared between players.
//
// The current track is the queue head and stays in the queue while it
// plays. Each opened track has a goroutine that reads its frames into a
// bounded buffer ahead of the output, so a stalled source costs underruns,
// never a blocked tick. Seeks and effect changes open the track again and
// switch over at a frame boundary once the new audio is ready; the next
// track is opened when the current one's source is read to its end, so it
// follows without a gap.
package player

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Defaults of Config.
const (
	DefaultBuffer      = 150 // frames: 3 s
	DefaultHistory     = 50
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultAutoplayMemory is larger than the history: autoplay must not
	// come back to a track even hours into a session.
	DefaultAutoplayMemory = 1000
)

// storeTimeout bounds the queue calls the player makes on its own (at the
// end of a track); controls use their caller's context.
const storeTimeout = 10 * time.Second

// Config configures a Player. Guild, Queue and Opener are required.
type Config struct {
	Guild  music.GuildID
	Queue  music.QueueStore
	Opener Opener
	// Clock makes the idle timer. Default: the system clock.
	Clock Clock
	// Logger receives internal failures. Default: discarded.
	Logger *slog.Logger
	// Buffer is how many frames are read ahead of the output. Default: 150 (3 s).
	Buffer int
	// History is how many played tracks Previous can go back. Default: 50.
	History int
	// IdleTimeout is how long the player may be idle or alone before
	// EventIdleTimeout. Default: 5 minutes.
	IdleTimeout time.Duration
	// Related finds tracks for autoplay when the queue runs out. Default:
	// none, autoplay cannot be turned on.
	Related RelatedFinder
	// AutoplayMemory is how many tracks played this session autoplay
	// remembers not to queue again. Default: DefaultAutoplayMemory.
	AutoplayMemory int
	// OnEvent is called from the player's goroutine and must not block.
	// Default: none.
	OnEvent func(Event)
}

// Player plays one guild's queue. Its methods are safe for concurrent use.
type Player struct {
	cfg       Config
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	stopped   chan struct{}
	closeOnce sync.Once

	cmds        chan command
	wake        chan struct{}
	streamEnded chan *stream
	streams     sync.WaitGroup
	relatedDone chan relatedResult
	requests    sync.WaitGroup // related-track requests
	underruns   atomic.Uint64

	// What the output touches on every tick lies together.
	mu     sync.Mutex
	closed bool
	out    outputState // what Output hands out
	view   view        // the loop's settings, for Status

	// Owned by the loop goroutine.
	cur, pending, next *stream
	fx                 Effects
	loopMode           LoopMode
	history            []music.Track
	votes              []music.UserID
	alwaysOn           bool
	listeners          int
	idleAnnounced      bool
	idleTimer          Timer
	idleFired          bool
	autoplay           bool
	played             playedSet       // this session's, for autoplay
	related            *relatedRequest // in flight
	asked              string          // key of the seed last asked about
	pick               *relatedPick    // an answer held until the queue runs out
}

// outputState is shared by the loop and Output, guarded by Player.mu.
type outputState struct {
	cur     *stream // handed out now
	pending *stream // replaces cur once ready (seek, effects)
	next    *stream // follows cur at its end
	paused  bool
	pos     int // index of cur's next frame
}

type view struct {
	loopMode  LoopMode
	fx        Effects
	alwaysOn  bool
	autoplay  bool
	listeners int
}

type command struct {
	ctx   context.Context
	run   func(ctx context.Context) error
	reply chan error
}

// New starts a player; Close stops it.
func New(cfg Config) *Player {
	if cfg.Queue == nil || cfg.Opener == nil {
		panic("player: Config needs a Queue and an Opener")
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AutoplayMemory <= 0 {
		cfg.AutoplayMemory = DefaultAutoplayMemory
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Player{
		cfg:           cfg,
		log:           cfg.Logger.With(slog.String("guild", string(cfg.Guild))),
		ctx:           ctx,
		cancel:        cancel,
		stopped:       make(chan struct{}),
		cmds:          make(chan command),
		wake:          make(chan struct{}, 1),
		streamEnded:   make(chan *stream, 4),
		relatedDone:   make(chan relatedResult),
		played:        newPlayedSet(cfg.AutoplayMemory),
		fx:            Effects{Volume: 100},
		listeners:     -1,
		idleAnnounced: true,
	}
	p.publish()
	go p.run()
	return p
}

// Close stops the player's goroutine and every stream it opened, and waits
// for them; every Frames is closed when it returns. Outputs then return
// io.EOF.
func (p *Player) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		<-p.stopped
	})
	return nil
}

// Underruns counts the ticks that found the buffer empty while a track was
// playing: the adapter's metric.
func (p *Player) Underruns() uint64 { return p.underruns.Load() }

// Status returns a snapshot of the player.
func (p *Player) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.view
	st := Status{
		Volume:    v.fx.Volume,
		Loop:      v.loopMode,
		Filters:   slices.Clone(v.fx.Filters),
		Normalize: v.fx.Normalize,
		AlwaysOn:  v.alwaysOn,
		Autoplay:  v.autoplay,
		Listeners: v.listeners,
		Underruns: p.underruns.Load(),
	}
	cur := p.out.cur
	if cur == nil {
		return st
	}
	switch {
	case p.out.paused:
		st.State = StatePaused
	case !cur.started:
		st.State = StateLoading
	default:
		st.State = StatePlaying
	}
	st.Entry = cur.entry
	st.Duration = cur.length()
	st.Position = time.Duration(p.out.pos) * FrameDuration
	if pd := p.out.pending; pd != nil && !pd.align {
		// A seek is under way: it is where the track is about to be.
		st.Position = time.Duration(pd.start) * FrameDuration
	}
	st.Changing = p.out.pending != nil
	st.Buffered = cur.buffered()
	if p.out.next != nil {
		st.Buffered += p.out.next.buffered()
	}
	return st
}

var errClosed = music.Errorf(music.EUNAVAILABLE, "The player has stopped.")

// do runs fn on the player's goroutine and returns its error.
func (p *Player) do(ctx context.Context, fn func(ctx context.Context) error) error {
	c := command{ctx: ctx, run: fn, reply: make(chan error, 1)}
	select {
	case p.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return errClosed
	}
	select {
	case err := <-c.reply:
		return err
	case <-p.stopped:
		return errClosed
	}
}

func (p *Player) run() {
	defer close(p.stopped)
	defer p.shutdown()
	for {
		var idle <-chan time.Time
		if p.idleTimer != nil {
			idle = p.idleTimer.Chan()
		}
		var reply chan error
		var err error
		select {
		case <-p.ctx.Done():
			return
		case c := <-p.cmds:
			reply, err = c.reply, p.runCommand(c)
		case <-p.wake:
			p.withStoreContext(p.reconcile)
		case s := <-p.streamEnded:
			p.withStoreContext(func(ctx context.Context) { p.onStreamEnded(ctx, s) })
		case res := <-p.relatedDone:
			p.withStoreContext(func(ctx context.Context) { p.onRelated(ctx, res) })
		case <-idle:
			p.idleTimer, p.idleFired = nil, true
			p.emit(EventIdleTimeout, p.currentEntry(), "")
		}
		p.updateIdle()
		p.publish()
		if reply != nil {
			reply <- err // after publish: Status shows what the control did
		}
	}
}

// runCommand runs a control with its caller's context, cut short if the
// player closes.
func (p *Player) runCommand(c command) error {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	return c.run(ctx)
}

func (p *Player) withStoreContext(fn func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(p.ctx, storeTimeout)
	defer cancel()
	fn(ctx)
}

func (p *Player) shutdown() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.detachAll()
	if p.idleTimer != nil {
		p.idleTimer.Stop()
	}
	p.streams.Wait()
	p.requests.Wait()
}

func (p *Player) publish() {
	p.mu.Lock()
	p.view = view{loopMode: p.loopMode, fx: p.fx, alwaysOn: p.alwaysOn, autoplay: p.autoplay, listeners: p.listeners}
	p.mu.Unlock()
}

func (p *Player) emit(kind EventKind, e music.Entry, msg string) {
	p.cfg.OnEvent(Event{Kind: kind, Entry: e, Message: msg})
}

func (p *Player) currentEntry() music.Entry {
	if p.cur == nil {
		return music.Entry{}
	}
	return p.cur.entry
}

// updateIdle runs the idle timer while the player is idle, paused or
// alone, unless it is always on; it fires once per idle spell.
func (p *Player) updateIdle() {
	idle := !p.alwaysOn && (p.cur == nil || p.out.paused || p.listeners == 0)
	if !idle {
		if p.idleTimer != nil {
			p.idleTimer.Stop()
		}
		p.idleTimer, p.idleFired = nil, false
		return
	}
	if p.idleTimer == nil && !p.idleFired {
		p.idleTimer = p.cfg.Clock.NewTimer(p.cfg.IdleTimeout)
	}
}
