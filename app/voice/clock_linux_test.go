package voice

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The timerfd sleeper never wakes before its time, and gives up when quit
// closes, also in the middle of a long sleep.
func TestPreciseSleeper(t *testing.T) {
	sleep, release := preciseSleeper()
	defer release()
	for range 50 {
		until := time.Now().Add(time.Duration(rand.IntN(int(3 * time.Millisecond))))
		if !sleep(until, nil) {
			t.Fatal("a sleep with no quit reported quit")
		}
		if early := time.Until(until); early > 0 {
			t.Fatalf("woke %v early", early)
		}
	}
	quit := make(chan struct{})
	close(quit)
	if sleep(time.Now().Add(time.Hour), quit) {
		t.Fatal("a sleep after quit closed reported its time")
	}
	quit = make(chan struct{})
	time.AfterFunc(10*time.Millisecond, func() { close(quit) })
	start := time.Now()
	if sleep(start.Add(time.Hour), quit) {
		t.Fatal("a sleep quit midway reported its time")
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %v to notice quit", took)
	}
}
