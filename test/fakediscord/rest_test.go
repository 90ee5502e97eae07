package fakediscord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/test/fakediscord"
)

// discordError is Discord's JSON error body.
type discordError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors"`
}

// flat lists a form error tree as "path: CODE" lines, sorted.
func (e discordError) flat() []string {
	var out []string
	var walk func(prefix string, node map[string]any)
	walk = func(prefix string, node map[string]any) {
		for k, v := range node {
			if k == "_errors" {
				for _, item := range v.([]any) {
					out = append(out, prefix+": "+item.(map[string]any)["code"].(string))
				}
				continue
			}
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, v.(map[string]any))
		}
	}
	walk("", e.Errors)
	sort.Strings(out)
	return out
}

// call makes a REST request to the fake; token "" sends no Authorization.
func call(t *testing.T, srv *fakediscord.Server, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func decodeError(t *testing.T, body []byte) discordError {
	t.Helper()
	var e discordError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}

func TestRESTAuthAndUnknownRoutes(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	bot := "Bot " + srv.Token()
	tests := []struct {
		name, method, path, token string
		wantStatus                int
		wantCode                  int
		wantMessage               string
	}{
		{name: "no token", method: "GET", path: "/api/v10/users/@me", wantStatus: 401, wantMessage: "401: Unauthorized"},
		{name: "token without Bot prefix", method: "GET", path: "/api/v10/users/@me", token: srv.Token(), wantStatus: 401, wantMessage: "401: Unauthorized"},
		{name: "bot token", method: "GET", path: "/api/v9/users/@me", token: bot, wantStatus: 200},
		{name: "gateway needs no token", method: "GET", path: "/api/v9/gateway", wantStatus: 200},
		{name: "gateway/bot", method: "GET", path: "/api/v10/gateway/bot", token: bot, wantStatus: 200},
		{name: "unimplemented route", method: "GET", path: "/api/v10/guilds/123/members", token: bot, wantStatus: 404, wantMessage: "404: Not Found"},
		{name: "wrong method", method: "DELETE", path: "/api/v10/gateway", token: bot, wantStatus: 404, wantMessage: "404: Not Found"},
		{name: "unsupported API version", method: "GET", path: "/api/v6/users/@me", token: bot, wantStatus: 404, wantMessage: "404: Not Found"},
		{name: "unknown interaction", method: "POST", path: "/api/v10/interactions/1/abc/callback", wantStatus: 404, wantCode: 10062, wantMessage: "Unknown interaction"},
		{name: "leave a guild the bot is not in", method: "DELETE", path: "/api/v10/users/@me/guilds/42", token: bot, wantStatus: 404, wantCode: 10004, wantMessage: "Unknown Guild"},
		{name: "message to an unknown channel", method: "POST", path: "/api/v10/channels/42/messages", token: bot, wantStatus: 404, wantCode: 10003, wantMessage: "Unknown Channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = map[string]any{"type": 4, "content": "x"}
			}
			status, out := call(t, srv, tt.method, tt.path, tt.token, body)
			if status != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", status, out, tt.wantStatus)
			}
			if tt.wantStatus < 400 {
				return
			}
			e := decodeError(t, out)
			if e.Code != tt.wantCode || e.Message != tt.wantMessage {
				t.Errorf("error = %d %q, want %d %q", e.Code, e.Message, tt.wantCode, tt.wantMessage)
			}
		})
	}
	want := []string{"GET /api/v10/guilds/123/members", "DELETE /api/v10/gateway", "GET /api/v6/users/@me"}
	if diff := cmp.Diff(want, srv.UnknownRoutes()); diff != "" {
		t.Errorf("unknown routes (-want +got):\n%s", diff)
	}
	if got := srv.Stats().Unauthorized; got != 2 {
		t.Errorf("unauthorized requests = %d, want 2", got)
	}
}

func TestGatewayURL(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	_, out := call(t, srv, "GET", "/api/v10/gateway/bot", "Bot "+srv.Token(), nil)
	var g struct {
		URL    string `json:"url"`
		Shards int    `json:"shards"`
	}
	if err := json.Unmarshal(out, &g); err != nil {
		t.Fatal(err)
	}
	if g.URL != srv.GatewayURL() || g.Shards != 1 || !strings.HasPrefix(g.URL, "ws://127.0.0.1:") {
		t.Errorf("gateway/bot = %s, want url %s and 1 shard", out, srv.GatewayURL())
	}
}

