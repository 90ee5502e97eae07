package player

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/iddv/timmybot/app/music"
)

// This file is the loop's side of the output: following what Output did
// (switched to a replacement or the next track, handed out a first frame,
// ran dry) and what the reading goroutines report. All of it runs on the
// player's goroutine.

type finishReason int

const (
	finishEnded   finishReason = iota // played to its end (or its source failed)
	finishSkipped                     // the user moved on
)

// reconcile catches up with the output after Output woke the loop.
func (p *Player) reconcile(ctx context.Context) {
	p.mu.Lock()
	outCur := p.out.cur
	p.mu.Unlock()
	if p.cur == nil || outCur == nil {
		return
	}
	if outCur != p.cur {
		switch outCur {
		case p.pending:
			outCur.announced = p.cur.announced
			p.cur.cancel()
			p.cur, p.pending = outCur, nil
			p.prepareNext(ctx)
		case p.next:
			old := p.cur
			p.cur, p.next = outCur, nil
			old.cancel()
			if p.pending != nil {
				p.pending.cancel()
				p.pending = nil
			}
			p.finish(ctx, old, finishEnded)
			p.adoptHead(ctx)
		}
	}
	if p.cur == nil {
		return
	}
	p.mu.Lock()
	started, drained, atOutput := p.cur.started, p.cur.drained, p.out.cur == p.cur
	p.mu.Unlock()
	if started && !p.cur.announced {
		p.cur.announced = true
		p.played.add(p.cur.entry.Track)
		p.emit(EventStarted, p.cur.entry, "")
		p.askAhead(ctx)
	}
	if drained && atOutput {
		p.finish(ctx, p.cur, finishEnded)
		p.startHeadOrIdle(ctx)
	}
}

// onStreamEnded handles a reading goroutine that finished: its Open
// failed, or its source is read to the end (or failed on the way).
func (p *Player) onStreamEnded(ctx context.Context, s *stream) {
	s.readEnded = true
	failed := s.failed.Load()
	switch {
	case s == p.cur && failed:
		p.reportOpenFailure(s)
		p.dropAt(ctx, 0, s.entry)
		p.startHeadOrIdle(ctx)
	case s == p.pending && failed:
		p.log.Warn("applying a change", slog.Any("err", s.err))
		p.emit(EventError, s.entry, fmt.Sprintf("Could not apply that change to %q; it plays on as it was.", s.entry.Track.Title))
		p.mu.Lock()
		p.out.pending = nil
		p.mu.Unlock()
		s.cancel()
		p.pending = nil
		p.prepareNext(ctx)
	case s == p.next && failed:
		p.reportOpenFailure(s)
		p.detachNext()
		// Another entry of the queue can be tried; the current one again
		// (loop) would only fail again.
		if s.entry.ID != p.cur.entry.ID {
			p.dropAt(ctx, 1, s.entry)
			p.prepareNext(ctx)
		}
	case s == p.cur || s == p.pending:
		p.prepareNext(ctx)
	}
}

func (p *Player) reportOpenFailure(s *stream) {
	p.log.Warn("opening a track", slog.Any("err", s.err))
	msg := fmt.Sprintf("Could not play %q; skipping it.", s.entry.Track.Title)
	// A refusal the user can act on (a URL the bot does not fetch, a file
	// that is not audio) says why.
	var userErr *music.Error
	if errors.As(s.err, &userErr) {
		msg = userErr.Message
	}
	p.emit(EventError, s.entry, msg)
}

// dropAt removes e from the queue if it is still at index i.
func (p *Player) dropAt(ctx context.Context, i int, e music.Entry) {
	page, err := p.cfg.Queue.Page(ctx, p.cfg.Guild, i, 1)
	if err != nil {
		p.log.Warn("reading the queue", slog.Any("err", err))
		return
	}
	if len(page.Entries) == 0 || page.Entries[0].ID != e.ID {
		return
	}
	if _, err := p.cfg.Queue.RemoveAt(ctx, p.cfg.Guild, i); err != nil {
		p.log.Warn("removing a failed track", slog.Any("err", err))
	}
}

// prepareNext opens the track that follows the current one once the
// current one's source is read to its end, so it is buffered before the
// current buffer runs dry.
func (p *Player) prepareNext(ctx context.Context) {
	if p.cur == nil || p.next != nil {
		return
	}
	src := p.cur
	if p.pending != nil {
		src = p.pending
	}
	if !src.readEnded || src.failed.Load() {
		return
	}
	e, ok := p.nextEntry(ctx, src)
	if !ok {
		return
	}
	s := p.openStream(e, 0, false)
	p.next = s
	p.mu.Lock()
	p.out.next = s
	p.mu.Unlock()
}

// nextEntry says what plays after src's track ends, as the loop mode has it.
func (p *Player) nextEntry(ctx context.Context, src *stream) (music.Entry, bool) {
	if p.loopMode == LoopTrack && src.err == nil {
		return p.cur.entry, true
	}
	page, err := p.cfg.Queue.Page(ctx, p.cfg.Guild, 1, 1)
	if err != nil {
		p.log.Warn("reading the queue", slog.Any("err", err))
		return music.Entry{}, false
	}
	if len(page.Entries) > 0 {
		return page.Entries[0], true
	}
	if p.loopMode == LoopQueue {
		return p.cur.entry, true
	}
	if p.queueRelated(ctx, p.cur.entry.Track) {
		return p.nextEntry(ctx, src)
	}
	return music.Entry{}, false
}

