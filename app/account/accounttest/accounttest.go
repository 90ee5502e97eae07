// Package accounttest is a fake of the OAuth 2.0 providers on a loopback
// address for tests of account linking. It serves the real providers'
// paths (account.Providers rebased onto it works): authorization endpoints
// that approve at once, token endpoints that check PKCE (S256), the
// redirect URI and the client, and use each code once, refresh grants that
// rotate refresh tokens as each service does (configurable), a revocation
// endpoint after which a refresh token answers invalid_grant, a switch that
// makes the token endpoints fail, counters of refreshes, and user-info
// endpoints naming the account in every provider's field, and (library.go)
// each provider's library API, a test double of the linked user's
// playlists, liked and top tracks. It owns nothing
// outside tests.
package accounttest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/account"
)

// Client credentials the fake accepts.
const (
	ClientID     = "fake-client-id"
	ClientSecret = "fake-client-secret-never-shown"
)

// Rotation is what a refresh grant does with the refresh token it used.
type Rotation int

const (
	// Keep answers without a refresh token: the old one stays (Google).
	Keep Rotation = iota
	// Rotate answers with a new refresh token; the old one keeps working
	// (Spotify may do either this or Keep).
	Rotate
	// SingleUse answers with a new refresh token and ends the old one
	// (SoundCloud).
	SingleUse
)

// Counts are a service's refresh grants: every request, and those granted.
type Counts struct {
	Requests, Granted int
}

// Provider is the fake.
type Provider struct {
	srv *httptest.Server
	// Account is the name the user-info endpoint answers with.
	Account string

	mu        sync.Mutex
	codes     map[string]grant // by code
	tokens    map[string]bool  // access and refresh tokens, true while valid
	issued    []string         // every code and token handed out, for leak checks
	revoked   []string
	rotation  map[account.Service]Rotation
	expiresIn int // seconds, in every token answer
	failing   bool
	refreshes map[account.Service]Counts

	libraries       map[account.Service]Library
	refusals        map[account.Service][]Refusal
	pageSize        int
	libraryRequests []string
	verifiers       []string // PKCE verifiers the token endpoint received
}

type grant struct {
	challenge string
	redirect  string
	scope     string
}

// New starts the fake; the test's cleanup stops it.
func New(t testing.TB) *Provider {
	t.Helper()
	routes := map[string]bool{}
	p := &Provider{
		Account: "Ada's music", codes: map[string]grant{}, tokens: map[string]bool{},
		rotation:  map[account.Service]Rotation{account.Spotify: Rotate, account.YouTube: Keep, account.SoundCloud: SingleUse},
		expiresIn: 3600, refreshes: map[account.Service]Counts{},
	}
	mux := http.NewServeMux()
	for service, real := range account.Providers() {
		for _, endpoint := range []struct {
			url     string
			method  string
			handler http.HandlerFunc
		}{{real.AuthURL, "GET", p.authorize}, {real.TokenURL, "POST", p.token(service)}, {real.RevokeURL, "POST", p.revoke}, {real.UserInfoURL, "GET", p.me}} {
			u, err := url.Parse(endpoint.url)
			if err != nil || endpoint.url == "" || routes[u.Path] {
				continue
			}
			routes[u.Path] = true
			mux.HandleFunc(endpoint.method+" "+u.Path, endpoint.handler)
		}
	}
	p.libraryRoutes(mux)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the fake's address.
func (p *Provider) URL() *url.URL {
	u, _ := url.Parse(p.srv.URL)
	return u
}

// Describe returns the real description of service rebased onto the fake,
// with the client the fake accepts.
func (p *Provider) Describe(service account.Service) account.Provider {
	d := account.Rebase(account.Providers()[service], p.URL())
	d.ClientID, d.ClientSecret = ClientID, ClientSecret
	return d
}

// Issued returns every code and token the fake handed out.
func (p *Provider) Issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.issued...)
}

// Revoked returns the tokens revoked so far.
func (p *Provider) Revoked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.revoked...)
}

// SetRotation sets what refresh grants of service do with the refresh
// token used. Default: Rotate for Spotify, Keep for YouTube, SingleUse for
// SoundCloud.
func (p *Provider) SetRotation(service account.Service, r Rotation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rotation[service] = r
}

// SetExpiresIn sets the lifetime of the access tokens handed out from now
// on. Default: one hour.
func (p *Provider) SetExpiresIn(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expiresIn = int(d / time.Second)
}

