package voice

import (
	"testing"
	"time"
)

// fakeTicker is the clock's ticker in tests: a channel the test fills, and
// counts of how often one was started and stopped.
type fakeTicker struct {
	ch               chan time.Time
	started, stopped int
}

func (f *fakeTicker) new() (<-chan time.Time, func()) {
	f.started++
	return f.ch, func() { f.stopped++ }
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
		run  func(t *testing.T, c *Clock, ft *fakeTicker)
	}{
		{"every subscriber gets each tick's due time", func(t *testing.T, c *Clock, ft *fakeTicker) {
			a, stopA := c.Pacer()
			b, stopB := c.Pacer()
			defer stopA()
			defer stopB()
			if ft.started != 1 {
				t.Fatalf("%d tickers started for two subscribers, want 1", ft.started)
			}
			ft.ch <- t0
			if got := recv(t, a); !got.Equal(t0) {
				t.Errorf("a got %v, want %v", got, t0)
			}
			if got := recv(t, b); !got.Equal(t0) {
				t.Errorf("b got %v, want %v", got, t0)
			}
		}},
		{"a subscriber that left gets nothing more", func(t *testing.T, c *Clock, ft *fakeTicker) {
			a, stopA := c.Pacer()
			b, stopB := c.Pacer()
			defer stopA()
			stopB()
			ft.ch <- t0
			recv(t, a)
			ft.ch <- t0.Add(frameInterval) // the clock has handed out t0 once this is taken
			recv(t, a)
			if pending(b) {
				t.Error("b got a tick after it stopped")
			}
		}},
		{"a slow subscriber misses ticks and holds up no one", func(t *testing.T, c *Clock, ft *fakeTicker) {
			slow, stopSlow := c.Pacer()
			fast, stopFast := c.Pacer()
			defer stopSlow()
			defer stopFast()
			for i := range 3 {
				ft.ch <- t0.Add(time.Duration(i) * frameInterval)
				recv(t, fast)
			}
			if got := recv(t, slow); !got.Equal(t0) {
				t.Errorf("slow got %v, want the first tick %v", got, t0)
			}
			if pending(slow) {
				t.Error("slow got more than one tick buffered")
			}
		}},
		{"the ticker runs only while someone listens", func(t *testing.T, c *Clock, ft *fakeTicker) {
			_, stopA := c.Pacer()
			_, stopB := c.Pacer()
			stopA()
			stopA() // twice is harmless
			if ft.stopped != 0 {
				t.Fatal("ticker stopped while b listens")
			}
			stopB()
			if ft.stopped != 1 {
				t.Fatalf("ticker stopped %d times after the last left, want 1", ft.stopped)
			}
			a, stopA := c.Pacer()
			defer stopA()
			if ft.started != 2 {
				t.Fatalf("%d tickers started, want a second one for a new subscriber", ft.started)
			}
			ft.ch <- t0
			recv(t, a)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTicker{ch: make(chan time.Time)}
			tt.run(t, newClock(ft.new), ft)
		})
	}
}
