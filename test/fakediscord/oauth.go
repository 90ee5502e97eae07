package fakediscord

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// OAuth is the OAuth2 side of the fake's application
// (https://discord.com/developers/docs/topics/oauth2): the authorization
// code grant with PKCE, and the user routes a bearer token opens.
type OAuth struct {
	// ClientSecret is the application's client secret. Empty: the token
	// endpoint refuses every client.
	ClientSecret string
	// RedirectURIs are the registered redirect URIs; authorize accepts
	// exactly these, and those RegisterRedirectURI adds.
	RedirectURIs []string
}

// User is a Discord user who signs in to a web front with OAuth2.
type User struct {
	ID       string // default: a new snowflake
	Username string // default: "user" and the ID's last four digits
	// Guilds are what GET /users/@me/guilds lists: every server the user
	// is in, whether or not the bot is.
	Guilds []UserGuild
}

// UserGuild is one entry of GET /users/@me/guilds.
type UserGuild struct {
	ID    string // default: a new snowflake
	Name  string // default: "Guild <ID>"
	Owner bool
	// Permissions are the user's permissions in the server (Discord sends
	// them as a decimal string).
	Permissions uint64
}

// Discord's permission bits the tests name.
const (
	PermAdministrator = 1 << 3
	PermManageGuild   = 1 << 5
)

// Lifetimes Discord hands out: an access token lasts a week.
const accessTokenLifetime = 604800 // seconds

// oauthScopes are the scopes authorize accepts.
var oauthScopes = []string{"identify", "email", "connections", "guilds", "guilds.join", "guilds.members.read"}

// oauthGrant is what a code or an access token stands for.
type oauthGrant struct {
	user      string
	scope     string
	challenge string // codes only
	redirect  string // codes only
}

// AddUser makes u known to the OAuth2 routes and returns it with defaults
// filled in. Adding a user again replaces them.
func (s *Server) AddUser(u User) User {
	if u.ID == "" {
		u.ID = s.NewID()
	}
	if u.Username == "" {
		u.Username = userFor(u.ID).name
	}
	u.Guilds = slices.Clone(u.Guilds)
	for i := range u.Guilds {
		if u.Guilds[i].ID == "" {
			u.Guilds[i].ID = s.NewID()
		}
		if u.Guilds[i].Name == "" {
			u.Guilds[i].Name = "Guild " + u.Guilds[i].ID
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
	return u
}

// SignInAs makes userID the user signed in to Discord in the browser: from
// now on every valid authorize request gets their consent at once and
// redirects back with a code, as Discord does for an application the user
// authorized before. A user not added with AddUser is in no server.
func (s *Server) SignInAs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedIn = userID
}

// RegisterRedirectURI registers one more redirect URI, for a web front
// whose address is known only once it listens.
func (s *Server) RegisterRedirectURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirectURIs = append(s.redirectURIs, uri)
}

// authorize is GET /oauth2/authorize, the page a browser is sent to.
// Errors in the client ID or redirect URI are shown on the page, never
// redirected (RFC 6749 section 4.1.2.1); the others go back to the
// redirect URI with error and state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked()
	if q.Get("client_id") != s.opts.ApplicationID {
		authorizePage(w, http.StatusBadRequest, "Unknown application", "The client_id is not an application.")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !slices.Contains(s.redirectURIs, q.Get("redirect_uri")) {
		authorizePage(w, http.StatusBadRequest, "Invalid OAuth2 redirect_uri", "The redirect_uri is not registered for this application.")
		return
	}
	back := func(params url.Values) {
		if state := q.Get("state"); state != "" {
			params.Set("state", state)
		}
		to := *redirect
		values := to.Query()
		for k, v := range params {
			values[k] = v
		}
		to.RawQuery = values.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	}
	refuse := func(code, description string) {
		s.stats.AuthorizeErrors++
		back(url.Values{"error": {code}, "error_description": {description}})
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		refuse("unsupported_response_type", "Only the code response type is supported.")
		return
	case len(scopes) == 0 || slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(oauthScopes, sc) }):
		refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
		return
	case q.Get("code_challenge_method") != "S256" || !validChallenge(q.Get("code_challenge")):
		refuse("invalid_request", "A code_challenge with code_challenge_method S256 is required.")
		return
	case s.signedIn == "":
		authorizePage(w, http.StatusUnauthorized, "Log in to Discord", "Nobody is signed in to this fake Discord; the test chooses who with SignInAs.")
		return
	}
	code := rand.Text()
	s.codes[code] = oauthGrant{user: s.signedIn, scope: strings.Join(scopes, " "), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	s.stats.Authorizations++
	back(url.Values{"code": {code}})
}

