package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

const (
	testAppID  = "400000000000000001"
	testSecret = "client-secret-never-shown"
)

// fakeDiscord plays Discord's OAuth endpoints as its documentation
// describes them: codes bound to a PKCE challenge and a redirect URI, used
// once; bearer tokens for users/@me and users/@me/guilds.
type fakeDiscord struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	users  map[music.UserID][]discordGuild
	codes  map[string]grant
	tokens map[string]music.UserID
	issued []string // every code and token handed out, for leak checks
	n      int
}

type grant struct {
	user      music.UserID
	challenge string
	redirect  string
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{t: t, users: map[music.UserID][]discordGuild{}, codes: map[string]grant{}, tokens: map[string]music.UserID{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v10/oauth2/token", f.token)
	mux.HandleFunc("GET /api/v10/users/@me", f.me)
	mux.HandleFunc("GET /api/v10/users/@me/guilds", f.guilds)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDiscord) addUser(id music.UserID, guilds ...discordGuild) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = guilds
}

// authorize is the user consenting on Discord's authorize page: it checks
// the authorize URL and returns the code Discord would redirect with.
func (f *fakeDiscord) authorize(authURL string, user music.UserID) (code, state string) {
	f.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || u.Scheme+"://"+u.Host != f.srv.URL || u.Path != "/oauth2/authorize" {
		f.t.Fatalf("sign-in redirected to %q, want %s/oauth2/authorize", authURL, f.srv.URL)
	}
	q := u.Query()
	for key, want := range map[string]string{"response_type": "code", "client_id": testAppID, "scope": "identify guilds", "code_challenge_method": "S256"} {
		if q.Get(key) != want {
			f.t.Fatalf("authorize %s = %q, want %q", key, q.Get(key), want)
		}
	}
	if q.Get("state") == "" || len(q.Get("code_challenge")) != 43 {
		f.t.Fatalf("authorize has state %q and challenge %q", q.Get("state"), q.Get("code_challenge"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	code = fmt.Sprintf("code-%d-secret", f.n)
	f.codes[code] = grant{user: user, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	f.issued = append(f.issued, code)
	return code, q.Get("state")
}

func (f *fakeDiscord) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != testAppID || secret != testSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	f.n++
	tok := fmt.Sprintf("token-%d-secret", f.n)
	f.tokens[tok] = g.user
	f.issued = append(f.issued, tok)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 604800, "refresh_token": "refresh-" + tok, "scope": "identify guilds"})
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (f *fakeDiscord) bearer(w http.ResponseWriter, r *http.Request) (music.UserID, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	user, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message": "401: Unauthorized", "code": 0}`))
	}
	return user, ok
}

func (f *fakeDiscord) me(w http.ResponseWriter, r *http.Request) {
	if user, ok := f.bearer(w, r); ok {
		_ = json.NewEncoder(w).Encode(map[string]any{"id": user, "username": "user" + string(user[len(user)-2:]), "global_name": nil})
	}
}

func (f *fakeDiscord) guilds(w http.ResponseWriter, r *http.Request) {
	if user, ok := f.bearer(w, r); ok {
		f.mu.Lock()
		defer f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(f.users[user])
	}
}
