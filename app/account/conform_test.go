package account_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/iddv/timmybot/app/account"
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
