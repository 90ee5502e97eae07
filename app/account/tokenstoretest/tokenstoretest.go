// Package tokenstoretest holds the conformance tests every
// account.TokenStore passes, so that the local store and the AWS one keep
// the same contract. It owns no store of its own.
package tokenstoretest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
)

// Users the tests store links for.
const (
	Ada music.UserID = "100000000000000001"
	Bob music.UserID = "100000000000000002"
)

// Token is the tokens the tests save first.
var Token = account.Token{AccessToken: "access-secret-1", RefreshToken: "refresh-secret-1", Expiry: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}

// Link is the link the tests save for user and service.
func Link(user music.UserID, service account.Service) account.Link {
	return account.Link{User: user, Service: service, AccountName: "Ada", Scopes: []string{"a", "b"}, LinkedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

// Run runs every conformance test; open returns an empty store.
func Run(t *testing.T, open func(t *testing.T) account.TokenStore) {
	t.Run("RoundTrip", func(t *testing.T) { RoundTrip(t, open(t)) })
	t.Run("UpdateToken", func(t *testing.T) { UpdateToken(t, open(t)) })
	t.Run("RacingUpdates", func(t *testing.T) { RacingUpdates(t, open(t)) })
	t.Run("MarkBroken", func(t *testing.T) { MarkBroken(t, open(t)) })
}

func save(t *testing.T, s account.TokenStore, links ...account.Link) {
	t.Helper()
	for _, l := range links {
		if err := s.Save(context.Background(), l, Token); err != nil {
			t.Fatalf("Save %s/%s: %v", l.User, l.Service, err)
		}
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if music.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

// RoundTrip saves, lists, loads and deletes links of two users and checks
// that each operation touches only what it names.
func RoundTrip(t *testing.T, s account.TokenStore) {
	ctx := context.Background()
	save(t, s, Link(Ada, account.SoundCloud), Link(Ada, account.Spotify), Link(Bob, account.Spotify))
	tests := []struct {
		name string
		run  func() (any, error)
		want any
		code string
	}{
		{"links in service order", func() (any, error) { return s.Links(ctx, Ada) }, []account.Link{Link(Ada, account.Spotify), Link(Ada, account.SoundCloud)}, ""},
		{"load", func() (any, error) {
			l, tok, err := s.Load(ctx, Bob, account.Spotify)
			return []any{l, tok}, err
		}, []any{Link(Bob, account.Spotify), Token}, ""},
		{"load missing", func() (any, error) {
			_, _, err := s.Load(ctx, Bob, account.YouTube)
			return nil, err
		}, nil, music.ENOTFOUND},
		{"delete missing", func() (any, error) { return nil, s.Delete(ctx, Bob, account.YouTube) }, nil, music.ENOTFOUND},
		{"delete one", func() (any, error) {
			if err := s.Delete(ctx, Ada, account.SoundCloud); err != nil {
				return nil, err
			}
			return s.Links(ctx, Ada)
		}, []account.Link{Link(Ada, account.Spotify)}, ""},
		{"delete all of one user", func() (any, error) {
			gone, err := s.DeleteAll(ctx, Ada)
			if err != nil {
				return nil, err
			}
			left, err := s.Links(ctx, Ada)
			others, _ := s.Links(ctx, Bob)
			return []any{gone, len(left), len(others)}, err
		}, []any{[]account.Link{Link(Ada, account.Spotify)}, 0, 1}, ""},
		{"unknown service", func() (any, error) { return nil, s.Save(ctx, Link(Ada, "deezer"), Token) }, nil, music.EINVALID},
		{"bad user", func() (any, error) { return s.Links(ctx, "ada") }, nil, music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// UpdateToken checks the compare-and-swap: the new tokens replace the old
// ones only while the caller's refresh token is still the stored one.
func UpdateToken(t *testing.T, s account.TokenStore) {
	ctx := context.Background()
	save(t, s, Link(Ada, account.Spotify))
	if _, err := s.MarkBroken(ctx, Ada, account.Spotify); err != nil {
		t.Fatalf("MarkBroken: %v", err)
	}
	next := account.Token{AccessToken: "access-secret-2", RefreshToken: "refresh-secret-2", Expiry: Token.Expiry.Add(time.Hour)}
	if err := s.UpdateToken(ctx, Ada, account.Spotify, Token.RefreshToken, next); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	link, tok, err := s.Load(ctx, Ada, account.Spotify)
	if err != nil || tok != next || link.Broken || !reflect.DeepEqual(link, Link(Ada, account.Spotify)) {
		t.Fatalf("after the update: %#v, %#v, %v; want the link working with the new tokens", link, tok, err)
	}
	stale := account.Token{AccessToken: "access-secret-3", RefreshToken: "refresh-secret-3"}
	if err := s.UpdateToken(ctx, Ada, account.Spotify, Token.RefreshToken, stale); !errors.Is(err, account.ErrTokenChanged) {
		t.Fatalf("an update from the old refresh token: %v, want ErrTokenChanged", err)
	}
	if _, tok, _ := s.Load(ctx, Ada, account.Spotify); tok != next {
		t.Fatalf("a refused update changed the tokens to %#v", tok)
	}
	wantCode(t, s.UpdateToken(ctx, Bob, account.Spotify, "", next), music.ENOTFOUND)
}

// RacingUpdates runs eight updates from the same refresh token at once:
// exactly one wins, the others see ErrTokenChanged, and the winner's tokens
// are what is stored.
func RacingUpdates(t *testing.T, s account.TokenStore) {
	ctx := context.Background()
	save(t, s, Link(Ada, account.SoundCloud))
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := account.Token{AccessToken: "access-" + string(rune('a'+i)), RefreshToken: "refresh-" + string(rune('a'+i))}
			errs[i] = s.UpdateToken(ctx, Ada, account.SoundCloud, Token.RefreshToken, tok)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both replaced the tokens", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, account.ErrTokenChanged):
			t.Fatalf("racer %d: %v, want ErrTokenChanged", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer replaced the tokens")
	}
	_, tok, err := s.Load(ctx, Ada, account.SoundCloud)
	if err != nil || tok.RefreshToken != "refresh-"+string(rune('a'+winner)) {
		t.Fatalf("stored %#v, %v; want racer %d's tokens", tok, err, winner)
	}
}

// MarkBroken checks that a link turns broken once, keeps its tokens, and
// that only the first call reports the change.
func MarkBroken(t *testing.T, s account.TokenStore) {
	ctx := context.Background()
	save(t, s, Link(Ada, account.YouTube), Link(Bob, account.YouTube))
	for i, want := range []bool{true, false} {
		changed, err := s.MarkBroken(ctx, Ada, account.YouTube)
		if err != nil || changed != want {
			t.Fatalf("MarkBroken #%d = %v, %v; want %v", i+1, changed, err, want)
		}
	}
	link, tok, err := s.Load(ctx, Ada, account.YouTube)
	if err != nil || !link.Broken || tok != Token {
		t.Fatalf("a broken link loads as %#v, %#v, %v; want Broken with its tokens kept", link, tok, err)
	}
	if other, _, _ := s.Load(ctx, Bob, account.YouTube); other.Broken {
		t.Fatal("another user's link turned broken")
	}
	if _, err := s.MarkBroken(ctx, Bob, account.Spotify); music.ErrorCode(err) != music.ENOTFOUND {
		t.Fatalf("MarkBroken of a missing link: %v, want ENOTFOUND", err)
	}
}
