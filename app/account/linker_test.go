package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

const (
	ada music.UserID = "100000000000000001"
	bob music.UserID = "100000000000000002"
)

// dms records direct messages.
type dms struct {
	mu   sync.Mutex
	sent []string
}

func (d *dms) DirectMessage(_ context.Context, user music.UserID, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, fmt.Sprintf("%s: %s", user, text))
	return nil
}

func (d *dms) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sent)
}

// rig is a Linker on a real token file and a fake provider, with its log
// captured.
type rig struct {
	cfg      account.Config
	linker   *account.Linker
	tokens   *account.LocalTokens
	provider *accounttest.Provider
	clock    *storetest.Clock
	sent     dms
	log      bytes.Buffer
	browser  music.UserID // signed in to the web front, "" for nobody
}

// newRig sets up Spotify and YouTube, and the further services named.
func newRig(t *testing.T, more ...account.Service) *rig {
	t.Helper()
	tokens := accounttest.OpenTokens(t)
	r := &rig{tokens: tokens, provider: accounttest.New(t), clock: storetest.NewClock()}
	providers := map[account.Service]account.Provider{}
	for _, s := range append([]account.Service{account.Spotify, account.YouTube}, more...) {
		providers[s] = r.provider.Describe(s)
	}
	r.cfg = account.Config{
		Providers:   providers,
		Tokens:      tokens,
		RedirectURI: "http://127.0.0.1:8080" + account.CallbackPath,
		Notifier:    &r.sent,
		SignedIn:    func(*http.Request) (music.UserID, bool) { return r.browser, r.browser != "" },
		Now:         r.clock.Now,
		Logger:      slog.New(slog.NewTextHandler(&syncWriter{w: &r.log}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	r.linker = r.newLinker(t, r.cfg)
	return r
}

func (r *rig) newLinker(t *testing.T, cfg account.Config) *account.Linker {
	t.Helper()
	l, err := account.New(cfg)
	if err != nil {
		t.Fatalf("account.New: %v", err)
	}
	return l
}

// syncWriter serialises the writes of loggers in several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// authorize plays the browser at the provider: it opens the authorization
// URL, which approves at once, and returns where it sends the browser back.
func (r *rig) authorize(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("opening the authorization URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the provider answered %s", resp.Status)
	}
	return resp.Header.Get("Location")
}

// callback delivers the provider's redirect to the Linker.
func (r *rig) callback(back string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r.linker.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, back, nil))
	return rec
}

// link runs the whole flow for user and returns the callback's answer.
func (r *rig) link(t *testing.T, user music.UserID, service account.Service) *httptest.ResponseRecorder {
	t.Helper()
	authURL, err := r.linker.Start(context.Background(), user, service)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r.callback(r.authorize(t, authURL))
}

// assertNoSecretsLogged fails if any code, token, state or verifier the
// flows used is in the log.
func (r *rig) assertNoSecretsLogged(t *testing.T, more ...string) {
	t.Helper()
	for _, s := range append(r.provider.Issued(), more...) {
		if s != "" && strings.Contains(r.log.String(), s) {
			t.Errorf("the log holds the secret %q:\n%s", s, r.log.String())
		}
	}
}

