package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/test/fakediscord"
)

func TestCommandsAreRegisteredWithTheirOptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	byName := map[string]fakediscord.ApplicationCommand{}
	for _, c := range h.fake.Commands("") {
		byName[c.Name] = c
	}
	for _, name := range []string{"play", "queue", "remove", "clear", "nowplaying", "help", "request-access", "allowlist", "link", "account", "unlink", "forget-me"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("/%s not registered; registered: %v", name, byName)
		}
	}
	if got := h.bot.get(t, "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz = %d", got)
	}
}

func TestDevGuildRegistersCommandsInThatGuildOnly(t *testing.T) {
	t.Parallel()
	fake := fakediscord.New(t, fakediscord.Options{})
	dev := fake.AddGuild(fakediscord.Guild{Name: "Dev"})
	startBot(t, fake, t.TempDir(), "TIMMYBOT_DEV_GUILD_ID="+dev.ID)
	if global := fake.Commands(""); len(global) != 0 {
		t.Errorf("global commands registered with a dev guild: %v", global)
	}
	// The whole table: every command, the search and lyrics ones included.
	names := map[string]bool{}
	for _, c := range fake.Commands(dev.ID) {
		names[c.Name] = true
	}
	for _, c := range (&discord.Handlers{}).Commands() {
		if !names[c.Name] {
			t.Errorf("dev guild lacks /%s", c.Name)
		}
	}
	for _, name := range []string{"search", "lyrics"} {
		if !names[name] {
			t.Errorf("dev guild lacks /%s", name)
		}
	}
}

func TestPlayEnqueuesAndQueueShowsIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID

	msg := h.do(t, g, memberID, "play", opt("query", h.track("albums/first%20song.mp3")))
	if msg.Ephemeral() || msg.Content != "Playing **first song.mp3**." {
		t.Fatalf("/play answered %q (ephemeral %v)", msg.Content, msg.Ephemeral())
	}
	if msg := h.do(t, g, memberID, "play", opt("query", h.track("second.ogg"))); msg.Content != "Queued **second.ogg** at position 2." {
		t.Fatalf("second /play answered %q", msg.Content)
	}

	q := h.do(t, g, memberID, "queue")
	if len(q.Embeds) != 1 {
		t.Fatalf("/queue answered %+v", q)
	}
	e := q.Embeds[0]
	if e.Title != "Queue · 2 tracks" || !strings.Contains(e.Description, "`1.` **[first song.mp3]("+h.track("albums/first%20song.mp3")+")**") ||
		!strings.Contains(e.Description, "`2.` **[second.ogg]("+h.track("second.ogg")+")**") {
		t.Errorf("queue embed = %q / %q", e.Title, e.Description)
	}
	if np := h.do(t, g, memberID, "nowplaying"); len(np.Embeds) != 1 || !strings.Contains(np.Embeds[0].Description, "first song.mp3") {
		t.Errorf("/nowplaying = %+v", np)
	}
	if rm := h.do(t, g, memberID, "remove", opt("position", 1)); rm.Content != "Removed **first song.mp3** (position 1)." {
		t.Errorf("/remove answered %q", rm.Content)
	}
	if cl := h.do(t, g, memberID, "clear"); cl.Content != "Cleared the queue (1 track)." {
		t.Errorf("/clear answered %q", cl.Content)
	}
}

func TestQueuePagesWithButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	for i := 1; i <= 25; i++ {
		h.do(t, g, memberID, "play", opt("query", h.track(fmt.Sprintf("%02d.mp3", i))))
	}
	first := h.respond(t, fakediscord.Slash{GuildID: g, UserID: memberID, Name: "queue"})
	if got := first.Message.Embeds[0].Footer.Text; got != "Page 1/3" {
		t.Fatalf("footer = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next, err := h.fake.Click(ctx, fakediscord.Click{MessageID: first.Message.ID, CustomID: "queue:2"})
	if err != nil {
		t.Fatal(err)
	}
	if next.Type != fakediscord.CallbackUpdateMessage {
		t.Errorf("button answered with callback %d, want an update", next.Type)
	}
	e := next.Message.Embeds[0]
	if e.Footer.Text != "Page 2/3" || !strings.Contains(e.Description, "`11.` **[11.mp3]") || strings.Contains(e.Description, "`10.`") {
		t.Errorf("page 2 = %q / %q", e.Footer.Text, e.Description)
	}

	// Once the server is no longer approved, its buttons are refused too.
	if ok := h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "revoke", Options: []fakediscord.Option{opt("guild", g)}}); !strings.Contains(ok.Content, "Revoked server") {
		t.Fatalf("/allowlist revoke answered %q", ok.Content)
	}
	refused, err := h.fake.Click(ctx, fakediscord.Click{MessageID: first.Message.ID, CustomID: "queue:3"})
	if err != nil {
		t.Fatal(err)
	}
	if !refused.Message.Ephemeral() || !strings.Contains(refused.Message.Content, "/request-access") {
		t.Errorf("button in a revoked server answered %q (ephemeral %v), want a refusal", refused.Message.Content, refused.Message.Ephemeral())
	}
}

func TestUnapprovedGuildIsRefusedUntilAnOwnerApproves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := h.addGuild(t, fakediscord.Guild{Name: "Newcomers"})

	refused := h.do(t, other.ID, memberID, "play", opt("query", h.track("a.mp3")))
	if !refused.Ephemeral() || !strings.Contains(refused.Content, "/request-access") {
		t.Fatalf("unapproved /play answered %q (ephemeral %v)", refused.Content, refused.Ephemeral())
	}
	if help := h.do(t, other.ID, memberID, "help"); len(help.Embeds) != 1 || !strings.Contains(help.Embeds[0].Description, "/play") {
		t.Errorf("/help in an unapproved guild answered %+v", help)
	}

	asked := h.do(t, other.ID, memberID, "request-access", opt("reason", "Our study group wants lo-fi"))
	if !asked.Ephemeral() || !strings.Contains(asked.Content, "sent to TimmyBot's owners") {
		t.Fatalf("/request-access answered %q", asked.Content)
	}
	dms := h.fake.DMs(ownerID)
	if len(dms) != 1 || !strings.Contains(dms[0].Content, other.ID) || !strings.Contains(dms[0].Content, "Our study group wants lo-fi") || !strings.Contains(dms[0].Content, "Newcomers") {
		t.Fatalf("owner DMs = %+v", dms)
	}

	// A member cannot approve; the owner can, from any guild.
	if denied := h.do(t, h.approved.ID, memberID, "allowlist", fakediscord.Option{Name: "approve", Options: []fakediscord.Option{opt("guild", other.ID)}}); !strings.Contains(denied.Content, "Only the bot's owners") {
		t.Fatalf("member /allowlist approve answered %q", denied.Content)
	}
	reqs := h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "requests"})
	if len(reqs.Embeds) != 1 || !strings.Contains(reqs.Embeds[0].Description, other.ID) {
		t.Fatalf("/allowlist requests = %+v", reqs)
	}
	if ok := h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "approve", Options: []fakediscord.Option{opt("guild", other.ID)}}); !strings.Contains(ok.Content, "Approved server") {
		t.Fatalf("owner /allowlist approve answered %q", ok.Content)
	}

	if played := h.do(t, other.ID, memberID, "play", opt("query", h.track("a.mp3"))); played.Content != "Playing **a.mp3**." {
		t.Fatalf("/play after approval answered %q", played.Content)
	}
	if reqs := h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "requests"}); reqs.Content != "No pending access requests." {
		t.Errorf("request still pending after approval: %+v", reqs)
	}
}

