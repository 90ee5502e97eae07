package fakediscord

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiError is Discord's JSON error body with its HTTP status.
type apiError struct {
	status  int
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors,omitempty"`
}

// Discord errors the fake answers with
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
var (
	errUnauthorized     = &apiError{status: 401, Code: 0, Message: "401: Unauthorized"}
	errNotFound         = &apiError{status: 404, Code: 0, Message: "404: Not Found"}
	errUnknownChannel   = &apiError{status: 404, Code: 10003, Message: "Unknown Channel"}
	errUnknownGuild     = &apiError{status: 404, Code: 10004, Message: "Unknown Guild"}
	errUnknownMessage   = &apiError{status: 404, Code: 10008, Message: "Unknown Message"}
	errUnknownWebhook   = &apiError{status: 404, Code: 10015, Message: "Unknown Webhook"}
	errUnknownInteract  = &apiError{status: 404, Code: 10062, Message: "Unknown interaction"}
	errMissingAccess    = &apiError{status: 403, Code: 50001, Message: "Missing Access"}
	errAlreadyAcked     = &apiError{status: 400, Code: 40060, Message: "Interaction has already been acknowledged."}
	errInvalidJSON      = &apiError{status: 400, Code: 50109, Message: "The request body contains invalid JSON."}
	errCannotDMYourself = &apiError{status: 400, Code: 50007, Message: "Cannot send messages to this user"}
)

// RESTError is an error the fake answered a REST request with.
type RESTError struct {
	Method, Path string
	Status       int
	Code         int // Discord's JSON error code
	Message      string
}

// RESTErrors returns the errors the fake answered REST requests with
// (unauthorized requests and unknown routes aside), oldest first. A test of a
// well-behaved bot expects none.
func (s *Server) RESTErrors() []RESTError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RESTError(nil), s.restErrors...)
}

// formErrors collects Discord's "Invalid Form Body" (50035) errors, keyed
// by the path of the offending field in the request body.
type formErrors struct {
	items []formError
}

type formError struct {
	path          []string
	code, message string
}

func (f *formErrors) add(path []string, code, message string) {
	f.items = append(f.items, formError{path: append([]string(nil), path...), code: code, message: message})
}

func (f *formErrors) err() *apiError {
	if len(f.items) == 0 {
		return nil
	}
	root := map[string]any{}
	for _, it := range f.items {
		node := root
		for _, k := range it.path {
			child, ok := node[k].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[k] = child
			}
			node = child
		}
		list, _ := node["_errors"].([]any)
		node["_errors"] = append(list, map[string]string{"code": it.code, "message": it.message})
	}
	return &apiError{status: 400, Code: 50035, Message: "Invalid Form Body", Errors: root}
}

// authMode says whether a route needs the bot token.
type authMode int

const (
	authBot         authMode = iota // Authorization: Bot <token> required
	authOptional                    // interaction-token routes: a wrong token is still refused
	authBearer                      // Authorization: Bearer <OAuth2 access token> required
	authBotOrBearer                 // either of the two
	authClient                      // the OAuth2 token endpoint: the handler checks the client
)

const maxRequestBody = 25 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, auth authMode, h func(*http.Request) (int, any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.serveREST(w, r, auth, h)
		})
	}
	const api = "/api/{version}/"
	handle("GET "+api+"gateway", authOptional, s.getGateway)
	handle("GET "+api+"gateway/bot", authBot, s.getGatewayBot)
	handle("GET "+api+"users/@me", authBotOrBearer, s.getMe)
	handle("GET "+api+"users/@me/guilds", authBearer, s.getUserGuilds)
	handle("POST "+api+"oauth2/token", authClient, s.postToken)
	mux.HandleFunc("GET /oauth2/authorize", s.authorize)
	handle("GET "+api+"applications/{app}/commands", authBot, s.getCommands)
	handle("PUT "+api+"applications/{app}/commands", authBot, s.putCommands)
	handle("GET "+api+"applications/{app}/guilds/{guild}/commands", authBot, s.getCommands)
	handle("PUT "+api+"applications/{app}/guilds/{guild}/commands", authBot, s.putCommands)
	handle("POST "+api+"interactions/{id}/{token}/callback", authOptional, s.postCallback)
	handle("POST "+api+"webhooks/{app}/{token}", authOptional, s.postFollowup)
	handle("GET "+api+"webhooks/{app}/{token}/messages/{msg}", authOptional, s.getWebhookMessage)
	handle("PATCH "+api+"webhooks/{app}/{token}/messages/{msg}", authOptional, s.patchWebhookMessage)
	handle("DELETE "+api+"webhooks/{app}/{token}/messages/{msg}", authOptional, s.deleteWebhookMessage)
	handle("POST "+api+"users/@me/channels", authBot, s.postDMChannel)
	handle("POST "+api+"channels/{channel}/messages", authBot, s.postChannelMessage)
	handle("PATCH "+api+"channels/{channel}/messages/{msg}", authBot, s.patchChannelMessage)
	handle("DELETE "+api+"users/@me/guilds/{guild}", authBot, s.leaveGuild)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && websocketRequested(r) {
			s.serveGateway(w, r)
			return
		}
		s.unknownRoute(w, r)
	})
	return mux
}