func TestCommandRegistrationValidation(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	bot := "Bot " + srv.Token()
	str := func(name string, required bool) map[string]any {
		return map[string]any{"type": 3, "name": name, "description": "d", "required": required}
	}
	cmd := func(name string, opts ...map[string]any) map[string]any {
		return map[string]any{"name": name, "description": "Does things", "options": opts}
	}
	many := make([]map[string]any, 26)
	for i := range many {
		many[i] = str("o"+strings.Repeat("x", i), false)
	}
	tests := []struct {
		name string
		body []map[string]any
		want []string // "path: CODE"
	}{
		{name: "uppercase name", body: []map[string]any{cmd("Play")}, want: []string{"0.name: APPLICATION_COMMAND_INVALID_NAME"}},
		{name: "name with a space", body: []map[string]any{cmd("play now")}, want: []string{"0.name: APPLICATION_COMMAND_INVALID_NAME"}},
		{name: "33-character name", body: []map[string]any{cmd(strings.Repeat("a", 33))}, want: []string{"0.name: APPLICATION_COMMAND_INVALID_NAME"}},
		{name: "empty description", body: []map[string]any{{"name": "play", "description": ""}}, want: []string{"0.description: BASE_TYPE_BAD_LENGTH"}},
		{name: "101-character description", body: []map[string]any{{"name": "play", "description": strings.Repeat("d", 101)}}, want: []string{"0.description: BASE_TYPE_BAD_LENGTH"}},
		{name: "26 options", body: []map[string]any{cmd("play", many...)}, want: []string{"0.options: BASE_TYPE_MAX_LENGTH"}},
		{name: "duplicate command", body: []map[string]any{cmd("play"), cmd("play")}, want: []string{"1: APPLICATION_COMMANDS_DUPLICATE_NAME"}},
		{name: "duplicate option", body: []map[string]any{cmd("play", str("q", true), str("q", false))}, want: []string{"0.options.1.name: APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS"}},
		{name: "required after optional", body: []map[string]any{cmd("play", str("a", false), str("b", true))}, want: []string{"0.options.1: APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID_ORDER"}},
		{name: "sub-command mixed with a parameter", body: []map[string]any{cmd("allowlist",
			map[string]any{"type": 1, "name": "list", "description": "d"}, str("q", false))},
			want: []string{"0.options: APPLICATION_COMMAND_OPTIONS_TYPE_INVALID"}},
		{name: "max_length over 6000", body: []map[string]any{cmd("play", map[string]any{"type": 3, "name": "q", "description": "d", "max_length": 6001})},
			want: []string{"0.options.0.max_length: NUMBER_TYPE_MAX"}},
		{name: "choices on a boolean", body: []map[string]any{cmd("play", map[string]any{"type": 5, "name": "b", "description": "d", "choices": []any{map[string]any{"name": "x", "value": true}}})},
			want: []string{"0.options.0.choices: APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED"}},
		{name: "string choice for an integer", body: []map[string]any{cmd("play", map[string]any{"type": 4, "name": "n", "description": "d", "choices": []any{map[string]any{"name": "x", "value": "1"}}})},
			want: []string{"0.options.0.choices.0.value: BASE_TYPE_BAD_LENGTH"}},
		{name: "valid sub-commands", body: []map[string]any{cmd("allowlist",
			map[string]any{"type": 1, "name": "approve", "description": "d", "options": []any{str("guild", true)}},
			map[string]any{"type": 1, "name": "list", "description": "d"})}},
		{name: "valid unicode name", body: []map[string]any{cmd("spielen-ä")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := call(t, srv, "PUT", "/api/v10/applications/"+srv.ApplicationID()+"/guilds/"+g.ID+"/commands", bot, tt.body)
			if tt.want == nil {
				if status != 200 {
					t.Fatalf("status %d (%s), want 200", status, out)
				}
				return
			}
			if status != 400 {
				t.Fatalf("status %d (%s), want 400", status, out)
			}
			e := decodeError(t, out)
			if e.Code != 50035 || e.Message != "Invalid Form Body" {
				t.Errorf("error %d %q, want 50035 Invalid Form Body", e.Code, e.Message)
			}
			if diff := cmp.Diff(tt.want, e.flat()); diff != "" {
				t.Errorf("form errors (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("guild the bot is not in", func(t *testing.T) {
		status, out := call(t, srv, "PUT", "/api/v10/applications/"+srv.ApplicationID()+"/guilds/42/commands", bot, []any{})
		if e := decodeError(t, out); status != 403 || e.Code != 50001 {
			t.Errorf("status %d %s, want 403 Missing Access", status, out)
		}
	})
	t.Run("another application", func(t *testing.T) {
		status, out := call(t, srv, "PUT", "/api/v10/applications/42/commands", bot, []any{})
		if e := decodeError(t, out); status != 403 || e.Code != 50001 {
			t.Errorf("status %d %s, want 403 Missing Access", status, out)
		}
	})
}

// pendingInteraction is an INTERACTION_CREATE a raw client received while
// Interact waits in the background.
type pendingInteraction struct {
	ID, Token string
	result    chan interactResult
}

type interactResult struct {
	resp fakediscord.Response
	err  error
}

// startInteraction invokes a command and reads its INTERACTION_CREATE from c.
func startInteraction(t *testing.T, srv *fakediscord.Server, c *rawClient, cmd fakediscord.Slash) pendingInteraction {
	t.Helper()
	p := pendingInteraction{result: make(chan interactResult, 1)}
	go func() {
		resp, err := srv.Interact(context.Background(), cmd)
		p.result <- interactResult{resp, err}
	}()
	f := c.read()
	if f.event() != "INTERACTION_CREATE" {
		t.Fatalf("got %s, want INTERACTION_CREATE", f.event())
	}
	var d struct{ ID, Token string }
	if err := json.Unmarshal(f.D, &d); err != nil {
		t.Fatal(err)
	}
	p.ID, p.Token = d.ID, d.Token
	return p
}

func (p pendingInteraction) callback(t *testing.T, srv *fakediscord.Server, body any) (int, []byte) {
	t.Helper()
	return call(t, srv, "POST", "/api/v10/interactions/"+p.ID+"/"+p.Token+"/callback", "", body)
}

func (p pendingInteraction) wait(t *testing.T) interactResult {
	t.Helper()
	select {
	case r := <-p.result:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Interact did not return")
		return interactResult{}
	}
}

// rawBotWithCommand connects a raw gateway client and registers /ping.
func rawBotWithCommand(t *testing.T, opts fakediscord.Options) (*fakediscord.Server, *rawClient, fakediscord.Guild) {
	t.Helper()
	srv := fakediscord.New(t, opts)
	g := srv.AddGuild(fakediscord.Guild{})
	c := connect(t, srv)
	c.identify(srv, 1)
	status, out := call(t, srv, "PUT", "/api/v10/applications/"+srv.ApplicationID()+"/guilds/"+g.ID+"/commands",
		"Bot "+srv.Token(), []any{map[string]any{"name": "ping", "description": "Ping"}})
	if status != 200 {
		t.Fatalf("registering: %d %s", status, out)
	}
	return srv, c, g
}

// finish proves that nothing acknowledged p yet: a valid callback is
// accepted and becomes the response.
func finish(t *testing.T, srv *fakediscord.Server, p pendingInteraction) {
	t.Helper()
	if status, out := p.callback(t, srv, map[string]any{"type": 4, "data": map[string]any{"content": "valid"}}); status != 204 {
		t.Fatalf("valid callback after a refused one: %d %s, want 204", status, out)
	}
	if r := p.wait(t); r.err != nil || r.resp.Message.Content != "valid" {
		t.Errorf("Interact = %+v, %v; want the valid callback's message", r.resp, r.err)
	}
}

func TestInteractionCallbackRules(t *testing.T) {
	srv, c, g := rawBotWithCommand(t, fakediscord.Options{})
	ping := fakediscord.Slash{GuildID: g.ID, Name: "ping"}
	content := func(s string) map[string]any { return map[string]any{"type": 4, "data": map[string]any{"content": s}} }

	t.Run("second callback is refused", func(t *testing.T) {
		p := startInteraction(t, srv, c, ping)
		if status, out := p.callback(t, srv, content("pong")); status != 204 {
			t.Fatalf("first callback: %d %s, want 204", status, out)
		}
		status, out := p.callback(t, srv, content("again"))
		if e := decodeError(t, out); status != 400 || e.Code != 40060 {
			t.Errorf("second callback: %d %s, want 400 code 40060", status, out)
		}
		if r := p.wait(t); r.err != nil || r.resp.Message.Content != "pong" {
			t.Errorf("Interact = %+v, %v; want pong", r.resp, r.err)
		}
	})

	t.Run("late callback is an unknown interaction", func(t *testing.T) {
		srv, c, g := rawBotWithCommand(t, fakediscord.Options{InteractionTimeout: 50 * time.Millisecond})
		p := startInteraction(t, srv, c, fakediscord.Slash{GuildID: g.ID, Name: "ping"})
		if r := p.wait(t); !errors.Is(r.err, fakediscord.ErrNotAcknowledged) {
			t.Fatalf("Interact error = %v, want ErrNotAcknowledged", r.err)
		}
		status, out := p.callback(t, srv, content("too late"))
		if e := decodeError(t, out); status != 404 || e.Code != 10062 {
			t.Errorf("late callback: %d %s, want 404 code 10062", status, out)
		}
		if got := srv.Stats().LateCallbacks; got != 1 {
			t.Errorf("late callbacks = %d, want 1", got)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		p := startInteraction(t, srv, c, ping)
		forged := p
		forged.Token = "forged"
		if status, _ := forged.callback(t, srv, content("x")); status != 404 {
			t.Errorf("callback with a wrong token: %d, want 404", status)
		}
		finish(t, srv, p)
	})

	tooManyRows := make([]any, 6)
	for i := range tooManyRows {
		tooManyRows[i] = map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": "b", "custom_id": "id" + strings.Repeat("x", i)}}}
	}
	invalid := []struct {
		name     string
		body     map[string]any
		wantCode int
		want     []string
	}{
		{name: "empty message", body: content(""), wantCode: 50006},
		{name: "content over 2000 characters", body: content(strings.Repeat("é", 2001)), wantCode: 50035, want: []string{"data.content: BASE_TYPE_MAX_LENGTH"}},
		{name: "deferred update on a command", body: map[string]any{"type": 6}, wantCode: 50035, want: []string{"type: INTERACTION_RESPONSE_TYPE_INVALID"}},
		{name: "pong is for HTTP interactions", body: map[string]any{"type": 1}, wantCode: 50035, want: []string{"type: INTERACTION_RESPONSE_TYPE_INVALID"}},
		{name: "six action rows", body: map[string]any{"type": 4, "data": map[string]any{"content": "x", "components": tooManyRows}}, wantCode: 50035, want: []string{"data.components: BASE_TYPE_MAX_LENGTH"}},
		{name: "button without custom_id", body: map[string]any{"type": 4, "data": map[string]any{"components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": "Next"}}}}}},
			wantCode: 50035, want: []string{"data.components.0.components.0.custom_id: BASE_TYPE_REQUIRED"}},
		{name: "embed field without value", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"title": "Queue", "fields": []any{map[string]any{"name": "1"}}}}}},
			wantCode: 50035, want: []string{"data.embeds.0.fields.0.value: BASE_TYPE_REQUIRED"}},
		{name: "embeds over 6000 characters", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"description": strings.Repeat("a", 4000)}, map[string]any{"description": strings.Repeat("b", 2001)}}}},
			wantCode: 50035, want: []string{"data.embeds: MAX_EMBED_SIZE_EXCEEDED"}},
		{name: "thumbnail that is no URL", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"title": "Now playing", "thumbnail": map[string]any{"url": "cover.jpg"}}}}},
			wantCode: 50035, want: []string{"data.embeds.0.thumbnail.url: URL_TYPE_INVALID_URL"}},
		{name: "thumbnail of another scheme", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"title": "Now playing", "thumbnail": map[string]any{"url": "ftp://img.example.com/cover.jpg"}}}}},
			wantCode: 50035, want: []string{"data.embeds.0.thumbnail.url: URL_TYPE_INVALID_SCHEME"}},
		{name: "thumbnail over 2048 characters", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"title": "Now playing", "thumbnail": map[string]any{"url": "https://img.example.com/" + strings.Repeat("a", 2048)}}}}},
			wantCode: 50035, want: []string{"data.embeds.0.thumbnail.url: BASE_TYPE_MAX_LENGTH"}},
		{name: "link of a media scheme", body: map[string]any{"type": 4, "data": map[string]any{"embeds": []any{
			map[string]any{"title": "Now playing", "url": "attachment://cover.jpg", "image": map[string]any{"url": "file://img.example.com/cover.jpg"}}}}},
			wantCode: 50035, want: []string{"data.embeds.0.image.url: URL_TYPE_INVALID_SCHEME", "data.embeds.0.url: URL_TYPE_INVALID_SCHEME"}},
		{name: "unknown flag", body: map[string]any{"type": 4, "data": map[string]any{"content": "x", "flags": 1}}, wantCode: 50035, want: []string{"data.flags: MESSAGE_FLAGS_INVALID"}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			p := startInteraction(t, srv, c, ping)
			status, out := p.callback(t, srv, tt.body)
			e := decodeError(t, out)
			if status != 400 || e.Code != tt.wantCode {
				t.Errorf("callback: %d %s, want 400 code %d", status, out, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, e.flat()); diff != "" {
				t.Errorf("form errors (-want +got):\n%s", diff)
			}
			finish(t, srv, p)
		})
	}
}

