package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiohost"
)

// descendants lists the processes below pid, by walking every process's
// parent in /proc.
func descendants(t testing.TB, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	parent := map[int]int{}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // it ended meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		child, _ := strconv.Atoi(s[:strings.IndexByte(s, ' ')])
		if len(fields) > 1 {
			parent[child], _ = strconv.Atoi(fields[1])
		}
	}
	var out []int
	for child := range parent {
		for p := parent[child]; p > 1; p = parent[p] {
			if p == pid {
				out = append(out, child)
				break
			}
		}
	}
	return out
}

// waitDescendants waits until at most n processes run under pid.
func waitDescendants(t testing.TB, pid, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := descendants(t, pid)
		if len(left) <= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d processes under the bot after %v, want at most %d: %s", len(left), within, n, commands(left))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func commands(pids []int) string {
	var b strings.Builder
	for _, pid := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		fmt.Fprintf(&b, "\n%d: %s", pid, strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return b.String()
}

// TestRapidSkipsLeaveNoFFmpeg queues 101 radio streams (endless MP3, each
// transcoded by its own ffmpeg for as long as it plays) and skips 100 of
// them as fast as the member can: one ffmpeg is left, the last stream's,
// and none once /stop ends it.
func TestRapidSkipsLeaveNoFFmpeg(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := audiohost.Start(t)
	const tracks = 101
	radio := host.URL(audiohost.Radio)
	h.play(t, radio+"?n=0", "Playing **radio**.")
	for i := 1; i < tracks; i++ {
		h.play(t, fmt.Sprintf("%s?n=%d", radio, i), "Queued **radio**")
	}
	for range tracks - 1 {
		h.control(t, memberID, "Skipped **radio**.", "skip")
	}
	pid := h.bot.cmd.Process.Pid
	ctx, cancel := contextWithin(10 * time.Second)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, len(h.voice.Frames())+25); err != nil {
		t.Fatalf("the last stream does not play: %v", err)
	}
	waitDescendants(t, pid, 1, 10*time.Second)
	if n := len(descendants(t, pid)); n != 1 {
		t.Fatalf("%d processes under the bot while the last stream plays, want its ffmpeg", n)
	}
	h.control(t, memberID, "Stopped, cleared the queue and left the channel.", "stop")
	waitDescendants(t, pid, 0, 10*time.Second)
}

// TestStopSignalMidTrackLeavesNoFFmpeg sends SIGTERM while the radio (an
// endless MP3) is transcoded: the bot exits 0, and the ffmpeg it ran is gone with it.
func TestStopSignalMidTrackLeavesNoFFmpeg(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := audiohost.Start(t)
	h.play(t, host.URL(audiohost.Radio), "Playing **radio**.")
	ctx, cancel := contextWithin(10 * time.Second)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, 10); err != nil {
		t.Fatalf("no audio: %v", err)
	}
	children := descendants(t, h.bot.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatal("no ffmpeg runs under the bot while the radio plays")
	}
	h.bot.stop(t) // fails the test unless the bot exits 0
	for _, pid := range children {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d outlived the bot:%s", pid, commands([]int{pid}))
		}
	}
}

func contextWithin(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