// TestForgetMeForgetsQueuedTracksAndRequests runs /forget-me through the
// real binary: the member's name leaves the tracks they queued, which stay
// queued, and the one they played (/previous queues it naming nobody), and
// the access request only they made is withdrawn.
func TestForgetMeForgetsQueuedTracksAndRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	other := h.addGuild(t, fakediscord.Guild{Name: "Newcomers"})
	h.do(t, g, memberID, "play", opt("query", h.track("a.mp3")))
	h.do(t, g, memberID, "play", opt("query", h.track("b.mp3")))
	if asked := h.do(t, other.ID, memberID, "request-access", opt("reason", "lo-fi")); !strings.Contains(asked.Content, "sent to TimmyBot's owners") {
		t.Fatalf("/request-access answered %q", asked.Content)
	}

	h.do(t, g, memberID, "play", opt("query", h.track("c.mp3")))
	if got := h.do(t, g, memberID, "skip").Content; !strings.Contains(got, "Skipped") {
		t.Fatalf("/skip = %q", got)
	}
	mention := "<@" + memberID + ">"
	h.awaitNowPlaying(t, 5*time.Second, "naming the member", func(m fakediscord.Message) bool {
		return isNowPlaying(m) && fieldsMention(m.Embeds[0], mention)
	})

	const says = "\n• your name on 2 queued tracks, which stay in the queue\n• your part in 1 access request"
	if got := h.do(t, g, memberID, "forget-me").Content; !strings.HasSuffix(got, says) {
		t.Errorf("/forget-me = %q, want it to end %q", got, says)
	}
	// At once (5 s is less than the progress bar's redraw interval), not
	// at the next redraw or when the long track ends.
	h.awaitNowPlaying(t, 5*time.Second, "naming nobody", func(m fakediscord.Message) bool {
		return isNowPlaying(m) && !fieldsMention(m.Embeds[0], mention)
	})
	if got := h.do(t, g, memberID, "previous").Content; got == "" {
		t.Fatal("/previous answered nothing")
	}
	q := h.do(t, g, memberID, "queue")
	if len(q.Embeds) != 1 || !strings.Contains(q.Embeds[0].Description, "a.mp3") {
		t.Fatalf("/queue after /previous = %+v, want the played track back", q.Embeds)
	}
	q = h.do(t, g, memberID, "queue")
	if len(q.Embeds) != 1 || q.Embeds[0].Title != "Queue · 3 tracks" || strings.Contains(q.Embeds[0].Description, "<@") {
		t.Errorf("/queue after /forget-me and /previous = %+v, want the three tracks, naming nobody", q.Embeds)
	}
	if reqs := h.do(t, g, ownerID, "allowlist", fakediscord.Option{Name: "requests"}); reqs.Content != "No pending access requests." {
		t.Errorf("/allowlist requests after /forget-me = %+v", reqs)
	}
	if got := h.do(t, g, memberID, "forget-me").Content; !strings.Contains(got, "there was nothing to delete") {
		t.Errorf("/forget-me again = %q", got)
	}
}

// isNowPlaying reports whether m, a message with an embed, is a
// now-playing message showing a track.
func isNowPlaying(m fakediscord.Message) bool {
	return hasButton(m.Components, "np:skip") && m.Embeds[0].Title != ""
}

func fieldsMention(e fakediscord.Embed, mention string) bool {
	for _, f := range e.Fields {
		if strings.Contains(f.Value, mention) {
			return true
		}
	}
	return false
}

func TestBotResumesAfterTheGatewayDrops(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	h.do(t, g, memberID, "play", opt("query", h.track("before.mp3")))
	if code := h.bot.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d before the drop", code)
	}

	// The gateway holds the reconnection until the test has looked.
	release := make(chan struct{})
	h.fake.HoldGateway(release)
	h.fake.DropConnection()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.fake.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Held >= 1 }); err != nil {
		t.Fatalf("no reconnection after the drop: %v\n%s", err, h.bot.logs)
	}
	if code := h.bot.get(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the gateway is down, want 503", code)
	}
	if code := h.bot.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while the gateway is down, want 200", code)
	}
	close(release)
	if err := h.fake.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Resumes >= 1 }); err != nil {
		t.Fatalf("no RESUME after the drop: %v\n%s", err, h.bot.logs)
	}
	if msg := h.do(t, g, memberID, "play", opt("query", h.track("after.mp3"))); msg.Content != "Queued **after.mp3** at position 2." {
		t.Fatalf("/play after resume answered %q", msg.Content)
	}
	if code := h.bot.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after the resume, want 200", code)
	}
	if st := h.fake.Stats(); st.Identifies != 1 {
		t.Errorf("identifies = %d, want 1 (resume, not a new session)", st.Identifies)
	}
}

