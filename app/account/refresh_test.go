package account_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/music"
)

// isTokenRequest reports whether r goes to a token endpoint.
func isTokenRequest(r *http.Request) bool {
	for _, p := range account.Providers() {
		if strings.HasSuffix(p.TokenURL, r.URL.Path) {
			return true
		}
	}
	return false
}

// hooked is a transport that runs before ahead of every token request and
// after on the provider's answer.
type hooked struct {
	before func(*http.Request)
	after  func(*http.Request, *http.Response)
}

func (h hooked) RoundTrip(r *http.Request) (*http.Response, error) {
	if !isTokenRequest(r) {
		return http.DefaultTransport.RoundTrip(r)
	}
	if h.before != nil {
		h.before(r)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if h.after != nil && err == nil {
		h.after(r, resp)
	}
	return resp, err
}

// slowBody is an answer whose body arrives once release is closed, or
// fails when the request's context ends first.
type slowBody struct {
	io.ReadCloser
	ctx     context.Context
	release <-chan struct{}
}

func (b *slowBody) Read(p []byte) (int, error) {
	select {
	case <-b.release:
		return b.ReadCloser.Read(p)
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	}
}

// loadHook is a TokenStore that runs onLoad after each Load.
type loadHook struct {
	account.TokenStore
	onLoad func()
}

func (s loadHook) Load(ctx context.Context, user music.UserID, service account.Service) (account.Link, account.Token, error) {
	link, tok, err := s.TokenStore.Load(ctx, user, service)
	s.onLoad()
	return link, tok, err
}

// linked links ada's account at service and returns the stored tokens.
func (r *rig) linked(t *testing.T, service account.Service) account.Token {
	t.Helper()
	if rec := r.link(t, ada, service); rec.Code != http.StatusOK {
		t.Fatalf("linking %s: %d %s", service, rec.Code, rec.Body)
	}
	return r.stored(t, service)
}

func (r *rig) stored(t *testing.T, service account.Service) account.Token {
	t.Helper()
	_, tok, err := r.tokens.Load(context.Background(), ada, service)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tok
}

func (r *rig) broken(t *testing.T, service account.Service) bool {
	t.Helper()
	link, _, err := r.tokens.Load(context.Background(), ada, service)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return link.Broken
}

// brokenDMs counts the messages telling ada a link stopped working.
func (r *rig) brokenDMs() int {
	n := 0
	for _, m := range r.sent.all() {
		if strings.Contains(m, "link stopped working") {
			n++
		}
	}
	return n
}

// TestAccessTokenRefresh checks when a token is renewed and what is stored
// of each service's answer.
func TestAccessTokenRefresh(t *testing.T) {
	tests := []struct {
		name     string
		service  account.Service
		rotation accounttest.Rotation
		after    time.Duration // from the link
		refresh  bool
		rotated  bool // a new refresh token is stored
	}{
		{"fresh: not refreshed", account.Spotify, accounttest.Rotate, time.Hour - 2*time.Minute - time.Second, false, false},
		{"Google within two minutes of expiry: no rotation", account.YouTube, accounttest.Keep, time.Hour - 2*time.Minute, true, false},
		{"Spotify without a new refresh token keeps the old", account.Spotify, accounttest.Keep, time.Hour - time.Minute, true, false},
		{"Spotify with a new refresh token stores it", account.Spotify, accounttest.Rotate, time.Hour - time.Minute, true, true},
		{"SoundCloud long expired: single-use rotation", account.SoundCloud, accounttest.SingleUse, 3 * time.Hour, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, account.SoundCloud)
			r.provider.SetRotation(tt.service, tt.rotation)
			before := r.linked(t, tt.service)
			r.clock.Advance(tt.after)

			got, err := r.linker.AccessToken(ctx, ada, tt.service)
			if err != nil {
				t.Fatalf("AccessToken: %v", err)
			}
			after := r.stored(t, tt.service)
			wantRequests := 0
			if tt.refresh {
				wantRequests = 1
			}
			if n := r.provider.Refreshes(tt.service); n.Requests != wantRequests || n.Granted != wantRequests {
				t.Fatalf("refreshes = %+v, want %d", n, wantRequests)
			}
			if refreshed := got != before.AccessToken; refreshed != tt.refresh || got != after.AccessToken || !r.provider.Works(got) {
				t.Fatalf("got a new token: %v, want %v; it is the stored one: %v; it works: %v", refreshed, tt.refresh, got == after.AccessToken, r.provider.Works(got))
			}
			if rotated := after.RefreshToken != before.RefreshToken; rotated != tt.rotated || !r.provider.Works(after.RefreshToken) {
				t.Fatalf("stored a new refresh token: %v, want %v; it works: %v", rotated, tt.rotated, r.provider.Works(after.RefreshToken))
			}
			if tt.refresh && !after.Expiry.Equal(r.clock.Now().Add(time.Hour)) {
				t.Fatalf("stored expiry %v, want an hour from now", after.Expiry)
			}
			// The renewed token is fresh: asking again goes nowhere.
			if again, err := r.linker.AccessToken(ctx, ada, tt.service); err != nil || again != got || r.provider.Refreshes(tt.service).Requests != wantRequests {
				t.Fatalf("second AccessToken = %v (same: %v), refreshes %+v", err, again == got, r.provider.Refreshes(tt.service))
			}
			r.assertNoSecretsLogged(t)
		})
	}
}

