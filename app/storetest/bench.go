package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

// Meter measures what a backend costs besides time (DynamoDB's capacity
// units, say) around each measured operation.
type Meter interface {
	Reset()              // before a sub-benchmark
	Start()              // before each measured operation
	Stop()               // after it
	Report(b *testing.B) // after a sub-benchmark: report per-operation metrics
}

// BenchTrack is a typical entry: a title and a URL of common lengths.
func BenchTrack(i int) music.Track {
	return music.Track{
		Title:       fmt.Sprintf("Artist %d - A Song Title of Ordinary Length (Official Audio)", i),
		URL:         fmt.Sprintf("https://www.youtube.com/watch?v=%011d", i),
		Source:      "youtube",
		RequestedBy: userA,
	}
}

func benchTracks(n int) []music.Track {
	out := make([]music.Track, n)
	for i := range out {
		out[i] = BenchTrack(i)
	}
	return out
}

// Grow enqueues playlists of up to 500 tracks until the queue has n
// entries, which leaves it as playlists do.
func Grow(ctx context.Context, q music.QueueStore, g music.GuildID, n int) error {
	have, err := q.Len(ctx, g)
	for err == nil && have < n {
		k := min(500, n-have)
		_, err = q.Enqueue(ctx, g, benchTracks(k)...)
		have += k
	}
	return err
}

// resize makes the queue exactly n long.
func resize(ctx context.Context, q music.QueueStore, g music.GuildID, n int) error {
	have, err := q.Len(ctx, g)
	if err != nil {
		return err
	}
	if have > n {
		if _, err := q.Clear(ctx, g); err != nil {
			return err
		}
	}
	return Grow(ctx, q, g, n)
}

func enqueueOne(ctx context.Context, q music.QueueStore, g music.GuildID, _ int) error {
	_, err := q.Enqueue(ctx, g, BenchTrack(0))
	return err
}

// benchOp is one queue operation measured at a queue length: start is the
// length before the operation, run is measured, restore (not measured)
// brings the queue back to start.
type benchOp struct {
	name    string
	start   func(length int) int
	run     func(ctx context.Context, q music.QueueStore, g music.GuildID, length, i int) error
	restore func(ctx context.Context, q music.QueueStore, g music.GuildID, start int) error
}

func lengthAsIs(length int) int { return length }

var benchOps = []benchOp{
	{
		name:  "enqueue-500",
		start: func(length int) int { return min(length, music.MaxQueueLen-500) },
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, _ int) error {
			_, err := q.Enqueue(ctx, g, benchTracks(500)...)
			return err
		},
		restore: resize,
	},
	{
		name:  "enqueue-one",
		start: func(length int) int { return min(length, music.MaxQueueLen-1) },
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, i int) error {
			return enqueueOne(ctx, q, g, i)
		},
		restore: func(ctx context.Context, q music.QueueStore, g music.GuildID, _ int) error {
			_, err := q.Pop(ctx, g)
			return err
		},
	},
	{
		name:  "peek",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, _ int) error {
			_, err := q.Peek(ctx, g)
			return err
		},
	},
	{
		name:  "page-100",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, length, _ int) error {
			_, err := q.Page(ctx, g, max(0, length/2-50), 100)
			return err
		},
	},
	{
		name:  "skip",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, _ int) error {
			_, err := q.Pop(ctx, g)
			return err
		},
		restore: enqueueOne,
	},
	{
		name:  "remove-at-middle",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, length, _ int) error {
			_, err := q.RemoveAt(ctx, g, length/2)
			return err
		},
		restore: enqueueOne,
	},
	{
		name:  "move",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, length, i int) error {
			return q.Move(ctx, g, (i*7919+length-1)%length, (i*104729)%length)
		},
	},
	{
		name:  "shuffle",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, i int) error {
			return q.Shuffle(ctx, g, int64(i))
		},
	},
	{
		name:  "clear",
		start: lengthAsIs,
		run: func(ctx context.Context, q music.QueueStore, g music.GuildID, _, _ int) error {
			_, err := q.Clear(ctx, g)
			return err
		},
		restore: Grow,
	},
}

// BenchQueue measures each queue operation at queue lengths 10, 1,000 and
// 10,000 (for enqueues, the length that leaves room for them), as
// sub-benchmarks named "<operation>/len=<length>". meter may be nil.
func BenchQueue(b *testing.B, q music.QueueStore, meter Meter) {
	ctx := context.Background()
	for _, length := range []int{10, 1000, music.MaxQueueLen} {
		guild := music.GuildID(fmt.Sprintf("4%017d", length))
		for _, op := range benchOps {
			b.Run(fmt.Sprintf("%s/len=%d", op.name, length), func(b *testing.B) {
				start := op.start(length)
				if err := resize(ctx, q, guild, start); err != nil {
					b.Fatal(err)
				}
				if meter != nil {
					meter.Reset()
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if meter != nil {
						meter.Start()
					}
					err := op.run(ctx, q, guild, start, i)
					if meter != nil {
						meter.Stop()
					}
					if err != nil {
						b.Fatalf("%s: %v", op.name, err)
					}
					if op.restore != nil {
						b.StopTimer()
						if err := op.restore(ctx, q, guild, start); err != nil {
							b.Fatalf("restoring after %s: %v", op.name, err)
						}
						b.StartTimer()
					}
				}
				if meter != nil {
					meter.Report(b)
				}
			})
		}
	}
}
