package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
)

// BenchmarkQueueInteraction measures interaction handling latency for
// /queue on a 100-track queue: from the fake Discord dispatching
// INTERACTION_CREATE to it receiving the bot's response, over loopback,
// through the real binary. It reports p50 and p99.
func BenchmarkQueueInteraction(b *testing.B) {
	h := newHarness(b)
	g := h.approved.ID
	for i := range 100 {
		h.do(b, g, memberID, "play", opt("query", h.track(fmt.Sprintf("track-%03d.mp3", i))))
	}
	queue := fakediscord.Slash{GuildID: g, UserID: memberID, Name: "queue"}
	for range 20 { // warm up connections and caches
		h.respond(b, queue)
	}

	var latencies []time.Duration
	for b.Loop() {
		resp := h.respond(b, queue)
		if resp.Type != fakediscord.CallbackMessage || len(resp.Message.Embeds) != 1 || resp.Message.Embeds[0].Title != "Queue · 100 tracks" {
			b.Fatalf("unexpected /queue answer: type %d %+v", resp.Type, resp.Message)
		}
		latencies = append(latencies, resp.Done)
	}
	b.StopTimer()
	slices.Sort(latencies)
	p := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	b.ReportMetric(float64(p(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(p(0.99).Microseconds()), "p99-µs")
	b.Logf("/queue on a 100-track queue, %d interactions: p50 %v, p99 %v (target p99 < 5ms)", len(latencies), p(0.50), p(0.99))
}