// TestLinkFlow links, checks what is stored and said, unlinks (revoking at
// the provider) and forgets.
func TestLinkFlow(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	rec := r.link(t, ada, account.Spotify)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Ada&#39;s music") {
		t.Fatalf("callback = %d %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	link, tok, err := r.tokens.Load(ctx, ada, account.Spotify)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	issued := r.provider.Issued() // code, access, refresh
	want := account.Link{User: ada, Service: account.Spotify, AccountName: "Ada's music", Scopes: account.Providers()[account.Spotify].Scopes, LinkedAt: r.clock.Now().UTC()}
	if fmt.Sprint(link) != fmt.Sprint(want) || tok.AccessToken != issued[1] || tok.RefreshToken != issued[2] || !tok.Expiry.Equal(r.clock.Now().Add(time.Hour)) {
		t.Fatalf("stored %+v %+v, want %+v with the issued tokens", link, tok, want)
	}
	if sent := r.sent.all(); len(sent) != 1 || !strings.HasPrefix(sent[0], string(ada)+": Your Spotify account **Ada's music** is now linked") {
		t.Fatalf("DMs = %q", sent)
	}

	// Spotify has no revocation endpoint; Google does.
	if revoked, err := r.linker.Unlink(ctx, ada, account.Spotify); err != nil || revoked {
		t.Fatalf("Unlink of Spotify = %v, %v; want unlinked, not revoked", revoked, err)
	}
	if _, err := r.linker.Unlink(ctx, ada, account.Spotify); music.ErrorCode(err) != music.ENOTFOUND {
		t.Fatalf("second Unlink: %v, want not found", err)
	}
	r.link(t, ada, account.YouTube)
	_, tok, err = r.tokens.Load(ctx, ada, account.YouTube)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if revoked, err := r.linker.Unlink(ctx, ada, account.YouTube); err != nil || !revoked {
		t.Fatalf("Unlink of YouTube = %v, %v; want revoked", revoked, err)
	}
	if got := r.provider.Revoked(); len(got) != 1 || got[0] != tok.RefreshToken {
		t.Fatalf("revoked %q, want the refresh token", got)
	}

	r.link(t, ada, account.Spotify)
	r.link(t, ada, account.YouTube)
	gone, err := r.linker.ForgetMe(ctx, ada)
	if err != nil || len(gone) != 2 || gone[0].Service != account.Spotify || gone[1].Service != account.YouTube {
		t.Fatalf("ForgetMe = %+v, %v", gone, err)
	}
	if got := r.provider.Revoked(); len(got) != 2 {
		t.Fatalf("revoked %q, want the second YouTube link's refresh token too", got)
	}
	if left, err := r.tokens.Links(ctx, ada); err != nil || len(left) != 0 {
		t.Fatalf("after ForgetMe: %+v, %v", left, err)
	}
	r.assertNoSecretsLogged(t)
}

// TestLinkRefused plays the attacks and failures the callback must refuse:
// each leaves no link, tells the user clearly and logs no secret.
func TestLinkRefused(t *testing.T) {
	tests := []struct {
		name   string
		back   func(t *testing.T, r *rig) string // the callback URL the browser brings
		status int
		says   string
	}{
		{"state replayed", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			back := r.authorize(t, authURL)
			if rec := r.callback(back); rec.Code != http.StatusOK {
				t.Fatalf("first callback = %d", rec.Code)
			}
			if _, err := r.tokens.DeleteAll(context.Background(), ada); err != nil {
				t.Fatal(err)
			}
			return back
		}, http.StatusBadRequest, "used already"},
		{"state expired", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			back := r.authorize(t, authURL)
			r.clock.Advance(10*time.Minute + time.Second)
			return back
		}, http.StatusBadRequest, "expired"},
		{"state forged", func(t *testing.T, r *rig) string {
			return account.CallbackPath + "?state=" + rand.Text() + "&code=anything"
		}, http.StatusBadRequest, "not valid"},
		{"state of another user", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			r.browser = bob
			return r.authorize(t, authURL)
		}, http.StatusBadRequest, "not made for you"},
		{"an earlier URL of the same link", func(t *testing.T, r *rig) string {
			first, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			if _, err := r.linker.Start(context.Background(), ada, account.Spotify); err != nil {
				t.Fatal(err)
			}
			return r.authorize(t, first)
		}, http.StatusBadRequest, "not valid"},
		{"verifier does not match", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			u, _ := url.Parse(authURL)
			q := u.Query()
			other := sha256.Sum256([]byte("someone else's verifier"))
			q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(other[:]))
			u.RawQuery = q.Encode()
			return r.authorize(t, u.String())
		}, http.StatusBadGateway, "Spotify did not accept the link"},
		{"a code made for another redirect URI", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			u, _ := url.Parse(authURL)
			q := u.Query()
			q.Set("redirect_uri", "https://elsewhere.example/callback")
			u.RawQuery = q.Encode()
			elsewhere, _ := url.Parse(r.authorize(t, u.String()))
			return account.CallbackPath + "?" + elsewhere.RawQuery
		}, http.StatusBadGateway, "Spotify did not accept the link"},
		{"refused at the provider", func(t *testing.T, r *rig) string {
			authURL, _ := r.linker.Start(context.Background(), ada, account.Spotify)
			u, _ := url.Parse(authURL)
			return account.CallbackPath + "?error=access_denied&state=" + url.QueryEscape(u.Query().Get("state"))
		}, http.StatusBadRequest, "cancelled or refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			back := tt.back(t, r)
			rec := r.callback(back)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.says) {
				t.Fatalf("callback = %d %s; want %d saying %q", rec.Code, rec.Body, tt.status, tt.says)
			}
			for _, u := range []music.UserID{ada, bob} {
				if links, err := r.tokens.Links(context.Background(), u); err != nil || len(links) != 0 {
					t.Fatalf("links of %s = %+v, %v; want none", u, links, err)
				}
			}
			u, _ := url.Parse(back)
			r.assertNoSecretsLogged(t, u.Query().Get("state"))
		})
	}
}

// TestRacingCallbacks brings one link's callback twice at once, as a
// double click or a replaying attacker would: exactly one completes it.
func TestRacingCallbacks(t *testing.T) {
	r := newRig(t)
	authURL, err := r.linker.Start(context.Background(), ada, account.Spotify)
	if err != nil {
		t.Fatal(err)
	}
	back := r.authorize(t, authURL)
	codes := make(chan int, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- r.callback(back).Code
		}()
	}
	wg.Wait()
	close(codes)
	var got []int
	for c := range codes {
		got = append(got, c)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{http.StatusOK, http.StatusBadRequest}) {
		t.Fatalf("callbacks answered %v, want one 200 and one 400", got)
	}
	if links, err := r.tokens.Links(context.Background(), ada); err != nil || len(links) != 1 {
		t.Fatalf("links = %+v, %v; want the one", links, err)
	}
}

// TestStartNotSetUp asks for services the bot has no client for.
func TestStartNotSetUp(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		service account.Service
		code    string
		says    string
	}{
		{account.SoundCloud, music.EINVALID, "Linking SoundCloud is not set up on this bot."},
		{"deezer", music.EINVALID, "not a service"},
	}
	for _, tt := range tests {
		t.Run(string(tt.service), func(t *testing.T) {
			_, err := r.linker.Start(context.Background(), ada, tt.service)
			if music.ErrorCode(err) != tt.code || !strings.Contains(music.ErrorMessage(err), tt.says) {
				t.Fatalf("Start = %v; want %s saying %q", err, tt.code, tt.says)
			}
		})
	}
}

// TestStartBoundsPendingFlows fills the flows under way: one more is
// refused until the others expire.
func TestStartBoundsPendingFlows(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	for i := range 1000 {
		if _, err := r.linker.Start(ctx, music.UserID(fmt.Sprint(200000000000000000+i)), account.Spotify); err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
	}
	if _, err := r.linker.Start(ctx, ada, account.Spotify); music.ErrorCode(err) != music.ECONFLICT {
		t.Fatalf("Start past the bound: %v, want a conflict", err)
	}
	r.clock.Advance(10 * time.Minute)
	if _, err := r.linker.Start(ctx, ada, account.Spotify); err != nil {
		t.Fatalf("Start after the others expired: %v", err)
	}
}
