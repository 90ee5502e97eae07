package lambdaurl_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/web"
	"github.com/iddv/timmybot/app/web/lambdaurl"
)

type noNotes struct{}

func (noNotes) DirectMessage(context.Context, music.UserID, string) error { return nil }

// TestWebFrontThroughEvents drives the real web front with Function URL
// events: the home page sets the session cookie, and signing in with that
// cookie and the page's CSRF token in a form redirects to Discord.
func TestWebFrontThroughEvents(t *testing.T) {
	const public = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws"
	st, err := localstore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	front, err := web.New(web.Config{
		PublicURL: public, Secret: []byte(strings.Repeat("k", web.MinSecretLen)),
		ApplicationID: "300000000000000001", ClientSecret: "client-secret",
		Allowlist: st, Notifier: noNotes{},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/get-page.json")
	if err != nil {
		t.Fatal(err)
	}
	var get events.LambdaFunctionURLRequest
	if err := json.Unmarshal(b, &get); err != nil {
		t.Fatal(err)
	}
	get.RawPath, get.RawQueryString = "/", ""

	home, err := lambdaurl.Serve(context.Background(), front, get)
	if err != nil {
		t.Fatal(err)
	}
	if home.StatusCode != 200 || !strings.HasPrefix(home.Headers["Content-Type"], "text/html") || len(home.Cookies) != 1 {
		t.Fatalf("home page: status %d, headers %v, cookies %q", home.StatusCode, home.Headers, home.Cookies)
	}
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(home.Body)
	if token == nil {
		t.Fatalf("home page has no sign-in form:\n%s", home.Body)
	}
	cookie, _, _ := strings.Cut(home.Cookies[0], ";")

	post := get
	post.RawPath = "/auth/login"
	post.RequestContext.HTTP.Method = "POST"
	post.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded", "host": get.Headers["host"], "origin": public}
	post.Cookies = []string{cookie}
	post.Body = url.Values{"csrf": {token[1]}}.Encode()
	signIn, err := lambdaurl.Serve(context.Background(), front, post)
	if err != nil {
		t.Fatal(err)
	}
	if signIn.StatusCode != 303 || !strings.HasPrefix(signIn.Headers["Location"], "https://discord.com/oauth2/authorize?") || len(signIn.Cookies) != 1 {
		t.Fatalf("sign-in: status %d, headers %v, cookies %q\n%s", signIn.StatusCode, signIn.Headers, signIn.Cookies, signIn.Body)
	}
	if !strings.Contains(signIn.Headers["Location"], url.QueryEscape(public+"/auth/callback")) {
		t.Errorf("sign-in redirects with another redirect URI: %s", signIn.Headers["Location"])
	}
}
