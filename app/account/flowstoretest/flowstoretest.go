// Package flowstoretest holds the conformance tests every
// account.PendingFlows passes, so that the memory store and the shared one
// keep the same contract: single use, expiry, one flow per user and
// service, and exactly one winner when processes race for a state. It owns
// no store of its own.
package flowstoretest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// Users the tests start flows for.
const (
	Ada music.UserID = "100000000000000001"
	Bob music.UserID = "100000000000000002"
)

// Open returns a function that opens a store on one fresh, shared backing
// (every call another instance, as another process would have, where the
// store can be shared) whose clock is now.
type Open func(t *testing.T, now func() time.Time) func() account.PendingFlows

// Run runs every conformance test.
func Run(t *testing.T, open Open) {
	t.Run("SingleUse", func(t *testing.T) { testSingleUse(t, open) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, open) })
	t.Run("NewerFlowCancelsOlder", func(t *testing.T) { testNewerFlowCancelsOlder(t, open) })
	t.Run("RacingTakes", func(t *testing.T) { testRacingTakes(t, open) })
	t.Run("RacingPuts", func(t *testing.T) { testRacingPuts(t, open) })
}

// flow is a fresh flow of user at service, usable for ten minutes from
// clock's time.
func flow(clock *storetest.Clock, user music.UserID, service account.Service) account.Flow {
	return account.Flow{
		State: rand.Text(), User: user, Service: service,
		Verifier: rand.Text() + rand.Text(), Expires: clock.Now().Add(10 * time.Minute),
	}
}

func put(t *testing.T, s account.PendingFlows, flows ...account.Flow) {
	t.Helper()
	for _, f := range flows {
		if err := s.Put(context.Background(), f); err != nil {
			t.Fatalf("Put %s/%s: %v", f.User, f.Service, err)
		}
	}
}

// wantTake takes state and checks that it gets want, or nothing when want
// is nil.
func wantTake(t *testing.T, s account.PendingFlows, state string, want *account.Flow) {
	t.Helper()
	got, ok, err := s.Take(context.Background(), state)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	if want == nil {
		if ok {
			t.Fatalf("Take = %+v, want nothing", got)
		}
		return
	}
	if !ok {
		t.Fatalf("Take found nothing, want %s/%s", want.User, want.Service)
	}
	if diff := cmp.Diff(*want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
		t.Fatalf("Take (-want +got):\n%s", diff)
	}
}

// testSingleUse takes a flow once from another instance, then never again.
func testSingleUse(t *testing.T, open Open) {
	clock := storetest.NewClockNow()
	stores := open(t, clock.Now)
	f := flow(clock, Ada, account.Spotify)
	put(t, stores(), f)
	s := stores()
	wantTake(t, s, rand.Text(), nil) // a state nobody made
	wantTake(t, s, f.State, &f)
	wantTake(t, s, f.State, nil)
	wantTake(t, stores(), f.State, nil)
}

func testExpiry(t *testing.T, open Open) {
	tests := []struct {
		name    string
		advance time.Duration
		usable  bool
	}{
		{"a nanosecond before", 10*time.Minute - time.Nanosecond, true},
		{"at the expiry", 10 * time.Minute, false},
		{"long after", 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := storetest.NewClockNow()
			s := open(t, clock.Now)()
			f := flow(clock, Ada, account.Spotify)
			put(t, s, f)
			clock.Advance(tt.advance)
			if tt.usable {
				wantTake(t, s, f.State, &f)
			} else {
				wantTake(t, s, f.State, nil)
			}
		})
	}
}

// testNewerFlowCancelsOlder checks that a newer flow of the same user and
// service ends the older one, and only that one.
func testNewerFlowCancelsOlder(t *testing.T, open Open) {
	clock := storetest.NewClockNow()
	stores := open(t, clock.Now)
	older := flow(clock, Ada, account.Spotify)
	otherService := flow(clock, Ada, account.YouTube)
	otherUser := flow(clock, Bob, account.Spotify)
	put(t, stores(), older, otherService, otherUser)
	newer := flow(clock, Ada, account.Spotify)
	put(t, stores(), newer)

	s := stores()
	wantTake(t, s, older.State, nil)
	for _, f := range []account.Flow{newer, otherService, otherUser} {
		wantTake(t, s, f.State, &f)
	}
}

// racers is how many instances race in the tests below.
const racers = 8

// testRacingTakes lets instances take one state at once: exactly one wins.
func testRacingTakes(t *testing.T, open Open) {
	clock := storetest.NewClockNow()
	stores := open(t, clock.Now)
	f := flow(clock, Ada, account.Spotify)
	put(t, stores(), f)
	instances := make([]account.PendingFlows, racers)
	for i := range instances {
		instances[i] = stores()
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []account.Flow
		errs []error
	)
	start := make(chan struct{})
	for _, s := range instances {
		wg.Go(func() {
			<-start
			got, ok, err := s.Take(context.Background(), f.State)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				won = append(won, got)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Take failed: %v", errs)
	}
	if len(won) != 1 || won[0].Verifier != f.Verifier {
		t.Fatalf("%d of %d Takes got the flow, want exactly one", len(won), racers)
	}
}

// testRacingPuts starts flows of one user and service from several
// instances at once: exactly one of them stays usable.
func testRacingPuts(t *testing.T, open Open) {
	clock := storetest.NewClockNow()
	stores := open(t, clock.Now)
	flows := make([]account.Flow, racers)
	var wg sync.WaitGroup
	errs := make([]error, racers)
	start := make(chan struct{})
	for i := range flows {
		flows[i] = flow(clock, Ada, account.Spotify)
		s := stores()
		wg.Go(func() {
			<-start
			errs[i] = s.Put(context.Background(), flows[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	s := stores()
	var usable []string
	for i, f := range flows {
		if _, ok, err := s.Take(context.Background(), f.State); err != nil {
			t.Fatalf("Take: %v", err)
		} else if ok {
			usable = append(usable, fmt.Sprint(i))
		}
	}
	if len(usable) != 1 {
		t.Fatalf("flows %v are usable, want exactly one of the %d", usable, racers)
	}
}
