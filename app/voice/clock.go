package voice

import (
	"sync"
	"time"
)

// Clock is one 20 ms tick shared by the connections given its Pacer, as
// songbird's scheduler shares one among its mixers: the process wakes once
// per tick for all its streams rather than once per stream, and on small
// VMs the wake-up from idle costs more than the send. Its ticker runs only
// while some Play uses it, so an idle bot does not wake at all.
//
// Every subscriber gets each tick's due time; one that has not taken the
// previous tick yet misses this one, as with a time.Ticker.
type Clock struct {
	newTicker func() (<-chan time.Time, func())

	mu   sync.Mutex
	subs []chan time.Time // copied on change: the ticking goroutine reads a snapshot
	quit chan struct{}    // stops the ticking goroutine; nil while none runs
	done chan struct{}    // closed when that goroutine has returned
}

// NewClock returns a clock that ticks every 20 ms while it has subscribers.
func NewClock() *Clock { return newClock(newTicker) }

// newTicker paces with a 20 ms time.Ticker.
func newTicker() (<-chan time.Time, func()) {
	t := time.NewTicker(frameInterval)
	return t.C, t.Stop
}

func newClock(newTicker func() (<-chan time.Time, func())) *Clock {
	return &Clock{newTicker: newTicker}
}

// Pacer subscribes to the clock; it has the shape of Config.Pacer. The stop
// function unsubscribes; the last one to leave stops the ticker and waits
// for its goroutine.
func (c *Clock) Pacer() (<-chan time.Time, func()) {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.subs = append(c.subs[:len(c.subs):len(c.subs)], ch)
	if c.quit == nil {
		c.quit, c.done = make(chan struct{}), make(chan struct{})
		ticks, stop := c.newTicker()
		go c.tick(ticks, stop, c.quit, c.done)
	}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() { once.Do(func() { c.leave(ch) }) }
}

func (c *Clock) leave(ch chan time.Time) {
	c.mu.Lock()
	subs := make([]chan time.Time, 0, len(c.subs))
	for _, s := range c.subs {
		if s != ch {
			subs = append(subs, s)
		}
	}
	c.subs = subs
	var quit, done chan struct{}
	if len(subs) == 0 {
		quit, done = c.quit, c.done
		c.quit, c.done = nil, nil
	}
	c.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
}

// tick hands each tick to every subscriber without waiting for any.
func (c *Clock) tick(ticks <-chan time.Time, stop func(), quit, done chan struct{}) {
	defer close(done)
	defer stop()
	for {
		select {
		case <-quit:
			return
		case t := <-ticks:
			c.mu.Lock()
			subs := c.subs
			c.mu.Unlock()
			for _, s := range subs {
				select {
				case s <- t:
				default:
				}
			}
		}
	}
}