func websocketRequested(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (s *Server) unknownRoute(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.RESTRequests++
	s.unknown = append(s.unknown, r.Method+" "+r.URL.Path)
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, errNotFound.status, errNotFound)
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, auth authMode, h func(*http.Request) (int, any)) {
	if v := r.PathValue("version"); v != "v9" && v != "v10" {
		s.unknownRoute(w, r)
		return
	}
	r, ok := s.authenticate(r, auth)
	if !ok {
		s.mu.Lock()
		s.stats.RESTRequests++
		s.stats.Unauthorized++
		s.notifyLocked()
		s.mu.Unlock()
		writeJSON(w, errUnauthorized.status, errUnauthorized)
		return
	}
	s.mu.Lock()
	f := s.takeFaultLocked(r.Method, strings.TrimPrefix(r.URL.Path, "/api/"+r.PathValue("version")))
	s.mu.Unlock()
	if f != nil && f.Hold != nil {
		if !s.hold(r, f.Hold) {
			return
		}
		if f.Status == 0 {
			f = nil
		}
	}
	s.mu.Lock()
	if f != nil {
		s.stats.RESTRequests++
		s.stats.Faults++
		s.restErrors = append(s.restErrors, RESTError{Method: r.Method, Path: r.URL.Path, Status: f.Status, Code: f.Code, Message: f.Message})
		s.notifyLocked()
	}
	s.mu.Unlock()
	if f != nil {
		writeFault(w, f)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	status, body := h(r)
	s.mu.Lock()
	s.stats.RESTRequests++
	switch e := body.(type) {
	case *apiError:
		s.stats.ClientErrors++
		s.restErrors = append(s.restErrors, RESTError{Method: r.Method, Path: r.URL.Path, Status: e.status, Code: e.Code, Message: e.Message})
	case *oauthError:
		s.stats.ClientErrors++
		s.restErrors = append(s.restErrors, RESTError{Method: r.Method, Path: r.URL.Path, Status: e.status, Message: e.Error})
	}
	s.notifyLocked()
	s.mu.Unlock()
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// authenticate checks the request's Authorization header for auth; a
// bearer token's grant travels on in the returned request's context.
func (s *Server) authenticate(r *http.Request, auth authMode) (*http.Request, bool) {
	got, present := r.Header["Authorization"]
	single := len(got) == 1
	isBot := single && got[0] == "Bot "+s.opts.Token
	switch auth {
	case authClient:
		return r, true
	case authBearer, authBotOrBearer:
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); single && ok {
			return s.withBearer(r, token)
		}
		return r, auth == authBotOrBearer && isBot
	case authOptional:
		return r, !present || isBot
	}
	return r, isBot
}

// fail turns an *apiError into a handler result.
func fail(e *apiError) (int, any) { return e.status, e }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up; nothing to do
}

// decodeBody reads a JSON body, or the payload_json part of a multipart body
// as discordgo sends when files are attached.
func decodeBody(r *http.Request, v any) *apiError {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var src io.Reader = r.Body
	if mt == "multipart/form-data" {
		part, err := payloadJSONPart(multipart.NewReader(r.Body, params["boundary"]))
		if err != nil {
			return errInvalidJSON
		}
		src = part
	}
	if err := json.NewDecoder(src).Decode(v); err != nil {
		return errInvalidJSON
	}
	return nil
}

