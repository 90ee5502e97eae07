package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/servertest"
	"github.com/iddv/timmybot/test/fakediscord"
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

// authorizationURL runs /link service as the member and returns the URL
// the bot answers with.
func authorizationURL(t *testing.T, h *harness, service string) string {
	t.Helper()
	reply := h.do(t, h.approved.ID, memberID, "link", opt("service", service)).Content
	m := regexp.MustCompile(`<(http://[^>]+)>`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("/link %s answered %q, want an authorization URL", service, reply)
	}
	return m[1]
}

// linkThroughBrowser runs /link service as the member and the browser's
// round trip through the fake provider to the bot's callback page, played
// by an HTTP client that stops at each redirect to check where it leads.
func linkThroughBrowser(t *testing.T, h *harness, service string) {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authorizationURL(t, h, service))
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
}

// linkInChromium follows /link service's URL in a real browser, which the
// fake provider sends back to the bot's callback page.
func linkInChromium(t *testing.T, h *harness, service string) {
	t.Helper()
	p := startBrowser(t).person(t, "member", "http://"+h.bot.httpAddr, "")
	p.do(http.StatusOK, "/link/callback", chromedp.Navigate(authorizationURL(t, h, service)))
	p.expect("", "is linked to TimmyBot")
}

// TestLinkRoundTrip links a Spotify and a SoundCloud account through the
// real binary against the fake providers: the browser's round trip (the
// Spotify one in chromium) ends on the bot's callback page, the bot
// confirms by direct message, /account
// shows the links; /play playlist: offers the member's playlists of both
// services and queues the one picked in order, cut at
// TIMMYBOT_MAX_PLAYLIST_TRACKS with a note, /play source:liked queues
// the liked tracks of the /settings service; /unlink and /forget-me delete
// the links. No token, code or PKCE verifier reaches the log.
func TestLinkRoundTrip(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("yt-dlp"); err != nil {
		servertest.Unavailable(t, "yt-dlp", "it is not installed: apt-get install yt-dlp")
	}
	provider := accounttest.New(t)
	h := newHarness(t, "TIMMYBOT_LINK_PROVIDER_URL="+provider.URL().String(), "TIMMYBOT_YTDLP_SITES=127.0.0.1", "TIMMYBOT_MAX_PLAYLIST_TRACKS=2",
		"TIMMYBOT_SPOTIFY_CLIENT_ID="+accounttest.ClientID, "TIMMYBOT_SPOTIFY_CLIENT_SECRET="+accounttest.ClientSecret,
		"TIMMYBOT_SOUNDCLOUD_CLIENT_ID="+accounttest.ClientID, "TIMMYBOT_SOUNDCLOUD_CLIENT_SECRET="+accounttest.ClientSecret)
	g := h.approved.ID
	// SoundCloud's tracks are silent ones of the audio host, which yt-dlp
	// plays as it would their SoundCloud pages; pages of two see paging.
	provider.SetPageSize(2)
	track := func(name string) accounttest.Item {
		return accounttest.Item{ID: name, Title: name, DurationMS: 60000, URL: h.track("cloud/" + name + ".ogg")}
	}
	provider.SetLibrary(account.SoundCloud, accounttest.Library{
		Playlists: []accounttest.Playlist{{ID: "123", Name: "Road trip", Items: []accounttest.Item{track("one"), track("two"), track("three")}}, {ID: "456", Name: "Night"}},
		Liked:     []accounttest.Item{track("liked-a"), track("liked-b")},
	})
	provider.SetLibrary(account.Spotify, accounttest.Library{Playlists: []accounttest.Playlist{{ID: "sp1", Name: "Road trip", Items: []accounttest.Item{{Title: "x", ISRC: "GBAAA2600001"}}}}})

	linkInChromium(t, h, "spotify")
	if dms := h.fake.DMs(memberID); len(dms) != 1 || !strings.Contains(dms[0].Content, "Your Spotify account **Ada's music** is now linked") {
		t.Errorf("DMs = %+v, want the confirmation", dms)
	}
	linkThroughBrowser(t, h, "soundcloud")
	if got := h.do(t, g, memberID, "account").Content; !strings.Contains(got, "**Spotify**: Ada's music") || !strings.Contains(got, "**SoundCloud**: Ada's music") {
		t.Errorf("/account = %q", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typed := fakediscord.Option{Name: "playlist", Value: "road", Focused: true}
	resp, err := h.fake.Autocomplete(ctx, fakediscord.Slash{GuildID: g, UserID: memberID, Name: "play", Options: []fakediscord.Option{typed}})
	if err != nil {
		t.Fatalf("autocomplete: %v\n%s", err, h.bot.logs)
	}
	choices := resp.Choices
	want := []fakediscord.CommandChoice{{Name: "Spotify · Road trip (1)", Value: "spotify:sp1"}, {Name: "SoundCloud · Road trip (3)", Value: "soundcloud:123"}}
	if diff := cmp.Diff(want, choices); diff != "" {
		t.Fatalf("playlist choices (-want +got):\n%s", diff)
	}
	if got := h.do(t, g, memberID, "play", opt("playlist", choices[1].Value)).Content; got != "Queued 2 tracks from position 1. Only the first 2 tracks were taken (the limit is 2)." {
		t.Fatalf("/play playlist: = %q\n%s", got, h.bot.logs)
	}
	if got := h.do(t, g, memberID, "play", opt("source", "liked")).Content; got != "You linked several services: add service: (spotify, soundcloud) to say which one." {
		t.Errorf("/play source:liked with two links = %q", got)
	}
	h.do(t, g, memberID, "settings", opt("service", "soundcloud"))
	if got := h.do(t, g, memberID, "play", opt("source", "liked")).Content; got != "Queued 2 tracks from position 3." {
		t.Fatalf("/play source:liked = %q\n%s", got, h.bot.logs)
	}
	q := h.do(t, g, memberID, "queue")
	if len(q.Embeds) != 1 {
		t.Fatalf("/queue = %+v", q)
	}
	at := -1
	for i, name := range []string{"one", "two", "liked-a", "liked-b"} {
		entry := fmt.Sprintf("`%d.` **[%s]", i+1, name)
		next := strings.Index(q.Embeds[0].Description, entry)
		if next <= at {
			t.Errorf("/queue does not list %s after the tracks before it:\n%s", entry, q.Embeds[0].Description)
		}
		at = next
	}
	h.waitYtdlpFrames(t, 25)

	if got := h.do(t, g, memberID, "unlink", opt("service", "soundcloud")).Content; !strings.Contains(got, "Your SoundCloud account is unlinked") {
		t.Errorf("/unlink soundcloud = %q", got)
	}
	if got := h.do(t, g, memberID, "play", opt("playlist", choices[1].Value)).Content; got != "You have not linked a SoundCloud account: link your account with /link first." {
		t.Errorf("/play playlist: after /unlink = %q", got)
	}
	if got := h.do(t, g, memberID, "forget-me").Content; !strings.Contains(got, "• 1 account link and its tokens: Spotify (Ada's music)\n") {
		t.Errorf("/forget-me = %q", got)
	}
	if got := h.do(t, g, memberID, "account").Content; !strings.Contains(got, "You have linked no music account.") {
		t.Errorf("/account after /forget-me = %q", got)
	}
	secrets := append(append(provider.Issued(), provider.Verifiers()...), accounttest.ClientSecret)
	if len(secrets) < 7 { // two codes, two pairs of tokens, two verifiers, the secret
		t.Fatalf("the fake saw only %d secrets", len(secrets))
	}
	for _, secret := range secrets {
		if strings.Contains(h.bot.logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