func TestWebhookRoutes(t *testing.T) {
	srv, c, g := rawBotWithCommand(t, fakediscord.Options{})
	app := srv.ApplicationID()
	p := startInteraction(t, srv, c, fakediscord.Slash{GuildID: g.ID, Name: "ping"})
	original := "/api/v10/webhooks/" + app + "/" + p.Token + "/messages/@original"

	if status, out := call(t, srv, "PATCH", original, "", map[string]any{"content": "early"}); status != 404 {
		t.Errorf("editing before the callback: %d %s, want 404", status, out)
	}
	if status, _ := call(t, srv, "POST", "/api/v10/webhooks/"+app+"/"+p.Token, "", map[string]any{"content": "early"}); status != 404 {
		t.Errorf("follow-up before the callback: %d, want 404", status)
	}
	if status, out := p.callback(t, srv, map[string]any{"type": 5, "data": map[string]any{"flags": 64}}); status != 204 {
		t.Fatalf("deferring: %d %s", status, out)
	}
	status, out := call(t, srv, "GET", original, "", nil)
	var loading struct{ Flags int }
	if err := json.Unmarshal(out, &loading); err != nil || status != 200 || loading.Flags != fakediscord.FlagEphemeral|fakediscord.FlagLoading {
		t.Errorf("original while deferred: %d %s, want ephemeral and loading flags", status, out)
	}
	if status, out := call(t, srv, "PATCH", original, "", map[string]any{"content": strings.Repeat("x", 2001)}); status != 400 {
		t.Errorf("edit over the limit: %d %s, want 400", status, out)
	}
	if status, out := call(t, srv, "PATCH", "/api/v10/webhooks/42/"+p.Token+"/messages/@original", "", map[string]any{"content": "x"}); status != 404 {
		t.Errorf("edit through another application: %d %s, want 404", status, out)
	}
	if status, out := call(t, srv, "PATCH", original, "", map[string]any{"content": "done"}); status != 200 {
		t.Fatalf("editing: %d %s", status, out)
	}
	r := p.wait(t)
	if r.err != nil || r.resp.Message.Content != "done" || r.resp.Message.Flags != fakediscord.FlagEphemeral {
		t.Errorf("Interact = %+v, %v; want ephemeral done", r.resp, r.err)
	}
	status, out = call(t, srv, "POST", "/api/v10/webhooks/"+app+"/"+p.Token+"?wait=true", "", map[string]any{"content": "more", "flags": 64})
	var fu struct{ ID string }
	if err := json.Unmarshal(out, &fu); err != nil || status != 200 || fu.ID == "" {
		t.Fatalf("follow-up: %d %s", status, out)
	}
	followup := "/api/v10/webhooks/" + app + "/" + p.Token + "/messages/" + fu.ID
	if status, out := call(t, srv, "PATCH", followup, "", map[string]any{"content": "edited"}); status != 200 {
		t.Errorf("editing the follow-up: %d %s", status, out)
	}
	if status, _ := call(t, srv, "DELETE", original, "", nil); status != 204 {
		t.Errorf("deleting the original: %d, want 204", status)
	}
	if status, _ := call(t, srv, "GET", original, "", nil); status != 404 {
		t.Errorf("reading a deleted original: %d, want 404", status)
	}
	got := srv.Followups(p.ID)
	if len(got) != 1 || got[0].Content != "edited" || !got[0].Ephemeral() {
		t.Errorf("follow-ups = %+v, want one ephemeral, edited", got)
	}
	if msgs := srv.Messages(g.Channels[0].ID); len(msgs) != 1 || msgs[0].ID != fu.ID {
		t.Errorf("channel messages = %+v, want only the follow-up (the original was deleted)", msgs)
	}
}

