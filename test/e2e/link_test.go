package e2e

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/account/accounttest"
)

// TestLinkIsWired runs the real binary with a Spotify client configured and
// none for YouTube: /link answers an authorization URL that comes back to
// the bot's own callback, the token key file is made private, an unknown
// state is refused by the callback, and a service without a client says
// so.
func TestLinkIsWired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "TIMMYBOT_SPOTIFY_CLIENT_ID=e2e-client", "TIMMYBOT_SPOTIFY_CLIENT_SECRET=e2e-secret-never-shown")
	reply := h.do(t, h.approved.ID, memberID, "link", opt("service", "spotify")).Content
	m := regexp.MustCompile(`<(https://accounts\.spotify\.com/authorize\?[^>]+)>`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("/link answered %q, want a Spotify authorization URL", reply)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if want := "http://" + h.bot.httpAddr + "/link/callback"; q.Get("redirect_uri") != want || q.Get("client_id") != "e2e-client" || q.Get("code_challenge_method") != "S256" ||
		q.Get("scope") != "playlist-read-private playlist-read-collaborative user-library-read user-top-read" {
		t.Errorf("authorization URL %s: want redirect_uri %s, the client, S256 and Spotify's scopes", u, want)
	}
	if fi, err := os.Stat(filepath.Join(h.bot.dataDir, "token.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token.key: %v, %v; want a 0600 file", fi, err)
	}
	if code, body := h.bot.fetch(t, "/link/callback?state=forged&code=x"); code != http.StatusBadRequest || !strings.Contains(body, "not valid") {
		t.Errorf("forged callback = %d %s, want 400 saying the link is not valid", code, body)
	}
	if got := h.do(t, h.approved.ID, memberID, "link", opt("service", "youtube")).Content; !strings.Contains(got, "Linking YouTube is not set up on this bot.") {
		t.Errorf("/link youtube = %q", got)
	}
	if strings.Contains(h.bot.logs.String(), "e2e-secret-never-shown") || strings.Contains(h.bot.logs.String(), q.Get("state")) {
		t.Errorf("the log holds the client secret or the state:\n%s", h.bot.logs)
	}
}

// TestLinkRoundTrip links a Spotify account through the real binary against
// the fake provider: the browser's round trip ends on the bot's callback
// page, the bot confirms by direct message, /account shows the link and
// /forget-me deletes it; no code or token reaches the log.
func TestLinkRoundTrip(t *testing.T) {
	t.Parallel()
	provider := accounttest.New(t)
	h := newHarness(t, "TIMMYBOT_LINK_PROVIDER_URL="+provider.URL().String(),
		"TIMMYBOT_SPOTIFY_CLIENT_ID="+accounttest.ClientID, "TIMMYBOT_SPOTIFY_CLIENT_SECRET="+accounttest.ClientSecret)
	reply := h.do(t, h.approved.ID, memberID, "link", opt("service", "spotify")).Content
	m := regexp.MustCompile(`<(http://[^>]+)>`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("/link answered %q, want an authorization URL", reply)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(m[1])
	if err != nil {
		t.Fatalf("authorizing: %v", err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, "http://"+h.bot.httpAddr+"/link/callback?") {
		t.Fatalf("the provider sends the browser to %q, want the bot's callback", back)
	}
	resp, err = browser.Get(back)
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "is linked to TimmyBot") {
		t.Fatalf("callback = %s %s", resp.Status, page)
	}
	if dms := h.fake.DMs(memberID); len(dms) != 1 || !strings.Contains(dms[0].Content, "Your Spotify account **Ada's music** is now linked") {
		t.Errorf("DMs = %+v, want the confirmation", dms)
	}
	if got := h.do(t, h.approved.ID, memberID, "account").Content; !strings.Contains(got, "**Spotify**: Ada's music") {
		t.Errorf("/account = %q", got)
	}
	if got := h.do(t, h.approved.ID, memberID, "forget-me").Content; !strings.Contains(got, "• 1 account link and its tokens: Spotify (Ada's music)\n") {
		t.Errorf("/forget-me = %q", got)
	}
	if got := h.do(t, h.approved.ID, memberID, "account").Content; !strings.Contains(got, "You have linked no music account.") {
		t.Errorf("/account after /forget-me = %q", got)
	}
	for _, secret := range append(provider.Issued(), accounttest.ClientSecret) {
		if strings.Contains(h.bot.logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
