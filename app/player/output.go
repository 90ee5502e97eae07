package player

import (
	"io"
	"sync/atomic"
)

// preRead is how many frames a replacement stream buffers before it takes
// over from the one playing.
const preRead = 5

// Output hands the player's audio to a voice connection; it has the shape
// of voice.FrameProvider. One Output at a time should be attached: frames
// go to whichever asks first.
type Output struct {
	p        *Player
	detached atomic.Bool
}

// Output returns a new frame provider for the voice connection.
func (p *Player) Output() *Output { return &Output{p: p} }

// ProvideOpusFrame returns the next 20 ms frame, or an empty frame when
// there is none (idle, paused, loading, or a stalled source). It never
// waits. It returns io.EOF once the Output is closed or the player is.
func (o *Output) ProvideOpusFrame() ([]byte, error) {
	if o.detached.Load() {
		return nil, io.EOF
	}
	return o.p.provide()
}

// Close detaches the Output; the player keeps its state and goes on with
// the next Output attached.
func (o *Output) Close() error {
	o.detached.Store(true)
	return nil
}

// provide is one tick of the output: switch to a ready replacement, then
// hand out the next frame of the current stream, or of the next track at
// the boundary. It only takes frames already buffered.
func (p *Player) provide() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, io.EOF
	}
	out := &p.out
	p.switchPending()
	cur := out.cur
	if cur == nil || out.paused {
		return nil, nil
	}
	f, got := cur.take()
	switch {
	case got == frameReady:
		return p.handOut(cur, f), nil
	case got == frameLater:
		if cur.started {
			p.underruns.Add(1)
		}
		return nil, nil
	case cur.failed.Load():
		return nil, nil // the loop hears of it from the stream
	}
	if nx := out.next; nx != nil && !nx.failed.Load() {
		f, got := nx.take()
		switch got {
		case frameReady:
			out.cur, out.next = nx, nil
			return p.handOut(nx, f), nil
		case frameClosed:
			// An empty track: follow it, it drains on the next tick.
			out.cur, out.next, out.pos = nx, nil, nx.start
			p.wakeLoop()
			return nil, nil
		}
		p.underruns.Add(1)
		return nil, nil
	}
	if out.pending != nil {
		p.underruns.Add(1)
		return nil, nil
	}
	if !cur.drained {
		cur.drained = true
		p.wakeLoop()
	}
	return nil, nil
}

// switchPending makes a ready replacement (a seek or an effect change) the
// current stream, at a frame boundary. An effect change joins at the
// output's position: the frames the old stream handed out meanwhile are
// dropped from the new one. Called with p.mu held.
func (p *Player) switchPending() {
	out := &p.out
	pd := out.pending
	if pd == nil || !pd.ready(min(preRead, p.cfg.Buffer)) {
		return
	}
	if pd.align {
		for {
			f, got := pd.take()
			if got == frameLater {
				return // still catching up
			}
			if got == frameClosed {
				break
			}
			if f.index >= out.pos {
				pd.head, pd.hasHead = f, true
				break
			}
		}
	} else {
		out.pos = pd.start
	}
	out.cur, out.pending = pd, nil
	p.wakeLoop()
}

// handOut records f as played. Called with p.mu held.
func (p *Player) handOut(s *stream, f frame) []byte {
	p.out.pos = f.index + 1
	if !s.started {
		s.started = true
		p.wakeLoop()
	}
	return f.data
}

// wakeLoop asks the loop to look at the output's state; it never waits.
func (p *Player) wakeLoop() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
