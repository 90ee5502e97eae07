package web

import (
	"bytes"
	"context"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

// TestRequestApproveInvite follows the story: a requester signs
// in, requests access, sees it pending; an owner approves; the requester
// sees the invite link bound to the server.
func TestRequestApproveInvite(t *testing.T) {
	f := newFront(t)
	req := f.browser()
	wantStatus(t, "home before sign-in", req.get("/"), http.StatusOK, "Sign in with Discord")
	req.signIn(requester)

	p := req.get("/request")
	wantStatus(t, "request page", p, http.StatusOK, `<option value="`+string(guildA)+`">Band &lt;practice&gt;</option>`)
	if !strings.Contains(p.body, string(guildB)) || strings.Contains(p.body, string(guildC)) {
		t.Errorf("the request page must list the servers the user manages (%s, %s) and no other (%s):\n%s", guildA, guildB, guildC, p.body)
	}
	if p := req.request(guildA); p.status != http.StatusSeeOther || p.location != "/status" {
		t.Fatalf("submitting the request: status %d to %q, want 303 to /status: %s", p.status, p.location, p.body)
	}
	wantStatus(t, "status while pending", req.get("/status"), http.StatusOK, "Pending")
	if got := f.notes.sent[owner]; len(got) != 1 || !strings.Contains(got[0], string(guildA)) || !strings.Contains(got[0], "music for practice (expected users: 12)") {
		t.Errorf("the owner was told %q, want one message about %s with the use case", got, guildA)
	}

	own := f.browser()
	own.signIn(owner)
	d := own.get("/dashboard")
	wantStatus(t, "dashboard", d, http.StatusOK, `id="request-`+string(guildA)+`"`)
	for _, want := range []string{"Voice connections", "music for practice"} {
		if !strings.Contains(d.body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if p := own.post("/dashboard/approve", url.Values{"guild": {string(guildA)}}); p.status != http.StatusSeeOther {
		t.Fatalf("approving: status %d: %s", p.status, p.body)
	}
	wantStatus(t, "dashboard after approving", own.get("/dashboard"), http.StatusOK, `id="approved-`+string(guildA)+`"`)

	s := req.get("/status")
	wantStatus(t, "status once approved", s, http.StatusOK, "Approved")
	invite := InviteURL(testAppID, guildA)
	if !strings.Contains(html.UnescapeString(s.body), `href="`+invite+`"`) {
		t.Errorf("the status page lacks the invite link %s:\n%s", invite, s.body)
	}
	u, _ := url.Parse(invite)
	if q := u.Query(); q.Get("guild_id") != string(guildA) || q.Get("disable_guild_select") != "true" || q.Get("permissions") != "3165184" {
		t.Errorf("invite link %s is not bound to %s with the minimal permissions", invite, guildA)
	}

	if p := own.post("/dashboard/revoke", url.Values{"guild": {string(guildA)}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoking: status %d: %s", p.status, p.body)
	}
	wantStatus(t, "status once revoked", req.get("/status"), http.StatusOK, "None of your servers")
}

// TestDecline: the owner's reason reaches the requester's status page, and
// the requester may ask again.
func TestDecline(t *testing.T) {
	f := newFront(t)
	req, own := f.browser(), f.browser()
	req.signIn(requester)
	own.signIn(owner)
	req.request(guildB)
	if p := own.post("/dashboard/decline", url.Values{"guild": {string(guildB)}, "reason": {"full <for now>"}}); p.status != http.StatusSeeOther {
		t.Fatalf("declining: status %d: %s", p.status, p.body)
	}
	s := req.get("/status")
	wantStatus(t, "status once declined", s, http.StatusOK, "Declined")
	if !strings.Contains(s.body, "full &lt;for now&gt;") {
		t.Errorf("the status page lacks the owner's reason, escaped:\n%s", s.body)
	}
	wantStatus(t, "declining again", own.post("/dashboard/decline", url.Values{"guild": {string(guildB)}}), http.StatusNotFound, "no pending request")
	if p := req.request(guildB); p.status != http.StatusSeeOther {
		t.Errorf("asking again after a decline: status %d: %s", p.status, p.body)
	}
}

// TestRefusals covers every refusal of the pages.
func TestRefusals(t *testing.T) {
	f := newFront(t)
	anon, req, other := f.browser(), f.browser(), f.browser()
	req.signIn(requester)
	other.signIn(manager)
	req.request(guildB)
	good := func(b *browser) string { return b.csrf("/") }

	tests := []struct {
		name   string
		do     func() page
		status int
		text   string
	}{
		{"request page not signed in", func() page { return anon.get("/request") }, http.StatusUnauthorized, "Sign in with Discord"},
		{"status not signed in", func() page { return anon.get("/status") }, http.StatusUnauthorized, "Sign in first"},
		{"dashboard not signed in", func() page { return anon.get("/dashboard") }, http.StatusUnauthorized, "Sign in first"},
		{"request not signed in", func() page { return anon.request(guildA) }, http.StatusUnauthorized, "Sign in first"},
		{"dashboard not an owner", func() page { return req.get("/dashboard") }, http.StatusForbidden, "Owners only"},
		{"approve not an owner", func() page { return req.post("/dashboard/approve", url.Values{"guild": {string(guildB)}}) }, http.StatusForbidden, "Owners only"},
		{"request without CSRF", func() page {
			return req.do(http.MethodPost, "/request", url.Values{"guild": {string(guildA)}, "use_case": {"x"}, "users": {"1"}})
		}, http.StatusForbidden, "Form expired"},
		{"request with another session's CSRF", func() page {
			return req.do(http.MethodPost, "/request", url.Values{"csrf": {good(other)}, "guild": {string(guildA)}, "use_case": {"x"}, "users": {"1"}})
		}, http.StatusForbidden, "Form expired"},
		{"sign-in without CSRF", func() page { return anon.do(http.MethodPost, "/auth/login", url.Values{}) }, http.StatusForbidden, "Form expired"},
		{"sign-out with a wrong CSRF", func() page { return req.do(http.MethodPost, "/auth/logout", url.Values{"csrf": {"forged"}}) }, http.StatusForbidden, "Form expired"},
		{"lacking Manage Server", func() page { return req.request(guildC) }, http.StatusForbidden, "Manage Server"},
		{"not a member at all", func() page { return other.request(guildB) }, http.StatusForbidden, "Manage Server"},
		{"second request by the same user", func() page { return req.request(guildB) }, http.StatusConflict, "pending request already"},
		{"second request by another manager", func() page {
			req.request(guildA)
			return other.request(guildA)
		}, http.StatusConflict, "pending request already"},
		{"empty use case", func() page {
			return req.post("/request", url.Values{"guild": {string(guildA)}, "use_case": {" "}, "users": {"3"}})
		}, http.StatusBadRequest, "Say what you will use"},
		{"expected users not a number", func() page {
			return req.post("/request", url.Values{"guild": {string(guildA)}, "use_case": {"x"}, "users": {"many"}})
		}, http.StatusBadRequest, "whole number"},
		{"callback without a sign-in under way", func() page { return anon.get(callbackPath("c", "s")) }, http.StatusBadRequest, "expired or was used already"},
		{"callback with another state", func() page {
			code, _ := f.discord.authorize(anon.startSignIn(), requester)
			return anon.get(callbackPath(code, "forged"))
		}, http.StatusBadRequest, "did not start in this browser"},
		{"callback with an expired state", func() page {
			code, state := f.discord.authorize(anon.startSignIn(), requester)
			f.clock.Advance(flowLifetime)
			return anon.get(callbackPath(code, state))
		}, http.StatusBadRequest, "expired"},
		{"callback cancelled at Discord", func() page {
			_, state := f.discord.authorize(anon.startSignIn(), requester)
			return anon.get("/auth/callback?error=access_denied&state=" + url.QueryEscape(state))
		}, http.StatusBadRequest, "Sign-in cancelled"},
		{"callback with a code Discord refuses", func() page {
			_, state := f.discord.authorize(anon.startSignIn(), requester)
			return anon.get(callbackPath("made-up", state))
		}, http.StatusBadGateway, "Sign-in failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Advance(signInWindow) // each case starts within the rate limits
			wantStatus(t, tt.name, tt.do(), tt.status, tt.text)
		})
	}
}

// TestReplayedState: a callback replayed with the cookie that carried its
// state is refused, though the cookie is still intact.
func TestReplayedState(t *testing.T) {
	f := newFront(t)
	b := f.browser()
	code, state := f.discord.authorize(b.startSignIn(), requester)
	u, _ := url.Parse(f.srv.URL)
	flowCookies := b.c.Jar.Cookies(u)
	if p := b.get(callbackPath(code, state)); p.status != http.StatusSeeOther {
		t.Fatalf("first callback: status %d: %s", p.status, p.body)
	}
	replay := f.browser()
	replay.c.Jar.SetCookies(u, flowCookies)
	wantStatus(t, "replayed callback", replay.get(callbackPath(code, state)), http.StatusBadRequest, "used already")
}

func TestRateLimits(t *testing.T) {
	f := newFront(t)
	b := f.browser()
	for range signInsPerWindow {
		b.startSignIn()
	}
	wantStatus(t, "one sign-in too many", b.post("/auth/login", nil), http.StatusTooManyRequests, "Too many sign-ins")
	f.clock.Advance(signInWindow)
	b.startSignIn()
	for range signInsPerWindow - 1 {
		b.get(callbackPath("c", "s"))
	}
	wantStatus(t, "one callback too many", b.get(callbackPath("c", "s")), http.StatusTooManyRequests, "Too many sign-ins")
	f.clock.Advance(signInWindow)

	req := f.browser()
	req.signIn(requester)
	for range requestsPerWindow {
		req.request(guildC) // refused, but counted
	}
	wantStatus(t, "one request too many", req.request(guildA), http.StatusTooManyRequests, "Too many requests")
}

func TestSignInNotConfigured(t *testing.T) {
	f := newFront(t, func(c *Config) { c.ClientSecret = "" })
	b := f.browser()
	home := b.get("/")
	wantStatus(t, "home", home, http.StatusOK, "Sign-in is not configured")
	if strings.Contains(home.body, "Sign in with Discord") {
		t.Error("the home page offers a sign-in that cannot work")
	}
	wantStatus(t, "sign-in", b.do(http.MethodPost, "/auth/login", url.Values{}), http.StatusServiceUnavailable, "not configured")
}

func TestSessionCookie(t *testing.T) {
	f := newFront(t)
	b := f.browser()
	b.signIn(requester)
	resp, err := http.Get(f.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Cookies()
	if len(c) != 1 || c[0].Name != cookieName || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || c[0].Secure || c[0].MaxAge != int(sessionLifetime.Seconds()) {
		t.Errorf("cookie on a loopback front = %+v, want one HttpOnly, SameSite=Lax, not Secure, lasting %v", c, sessionLifetime)
	}
	if strings.Contains(c[0].Value, "token-") {
		t.Error("the cookie shows the access token")
	}
	f.clock.Advance(sessionLifetime)
	wantStatus(t, "an expired session", b.get("/request"), http.StatusUnauthorized, "Sign in first")

	tampered := f.browser()
	u, _ := url.Parse(f.srv.URL)
	tampered.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: c[0].Value[:len(c[0].Value)-2] + "AA"}})
	wantStatus(t, "a tampered cookie", tampered.get("/status"), http.StatusUnauthorized, "Sign in first")

	public := newFront(t, func(c *Config) { c.PublicURL = "https://bot.example.com" })
	rec := httptest.NewRecorder()
	public.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if c := rec.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookie on an https front = %+v, want Secure", c)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFront(t)
	h := f.browser().get("/").header
	for key, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
	} {
		if h.Get(key) != want {
			t.Errorf("%s = %q, want %q", key, h.Get(key), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' "+f.discord.srv.URL) {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestNewRefuses(t *testing.T) {
	base := func() Config {
		return Config{PublicURL: "https://bot.example.com", Secret: make([]byte, MinSecretLen), ApplicationID: testAppID, Allowlist: &failingStore{}, Notifier: &notes{}}
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"plain http off loopback", func(c *Config) { c.PublicURL = "http://bot.example.com" }},
		{"relative public URL", func(c *Config) { c.PublicURL = "/web" }},
		{"short secret", func(c *Config) { c.Secret = make([]byte, MinSecretLen-1) }},
		{"bad application ID", func(c *Config) { c.ApplicationID = "app" }},
		{"no store", func(c *Config) { c.Allowlist = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			if _, err := New(c); err == nil {
				t.Error("New accepted the configuration")
			}
		})
	}
	if _, err := New(base()); err != nil {
		t.Errorf("New refused a good configuration: %v", err)
	}
}

// TestStoreFailure: an internal failure shows a generic page and is
// logged; a domain error shows its own text.
func TestStoreFailure(t *testing.T) {
	f := newFront(t, func(c *Config) { c.Allowlist = &failingStore{} })
	own := f.browser()
	own.signIn(owner)
	p := own.get("/dashboard")
	wantStatus(t, "dashboard on a failing store", p, http.StatusInternalServerError, "That did not work")
	if strings.Contains(p.body, "disk on fire") || !strings.Contains(f.logs.String(), "disk on fire") {
		t.Errorf("an internal error must be logged, not shown; page:\n%s", p.body)
	}
}

// failingStore fails every call with an internal error.
type failingStore struct{ music.AllowlistStore }

func (failingStore) Requests(context.Context) ([]music.AccessRequest, error) {
	return nil, errors.New("disk on fire")
}

func TestInviteURL(t *testing.T) {
	tests := []struct {
		guild music.GuildID
		want  string
	}{
		{"", "https://discord.com/oauth2/authorize?client_id=" + testAppID + "&permissions=3165184&scope=bot+applications.commands"},
		{guildA, "https://discord.com/oauth2/authorize?client_id=" + testAppID + "&disable_guild_select=true&guild_id=" + string(guildA) + "&permissions=3165184&scope=bot+applications.commands"},
	}
	for _, tt := range tests {
		if got := InviteURL(testAppID, tt.guild); got != tt.want {
			t.Errorf("InviteURL(%q) = %s, want %s", tt.guild, got, tt.want)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "web.key")
	key, err := LoadOrCreateKey(path)
	if err != nil || len(key) != MinSecretLen {
		t.Fatalf("LoadOrCreateKey = %d bytes, %v", len(key), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(key, again) {
		t.Errorf("a second load returned another key (%v)", err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("a short key file was accepted")
	}
}

// TestSignedIn reads the signed-in user from the browser's cookie, as the
// account link callback does: a stranger's browser has nobody.
func TestSignedIn(t *testing.T) {
	f := newFront(t)
	b := f.browser()
	b.signIn(requester)
	u, _ := url.Parse(f.srv.URL)
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    music.UserID
	}{
		{"signed in", b.c.Jar.Cookies(u), requester},
		{"no cookie", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/link/callback", nil)
			for _, c := range tt.cookies {
				req.AddCookie(c)
			}
			got, ok := f.h.SignedIn(req)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("SignedIn = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}