func TestGuildsNeverSeeEachOthersQueues(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const guilds, tracks = 50, 3
	ids := make([]string, guilds)
	for i := range ids {
		ids[i] = h.addGuild(t, fakediscord.Guild{Name: fmt.Sprintf("G%d", i)}).ID
		h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "approve", Options: []fakediscord.Option{opt("guild", ids[i])}})
	}

	var wg sync.WaitGroup
	errs := make(chan error, guilds)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for k := range tracks {
				if _, err := h.fake.Interact(ctx, fakediscord.Slash{GuildID: id, UserID: memberID, Name: "play", Options: []fakediscord.Option{opt("query", h.track(fmt.Sprintf("g%d-t%d.mp3", i, k)))}}); err != nil {
					errs <- err
					return
				}
			}
			resp, err := h.fake.Interact(ctx, fakediscord.Slash{GuildID: id, UserID: memberID, Name: "queue"})
			if err != nil {
				errs <- err
				return
			}
			desc := resp.Message.Embeds[0].Description
			if got := strings.Count(desc, ".mp3]("); got != tracks {
				errs <- fmt.Errorf("guild %d sees %d tracks: %s", i, got, desc)
			}
			if got := strings.Count(desc, fmt.Sprintf("/g%d-t", i)); got != tracks {
				errs <- fmt.Errorf("guild %d sees another guild's tracks: %s", i, desc)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestBadInputGetsAClearErrorAndStoresNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	tests := []struct {
		name string
		cmd  fakediscord.Slash
		want string
	}{
		{"6000-character query", fakediscord.Slash{Name: "play", Options: []fakediscord.Option{opt("query", "https://music.example/"+strings.Repeat("a", 5978))}}, "too long"},
		{"other scheme", fakediscord.Slash{Name: "play", Options: []fakediscord.Option{opt("query", "file:///etc/passwd")}}, "Only http:// and https:// URLs can be played, not file:"},
		{"unknown command", fakediscord.Slash{Name: "dance"}, "Unknown command /dance"},
		{"unknown option", fakediscord.Slash{Name: "play", Options: []fakediscord.Option{opt("query", "https://music.example/x.mp3"), opt("volume", "11")}}, `no option "volume"`},
		{"guild ID not a snowflake", fakediscord.Slash{GuildID: "my-guild", Name: "play", Options: []fakediscord.Option{opt("query", "https://music.example/x.mp3")}}, "not a valid guild ID"},
		{"remove beyond the end", fakediscord.Slash{Name: "remove", Options: []fakediscord.Option{opt("position", 3)}}, "There is no track at position 3; the queue has 0."},
		{"approve a non-snowflake", fakediscord.Slash{Name: "allowlist", UserID: ownerID, Options: []fakediscord.Option{{Name: "approve", Options: []fakediscord.Option{opt("guild", "12ab")}}}}, "not a valid guild ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cmd.Unchecked = true
			if tt.cmd.GuildID == "" {
				tt.cmd.GuildID = g
			}
			if tt.cmd.UserID == "" {
				tt.cmd.UserID = memberID
			}
			msg := h.respond(t, tt.cmd).Message
			if !msg.Ephemeral() || !strings.Contains(msg.Content, tt.want) {
				t.Errorf("answered %q (ephemeral %v), want an ephemeral message containing %q", msg.Content, msg.Ephemeral(), tt.want)
			}
		})
	}
	q := h.do(t, g, memberID, "queue")
	if q.Embeds[0].Title != "Queue" {
		t.Errorf("bad input stored something: %+v", q.Embeds[0])
	}
	if list := h.do(t, g, ownerID, "allowlist", fakediscord.Option{Name: "list"}); strings.Contains(list.Embeds[0].Description, "12ab") {
		t.Errorf("a bad guild ID was approved: %s", list.Embeds[0].Description)
	}
}

func TestUnicodeTracksRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	msg := h.do(t, g, memberID, "play", opt("query", h.track("曲/夜に駆ける_🎵.mp3")))
	if msg.Content != "Playing **夜に駆ける\\_🎵.mp3**." {
		t.Fatalf("/play answered %q", msg.Content)
	}
	q := h.do(t, g, memberID, "queue")
	if !strings.Contains(q.Embeds[0].Description, "夜に駆ける\\_🎵.mp3") {
		t.Errorf("queue = %q", q.Embeds[0].Description)
	}
}

func TestTheTokenNeverReachesTheLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	h.do(t, g, memberID, "play", opt("query", h.track("a.mp3")))
	h.do(t, g, memberID, "play", opt("query", "not a url"))
	// Every gateway path that carries the token: a new IDENTIFY after an
	// invalid session, a RESUME after a drop. The refusals are in
	// TestStartUpStopsWhereRetryingCannotHelp.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.fake.InvalidateSession(false)
	if err := h.fake.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Identifies >= 2 }); err != nil {
		t.Fatalf("no new IDENTIFY after an invalid session: %v", err)
	}
	// Drop only once the bot has the new session: dropped before its
	// READY, it has nothing to resume and identifies again.
	for strings.Count(h.bot.logs.String(), "gateway ready") < 2 {
		if ctx.Err() != nil {
			t.Fatalf("no READY for the new session:\n%s", h.bot.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.fake.DropConnection()
	if err := h.fake.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Resumes >= 1 }); err != nil {
		t.Fatal(err)
	}
	h.bot.stop(t)
	logs := h.bot.logs.String()
	if !strings.Contains(logs, "gateway ready") || !strings.Contains(logs, "shutting down") {
		t.Fatalf("log does not cover a full run:\n%s", logs)
	}
	if strings.Contains(logs, h.fake.Token()) {
		t.Fatalf("the bot token appears in the log:\n%s", logs)
	}
}

func TestCLIListsApprovalsAndRequests(t *testing.T) {
	t.Parallel()
	fake := fakediscord.New(t, fakediscord.Options{})
	dir := t.TempDir()
	cli(t, fake, dir, nil, "allowlist", "approve", "500000000000000002")
	cli(t, fake, dir, nil, "allowlist", "approve", "500000000000000001")
	out := cli(t, fake, dir, nil, "allowlist", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "GUILD") {
		t.Fatalf("list printed:\n%s", out)
	}
	got := []string{strings.Fields(lines[1])[0], strings.Fields(lines[2])[0]}
	if got[0] != "500000000000000002" || got[1] != "500000000000000001" {
		t.Errorf("list order = %v, want oldest approval first", got)
	}
	cli(t, fake, dir, nil, "allowlist", "revoke", "500000000000000002")
	if out := cli(t, fake, dir, nil, "allowlist", "list"); strings.Contains(out, "500000000000000002") {
		t.Errorf("revoked guild still listed:\n%s", out)
	}
}

func TestUnapprovedGuildsAreLeftAfterTheGracePeriod(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "TIMMYBOT_LEAVE_UNAPPROVED_AFTER=200ms")
	stranger := h.fake.AddGuild(fakediscord.Guild{Name: "Stranger"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.fake.Await(ctx, func(s *fakediscord.Server) bool { return len(s.LeftGuilds()) > 0 }); err != nil {
		t.Fatalf("the bot never left the unapproved guild: %v\n%s", err, h.bot.logs)
	}
	if left := h.fake.LeftGuilds(); len(left) != 1 || left[0] != stranger.ID {
		t.Fatalf("left guilds = %v, want only %s (not the approved %s)", left, stranger.ID, h.approved.ID)
	}
}

func TestAccessRequestSurvivesAFailedOwnerDM(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := h.addGuild(t, fakediscord.Guild{Name: "Closed DMs"})
	// The owner does not accept DMs from the bot.
	h.fake.InjectFault(fakediscord.Fault{Route: "POST /channels/*/messages", Status: 403, Code: 50007, Message: "Cannot send messages to this user"})

	asked := h.do(t, other.ID, memberID, "request-access", opt("reason", "please"))
	if !strings.Contains(asked.Content, "sent to TimmyBot's owners") {
		t.Fatalf("/request-access answered %q", asked.Content)
	}
	reqs := h.do(t, h.approved.ID, ownerID, "allowlist", fakediscord.Option{Name: "requests"})
	if len(reqs.Embeds) != 1 || !strings.Contains(reqs.Embeds[0].Description, other.ID) {
		t.Fatalf("the request was lost with the DM: %+v", reqs)
	}
	if !strings.Contains(h.bot.logs.String(), "direct message failed") {
		t.Errorf("the failed DM was not logged:\n%s", h.bot.logs)
	}
}
