package voice

import (
	"sync"
	"testing"
	"time"
)

// fakeTime is the clock's time in tests: each wait hands its deadline to
// the test, and returns when the test takes it, the time then being the
// deadline plus any stall the test set.
type fakeTime struct {
	waits chan time.Time

	mu    sync.Mutex
	now   time.Time
	stall time.Duration
}

func newFakeTime(now time.Time) *fakeTime {
	return &fakeTime{waits: make(chan time.Time), now: now}
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) set(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// stallAfterNextWait makes the next wait end late by d.
func (f *fakeTime) stallAfterNextWait(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stall = d
}

func (f *fakeTime) wait(until time.Time, quit <-chan struct{}) bool {
	select {
	case f.waits <- until:
		f.mu.Lock()
		f.now, f.stall = until.Add(f.stall), 0
		f.mu.Unlock()
		return true
	case <-quit:
		return false
	}
}

// fire lets the clock's next wait end and returns its deadline.
func (f *fakeTime) fire(t *testing.T) time.Time {
	t.Helper()
	select {
	case until := <-f.waits:
		return until
	case <-time.After(5 * time.Second):
		t.Fatal("the clock is not waiting")
		return time.Time{}
	}
}

// recv returns the tick waiting on ch, failing when none arrives.
func recv(t *testing.T, ch <-chan time.Time) time.Time {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no tick")
		return time.Time{}
	}
}

// pending reports whether a tick is waiting on ch.
func pending(ch <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name string
		run  func(t *testing.T, c *Clock, ft *fakeTime)
	}{
		{"a few subscribers share one wake-up per frame", func(t *testing.T, c *Clock, ft *fakeTime) {
			a, stopA := c.Pacer()
			b, stopB := c.Pacer()
			defer stopA()
			defer stopB()
			for frame := range 2 {
				due := t0.Add(time.Duration(frame) * frameInterval)
				if got := ft.fire(t); !got.Equal(due) {
					t.Fatalf("the clock waits until %v, want %v", got, due)
				}
				if got := recv(t, a); !got.Equal(due) {
					t.Errorf("a got %v, want %v", got, due)
				}
				if got := recv(t, b); !got.Equal(due) {
					t.Errorf("b got %v, want %v", got, due)
				}
			}
		}},
		{"a subscriber that left gets nothing more", func(t *testing.T, c *Clock, ft *fakeTime) {
			a, stopA := c.Pacer()
			b, stopB := c.Pacer()
			defer stopA()
			stopB()
			for range 2 {
				ft.fire(t)
				recv(t, a)
			}
			if pending(b) {
				t.Error("b got a tick after it stopped")
			}
		}},
		{"a slow subscriber misses ticks and holds up no one", func(t *testing.T, c *Clock, ft *fakeTime) {
			slow, stopSlow := c.Pacer()
			fast, stopFast := c.Pacer()
			defer stopSlow()
			defer stopFast()
			for range 3 {
				ft.fire(t)
				recv(t, fast)
			}
			if got := recv(t, slow); !got.Equal(t0) {
				t.Errorf("slow got %v, want the first tick %v", got, t0)
			}
			if pending(slow) {
				t.Error("slow got more than one tick buffered")
			}
		}},
		{"slots open 2 ms apart as they fill, then the emptiest takes the next", func(t *testing.T, c *Clock, ft *fakeTime) {
			var subs []<-chan time.Time
			var stops []func()
			for range slotCount * slotRoom {
				ch, stop := c.Pacer()
				subs, stops = append(subs, ch), append(stops, stop)
			}
			defer func() {
				for _, stop := range stops {
					stop()
				}
			}()
			stops[3*slotRoom]() // slot 3 is now the emptiest
			late, stopLate := c.Pacer()
			defer stopLate()
			for slot := range 4 {
				due := t0.Add(time.Duration(slot) * slotInterval)
				if got := ft.fire(t); !got.Equal(due) {
					t.Fatalf("slot %d: the clock waits until %v, want %v", slot, got, due)
				}
				first, last := subs[slot*slotRoom+1], subs[(slot+1)*slotRoom-1]
				if got := recv(t, first); !got.Equal(due) {
					t.Errorf("slot %d's first subscriber got %v, want %v", slot, got, due)
				}
				if got := recv(t, last); !got.Equal(due) {
					t.Errorf("slot %d's last subscriber got %v, want %v", slot, got, due)
				}
			}
			if got := recv(t, late); !got.Equal(t0.Add(3 * slotInterval)) {
				t.Errorf("the newest subscriber got %v, want slot 3's tick", got)
			}
		}},
		{"a clock more than a frame behind skips to the present", func(t *testing.T, c *Clock, ft *fakeTime) {
			a, stopA := c.Pacer()
			defer stopA()
			ft.stallAfterNextWait(time.Second + 5*time.Millisecond)
			ft.fire(t)
			recv(t, a)
			if got, want := ft.fire(t), t0.Add(time.Second); !got.Equal(want) {
				t.Errorf("after a stall the clock waits until %v, want %v", got, want)
			}
		}},
		{"the clock runs only while someone listens", func(t *testing.T, c *Clock, ft *fakeTime) {
			_, stopA := c.Pacer()
			_, stopB := c.Pacer()
			stopA()
			stopA() // twice is harmless
			c.mu.Lock()
			running := c.quit != nil
			c.mu.Unlock()
			if !running {
				t.Fatal("the clock stopped while b listens")
			}
			stopB() // returns once the ticking goroutine has
			c.mu.Lock()
			running = c.quit != nil
			c.mu.Unlock()
			if running {
				t.Fatal("the clock runs after the last subscriber left")
			}
			ft.set(t0.Add(time.Minute))
			a, stopA := c.Pacer()
			defer stopA()
			if got, want := ft.fire(t), t0.Add(time.Minute); !got.Equal(want) {
				t.Errorf("a new subscriber's clock waits until %v, want %v", got, want)
			}
			recv(t, a)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime(t0)
			tt.run(t, newClock(ft.Now, func() (func(time.Time, <-chan struct{}) bool, func()) { return ft.wait, func() {} }), ft)
		})
	}
}

// TestClockPacesInRealTime runs the real timer: ticks come 20 ms apart.
func TestClockPacesInRealTime(t *testing.T) {
	ticks, stop := NewClock().Pacer()
	defer stop()
	first := recv(t, ticks)
	if got := recv(t, ticks).Sub(first); got != frameInterval {
		t.Errorf("ticks %v apart, want %v", got, frameInterval)
	}
}