// TestAccessTokenOneRefreshAtATime asks for a stale token twenty times at
// once while the provider holds its answer: it sees one refresh, and every
// caller gets its token; a caller that gives up meanwhile returns at once
// without spoiling the others.
func TestAccessTokenOneRefreshAtATime(t *testing.T) {
	const callers = 20
	r := newRig(t, account.SoundCloud)
	r.linked(t, account.SoundCloud)
	var arrived atomic.Int32
	release := make(chan struct{})
	cfg := r.cfg
	cfg.HTTPClient = &http.Client{Transport: hooked{before: func(req *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}}}
	linker := r.newLinker(t, cfg)
	r.clock.Advance(time.Hour)

	tokens, errs := make([]string, callers), make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { tokens[i], errs[i] = linker.AccessToken(context.Background(), ada, account.SoundCloud) })
	}
	// Every caller is either waiting on a refresh or at the provider.
	for deadline := time.Now().Add(10 * time.Second); account.RefreshWaiters(linker)+int(arrived.Load()) < callers; {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers waiting, %d at the provider; want %d in all", account.RefreshWaiters(linker), arrived.Load(), callers)
		}
		time.Sleep(time.Millisecond)
	}
	impatient, cancel := context.WithCancel(context.Background())
	cancel()
	gaveUp := make(chan error, 1)
	go func() {
		_, err := linker.AccessToken(impatient, ada, account.SoundCloud)
		gaveUp <- err
	}()
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("AccessToken with an ended context: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("AccessToken with an ended context waited for the refresh")
	}
	close(release)
	wg.Wait()

	if n := r.provider.Refreshes(account.SoundCloud); n.Requests != 1 {
		t.Fatalf("the provider saw %+v refreshes, want 1", n)
	}
	stored := r.stored(t, account.SoundCloud)
	for i := range callers {
		if errs[i] != nil || tokens[i] != stored.AccessToken {
			t.Fatalf("caller %d: %v (the stored token: %v)", i, errs[i], tokens[i] == stored.AccessToken)
		}
	}
	if !r.provider.Works(stored.AccessToken) || !r.provider.Works(stored.RefreshToken) {
		t.Fatal("the stored tokens do not work")
	}
	r.assertNoSecretsLogged(t)
}

// TestAccessTokenRacingProcesses refreshes one link from two Linkers over
// the same store, as two bot processes would: the second's refresh starts
// from the tokens it read, and the first stores its refresh just before the
// second asks the provider.
func TestAccessTokenRacingProcesses(t *testing.T) {
	tests := []struct {
		name     string
		service  account.Service
		rotation accounttest.Rotation
		overlap  bool // the first refreshes while the second is under way
		want     accounttest.Counts
	}{
		{"one after the other: the second uses the stored token", account.SoundCloud, accounttest.SingleUse, false, accounttest.Counts{Requests: 1, Granted: 1}},
		{"a single-use token spent by the other", account.SoundCloud, accounttest.SingleUse, true, accounttest.Counts{Requests: 2, Granted: 1}},
		{"a rotated token stored by the other first", account.Spotify, accounttest.Rotate, true, accounttest.Counts{Requests: 2, Granted: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, account.SoundCloud)
			r.provider.SetRotation(tt.service, tt.rotation)
			r.linked(t, tt.service)
			var first string
			var firstErr error
			cfg := r.cfg
			var once sync.Once
			cfg.HTTPClient = &http.Client{Transport: hooked{before: func(*http.Request) {
				once.Do(func() { first, firstErr = r.linker.AccessToken(ctx, ada, tt.service) })
			}}}
			second := r.newLinker(t, cfg)
			r.clock.Advance(time.Hour)
			if !tt.overlap {
				first, firstErr = r.linker.AccessToken(ctx, ada, tt.service)
			}

			got, err := second.AccessToken(ctx, ada, tt.service)
			if err != nil || firstErr != nil {
				t.Fatalf("AccessToken: first %v, second %v", firstErr, err)
			}
			stored := r.stored(t, tt.service)
			if got != first || got != stored.AccessToken || !r.provider.Works(got) || !r.provider.Works(stored.RefreshToken) {
				t.Fatalf("both have the stored token: %v; it works: %v; the stored refresh token works: %v",
					got == first && got == stored.AccessToken, r.provider.Works(got), r.provider.Works(stored.RefreshToken))
			}
			if n := r.provider.Refreshes(tt.service); n != tt.want {
				t.Fatalf("the provider saw %+v refreshes, want %+v", n, tt.want)
			}
			if r.broken(t, tt.service) || r.brokenDMs() != 0 {
				t.Fatalf("the link broke (%v) or the user was told so (%d)", r.broken(t, tt.service), r.brokenDMs())
			}
			r.assertNoSecretsLogged(t)
		})
	}
}

