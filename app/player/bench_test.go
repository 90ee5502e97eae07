package player

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

// BenchmarkProvideOpusFrame measures one output tick with the buffer kept
// at least half full by a source that never ends.
func BenchmarkProvideOpusFrame(b *testing.B) {
	q, op := newMemQueue(), newFakeOpener()
	op.frame = make([]byte, 160)
	if _, err := q.Enqueue(context.Background(), testGuild, music.Track{Title: "live", URL: "https://tracks.test/live"}); err != nil {
		b.Fatal(err)
	}
	p := New(Config{Guild: testGuild, Queue: q, Opener: op})
	defer p.Close()
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	out := p.Output()
	waitForBuffer(b, p, DefaultBuffer)
	b.ReportAllocs()
	ticks := 0
	for b.Loop() {
		f, err := out.ProvideOpusFrame()
		if err != nil {
			b.Fatal(err)
		}
		if len(f) == 0 {
			b.Fatal("empty frame from a full buffer")
		}
		if ticks++; ticks%(DefaultBuffer/2) == 0 {
			// The benchmark outruns the reader: wait off the clock for
			// the next half buffer. Not for a full one: a reader that put a
			// frame during the last half rests before the output's take
			// that leaves half asks it to refill, and the next take would
			// come only after the wait.
			b.StopTimer()
			waitForBuffer(b, p, DefaultBuffer/2)
			b.StartTimer()
		}
	}
}

// BenchmarkHeapPerPlayer reports the Go heap and goroutine stacks one
// player costs, among 1000 of them, idle and playing (a full 3 s buffer of
// frames that all share one slice, so only the player's own memory counts).
func BenchmarkHeapPerPlayer(b *testing.B) {
	const players = 1000
	for _, playing := range []bool{false, true} {
		name := "idle"
		if playing {
			name = "playing"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				heap, stack := playersMemory(b, players, playing)
				b.ReportMetric(heap/players, "heap-bytes/player")
				b.ReportMetric(stack/players, "stack-bytes/player")
			}
		})
	}
}

func playersMemory(b *testing.B, n int, playing bool) (heap, stack float64) {
	q, op := newMemQueue(), newFakeOpener()
	op.frame = make([]byte, 160)
	guilds := make([]music.GuildID, n)
	for i := range guilds {
		guilds[i] = music.GuildID(fmt.Sprint(1000 + i))
		if _, err := q.Enqueue(context.Background(), guilds[i], music.Track{Title: "live", URL: "https://tracks.test/live"}); err != nil {
			b.Fatal(err)
		}
	}
	before := memStats()
	ps := make([]*Player, n)
	for i, g := range guilds {
		ps[i] = New(Config{Guild: g, Queue: q, Opener: op})
		if playing {
			if err := ps[i].Start(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if playing {
		for _, p := range ps {
			waitForBuffer(b, p, DefaultBuffer)
		}
	}
	after := memStats()
	for _, p := range ps {
		p.Close()
	}
	runtime.KeepAlive(ps)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc), float64(after.StackInuse) - float64(before.StackInuse)
}

func memStats() runtime.MemStats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func waitForBuffer(tb testing.TB, p *Player, n int) {
	tb.Helper()
	for p.Status().Buffered < n {
		runtime.Gosched()
	}
}
