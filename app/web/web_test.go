package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
)

const (
	owner     music.UserID  = "100000000000000001"
	requester music.UserID  = "100000000000000002"
	manager   music.UserID  = "100000000000000003" // manages guildA too
	guildA    music.GuildID = "200000000000000001" // requester: Manage Server
	guildB    music.GuildID = "200000000000000002" // requester: Administrator
	guildC    music.GuildID = "200000000000000003" // requester: a plain member
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type notes struct {
	mu   sync.Mutex
	sent map[music.UserID][]string
}

func (n *notes) DirectMessage(_ context.Context, user music.UserID, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent[user] = append(n.sent[user], text)
	return nil
}

// front is a web front under test with its fake Discord and store.
type front struct {
	t       *testing.T
	h       *Handler
	srv     *httptest.Server
	discord *fakeDiscord
	store   *localstore.Store
	clock   *clock
	notes   *notes
	logs    *bytes.Buffer
}

func newFront(t *testing.T, edit ...func(*Config)) *front {
	t.Helper()
	f := &front{t: t, discord: newFakeDiscord(t), clock: &clock{now: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)},
		notes: &notes{sent: map[music.UserID][]string{}}, logs: &bytes.Buffer{}}
	st, err := localstore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	f.discord.addUser(owner)
	f.discord.addUser(requester,
		discordGuild{ID: guildA, Name: "Band <practice>", Permissions: "32"},
		discordGuild{ID: guildB, Name: "Choir", Permissions: "8"},
		discordGuild{ID: guildC, Name: "Elsewhere", Permissions: "1024"})
	f.discord.addUser(manager, discordGuild{ID: guildA, Name: "Band <practice>", Owner: true, Permissions: "0"})
	var handler http.Handler = http.NotFoundHandler()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	cfg := Config{
		PublicURL: f.srv.URL, Secret: bytes.Repeat([]byte("k"), 32),
		ApplicationID: testAppID, ClientSecret: testSecret, DiscordURL: f.discord.srv.URL,
		Owners: []music.UserID{owner}, Allowlist: st, Notifier: f.notes,
		Figures: func() []Figure { return []Figure{{"Voice connections", "3"}} },
		Now:     f.clock.Now, Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	for _, e := range edit {
		e(&cfg)
	}
	f.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler = f.h
	return f
}

// browser is one person's browser: its own cookies, redirects not followed.
type browser struct {
	f *front
	c *http.Client
}

func (f *front) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values) page {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
	b.f.checkNoSecrets(path, p.body+" "+p.location)
	return p
}

func (b *browser) get(path string) page { b.f.t.Helper(); return b.do(http.MethodGet, path, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from the page at path.
func (b *browser) csrf(path string) string {
	b.f.t.Helper()
	m := csrfField.FindStringSubmatch(b.get(path).body)
	if m == nil {
		b.f.t.Fatalf("%s has no CSRF token", path)
	}
	return m[1]
}

// post submits form with the CSRF token of the home page.
func (b *browser) post(path string, form url.Values) page {
	b.f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf("/"))
	return b.do(http.MethodPost, path, form)
}

// startSignIn posts the sign-in form and returns the authorize URL.
func (b *browser) startSignIn() string {
	b.f.t.Helper()
	p := b.post("/auth/login", nil)
	if p.status != http.StatusSeeOther {
		b.f.t.Fatalf("sign-in: status %d, want 303: %s", p.status, p.body)
	}
	return p.location
}

func callbackPath(code, state string) string {
	return "/auth/callback?" + url.Values{"code": {code}, "state": {state}}.Encode()
}

func (b *browser) signIn(user music.UserID) {
	b.f.t.Helper()
	code, state := b.f.discord.authorize(b.startSignIn(), user)
	if p := b.get(callbackPath(code, state)); p.status != http.StatusSeeOther {
		b.f.t.Fatalf("callback: status %d, want 303: %s", p.status, p.body)
	}
}

func (b *browser) request(guild music.GuildID) page {
	b.f.t.Helper()
	return b.post("/request", url.Values{"guild": {string(guild)}, "use_case": {"music for practice"}, "users": {"12"}})
}

// checkNoSecrets fails the test when a code, token or the client secret
// reached a page, a redirect other than Discord's, or the log.
func (f *front) checkNoSecrets(where, text string) {
	f.t.Helper()
	f.discord.mu.Lock()
	secrets := append([]string{testSecret}, f.discord.issued...)
	f.discord.mu.Unlock()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			f.t.Errorf("%s shows the secret %q", where, s)
		}
		if strings.Contains(f.logs.String(), s) {
			f.t.Errorf("the log holds the secret %q", s)
		}
	}
}

func wantStatus(t *testing.T, what string, p page, status int, text string) {
	t.Helper()
	if p.status != status || !strings.Contains(p.body, text) {
		t.Errorf("%s: status %d, want %d with %q; body:\n%s", what, p.status, status, text, p.body)
	}
}