// TestAccessTokenRevoked refreshes a token the user revoked at the
// provider: the link turns broken, the user is told once however many
// callers and processes find out, and linking again mends it.
func TestAccessTokenRevoked(t *testing.T) {
	tests := []struct {
		name string
		// ask asks for the token the ways the bot would, returning errors.
		ask func(r *rig, second *account.Linker) []error
		// racing: the first Linker refreshes while the second is under way.
		racing bool
	}{
		{"asked three times", func(r *rig, _ *account.Linker) []error {
			var errs []error
			for range 3 {
				_, err := r.linker.AccessToken(context.Background(), ada, account.SoundCloud)
				errs = append(errs, err)
			}
			return errs
		}, false},
		{"two processes at once", func(r *rig, second *account.Linker) []error {
			_, err := second.AccessToken(context.Background(), ada, account.SoundCloud)
			return []error{err}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, account.SoundCloud)
			r.provider.Revoke(r.linked(t, account.SoundCloud).RefreshToken)
			var firstErr error
			var once sync.Once
			cfg := r.cfg
			cfg.HTTPClient = &http.Client{Transport: hooked{before: func(*http.Request) {
				once.Do(func() { _, firstErr = r.linker.AccessToken(context.Background(), ada, account.SoundCloud) })
			}}}
			second := r.newLinker(t, cfg)
			r.clock.Advance(time.Hour)

			errs := tt.ask(r, second)
			if tt.racing {
				errs = append(errs, firstErr)
			}
			for i, err := range errs {
				if music.ErrorCode(err) != music.EINVALID || !strings.Contains(music.ErrorMessage(err), "Your SoundCloud link no longer works: run /link soundcloud again.") {
					t.Fatalf("AccessToken #%d: %v, want the broken link's message", i+1, err)
				}
			}
			if !r.broken(t, account.SoundCloud) {
				t.Fatal("the link is not marked broken")
			}
			if n := r.brokenDMs(); n != 1 {
				t.Fatalf("%d messages say the link stopped working, want 1: %q", n, r.sent.all())
			}
			sent := r.sent.all()
			if last := sent[len(sent)-1]; !strings.Contains(last, "Your SoundCloud link stopped working") || !strings.Contains(last, "/link soundcloud") {
				t.Fatalf("the message = %q", last)
			}

			r.linked(t, account.SoundCloud)
			if r.broken(t, account.SoundCloud) {
				t.Fatal("linking again left the link broken")
			}
			got, err := r.linker.AccessToken(context.Background(), ada, account.SoundCloud)
			if err != nil || !r.provider.Works(got) {
				t.Fatalf("AccessToken after linking again: %v (works: %v)", err, r.provider.Works(got))
			}
			r.assertNoSecretsLogged(t)
		})
	}
}

// TestAccessTokenProviderDown refreshes while the token endpoint fails: a
// transient error, the link stays working, and an early renewal still
// serves the current token.
func TestAccessTokenProviderDown(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		current bool // the current token is returned
	}{
		{"early renewal", time.Hour - 90*time.Second, true},
		{"expired", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t)
			before := r.linked(t, account.YouTube)
			r.provider.FailTokens(true)
			r.clock.Advance(tt.after)
			got, err := r.linker.AccessToken(ctx, ada, account.YouTube)
			switch {
			case tt.current && (err != nil || got != before.AccessToken):
				t.Fatalf("AccessToken = %v (the current token: %v), want the current token", err, got == before.AccessToken)
			case !tt.current && (music.ErrorCode(err) != music.EUNAVAILABLE || music.ErrorMessage(err) != "YouTube is not answering right now; try again in a moment."):
				t.Fatalf("AccessToken: %v, want YouTube unavailable", err)
			}
			if r.broken(t, account.YouTube) || r.brokenDMs() != 0 {
				t.Fatal("a failing provider broke the link")
			}
			r.provider.FailTokens(false)
			r.clock.Advance(time.Minute)
			if got, err := r.linker.AccessToken(ctx, ada, account.YouTube); err != nil || got == before.AccessToken || !r.provider.Works(got) {
				t.Fatalf("AccessToken once the provider is back: %v", err)
			}
			r.assertNoSecretsLogged(t)
		})
	}
}

