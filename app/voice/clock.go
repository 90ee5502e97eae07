package voice

import (
	"sync"
	"time"
)

// Clock paces the connections given its Pacer with one timer, as
// songbird's scheduler paces its mixers: the process wakes for many
// streams at once rather than once per stream, and on small VMs the
// wake-up from idle costs more than the send.
//
// One wake-up for every stream would make them all send in one burst, and
// the last of a thousand would go out milliseconds late. So the frame
// interval is cut into slots of 2 ms: a slot takes up to slotRoom
// subscribers before the next one opens, and once all are open a new
// subscriber joins the emptiest. A few streams share one wake-up per frame;
// a thousand are spread over the interval, each still exactly 20 ms apart.
//
// Every subscriber gets each of its ticks' due time; one that has not taken
// the previous tick yet misses this one, as with a time.Ticker. The timer
// runs only while some Play uses the clock, so an idle bot does not wake.
type Clock struct {
	now func() time.Time
	// sleeper returns the ticking goroutine's way to sleep until a time
	// (false if quit closed first) and what releases it.
	sleeper func() (sleep func(until time.Time, quit <-chan struct{}) bool, release func())

	mu    sync.Mutex
	slots [slotCount][]chan time.Time // copied on change: the ticking goroutine reads a snapshot
	quit  chan struct{}               // stops the ticking goroutine; nil while none runs
	done  chan struct{}               // closed when that goroutine has returned
}

const (
	slotCount    = 10
	slotInterval = frameInterval / slotCount
	// slotRoom is how many streams a slot takes before the next one opens:
	// about half a millisecond of sends on one core.
	slotRoom = 32
)

// NewClock returns a clock that ticks while it has subscribers.
func NewClock() *Clock { return newClock(time.Now, preciseSleeper) }

// timerSleep sleeps on a runtime timer until the given time; it reports
// false if quit closed first.
func timerSleep(until time.Time, quit <-chan struct{}) bool {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-quit:
		return false
	case <-t.C:
		return true
	}
}

func newClock(now func() time.Time, sleeper func() (func(time.Time, <-chan struct{}) bool, func())) *Clock {
	return &Clock{now: now, sleeper: sleeper}
}

// Pacer subscribes to the clock; it has the shape of Config.Pacer. The stop
// function unsubscribes; the last one to leave stops the timer and waits
// for its goroutine.
func (c *Clock) Pacer() (<-chan time.Time, func()) {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	slot := c.place()
	subs := c.slots[slot]
	c.slots[slot] = append(subs[:len(subs):len(subs)], ch)
	if c.quit == nil {
		c.quit, c.done = make(chan struct{}), make(chan struct{})
		go c.tick(c.quit, c.done)
	}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() { once.Do(func() { c.leave(slot, ch) }) }
}

// place returns the slot for a new subscriber: the first with room, or
// else the emptiest. c.mu must be held.
func (c *Clock) place() int {
	emptiest := 0
	for i, subs := range c.slots {
		if len(subs) < slotRoom {
			return i
		}
		if len(subs) < len(c.slots[emptiest]) {
			emptiest = i
		}
	}
	return emptiest
}

func (c *Clock) leave(slot int, ch chan time.Time) {
	c.mu.Lock()
	subs := make([]chan time.Time, 0, len(c.slots[slot]))
	for _, s := range c.slots[slot] {
		if s != ch {
			subs = append(subs, s)
		}
	}
	c.slots[slot] = subs
	var quit, done chan struct{}
	if c.empty() {
		quit, done = c.quit, c.done
		c.quit, c.done = nil, nil
	}
	c.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
}

// subscribers returns a slot's subscribers as they are now.
func (c *Clock) subscribers(slot int) []chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slots[slot]
}

// empty reports whether no one is subscribed. c.mu must be held.
func (c *Clock) empty() bool {
	for _, subs := range c.slots {
		if len(subs) > 0 {
			return false
		}
	}
	return true
}

// tick hands each slot's subscribers their tick when it is due, without
// waiting for any, and sleeps through empty slots. Slot i of frame k is due
// at start + k·20 ms + i·2 ms. A clock that fell more than a frame behind
// (the process was stopped, say) skips to the present rather than catch up
// in a burst.
func (c *Clock) tick(quit, done chan struct{}) {
	defer close(done)
	sleep, release := c.sleeper()
	defer release()
	start := c.now()
	for step := 0; ; step++ {
		slot := step % slotCount
		if len(c.subscribers(slot)) == 0 {
			select {
			case <-quit: // the last subscriber is leaving
				return
			default:
				continue
			}
		}
		due := start.Add(time.Duration(step) * slotInterval)
		if behind := c.now().Sub(due); behind > frameInterval {
			step += int(behind/frameInterval)*slotCount - 1
			continue
		}
		if !sleep(due, quit) {
			return
		}
		for _, s := range c.subscribers(slot) {
			select {
			case s <- due:
			default:
			}
		}
	}
}
