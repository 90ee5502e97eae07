package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// TestLostAnswerOfAnAskIsNotARepeat loses the answer to the put that records
// an ask: the SDK's retry then fails the version condition, and the store
// must recognise its own ask instead of calling it a repeat.
func TestLostAnswerOfAnAskIsNotARepeat(t *testing.T) {
	s, proxy, _, _ := newFaultStore(t)
	ctx := context.Background()
	ask := music.Ask{Guild: faultGuild, Asker: music.Asker{User: "200000000000000001", Reason: "gigs", At: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}}
	proxy.injectWhere("PutItem", `"askers"`, false, lost)
	asked, err := s.RequestAccess(ctx, ask)
	if err != nil {
		t.Fatalf("RequestAccess with a lost answer: %v", err)
	}
	if injected, _ := proxy.counts(); injected != 1 {
		t.Fatalf("%d answers lost, want 1", injected)
	}
	if !asked.NotifyOwners || asked.Request.Asks != 1 {
		t.Errorf("RequestAccess = %+v, want the first ask, which notifies the owners", asked)
	}
	reqs, err := s.Requests(ctx)
	if err != nil || len(reqs) != 1 || reqs[0].Asks != 1 {
		t.Errorf("Requests = %+v, %v; want one request with one ask", reqs, err)
	}
}