func payloadJSONPart(mr *multipart.Reader) (io.Reader, error) {
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if p.FormName() == "payload_json" {
			return p, nil
		}
	}
}

func (s *Server) getGateway(*http.Request) (int, any) {
	return http.StatusOK, map[string]string{"url": s.wsURL}
}

func (s *Server) getGatewayBot(*http.Request) (int, any) {
	return http.StatusOK, map[string]any{
		"url":    s.wsURL,
		"shards": 1,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1,
		},
	}
}

func (s *Server) getMe(r *http.Request) (int, any) {
	if g, ok := bearerGrant(r); ok {
		if !g.allows("identify") {
			return fail(errUnauthorized)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.userLocked(g.user)
		return http.StatusOK, userPayload(userInfo{id: u.ID, name: u.Username})
	}
	u := userPayload(s.botUser())
	u["verified"] = true
	u["mfa_enabled"] = false
	u["flags"] = 0
	u["email"] = nil
	return http.StatusOK, u
}

func (s *Server) postDMChannel(r *http.Request) (int, any) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	if !isSnowflake(body.RecipientID) {
		var fe formErrors
		fe.add([]string{"recipient_id"}, "NUMBER_TYPE_COERCE", "Value \""+body.RecipientID+"\" is not snowflake.")
		return fail(fe.err())
	}
	if body.RecipientID == s.opts.BotUserID {
		return fail(errCannotDMYourself)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, channelPayload(s.dmChannelLocked(body.RecipientID))
}

// dmChannelLocked returns the DM channel with a user, creating it once.
func (s *Server) dmChannelLocked(userID string) *channelState {
	if id := s.dmByUser[userID]; id != "" {
		return s.channels[id]
	}
	ch := &channelState{id: s.NewID(), typ: ChannelDM, recipient: userID}
	s.channels[ch.id] = ch
	s.dmByUser[userID] = ch.id
	return ch
}

func (s *Server) postChannelMessage(r *http.Request) (int, any) {
	var body messageBody
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	m := body.message()
	if e := checkNewMessage(m, FlagSuppressEmbeds|FlagSuppressNotifications); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[r.PathValue("channel")]
	if ch == nil {
		return fail(errUnknownChannel)
	}
	if ch.guildID != "" && s.guildLocked(ch.guildID) == nil {
		return fail(errMissingAccess)
	}
	if ch.typ == ChannelVoice {
		return fail(&apiError{status: 400, Code: 50008, Message: "Cannot send messages in a non-text channel"})
	}
	return http.StatusOK, s.messagePayload(s.newRecordLocked(ch, m, nil))
}

// patchChannelMessage edits a message the bot sent to a channel. Discord
// lets a bot edit only its own messages; interaction responses are edited
// through their webhook instead.
func (s *Server) patchChannelMessage(r *http.Request) (int, any) {
	var body messageBody
	if e := decodeBody(r, &body); e != nil {
		return fail(e)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.messages[r.PathValue("msg")]
	if rec == nil || rec.deleted || rec.msg.ChannelID != r.PathValue("channel") {
		return fail(errUnknownMessage)
	}
	if rec.interaction != nil {
		return fail(&apiError{status: 403, Code: 50005, Message: "Cannot edit a message authored by another user"})
	}
	if e := rec.edit(body, now); e != nil {
		return fail(e)
	}
	s.notifyLocked()
	return http.StatusOK, s.messagePayload(rec)
}

func checkFlags(flags, allowed int, field ...string) *apiError {
	if flags&^allowed == 0 {
		return nil
	}
	var fe formErrors
	fe.add(field, "MESSAGE_FLAGS_INVALID", "Invalid flags")
	return fe.err()
}

func (s *Server) leaveGuild(r *http.Request) (int, any) {
	id := r.PathValue("guild")
	s.mu.Lock()
	found := s.removeGuildLocked(id)
	if found {
		s.left = append(s.left, id)
	}
	s.mu.Unlock()
	if !found {
		return fail(errUnknownGuild)
	}
	s.dispatch("GUILD_DELETE", map[string]any{"id": id})
	return http.StatusNoContent, nil
}

// isSnowflake reports whether id is a decimal uint64, as Discord IDs are.
func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	var n uint64
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return false
		}
		n = n*10 + d
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