// finish takes s's track off the head as the loop mode says: it stays
// (loop track), goes to the end (loop queue) or into the history.
func (p *Player) finish(ctx context.Context, s *stream, why finishReason) {
	sourceFailed := why == finishEnded && s.err != nil
	if sourceFailed {
		p.log.Warn("playing a track", slog.Any("err", s.err))
		p.emit(EventError, s.entry, fmt.Sprintf("%q stopped because its source failed; moving on.", s.entry.Track.Title))
	}
	p.emit(EventEnded, s.entry, "")
	p.votes = p.votes[:0]
	if why == finishEnded && !sourceFailed && p.loopMode == LoopTrack {
		return
	}
	head, err := p.cfg.Queue.Peek(ctx, p.cfg.Guild)
	if err != nil || head.ID != s.entry.ID {
		return // the queue changed under the player; adoptHead follows it
	}
	if _, err := p.cfg.Queue.Pop(ctx, p.cfg.Guild); err != nil {
		p.log.Warn("popping the queue", slog.Any("err", err))
		return
	}
	if p.loopMode == LoopQueue {
		if _, err := p.cfg.Queue.Enqueue(ctx, p.cfg.Guild, head.Track); err != nil {
			p.log.Warn("requeueing a track", slog.Any("err", err))
		}
	}
	p.remember(head.Track)
}

func (p *Player) remember(t music.Track) {
	p.history = append(p.history, t)
	if len(p.history) > p.cfg.History {
		p.history = slices.Delete(p.history, 0, len(p.history)-p.cfg.History)
	}
}

// adoptHead checks that the track the output moved on to is the queue's
// new head and takes the head's entry; if the queue changed meanwhile, it
// follows the queue.
func (p *Player) adoptHead(ctx context.Context) {
	head, err := p.cfg.Queue.Peek(ctx, p.cfg.Guild)
	if err != nil || head.Track != p.cur.entry.Track {
		p.startHeadOrIdle(ctx)
		return
	}
	p.mu.Lock()
	p.cur.entry = head
	p.mu.Unlock()
	p.prepareNext(ctx)
}

// startHead stops whatever plays and opens the queue head from its start;
// an empty queue takes autoplay's track, if there is one. An empty queue
// leaves the player idle and returns an ENOTFOUND error.
func (p *Player) startHead(ctx context.Context) error { return p.startHeadWith(ctx, nil) }

// startHeadWith is startHead that plays prepared, a stream opened from its
// start with the current effects and taken off the output, when it is the
// head's; otherwise it stops it.
func (p *Player) startHeadWith(ctx context.Context, prepared *stream) error {
	p.detachAll()
	p.votes = p.votes[:0]
	head, err := p.cfg.Queue.Peek(ctx, p.cfg.Guild)
	if music.ErrorCode(err) == music.ENOTFOUND && len(p.history) > 0 && p.queueRelated(ctx, p.history[len(p.history)-1]) {
		head, err = p.cfg.Queue.Peek(ctx, p.cfg.Guild)
	}
	if err != nil {
		prepared.cancelIfAny()
		p.goIdle()
		if music.ErrorCode(err) == music.ENOTFOUND {
			return music.Errorf(music.ENOTFOUND, "The queue is empty.")
		}
		return fmt.Errorf("reading the queue head: %w", err)
	}
	s := prepared
	if s == nil || s.entry.ID != head.ID || s.failed.Load() {
		prepared.cancelIfAny()
		s = p.openStream(head, 0, false)
	}
	p.cur = s
	p.idleAnnounced = false
	p.mu.Lock()
	p.out = outputState{cur: s, pos: s.start}
	p.mu.Unlock()
	return nil
}

// startHeadOrIdle is startHead where nobody waits for an answer.
func (p *Player) startHeadOrIdle(ctx context.Context) {
	if err := p.startHead(ctx); err != nil && music.ErrorCode(err) != music.ENOTFOUND {
		p.log.Warn("starting the next track", slog.Any("err", err))
		p.emit(EventError, music.Entry{}, "Could not read the queue.")
	}
}

func (p *Player) goIdle() {
	if !p.idleAnnounced {
		p.idleAnnounced = true
		p.emit(EventIdle, music.Entry{}, "")
	}
}

// detachAll takes every stream off the output and stops it.
func (p *Player) detachAll() {
	p.mu.Lock()
	p.out = outputState{}
	p.mu.Unlock()
	for _, s := range []*stream{p.cur, p.pending, p.next} {
		if s != nil {
			s.cancel()
		}
	}
	p.cur, p.pending, p.next = nil, nil, nil
}

// takeNext takes the prepared next track off the output without stopping
// it and returns it, nil when there is none.
func (p *Player) takeNext() *stream {
	s := p.next
	p.mu.Lock()
	p.out.next = nil
	p.mu.Unlock()
	p.next = nil
	return s
}

func (p *Player) detachNext() { p.takeNext().cancelIfAny() }

// replace opens the current track again at frame start with the current
// effects; Output switches to it once it is ready. align keeps the
// output's position (an effect change) instead of jumping to start (a
// seek). A replacement still pending is superseded, and the prepared next
// track is dropped: it was opened with the old effects or for the old
// position.
func (p *Player) replace(start int, align bool) {
	if old := p.pending; old != nil {
		if align && !old.align {
			start, align = old.start, false // the pending seek's target still holds
		}
		old.cancel()
	}
	p.detachNext()
	s := p.openStream(p.cur.entry, start, align)
	// The same track: its length holds until the new audio says it again.
	s.measured.Store(p.cur.measured.Load())
	p.pending = s
	p.mu.Lock()
	p.out.pending = s
	p.mu.Unlock()
}
