package dynamostore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// TestCapacityIndependentOfLength checks the queue's cost target: the
// commands a user runs most consume the same read and write units on a
// queue of 10,000 entries as on one of 10.
func TestCapacityIndependentOfLength(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	m := &meter{API: client}
	s, err := dynamostore.New(m, dynamotest.NewTables(t, client))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops := []struct {
		name string
		run  func(g music.GuildID, length int) error
	}{
		{"enqueue one", func(g music.GuildID, _ int) error { _, err := s.Enqueue(ctx, g, storetest.BenchTrack(0)); return err }},
		{"peek", func(g music.GuildID, _ int) error { _, err := s.Peek(ctx, g); return err }},
		{"skip", func(g music.GuildID, _ int) error { _, err := s.Pop(ctx, g); return err }},
		{"remove at index", func(g music.GuildID, length int) error {
			_, err := s.RemoveAt(ctx, g, length/2)
			return err
		}},
	}
	type units struct{ RCU, WCU float64 }
	measure := func(length int) map[string]units {
		got := map[string]units{}
		for i, op := range ops {
			// A fresh queue of full pages and a partly filled last page,
			// as playlists leave it, with room for one more entry.
			g := music.GuildID(fmt.Sprintf("5%d%016d", i, length))
			if err := storetest.Grow(ctx, s, g, min(length, music.MaxQueueLen-1)); err != nil {
				t.Fatal(err)
			}
			m.Reset()
			m.set(true)
			err := op.run(g, length)
			m.set(false)
			if err != nil {
				t.Fatalf("%s at %d: %v", op.name, length, err)
			}
			rcu, wcu := m.units()
			got[op.name] = units{rcu, wcu}
		}
		return got
	}
	small, large := measure(10), measure(music.MaxQueueLen)
	t.Logf("capacity per operation at 10 entries: %+v", small)
	if diff := cmp.Diff(small, large); diff != "" {
		t.Errorf("capacity at 10 entries differs from 10,000 (-10 +10,000):\n%s", diff)
	}
}
