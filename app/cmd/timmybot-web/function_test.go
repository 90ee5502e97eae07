package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iddv/timmybot/app/localstore"
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
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.LinkClientsARN, c.LinkSecretPrefix, c.LinkKMSKeyID, c.LinkFlowsTable}
	want := []string{"arn:aws:secretsmanager:eu-central-1:111111111111:secret:link-clients", "timmybot/prod/links", "arn:aws:kms:eu-central-1:111111111111:key/k", "timmybot-prod-preferences"}
	if !slices.Equal(got, want) {
		t.Errorf("linking = %q, want %q", got, want)
	}
}