// TestAccessTokenCallerGivesUp ends the context of the only caller while
// the provider's answer is on its way: the refresh still stores the rotated
// tokens, so the single-use refresh token it spent is not lost.
func TestAccessTokenCallerGivesUp(t *testing.T) {
	r := newRig(t, account.SoundCloud)
	r.linked(t, account.SoundCloud)
	answered, release := make(chan struct{}), make(chan struct{})
	cfg := r.cfg
	cfg.HTTPClient = &http.Client{Transport: hooked{after: func(req *http.Request, resp *http.Response) {
		close(answered)
		resp.Body = &slowBody{ReadCloser: resp.Body, ctx: req.Context(), release: release}
	}}}
	linker := r.newLinker(t, cfg)
	r.clock.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := linker.AccessToken(ctx, ada, account.SoundCloud)
		gaveUp <- err
	}()
	<-answered
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("AccessToken: %v, want context.Canceled", err)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); account.RefreshWaiters(linker) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refresh did not end")
		}
	}
	got, err := r.linker.AccessToken(context.Background(), ada, account.SoundCloud)
	if err != nil || !r.provider.Works(got) {
		t.Fatalf("AccessToken after the refresh ended: %v (works: %v)", err, r.provider.Works(got))
	}
	if n := r.provider.Refreshes(account.SoundCloud); n.Requests != 1 {
		t.Fatalf("the provider saw %+v refreshes, want 1", n)
	}
	r.assertNoSecretsLogged(t)
}

// TestAccessTokenAfterARefreshEnded reads a stale token just before another
// call's refresh ends: its own refresh finds the stored token fresh and
// asks the provider nothing.
func TestAccessTokenAfterARefreshEnded(t *testing.T) {
	r := newRig(t)
	r.linked(t, account.Spotify)
	var linker *account.Linker
	var asked atomic.Bool
	var otherErr error
	cfg := r.cfg
	cfg.Tokens = loadHook{TokenStore: r.tokens, onLoad: func() {
		if asked.CompareAndSwap(false, true) {
			_, otherErr = linker.AccessToken(context.Background(), ada, account.Spotify)
		}
	}}
	linker = r.newLinker(t, cfg)
	r.clock.Advance(time.Hour)
	got, err := linker.AccessToken(context.Background(), ada, account.Spotify)
	if err != nil || otherErr != nil || got != r.stored(t, account.Spotify).AccessToken {
		t.Fatalf("AccessToken = %v, the other call %v; want the stored token", err, otherErr)
	}
	if n := r.provider.Refreshes(account.Spotify); n.Requests != 1 {
		t.Fatalf("the provider saw %+v refreshes, want 1", n)
	}
}

// TestRejectedRenewsOnce tells the linker the provider refused a token
// before its expiry: it renews once and hands out the new token; a token
// another renewal replaced already needs no request; a refused renewal
// breaks the link with one DM.
func TestRejectedRenewsOnce(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, account.SoundCloud)
	first := r.linked(t, account.SoundCloud)
	renewed, err := r.linker.Rejected(ctx, ada, account.SoundCloud, first.AccessToken)
	if err != nil || renewed == first.AccessToken || renewed != r.stored(t, account.SoundCloud).AccessToken {
		t.Fatalf("Rejected = %q, %v; want the newly stored token", renewed, err)
	}
	if n := r.provider.Refreshes(account.SoundCloud); n.Requests != 1 {
		t.Fatalf("refreshes %+v, want 1", n)
	}
	// The old token again (a caller that read it before the renewal).
	if again, err := r.linker.Rejected(ctx, ada, account.SoundCloud, first.AccessToken); err != nil || again != renewed {
		t.Fatalf("Rejected of a replaced token = %q, %v; want %q", again, err, renewed)
	}
	if n := r.provider.Refreshes(account.SoundCloud); n.Requests != 1 {
		t.Fatalf("a replaced token was renewed again: refreshes %+v", n)
	}
	r.provider.Revoke(r.stored(t, account.SoundCloud).RefreshToken)
	for range 2 {
		if _, err := r.linker.Rejected(ctx, ada, account.SoundCloud, renewed); music.ErrorCode(err) != music.EINVALID {
			t.Fatalf("Rejected after a revocation = %v, want the link broken", err)
		}
	}
	if !r.broken(t, account.SoundCloud) || r.brokenDMs() != 1 {
		t.Fatalf("broken %v with %d DMs; want broken, told once", r.broken(t, account.SoundCloud), r.brokenDMs())
	}
	r.assertNoSecretsLogged(t)
}
