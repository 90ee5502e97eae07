package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

const (
	ada music.UserID = "100000000000000001"
	bob music.UserID = "100000000000000002"
)

func newKey() []byte {
	k := make([]byte, KeyLen)
	rand.Read(k)
	return k
}

func mustOpenTokens(tb testing.TB, path string, key []byte) *LocalTokens {
	tb.Helper()
	s, err := OpenLocalTokens(path, key)
	if err != nil {
		tb.Fatalf("OpenLocalTokens: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

var testToken = Token{AccessToken: "access-secret-1", RefreshToken: "refresh-secret-1", Expiry: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}

func testLink(user music.UserID, service Service) Link {
	return Link{User: user, Service: service, AccountName: "Ada", Scopes: []string{"a", "b"}, LinkedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

// TestLocalTokensAtRest checks what reaches the disk: a 0600 file with no
// token in the clear, and a sealed token that does not open in another
// user's record.
func TestLocalTokensAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokens.db")
	key := newKey()
	s := mustOpenTokens(t, path, key)
	if err := s.Save(ctx, testLink(ada, Spotify), testToken); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := s.Save(ctx, testLink(bob, Spotify), Token{AccessToken: "bob-access"}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the file: %v", err)
	}
	for _, secret := range []string{testToken.AccessToken, testToken.RefreshToken, "bob-access"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the file holds %q in the clear", secret)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	// Put Ada's record under Bob's key: its token must not open there.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		return b.Put(recordKey(bob, Spotify), bytes.Clone(b.Get(recordKey(ada, Spotify))))
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatalf("swapping records: %v, %v", err, cerr)
	}
	s = mustOpenTokens(t, path, key)
	if _, tok, err := s.Load(ctx, bob, Spotify); !errors.Is(err, ErrWrongKey) || tok != (Token{}) {
		t.Fatalf("Load of a moved record = %+v, %v; want nothing and ErrWrongKey", tok, err)
	}
}

// TestLocalTokensWrongKey opens a file with another key: the open fails
// with ErrWrongKey, so nothing is returned; a key of the wrong length is
// refused before the file is touched.
func TestLocalTokensWrongKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.db")
	s := mustOpenTokens(t, path, newKey())
	if err := s.Save(context.Background(), testLink(ada, Spotify), testToken); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	tests := []struct {
		name string
		key  []byte
		is   error
	}{
		{"another key", newKey(), ErrWrongKey},
		{"short key", newKey()[:16], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenLocalTokens(path, tt.key)
			if err == nil {
				s.Close()
				t.Fatal("OpenLocalTokens succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
}
