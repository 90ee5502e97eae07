package account_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/account"
)

func TestParseClients(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    map[account.Service]account.Client
		wantErr string
	}{
		{"the deployment's placeholder: nothing set up",
			`{"spotify":{"client_id":"","client_secret":""},"youtube":{"client_id":"","client_secret":""},"soundcloud":{"client_id":"","client_secret":""},"_generated":"x7"}`,
			map[account.Service]account.Client{}, ""},
		{"two filled in, one public client",
			`{"spotify":{"client_id":" sp-id ","client_secret":"sp-secret"},"soundcloud":{"client_id":"sc-id"},"youtube":{}}`,
			map[account.Service]account.Client{account.Spotify: {ID: "sp-id", Secret: "sp-secret"}, account.SoundCloud: {ID: "sc-id"}}, ""},
		{"a misspelt service", `{"spotfy":{"client_id":"a"}}`, nil, `"spotfy" is not a service`},
		{"a secret without its id", `{"youtube":{"client_secret":"yt-secret"}}`, nil, "youtube: client_secret is set without client_id"},
		{"a service that is not an object", `{"youtube":"yt-secret"}`, nil, "youtube: want"},
		{"not JSON", `spotify=yes`, nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.ParseClients(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "yt-secret") {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("clients (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedirectURI(t *testing.T) {
	// The Function URL ends with a slash; a configured public URL may not.
	for _, public := range []string{"https://abc.lambda-url.eu-central-1.on.aws/", "https://abc.lambda-url.eu-central-1.on.aws"} {
		if got, want := account.RedirectURI(public), "https://abc.lambda-url.eu-central-1.on.aws/link/callback"; got != want {
			t.Errorf("RedirectURI(%q) = %q, want %q", public, got, want)
		}
	}
}
