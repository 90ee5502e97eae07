package dynamostore_test

import (
	"testing"
	"time"

	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/storetest"
)

// newStore returns a store on names through a client of its own.
func newStore(t testing.TB, endpoint string, names dynamostore.TableNames, opts ...dynamostore.Option) *dynamostore.Store {
	t.Helper()
	s, err := dynamostore.New(dynamotest.Client(t, endpoint), names, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) func() storetest.Stores {
		names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
		// Each call is a separate client with its own connections, as a
		// second bot task would have.
		return func() storetest.Stores {
			s := newStore(t, endpoint, names, dynamostore.WithClock(now))
			return storetest.Stores{Queue: s, Allowlist: s, Preferences: s, Playlists: s, Cache: s, Requesters: s}
		}
	})
}
