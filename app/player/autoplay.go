package player

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Autoplay: when the queue runs out with autoplay on and loop off, the
// player asks Config.Related for tracks related to the last one and queues
// the first not played this session (since the player started, or since
// Stop), requested by music.Autoplay.
//
// The request runs in a goroutine the player owns, never on the loop: it
// starts as soon as the last queued track starts (so the answer is usually
// there before that track ends), its answer is held until the queue really
// runs out, and it is cancelled by a skip, Stop, turning autoplay off or
// Close. A failure or an empty answer is logged and the player idles as
// it would without autoplay.

// relatedTimeout bounds one request for related tracks.
const relatedTimeout = 90 * time.Second

// relatedRequest is a request for tracks related to seed in flight.
type relatedRequest struct {
	seed   music.Track
	cancel context.CancelFunc
}

type relatedResult struct {
	req    *relatedRequest
	tracks []music.Track
	err    error
}

// relatedPick is an answer held until the queue runs out.
type relatedPick struct {
	seed   string // the seed's key
	tracks []music.Track
}

// trackKey is a track's identity for "played this session": its URL,
// which resolvers keep canonical (a YouTube video's watch URL).
func trackKey(t music.Track) string { return t.URL }

// playedSet remembers the keys of the last max tracks played, oldest
// forgotten first.
type playedSet struct {
	max   int
	order []string
	has   map[string]bool
}

func newPlayedSet(max int) playedSet {
	return playedSet{max: max, has: map[string]bool{}}
}

func (s *playedSet) add(t music.Track) {
	k := trackKey(t)
	if s.has[k] {
		return
	}
	s.has[k] = true
	s.order = append(s.order, k)
	if len(s.order) > s.max {
		delete(s.has, s.order[0])
		s.order = slices.Delete(s.order, 0, 1)
	}
}

func (s *playedSet) contains(t music.Track) bool { return s.has[trackKey(t)] }

func (s *playedSet) clear() {
	clear(s.has)
	s.order = s.order[:0]
}

// snapshot is a copy of the set, with also, for a request's goroutine.
func (s *playedSet) snapshot(also music.Track) func(music.Track) bool {
	has := make(map[string]bool, len(s.has)+1)
	for k := range s.has {
		has[k] = true
	}
	has[trackKey(also)] = true
	return func(t music.Track) bool { return has[trackKey(t)] }
}

var errNoAutoplay = music.Errorf(music.EUNAVAILABLE, "Autoplay is not available here: nothing can find related tracks.")

// SetAutoplay turns autoplay on or off. Turned on while the queue has run
// out, it looks for a track related to the last one played.
func (p *Player) SetAutoplay(on bool) error {
	if on && p.cfg.Related == nil {
		return errNoAutoplay
	}
	return p.doBackground(func(ctx context.Context) error {
		if p.autoplay == on {
			return nil
		}
		p.autoplay = on
		p.forgetRelated()
		if !on {
			return nil
		}
		if p.cur == nil {
			if len(p.history) > 0 {
				p.askRelated(p.history[len(p.history)-1])
			}
			return nil
		}
		p.askAhead(ctx)
		p.prepareNext(ctx)
		return nil
	})
}

// autoplaying reports whether running out of tracks asks for related ones.
func (p *Player) autoplaying() bool {
	return p.autoplay && p.loopMode == LoopOff && p.cfg.Related != nil
}

// askAhead asks for tracks related to the current one if nothing is queued
// after it, so the answer is ready when it ends.
func (p *Player) askAhead(ctx context.Context) {
	if !p.autoplaying() || p.cur == nil {
		return
	}
	page, err := p.cfg.Queue.Page(ctx, p.cfg.Guild, 1, 1)
	if err != nil {
		p.log.Warn("reading the queue", slog.Any("err", err))
		return
	}
	if len(page.Entries) == 0 {
		p.askRelated(p.cur.entry.Track)
	}
}

// askRelated starts a request for tracks related to seed, unless one is in
// flight, or seed was asked about already and its answer is held or was
// empty.
func (p *Player) askRelated(seed music.Track) {
	if !p.autoplaying() || p.related != nil || p.asked == trackKey(seed) {
		return
	}
	if p.pick != nil && p.pick.seed != trackKey(seed) {
		p.pick = nil
	}
	// Cancelled by the loop (or Close): the answer is not wanted. The
	// timeout alone still reports back, so the loop hears of the failure.
	cancelCtx, cancel := context.WithCancel(p.ctx)
	req := &relatedRequest{seed: seed, cancel: cancel}
	p.related, p.asked = req, trackKey(seed)
	played := p.played.snapshot(seed) // it may not have started yet
	p.requests.Go(func() {
		defer cancel()
		ctx, stop := context.WithTimeout(cancelCtx, relatedTimeout)
		defer stop()
		tracks, err := p.cfg.Related.Related(ctx, seed, played)
		select {
		case p.relatedDone <- relatedResult{req: req, tracks: tracks, err: err}:
		case <-cancelCtx.Done():
		}
	})
}

// cancelRelated stops the request in flight; its seed may be asked about
// again. A held answer stays: it is only used for its own seed.
func (p *Player) cancelRelated() {
	if p.related != nil {
		p.related.cancel()
		p.related, p.asked = nil, ""
	}
}

// forgetRelated also drops the held answer, so the next run-out asks anew.
func (p *Player) forgetRelated() {
	p.cancelRelated()
	p.asked, p.pick = "", nil
}

// onRelated holds a request's answer and plays it if the queue has run out
// meanwhile.
func (p *Player) onRelated(ctx context.Context, res relatedResult) {
	if res.req != p.related {
		return // cancelled after it answered
	}
	p.related = nil
	seed := res.req.seed
	if res.err != nil {
		p.log.Info("autoplay: finding related tracks", slog.String("seed", seed.Title), slog.Any("err", res.err))
		return
	}
	p.pick = &relatedPick{seed: trackKey(seed), tracks: res.tracks}
	if p.cur == nil {
		p.startHeadOrIdle(ctx)
		return
	}
	p.prepareNext(ctx)
}

// queueRelated is called when the queue has run out after seed: it
// queues the held answer's first track not played this session and
// reports whether it did; otherwise it asks for one.
func (p *Player) queueRelated(ctx context.Context, seed music.Track) bool {
	if !p.autoplaying() {
		return false
	}
	if p.pick == nil || p.pick.seed != trackKey(seed) {
		p.askRelated(seed)
		return false
	}
	tracks := p.pick.tracks
	p.pick = nil
	i := slices.IndexFunc(tracks, func(t music.Track) bool {
		return trackKey(t) != trackKey(seed) && !p.played.contains(t) && t.Validate() == nil
	})
	if i < 0 {
		p.log.Info("autoplay: every related track was played already", slog.String("seed", seed.Title))
		return false
	}
	t := tracks[i]
	t.RequestedBy = music.Autoplay
	if _, err := p.cfg.Queue.Enqueue(ctx, p.cfg.Guild, t); err != nil {
		p.log.Warn("autoplay: queueing a related track", slog.Any("err", err))
		return false
	}
	return true
}