// FailTokens makes every token endpoint answer 500 while on.
func (p *Provider) FailTokens(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = on
}

// Refreshes returns the refresh grants service's token endpoint saw.
func (p *Provider) Refreshes(service account.Service) Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshes[service]
}

// Revoke ends a token at once, as a user removing the app in their
// account's settings does.
func (p *Provider) Revoke(tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens[tok] = false
}

// Works reports whether a token the fake handed out is still valid.
func (p *Provider) Works(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[tok]
}

func (p *Provider) newSecret(kind string) string {
	s := kind + "-" + rand.Text()
	p.issued = append(p.issued, s)
	return s
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" || q.Get("client_id") != ClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	code := p.newSecret("code")
	p.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), scope: q.Get("scope")}
	p.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// clientOK checks the client's credentials, by Basic authentication or in
// the form.
func clientOK(r *http.Request) bool {
	if id, secret, ok := r.BasicAuth(); ok {
		return id == ClientID && secret == ClientSecret
	}
	return r.PostFormValue("client_id") == ClientID && r.PostFormValue("client_secret") == ClientSecret
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// token serves service's token endpoint: the authorization-code and the
// refresh-token grants.
func (p *Provider) token(service account.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		failing := p.failing
		p.mu.Unlock()
		switch {
		case failing:
			oauthError(w, http.StatusInternalServerError, "server_error")
		case !clientOK(r):
			oauthError(w, http.StatusUnauthorized, "invalid_client")
		case r.PostFormValue("grant_type") == "refresh_token":
			p.refresh(w, r, service)
		default:
			p.exchange(w, r)
		}
	}
}

func (p *Provider) exchange(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	code := r.PostFormValue("code")
	p.verifiers = append(p.verifiers, r.PostFormValue("code_verifier"))
	g, ok := p.codes[code]
	delete(p.codes, code) // single use, even when refused
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if r.PostFormValue("grant_type") != "authorization_code" || !ok || g.redirect != r.PostFormValue("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	access, refresh := p.newSecret("access"), p.newSecret("refresh")
	p.tokens[access], p.tokens[refresh] = true, true
	p.answer(w, map[string]any{"access_token": access, "refresh_token": refresh, "scope": g.scope})
}

// refresh serves the refresh-token grant, rotating as service does.
func (p *Provider) refresh(w http.ResponseWriter, r *http.Request, service account.Service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts := p.refreshes[service]
	counts.Requests++
	p.refreshes[service] = counts
	used := r.PostFormValue("refresh_token")
	if !p.tokens[used] {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	counts.Granted++
	p.refreshes[service] = counts
	access := p.newSecret("access")
	p.tokens[access] = true
	ans := map[string]any{"access_token": access}
	if rotation := p.rotation[service]; rotation != Keep {
		next := p.newSecret("refresh")
		p.tokens[next] = true
		ans["refresh_token"] = next
		if rotation == SingleUse {
			p.tokens[used] = false
		}
	}
	p.answer(w, ans)
}

// answer writes a token answer with the fields every grant shares; the
// caller holds p.mu.
func (p *Provider) answer(w http.ResponseWriter, ans map[string]any) {
	ans["token_type"], ans["expires_in"] = "Bearer", p.expiresIn
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	if !clientOK(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tok := r.PostFormValue("token")
	if p.tokens[tok] {
		p.tokens[tok] = false
		p.revoked = append(p.revoked, tok)
	}
	w.WriteHeader(http.StatusOK)
}

func (p *Provider) me(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	valid := false
	if tok, ok := bearer(r); ok {
		valid = p.tokens[tok]
	}
	p.mu.Unlock()
	if !valid {
		oauthError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// Spotify's, SoundCloud's and YouTube's names of the account.
	_ = json.NewEncoder(w).Encode(map[string]any{
		"display_name": p.Account, "username": p.Account,
		"items": []any{map[string]any{"snippet": map[string]string{"title": p.Account}}},
	})
}

func bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok, ok && tok != ""
}

// OpenTokens opens a token file with a random key in the test's temporary
// directory; the test's cleanup closes it.
func OpenTokens(t testing.TB) *account.LocalTokens {
	t.Helper()
	key := make([]byte, account.KeyLen)
	rand.Read(key)
	tokens, err := account.OpenLocalTokens(filepath.Join(t.TempDir(), "tokens.db"), key)
	if err != nil {
		t.Fatalf("OpenLocalTokens: %v", err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	return tokens
}
