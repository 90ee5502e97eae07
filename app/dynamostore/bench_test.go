package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

// meter asks every request for its consumed capacity and adds it up while
// on: read units from reads, write units from writes.
type meter struct {
	dynamostore.API
	mu       sync.Mutex
	on       bool
	rcu, wcu float64
}

func (m *meter) add(write bool, ccs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.on {
		return
	}
	for _, cc := range ccs {
		if cc.CapacityUnits == nil {
			continue
		}
		if write {
			m.wcu += *cc.CapacityUnits
		} else {
			m.rcu += *cc.CapacityUnits
		}
	}
}

func (m *meter) set(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = on
}

func (m *meter) units() (rcu, wcu float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rcu, m.wcu
}

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcu, m.wcu = 0, 0
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

const total = types.ReturnConsumedCapacityTotal

func (m *meter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.GetItem(ctx, in, opts...)
	if err == nil {
		m.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.PutItem(ctx, in, opts...)
	if err == nil {
		m.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.DeleteItem(ctx, in, opts...)
	if err == nil {
		m.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.BatchGetItem(ctx, in, opts...)
	if err == nil {
		m.add(false, out.ConsumedCapacity...)
	}
	return out, err
}

func (m *meter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		m.add(true, out.ConsumedCapacity...)
	}
	return out, err
}

func (m *meter) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.Scan(ctx, in, opts...)
	if err == nil {
		m.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// benchTrack is a typical entry: a title and a URL of common lengths.
func benchTrack(i int) music.Track {
	return music.Track{
		Title:       fmt.Sprintf("Artist %d - A Song Title of Ordinary Length (Official Audio)", i),
		URL:         fmt.Sprintf("https://www.youtube.com/watch?v=%011d", i),
		Source:      "youtube",
		RequestedBy: "200000000000000001",
	}
}

func benchTracks(n int) []music.Track {
	out := make([]music.Track, n)
	for i := range out {
		out[i] = benchTrack(i)
	}
	return out
}

// benchOp is one queue operation measured at a queue length: start is the
// length before the operation, run is measured, restore (not measured)
// brings the queue back to start.
type benchOp struct {
	name    string
	start   func(length int) int
	run     func(ctx context.Context, s *dynamostore.Store, g music.GuildID, length, i int) error
	restore func(ctx context.Context, s *dynamostore.Store, g music.GuildID, start int) error
}

func lengthAsIs(length int) int { return length }

func refill(ctx context.Context, s *dynamostore.Store, g music.GuildID, start int) error {
	if _, err := s.Clear(ctx, g); err != nil {
		return err
	}
	return grow(ctx, s, g, start)
}

func enqueueOne(ctx context.Context, s *dynamostore.Store, g music.GuildID, _ int) error {
	_, err := s.Enqueue(ctx, g, benchTrack(0))
	return err
}

// grow enqueues playlists of up to 500 tracks until the queue has n entries.
func grow(ctx context.Context, s *dynamostore.Store, g music.GuildID, n int) error {
	have, err := s.Len(ctx, g)
	for err == nil && have < n {
		k := min(500, n-have)
		_, err = s.Enqueue(ctx, g, benchTracks(k)...)
		have += k
	}
	return err
}

var benchOps = []benchOp{
	{
		name:  "enqueue-500",
		start: func(length int) int { return min(length, music.MaxQueueLen-500) },
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, _ int) error {
			_, err := s.Enqueue(ctx, g, benchTracks(500)...)
			return err
		},
		restore: refill,
	},
	{
		name:  "enqueue-one",
		start: func(length int) int { return min(length, music.MaxQueueLen-1) },
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, _ int) error {
			return enqueueOne(ctx, s, g, 0)
		},
		restore: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _ int) error {
			_, err := s.Pop(ctx, g)
			return err
		},
	},
	{
		name:  "peek",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, _ int) error {
			_, err := s.Peek(ctx, g)
			return err
		},
	},
	{
		name:  "page-100",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, length, _ int) error {
			_, err := s.Page(ctx, g, max(0, length/2-50), 100)
			return err
		},
	},
	{
		name:  "skip",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, _ int) error {
			_, err := s.Pop(ctx, g)
			return err
		},
		restore: enqueueOne,
	},
	{
		name:  "remove-at-middle",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, length, _ int) error {
			_, err := s.RemoveAt(ctx, g, length/2)
			return err
		},
		restore: enqueueOne,
	},
	{
		name:  "move",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, length, i int) error {
			return s.Move(ctx, g, (i*7919+length-1)%length, (i*104729)%length)
		},
	},
	{
		name:  "shuffle",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, i int) error {
			return s.Shuffle(ctx, g, int64(i))
		},
	},
	{
		name:  "clear",
		start: lengthAsIs,
		run: func(ctx context.Context, s *dynamostore.Store, g music.GuildID, _, _ int) error {
			_, err := s.Clear(ctx, g)
			return err
		},
		restore: grow,
	},
}

// BenchmarkQueue measures each queue operation at queue lengths 10, 1,000
// and 10,000: latency on the local server, and the capacity units DynamoDB
// reports (dynalite computes them from item sizes by DynamoDB's rules:
// reads per started 4 KB, halved when eventually consistent; writes per
// started 1 KB of the larger of the old and new item).
func BenchmarkQueue(b *testing.B) {
	endpoint := dynamotest.Endpoint(b)
	client := dynamotest.Client(b, endpoint)
	names := dynamotest.NewTables(b, client)
	m := &meter{API: client}
	s, err := dynamostore.New(m, names)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, length := range []int{10, 1000, music.MaxQueueLen} {
		guild := music.GuildID(fmt.Sprintf("4%017d", length))
		for _, op := range benchOps {
			b.Run(fmt.Sprintf("%s/len=%d", op.name, length), func(b *testing.B) {
				start := op.start(length)
				if err := refillIfNeeded(ctx, s, guild, start); err != nil {
					b.Fatal(err)
				}
				m.reset()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m.set(true)
					err := op.run(ctx, s, guild, start, i)
					m.set(false)
					if err != nil {
						b.Fatalf("%s: %v", op.name, err)
					}
					if op.restore != nil {
						b.StopTimer()
						if err := op.restore(ctx, s, guild, start); err != nil {
							b.Fatalf("restoring after %s: %v", op.name, err)
						}
						b.StartTimer()
					}
				}
				rcu, wcu := m.units()
				b.ReportMetric(rcu/float64(b.N), "RCU/op")
				b.ReportMetric(wcu/float64(b.N), "WCU/op")
				b.ReportMetric(float64(start), "entries")
			})
		}
	}
}

// refillIfNeeded makes the queue exactly n long.
func refillIfNeeded(ctx context.Context, s *dynamostore.Store, g music.GuildID, n int) error {
	have, err := s.Len(ctx, g)
	if err != nil {
		return err
	}
	if have > n {
		return refill(ctx, s, g, n)
	}
	return grow(ctx, s, g, n)
}
