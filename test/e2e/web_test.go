package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/iddv/timmybot/app/servertest"
	"github.com/iddv/timmybot/test/fakediscord"
)

const (
	requesterID = "400000000000000003" // manages the server that asks for the bot
	visitorID   = "400000000000000004" // signs in, owns nothing, is no owner
	webSecret   = "a-web-secret-of-at-least-thirty-two-characters"
)

// Viewports the screenshots are taken at.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

// TestWebFrontInBrowser walks the web front in headless Chromium against
// the real binary and a fake Discord that plays Discord's OAuth2 side: a
// requester asks for the bot, an owner approves, the requester gets the
// invite link, and someone else is kept off the dashboard. Each page is
// saved as a screenshot at desktop and phone width.
func TestWebFrontInBrowser(t *testing.T) {
	browser := startBrowser(t)
	fake := fakediscord.New(t, fakediscord.Options{HeartbeatInterval: time.Second, OAuth: fakediscord.OAuth{ClientSecret: "fake-client-secret"}})
	fake.AddUser(fakediscord.User{ID: ownerID, Username: "owner"})
	fake.AddUser(fakediscord.User{ID: visitorID, Username: "stranger"})
	requester := fake.AddUser(fakediscord.User{ID: requesterID, Username: "requester", Guilds: []fakediscord.UserGuild{
		{Name: "Friday Night Jams", Owner: true, Permissions: 1<<64 - 1},
		{Name: "Just a member", Permissions: 1 << 10},
	}})
	asking := requester.Guilds[0]
	b := startBot(t, fake, t.TempDir(),
		"DISCORD_APPLICATION_ID="+fake.ApplicationID(), "DISCORD_CLIENT_SECRET=fake-client-secret", "TIMMYBOT_WEB_SECRET="+webSecret)
	base := "http://" + b.httpAddr
	fake.RegisterRedirectURI(base + "/auth/callback")
	shots := screenshotDir(t)

	asker := browser.person(t, "requester", base, shots)
	asker.open("/", http.StatusOK, "01-home", "Sign in with Discord")
	fake.SignInAs(requesterID)
	asker.signIn("/request", "02-request", "Friday Night Jams")
	if page := asker.text("main"); strings.Contains(page, "Just a member") {
		t.Errorf("the request page offers a server the requester does not manage:\n%s", page)
	}
	asker.do(http.StatusOK, "/status", chromedp.SetValue(chromedp.CSS("#guild"), asking.ID),
		chromedp.SendKeys(chromedp.CSS("#use_case"), "Music for our Friday game nights"),
		chromedp.SendKeys(chromedp.CSS("#users"), "12"),
		chromedp.Click(chromedp.CSS(`form[action="/request"] button[type=submit]`)))
	asker.expect("03-status-pending", "Friday Night Jams", "Pending")
	if dms := fake.DMs(ownerID); len(dms) != 1 || !strings.Contains(dms[0].Content, asking.ID) {
		t.Errorf("the owner was told %+v, want one message about %s", dms, asking.ID)
	}

	owner := browser.person(t, "owner", base, shots)
	fake.SignInAs(ownerID)
	owner.open("/", http.StatusOK, "", "Sign in with Discord")
	owner.signIn("/dashboard", "04-dashboard-pending", "Friday Night Jams", "Music for our Friday game nights (expected users: 12)")
	owner.do(http.StatusOK, "/dashboard", chromedp.Click(chromedp.CSS(`#request-`+asking.ID+` form[action="/dashboard/approve"] button`)))
	owner.expect("05-dashboard-approved", "No pending requests.", asking.ID+", approved by "+ownerID)

	asker.open("/status", http.StatusOK, "06-status-approved", "Approved", "Add TimmyBot to Friday Night Jams")
	invite := asker.attribute(`#guild-`+asking.ID+` a.button`, "href")
	if u, err := url.Parse(invite); err != nil || u.Host != "discord.com" || u.Path != "/oauth2/authorize" ||
		u.Query().Get("client_id") != fake.ApplicationID() || u.Query().Get("guild_id") != asking.ID || u.Query().Get("disable_guild_select") != "true" {
		t.Errorf("invite link %q, want Discord's authorize page for application %s bound to server %s", invite, fake.ApplicationID(), asking.ID)
	}

	stranger := browser.person(t, "stranger", base, shots)
	fake.SignInAs(visitorID)
	stranger.open("/", http.StatusOK, "", "Sign in with Discord")
	stranger.signIn("/request", "07-request-no-server", "You have no server where you have the Manage Server permission.")
	stranger.open("/dashboard", http.StatusForbidden, "08-dashboard-refused", "Owners only")
	if nav := stranger.text("nav"); strings.Contains(nav, "Dashboard") {
		t.Errorf("the navigation offers a non-owner the dashboard: %q", nav)
	}

	if st := fake.Stats(); st.Authorizations != 3 || st.TokenGrants != 3 || st.AuthorizeErrors != 0 {
		t.Errorf("fake Discord saw %d authorizations, %d token grants, %d refused authorizations; want 3, 3, 0", st.Authorizations, st.TokenGrants, st.AuthorizeErrors)
	}
	if errs := fake.RESTErrors(); len(errs) > 0 {
		t.Errorf("Discord answered with errors: %+v", errs)
	}
}