// validChallenge reports whether c can be a base64url SHA-256 digest.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

var authorizeTemplate = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Heading}} · Discord</title></head>
<body><h1>{{.Heading}}</h1><p>{{.Text}}</p></body></html>
`))

func authorizePage(w http.ResponseWriter, status int, heading, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = authorizeTemplate.Execute(w, struct{ Heading, Text string }{heading, text}) // the browser left
}

// oauthError is an OAuth2 error body (RFC 6749 section 5.2), which the
// token endpoint answers with instead of Discord's usual JSON error.
type oauthError struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func oauthFail(status int, code, description string) (int, any) {
	return status, &oauthError{status: status, Error: code, Description: description}
}

// postToken is POST /oauth2/token: the authorization code grant, with the
// client authenticated by HTTP Basic or by client_id and client_secret in
// the form. A code is used once, by the redirect URI it was issued for,
// with the verifier of its challenge.
func (s *Server) postToken(r *http.Request) (int, any) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return oauthFail(http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		return oauthFail(http.StatusBadRequest, "invalid_request", "The body could not be read.")
	}
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != s.opts.ApplicationID || secret == "" || secret != s.opts.OAuth.ClientSecret {
		return oauthFail(http.StatusUnauthorized, "invalid_client", "")
	}
	if form.Get("grant_type") != "authorization_code" {
		return oauthFail(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code, found := s.codes[form.Get("code")]
	delete(s.codes, form.Get("code")) // a code is spent by its first use, good or bad
	verifier := sha256.Sum256([]byte(form.Get("code_verifier")))
	switch {
	case !found:
		return oauthFail(http.StatusBadRequest, "invalid_grant", `Invalid "code" in request.`)
	case form.Get("redirect_uri") != code.redirect:
		return oauthFail(http.StatusBadRequest, "invalid_grant", `Invalid "redirect_uri" in request.`)
	case base64.RawURLEncoding.EncodeToString(verifier[:]) != code.challenge:
		return oauthFail(http.StatusBadRequest, "invalid_grant", `Invalid "code_verifier" in request.`)
	}
	access := rand.Text()
	s.tokens[access] = oauthGrant{user: code.user, scope: code.scope}
	s.stats.TokenGrants++
	return http.StatusOK, map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    accessTokenLifetime,
		"refresh_token": rand.Text(),
		"scope":         code.scope,
	}
}

// bearerKey is the request context's key of the grant behind a bearer
// token.
type bearerKey struct{}

// bearerGrant returns the grant of the request's bearer token, if it came
// with one.
func bearerGrant(r *http.Request) (oauthGrant, bool) {
	g, ok := r.Context().Value(bearerKey{}).(oauthGrant)
	return g, ok
}

// withBearer returns r carrying the grant of its bearer token, or false
// when the token is unknown.
func (s *Server) withBearer(r *http.Request, token string) (*http.Request, bool) {
	s.mu.Lock()
	g, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), bearerKey{}, g)), true
}

func (g oauthGrant) allows(scope string) bool {
	return slices.Contains(strings.Fields(g.scope), scope)
}

// userLocked returns a user by ID, made up when not added.
func (s *Server) userLocked(id string) User {
	if u, ok := s.users[id]; ok {
		return u
	}
	return User{ID: id, Username: userFor(id).name}
}

// getUserGuilds is GET /users/@me/guilds for a bearer token with the
// guilds scope.
func (s *Server) getUserGuilds(r *http.Request) (int, any) {
	g, _ := bearerGrant(r)
	if !g.allows("guilds") {
		return fail(errMissingAccess)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, ug := range s.userLocked(g.user).Guilds {
		out = append(out, map[string]any{
			"id": ug.ID, "name": ug.Name, "icon": nil, "banner": nil,
			"owner": ug.Owner, "permissions": strconv.FormatUint(ug.Permissions, 10), "features": []string{},
		})
	}
	return http.StatusOK, out
}
