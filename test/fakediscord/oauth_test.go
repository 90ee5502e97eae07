package fakediscord_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iddv/timmybot/test/fakediscord"
)

const (
	clientSecret = "fake-client-secret"
	redirectURI  = "http://127.0.0.1:9/auth/callback?from=test"
	verifier     = "a-verifier-of-forty-three-characters-or-more-0123456789"
)

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newOAuthServer(t *testing.T) *fakediscord.Server {
	t.Helper()
	return fakediscord.New(t, fakediscord.Options{OAuth: fakediscord.OAuth{ClientSecret: clientSecret, RedirectURIs: []string{redirectURI}}})
}

// authorizeQuery is a valid authorize request's query.
func authorizeQuery(srv *fakediscord.Server) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {srv.ApplicationID()}, "scope": {"identify guilds"},
		"state": {"the-state"}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"},
	}
}

// openAuthorize sends the browser's GET /oauth2/authorize without following
// the redirect.
func openAuthorize(t *testing.T, srv *fakediscord.Server, q url.Values) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL() + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// authorizeCode signs user in and returns the code authorize redirects with.
func authorizeCode(t *testing.T, srv *fakediscord.Server, user string) string {
	t.Helper()
	srv.SignInAs(user)
	resp := openAuthorize(t, srv, authorizeQuery(srv))
	to, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || to.Query().Get("code") == "" {
		t.Fatalf("authorize answered %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	return to.Query().Get("code")
}

func TestAuthorize(t *testing.T) {
	srv := newOAuthServer(t)
	late := "http://127.0.0.1:10/auth/callback"
	srv.RegisterRedirectURI(late)
	tests := []struct {
		name     string
		signedIn string
		edit     func(url.Values)
		// wantStatus is the page's status when authorize does not redirect.
		wantStatus int
		// wantBack are the parameters of the redirect, besides state.
		wantBack []string
	}{
		{name: "consent", signedIn: "500000000000000001", edit: func(url.Values) {}, wantBack: []string{"code", "from"}},
		{name: "redirect URI registered later", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("redirect_uri", late) }, wantBack: []string{"code"}},
		{name: "nobody signed in", edit: func(url.Values) {}, wantStatus: http.StatusUnauthorized},
		{name: "unknown client", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("client_id", "1") }, wantStatus: http.StatusBadRequest},
		{name: "unregistered redirect URI", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/elsewhere") }, wantStatus: http.StatusBadRequest},
		{name: "redirect URI with another query", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/auth/callback") }, wantStatus: http.StatusBadRequest},
		{name: "token response type", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("response_type", "token") }, wantBack: []string{"error", "error_description", "from"}},
		{name: "unknown scope", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("scope", "identify admin") }, wantBack: []string{"error", "error_description", "from"}},
		{name: "no challenge", signedIn: "500000000000000001", edit: func(q url.Values) { q.Del("code_challenge") }, wantBack: []string{"error", "error_description", "from"}},
		{name: "plain challenge", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("code_challenge_method", "plain") }, wantBack: []string{"error", "error_description", "from"}},
		{name: "challenge not a digest", signedIn: "500000000000000001", edit: func(q url.Values) { q.Set("code_challenge", "short") }, wantBack: []string{"error", "error_description", "from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SignInAs(tt.signedIn)
			q := authorizeQuery(srv)
			tt.edit(q)
			resp := openAuthorize(t, srv, q)
			if tt.wantStatus != 0 {
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "<h1>") {
					t.Fatalf("authorize = %s, Location %q, page %q; want a %d page", resp.Status, resp.Header.Get("Location"), body, tt.wantStatus)
				}
				return
			}
			to, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("authorize = %s, Location %q; want a redirect", resp.Status, resp.Header.Get("Location"))
			}
			if got := to.Scheme + "://" + to.Host + to.Path; got != strings.Split(q.Get("redirect_uri"), "?")[0] {
				t.Errorf("redirected to %s, want %s", got, q.Get("redirect_uri"))
			}
			back := to.Query()
			if back.Get("state") != "the-state" {
				t.Errorf("state = %q, want it returned", back.Get("state"))
			}
			back.Del("state")
			var got []string
			for k := range back {
				got = append(got, k)
			}
			if diff := cmp.Diff(tt.wantBack, got, sortStrings); diff != "" {
				t.Errorf("redirect parameters (-want +got):\n%s", diff)
			}
		})
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// tokenAnswer is the token endpoint's JSON, success or OAuth2 error.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// exchange posts form to the token endpoint, with HTTP Basic client
// authentication when basic is set.
func exchange(t *testing.T, srv *fakediscord.Server, form url.Values, basic [2]string, contentType string) (int, tokenAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/api/v10/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if basic[0] != "" {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, a
}

func TestToken(t *testing.T) {
	srv := newOAuthServer(t)
	const user = "500000000000000002"
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	}
	basic := [2]string{srv.ApplicationID(), clientSecret}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		edit        func(url.Values)
		basic       [2]string
		contentType string
		wantStatus  int
		wantError   string
	}{
		{name: "basic client authentication", edit: func(url.Values) {}, basic: basic, contentType: formType, wantStatus: 200},
		{name: "client credentials in the form", edit: func(f url.Values) {
			f.Set("client_id", srv.ApplicationID())
			f.Set("client_secret", clientSecret)
		}, contentType: formType + "; charset=utf-8", wantStatus: 200},
		{name: "wrong secret", edit: func(url.Values) {}, basic: [2]string{srv.ApplicationID(), "guess"}, contentType: formType, wantStatus: 401, wantError: "invalid_client"},
		{name: "no client authentication", edit: func(url.Values) {}, contentType: formType, wantStatus: 401, wantError: "invalid_client"},
		{name: "another client", edit: func(url.Values) {}, basic: [2]string{"1", clientSecret}, contentType: formType, wantStatus: 401, wantError: "invalid_client"},
		{name: "JSON body", edit: func(url.Values) {}, basic: basic, contentType: "application/json", wantStatus: 400, wantError: "invalid_request"},
		{name: "refresh grant", edit: func(f url.Values) { f.Set("grant_type", "client_credentials") }, basic: basic, contentType: formType, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "wrong verifier", edit: func(f url.Values) { f.Set("code_verifier", verifier+"x") }, basic: basic, contentType: formType, wantStatus: 400, wantError: "invalid_grant"},
		{name: "no verifier", edit: func(f url.Values) { f.Del("code_verifier") }, basic: basic, contentType: formType, wantStatus: 400, wantError: "invalid_grant"},
		{name: "other redirect URI", edit: func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9/auth/callback") }, basic: basic, contentType: formType, wantStatus: 400, wantError: "invalid_grant"},
		{name: "unknown code", edit: func(f url.Values) { f.Set("code", "made-up") }, basic: basic, contentType: formType, wantStatus: 400, wantError: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := form(authorizeCode(t, srv, user))
			tt.edit(f)
			status, got := exchange(t, srv, f, tt.basic, tt.contentType)
			if status != tt.wantStatus || got.Error != tt.wantError {
				t.Fatalf("token = %d %+v, want %d with error %q", status, got, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got.AccessToken == "" || got.RefreshToken == "" || got.TokenType != "Bearer" || got.ExpiresIn != 604800 || got.Scope != "identify guilds" {
				t.Errorf("token answer %+v, want a week's bearer token for identify guilds", got)
			}
		})
	}
	t.Run("a code is used once", func(t *testing.T) {
		f := form(authorizeCode(t, srv, user))
		if status, got := exchange(t, srv, f, basic, formType); status != 200 {
			t.Fatalf("first exchange = %d %+v", status, got)
		}
		if status, got := exchange(t, srv, f, basic, formType); status != 400 || got.Error != "invalid_grant" {
			t.Fatalf("second exchange = %d %+v, want invalid_grant", status, got)
		}
	})
	t.Run("a failed exchange spends the code", func(t *testing.T) {
		f := form(authorizeCode(t, srv, user))
		f.Set("code_verifier", "wrong")
		exchange(t, srv, f, basic, formType)
		f.Set("code_verifier", verifier)
		if status, got := exchange(t, srv, f, basic, formType); status != 400 || got.Error != "invalid_grant" {
			t.Fatalf("exchange after a failed one = %d %+v, want invalid_grant", status, got)
		}
	})
}

// accessToken signs user in with scope and returns the access token.
func accessToken(t *testing.T, srv *fakediscord.Server, user, scope string) string {
	t.Helper()
	srv.SignInAs(user)
	q := authorizeQuery(srv)
	q.Set("scope", scope)
	to, err := url.Parse(openAuthorize(t, srv, q).Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {to.Query().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	status, got := exchange(t, srv, form, [2]string{srv.ApplicationID(), clientSecret}, "application/x-www-form-urlencoded")
	if status != 200 {
		t.Fatalf("token = %d %+v", status, got)
	}
	return got.AccessToken
}

func TestBearerRoutes(t *testing.T) {
	srv := newOAuthServer(t)
	owner := srv.AddUser(fakediscord.User{ID: "500000000000000003", Username: "alice", Guilds: []fakediscord.UserGuild{
		{ID: "600000000000000001", Name: "Band", Owner: true, Permissions: 1<<64 - 1},
		{Name: "Choir", Permissions: fakediscord.PermManageGuild},
	}})
	full := "Bearer " + accessToken(t, srv, owner.ID, "identify guilds")
	identifyOnly := "Bearer " + accessToken(t, srv, owner.ID, "identify")
	stranger := "Bearer " + accessToken(t, srv, "500000000000000004", "identify guilds")
	bot := "Bot " + srv.Token()
	tests := []struct {
		name, path, token string
		wantStatus        int
		want              any
	}{
		{name: "the signed-in user", path: "/api/v10/users/@me", token: full, wantStatus: 200,
			want: map[string]any{"id": owner.ID, "username": "alice", "global_name": "alice"}},
		{name: "a user never added", path: "/api/v10/users/@me", token: stranger, wantStatus: 200,
			want: map[string]any{"id": "500000000000000004", "username": "user0004", "global_name": "user0004"}},
		{name: "the bot user", path: "/api/v10/users/@me", token: bot, wantStatus: 200,
			want: map[string]any{"id": srv.BotUserID(), "username": "TimmyBot", "global_name": nil}},
		{name: "unknown bearer token", path: "/api/v10/users/@me", token: "Bearer made-up", wantStatus: 401},
		{name: "the user's guilds", path: "/api/v10/users/@me/guilds", token: full, wantStatus: 200,
			want: []any{
				map[string]any{"id": "600000000000000001", "name": "Band", "owner": true, "permissions": "18446744073709551615"},
				map[string]any{"id": owner.Guilds[1].ID, "name": "Choir", "owner": false, "permissions": "32"},
			}},
		{name: "a user in no guild", path: "/api/v10/users/@me/guilds", token: stranger, wantStatus: 200, want: []any{}},
		{name: "guilds without the guilds scope", path: "/api/v10/users/@me/guilds", token: identifyOnly, wantStatus: 403},
		{name: "guilds with the bot token", path: "/api/v10/users/@me/guilds", token: bot, wantStatus: 401},
	}
	// Compare the fields the cases name; Discord's answers carry more.
	named := map[string]bool{"id": true, "name": true, "username": true, "global_name": true, "owner": true, "permissions": true}
	keep := cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return !named[k] })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "GET", tt.path, tt.token, nil)
			if status != tt.wantStatus {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, status, body, tt.wantStatus)
			}
			if tt.want == nil {
				return
			}
			var got any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, keep); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}