// browser is one headless Chromium; each person gets their own browser
// context, so cookies are not shared.
type browser struct {
	ctx context.Context
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := browserPath()
	if path == "" {
		servertest.Unavailable(t, "chromium", "no chromium or google-chrome on PATH: install the Debian package chromium")
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	t.Cleanup(stopAlloc)
	ctx, stop := chromedp.NewContext(alloc)
	t.Cleanup(stop)
	// The first run starts the browser, which lives as long as the
	// context of that run: it must have no deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// browserPath finds Debian's chromium, or else Google Chrome, which
// GitHub's Ubuntu runners have instead.
func browserPath() string {
	for _, name := range []string{"chromium", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// person is someone using the web front in their own browser context.
type person struct {
	t     *testing.T
	name  string
	base  string
	shots string
	ctx   context.Context
}

func (b *browser) person(t *testing.T, name, base, shots string) *person {
	t.Helper()
	ctx, stop := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(stop)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, for as long as ctx
		t.Fatalf("opening %s's browser: %v", name, err)
	}
	return &person{t: t, name: name, base: base, shots: shots, ctx: ctx}
}

// run runs an action with a deadline and returns its value.
func run[T any](p *person, action chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		p.t.Fatalf("%s's browser: %v", p.name, err)
	}
	return v
}

// do runs actions that navigate and checks where the browser ends up,
// after any redirects.
func (p *person) do(status int, path string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		p.t.Fatalf("%s's browser: %v", p.name, err)
	}
	p.landed(resp, status, path)
}

func (p *person) landed(resp *network.Response, status int, path string) {
	p.t.Helper()
	u, err := url.Parse(resp.URL)
	if err != nil || u.Path != path || resp.Status != int64(status) {
		p.t.Fatalf("%s's browser is on %s with status %d, want %s with %d:\n%s", p.name, resp.URL, resp.Status, path, status, p.text("body"))
	}
}

// open loads path, checks the status and the page's text, and saves a
// screenshot unless shot is "".
func (p *person) open(path string, status int, shot string, want ...string) {
	p.t.Helper()
	p.do(status, path, chromedp.Navigate(p.base+path))
	p.expect(shot, want...)
}

// signIn presses "Sign in with Discord" and follows Discord's consent back
// to the page the front lands on.
func (p *person) signIn(landing, shot string, want ...string) {
	p.t.Helper()
	p.do(http.StatusOK, landing, chromedp.Click(chromedp.CSS(`form[action="/auth/login"] button`)))
	p.expect(shot, want...)
}

// expect checks the page's text and saves a screenshot unless shot is "".
func (p *person) expect(shot string, want ...string) {
	p.t.Helper()
	page := p.text("main")
	for _, w := range want {
		if !strings.Contains(page, w) {
			p.t.Errorf("%s's page lacks %q:\n%s", p.name, w, page)
		}
	}
	if shot != "" {
		p.screenshot(shot)
	}
}

func (p *person) text(sel string) string {
	p.t.Helper()
	return run(p, chromedp.Text(chromedp.CSS(sel)))
}

func (p *person) attribute(sel, name string) string {
	p.t.Helper()
	a := run(p, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if !a.Exists {
		p.t.Fatalf("%s has no %s attribute", sel, name)
	}
	return a.Value
}

// screenshot saves the whole page as PNG at every viewport.
func (p *person) screenshot(name string) {
	p.t.Helper()
	for _, v := range viewports {
		emulate := chromedp.EmulateViewport(v.width, v.height)
		if v.mobile {
			emulate = chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile)
		}
		run(p, emulate)
		png := run(p, chromedp.FullScreenshot(100))
		file := filepath.Join(p.shots, fmt.Sprintf("%s-%s.png", name, v.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

// screenshotDir is where the screenshots go: TIMMYBOT_ARTIFACTS/web when
// that is set, so they outlive the run, or else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "screenshots")
	if root := os.Getenv("TIMMYBOT_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the web front: %s", dir)
	return dir
}
