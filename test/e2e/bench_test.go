package e2e

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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

// BenchmarkBotRSS reports the resident memory of the real binary: idle
// (connected to the gateway, commands registered, no voice), while one
// guild plays through a DAVE voice connection, and after /stop. The
// target is an idle RSS under 40 MB.
func BenchmarkBotRSS(b *testing.B) {
	var idle, playing, stopped float64
	for b.Loop() {
		r := newRoom(b)
		time.Sleep(2 * time.Second) // past start-up's garbage and the first GC
		idle = residentMiB(b, r.bot.cmd.Process.Pid)
		r.play(b, r.track("long.ogg"), "Playing **long.ogg**.")
		r.waitFrames(b, 150, 20*time.Second)
		playing = residentMiB(b, r.bot.cmd.Process.Pid)
		r.control(b, memberID, "Stopped, cleared the queue and left the channel.", "stop")
		time.Sleep(2 * time.Second)
		stopped = residentMiB(b, r.bot.cmd.Process.Pid)
	}
	b.ReportMetric(idle, "idle-rss-MiB")
	b.ReportMetric(playing, "playing-rss-MiB")
	b.ReportMetric(stopped, "stopped-rss-MiB")
	b.Logf("timmybot serve RSS: idle %.1f MiB (target < 40), playing one guild %.1f MiB, after /stop %.1f MiB", idle, playing, stopped)
}

// residentMiB reads a process's resident set size from /proc.
func residentMiB(b *testing.B, pid int) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
