package account_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/flowstoretest"
	"github.com/iddv/timmybot/app/account/tokenstoretest"
)

// TestLocalTokensConform runs the TokenStore conformance tests.
func TestLocalTokensConform(t *testing.T) {
	tokenstoretest.Run(t, func(t *testing.T) account.TokenStore {
		key := make([]byte, account.KeyLen)
		rand.Read(key)
		s, err := account.OpenLocalTokens(filepath.Join(t.TempDir(), "tokens.db"), key)
		if err != nil {
			t.Fatalf("OpenLocalTokens: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestMemoryFlowsConform runs the PendingFlows conformance tests; every
// instance is the one store, as in one process.
func TestMemoryFlowsConform(t *testing.T) {
	flowstoretest.Run(t, func(t *testing.T, now func() time.Time) func() account.PendingFlows {
		s := account.NewMemoryFlows(now)
		return func() account.PendingFlows { return s }
	})
}
