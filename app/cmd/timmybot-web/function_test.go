package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
)

const (
	clientSecret = "client-secret-value"
	webSecret    = "web-secret-value-long-enough-for-sealing-cookies!"
	botToken     = "bot-token-value"
	domain       = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws"
)

func env(edit map[string]string) lookupFunc {
	vars := map[string]string{
		"TIMMYBOT_TABLE_ALLOWLIST":  "timmybot-prod-allowlist",
		"DISCORD_APPLICATION_ID":    "300000000000000001",
		"TIMMYBOT_OWNER_IDS":        "100000000000000001,100000000000000002",
		"DISCORD_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:111111111111:secret:client",
		"TIMMYBOT_WEB_SECRET_ARN":   "arn:aws:secretsmanager:eu-central-1:111111111111:secret:web",
		"DISCORD_TOKEN_ARN":         "arn:aws:secretsmanager:eu-central-1:111111111111:secret:token",
	}
	for k, v := range edit {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// fakeAWS serves the three secrets by ARN and records the ARNs read.
type fakeAWS struct {
	t     *testing.T
	read  []string
	value map[string]string
}

func (f *fakeAWS) open(_ context.Context, c config) (deps, error) {
	st, err := localstore.Open(filepath.Join(f.t.TempDir(), "db"))
	if err != nil {
		return deps{}, err
	}
	f.t.Cleanup(func() { st.Close() })
	return deps{allowlist: st, secret: func(_ context.Context, arn string) (string, error) {
		f.read = append(f.read, arn)
		v, ok := f.value[arn]
		if !ok {
			return "", errors.New("AccessDeniedException")
		}
		return v, nil
	}}, nil
}

func newFakeAWS(t *testing.T) *fakeAWS {
	return &fakeAWS{t: t, value: map[string]string{
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:client": clientSecret,
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:web":    webSecret,
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:token":  botToken,
	}}
}

func TestStartRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no table", map[string]string{"TIMMYBOT_TABLE_ALLOWLIST": ""}, "TIMMYBOT_TABLE_ALLOWLIST: not set"},
		{"no secrets", map[string]string{"DISCORD_TOKEN_ARN": "", "TIMMYBOT_WEB_SECRET_ARN": ""}, "TIMMYBOT_WEB_SECRET_ARN, DISCORD_TOKEN_ARN: not set"},
		{"bad application", map[string]string{"DISCORD_APPLICATION_ID": "timmy"}, "DISCORD_APPLICATION_ID: must be"},
		{"bad owner", map[string]string{"TIMMYBOT_OWNER_IDS": "100000000000000001,me"}, `TIMMYBOT_OWNER_IDS: "me"`},
		{"link clients without their stores", map[string]string{"TIMMYBOT_LINK_CLIENTS_ARN": "arn:aws:secretsmanager:eu-central-1:111111111111:secret:link-clients"}, "account linking needs TIMMYBOT_LINK_SECRET_PREFIX, TIMMYBOT_LINK_FLOWS_TABLE, TIMMYBOT_LINK_RECORDS_TABLE: not set"},
		{"link key without prefix", map[string]string{"TIMMYBOT_LINK_KMS_KEY_ID": "arn:aws:kms:eu-central-1:111111111111:key/k"}, "TIMMYBOT_LINK_SECRET_PREFIX and TIMMYBOT_LINK_KMS_KEY_ID: set both or neither"},
		{"unreadable secret", map[string]string{"DISCORD_TOKEN_ARN": "arn:aws:secretsmanager:eu-central-1:111111111111:secret:other"}, "DISCORD_TOKEN_ARN: reading the secret: AccessDeniedException"},
		{"short web secret", map[string]string{"TIMMYBOT_WEB_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:111111111111:secret:client"}, "TIMMYBOT_WEB_SECRET_ARN: the secret must have at least"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := start(context.Background(), env(tt.env), newFakeAWS(t).open, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("start: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestFunctionServesAtItsURL starts the function, reads its three secrets
// by ARN, serves a sign-in whose redirect URI is the Function URL's, and
// logs no secret.
func TestFunctionServesAtItsURL(t *testing.T) {
	aws := newFakeAWS(t)
	var logs bytes.Buffer
	fn, err := start(context.Background(), env(nil), aws.open, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:client",
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:web",
		"arn:aws:secretsmanager:eu-central-1:111111111111:secret:token",
	}
	if !slices.Equal(aws.read, want) {
		t.Errorf("secrets read: %q, want %q", aws.read, want)
	}
	home, err := fn.handle(context.Background(), events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/", Headers: map[string]string{"host": domain},
		RequestContext: events.LambdaFunctionURLRequestContext{DomainName: domain,
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: "/", SourceIP: "198.51.100.7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if home.StatusCode != 200 || !strings.Contains(home.Body, `action="/auth/login"`) {
		t.Fatalf("home page: status %d, no sign-in form:\n%s", home.StatusCode, home.Body)
	}
	if !strings.Contains(logs.String(), "https://"+domain+"/auth/callback") {
		t.Errorf("the log does not name the redirect URI at the Function URL:\n%s", logs.String())
	}
	for _, s := range []string{clientSecret, webSecret, botToken} {
		if strings.Contains(logs.String()+home.Body, s) {
			t.Errorf("a secret value reached the log or the page")
		}
	}
}

func TestLoadConfigReadsLinking(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"TIMMYBOT_LINK_CLIENTS_ARN":   "arn:aws:secretsmanager:eu-central-1:111111111111:secret:link-clients",
		"TIMMYBOT_LINK_SECRET_PREFIX": "timmybot/prod/links",
		"TIMMYBOT_LINK_KMS_KEY_ID":    "arn:aws:kms:eu-central-1:111111111111:key/k",
		"TIMMYBOT_LINK_FLOWS_TABLE":   "timmybot-prod-preferences",
		"TIMMYBOT_LINK_RECORDS_TABLE": "timmybot-prod-preferences",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.LinkClientsARN, c.LinkSecretPrefix, c.LinkKMSKeyID, c.LinkFlowsTable, c.LinkRecordsTable}
	want := []string{"arn:aws:secretsmanager:eu-central-1:111111111111:secret:link-clients", "timmybot/prod/links", "arn:aws:kms:eu-central-1:111111111111:key/k", "timmybot-prod-preferences", "timmybot-prod-preferences"}
	if !slices.Equal(got, want) {
		t.Errorf("linking = %q, want %q", got, want)
	}
}

// fakeDMs plays Discord's REST API for direct messages: it opens a DM
// channel with anyone and records what is posted to it.
type fakeDMs struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []string
}

func newFakeDMs(t *testing.T) *fakeDMs {
	f := &fakeDMs{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/users/@me/channels"):
			io.WriteString(w, `{"id":"500000000000000001","type":1}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/channels/500000000000000001/messages"):
			var m struct{ Content string }
			json.NewDecoder(r.Body).Decode(&m)
			f.mu.Lock()
			f.sent = append(f.sent, m.Content)
			f.mu.Unlock()
			io.WriteString(w, `{"id":"600000000000000001","channel_id":"500000000000000001"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestFunctionCompletesALink starts a link as the bot does (the flow kept
// in the stores both share), follows the provider's redirect to the
// function's /link/callback, and checks the tokens stored, the page, the
// DM, and that no client secret, code or token was logged.
func TestFunctionCompletesALink(t *testing.T) {
	provider := accounttest.New(t)
	dms := newFakeDMs(t)
	aws := newFakeAWS(t)
	const clientsARN = "arn:aws:secretsmanager:eu-central-1:111111111111:secret:link-clients"
	aws.value[clientsARN] = `{"spotify":{"client_id":"` + accounttest.ClientID + `","client_secret":"` + accounttest.ClientSecret + `"}}`
	key := make([]byte, account.KeyLen)
	tokens, err := account.OpenLocalTokens(filepath.Join(t.TempDir(), "tokens.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tokens.Close() })
	flows := account.NewMemoryFlows(time.Now)
	open := func(ctx context.Context, c config) (deps, error) {
		d, err := aws.open(ctx, c)
		d.linking = func(context.Context, config) (linkStores, error) {
			return linkStores{tokens: tokens, flows: flows}, nil
		}
		return d, err
	}
	var logs bytes.Buffer
	fn, err := start(context.Background(), env(map[string]string{
		"TIMMYBOT_LINK_CLIENTS_ARN": clientsARN, "TIMMYBOT_LINK_SECRET_PREFIX": "timmybot/links", "TIMMYBOT_LINK_KMS_KEY_ID": "arn:aws:kms:eu-central-1:111111111111:key/k",
		"TIMMYBOT_LINK_FLOWS_TABLE": "prefs", "TIMMYBOT_LINK_RECORDS_TABLE": "prefs",
		"TIMMYBOT_LINK_PROVIDER_URL": provider.URL().String(), "TIMMYBOT_DISCORD_API_URL": dms.srv.URL,
	}), open, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}

	// The bot's side: /link, with the redirect URI at the Function URL.
	providers := account.Providers()
	providers[account.Spotify] = provider.Describe(account.Spotify)
	bot, err := account.New(account.Config{Providers: providers, Tokens: tokens, Flows: flows, RedirectURI: account.RedirectURI("https://" + domain), Notifier: dmsUnused{t}})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := bot.Start(context.Background(), "100000000000000009", account.Spotify)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Host != domain || back.Path != account.CallbackPath {
		t.Fatalf("the provider sends the browser to %q, want the Function URL's %s", resp.Header.Get("Location"), account.CallbackPath)
	}

	page, err := fn.handle(context.Background(), events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: back.Path, RawQueryString: back.RawQuery, Headers: map[string]string{"host": domain},
		RequestContext: events.LambdaFunctionURLRequestContext{DomainName: domain,
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: back.Path, SourceIP: "198.51.100.7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "linked") {
		t.Fatalf("callback: status %d:\n%s", page.StatusCode, page.Body)
	}
	link, tok, err := tokens.Load(context.Background(), "100000000000000009", account.Spotify)
	if err != nil || link.AccountName != provider.Account || tok.AccessToken == "" {
		t.Fatalf("stored %+v, %v; want the Spotify link with its tokens", link, err)
	}
	if len(dms.sent) != 1 || !strings.Contains(dms.sent[0], "Spotify") {
		t.Errorf("DMs %q, want one confirming the Spotify link", dms.sent)
	}
	for _, secret := range append(provider.Issued(), accounttest.ClientSecret, botToken) {
		if strings.Contains(logs.String()+page.Body, secret) {
			t.Errorf("a secret reached the log or the page")
		}
	}
	// A replay of the same redirect is refused: the flow was taken.
	again, err := fn.handle(context.Background(), events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: back.Path, RawQueryString: back.RawQuery, Headers: map[string]string{"host": domain},
		RequestContext: events.LambdaFunctionURLRequestContext{DomainName: domain,
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: back.Path, SourceIP: "198.51.100.7"}},
	})
	if err != nil || again.StatusCode == http.StatusOK {
		t.Errorf("a replayed callback: status %d, %v; want a refusal", again.StatusCode, err)
	}
}

// dmsUnused is the bot's notifier in TestFunctionCompletesALink, where
// the function, not the bot, confirms the link.
type dmsUnused struct{ t *testing.T }

func (d dmsUnused) DirectMessage(context.Context, music.UserID, string) error {
	d.t.Error("the bot's notifier was used; the function confirms links")
	return nil
}