func TestCloseEndsWaits(t *testing.T) {
	srv, c, g := rawBotWithCommand(t, fakediscord.Options{})
	p := startInteraction(t, srv, c, fakediscord.Slash{GuildID: g.ID, Name: "ping"})
	if status, out := p.callback(t, srv, map[string]any{"type": 5}); status != 204 {
		t.Fatalf("deferring: %d %s", status, out)
	}
	awaited := make(chan error, 1)
	go func() {
		awaited <- srv.Await(context.Background(), func(*fakediscord.Server) bool { return false })
	}()
	srv.Close()
	if r := p.wait(t); !errors.Is(r.err, fakediscord.ErrClosed) {
		t.Errorf("Interact waiting for a deferred edit: %v, want ErrClosed", r.err)
	}
	select {
	case err := <-awaited:
		if !errors.Is(err, fakediscord.ErrClosed) {
			t.Errorf("Await: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Await did not return after Close")
	}
	if _, err := c.next(); err == nil {
		t.Error("the gateway connection survived Close")
	}
}

func TestInjectedFaults(t *testing.T) {
	bot := func(srv *fakediscord.Server) string { return "Bot " + srv.Token() }
	tests := []struct {
		name   string
		fault  fakediscord.Fault
		method string
		path   string
		want   []int // statuses of successive identical requests
	}{
		{name: "exact route", fault: fakediscord.Fault{Route: "GET /users/@me", Status: 500}, method: "GET", path: "/api/v10/users/@me", want: []int{500, 200}},
		{name: "wildcard segment", fault: fakediscord.Fault{Route: "GET /users/*", Status: 502}, method: "GET", path: "/api/v9/users/@me", want: []int{502, 200}},
		{name: "twice", fault: fakediscord.Fault{Route: "GET /gateway/bot", Status: 503, Times: 2}, method: "GET", path: "/api/v10/gateway/bot", want: []int{503, 503, 200}},
		{name: "other method", fault: fakediscord.Fault{Route: "POST /users/@me", Status: 500}, method: "GET", path: "/api/v10/users/@me", want: []int{200}},
		{name: "shorter route", fault: fakediscord.Fault{Route: "GET /users", Status: 500}, method: "GET", path: "/api/v10/users/@me", want: []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakediscord.New(t, fakediscord.Options{})
			srv.InjectFault(tt.fault)
			var got []int
			for range tt.want {
				status, _ := call(t, srv, tt.method, tt.path, bot(srv), nil)
				got = append(got, status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("rate limit body and headers", func(t *testing.T) {
		srv := fakediscord.New(t, fakediscord.Options{})
		srv.InjectFault(fakediscord.Fault{Route: "GET /users/@me", Status: 429, RetryAfter: 1500 * time.Millisecond})
		req, err := http.NewRequest("GET", srv.URL()+"/api/v10/users/@me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", bot(srv))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Message    string  `json:"message"`
			RetryAfter float64 `json:"retry_after"`
			Global     bool    `json:"global"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || body.RetryAfter != 1.5 || body.Message != "You are being rate limited." || body.Global {
			t.Errorf("429 = %d Retry-After %q body %+v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if st := srv.Stats(); st.Faults != 1 {
			t.Errorf("faults counted = %d, want 1", st.Faults)
		}
	})
}
