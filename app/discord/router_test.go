package discord

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// recorder is a responder that records what the router sends.
type recorder struct {
	mu        sync.Mutex
	responses []*discordgo.InteractionResponse
	edits     []*discordgo.WebhookEdit
	editedAt  []time.Time
	followups []*discordgo.WebhookParams
	deletes   int
	deferred  chan struct{} // closed on the first deferral
	// respondCtxErrs are the errors of the responses' contexts when sent:
	// a response sent with a spent context never reaches Discord.
	respondCtxErrs []error
}

func newRecorder() *recorder { return &recorder{deferred: make(chan struct{})} }

func (r *recorder) InteractionRespond(_ *discordgo.Interaction, resp *discordgo.InteractionResponse, opts ...discordgo.RequestOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg := &discordgo.RequestConfig{Request: httptest.NewRequest(http.MethodPost, "/", nil)}
	for _, o := range opts {
		o(cfg)
	}
	r.respondCtxErrs = append(r.respondCtxErrs, cfg.Request.Context().Err())
	r.responses = append(r.responses, resp)
	if resp.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource || resp.Type == discordgo.InteractionResponseDeferredMessageUpdate {
		close(r.deferred)
	}
	return nil
}

func (r *recorder) InteractionResponseEdit(_ *discordgo.Interaction, e *discordgo.WebhookEdit, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.edits = append(r.edits, e)
	r.editedAt = append(r.editedAt, time.Now())
	return &discordgo.Message{}, nil
}

func (r *recorder) InteractionResponseDelete(*discordgo.Interaction, ...discordgo.RequestOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deletes++
	return nil
}

func (r *recorder) FollowupMessageCreate(_ *discordgo.Interaction, _ bool, p *discordgo.WebhookParams, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.followups = append(r.followups, p)
	return &discordgo.Message{}, nil
}

// only returns the single immediate response, failing otherwise.
func (r *recorder) only(t *testing.T) *discordgo.InteractionResponse {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.responses) != 1 || len(r.edits) != 0 || len(r.followups) != 0 {
		t.Fatalf("want exactly one response, got %d responses, %d edits, %d follow-ups", len(r.responses), len(r.edits), len(r.followups))
	}
	return r.responses[0]
}

// observations records what the router reports to its observer.
type observations struct {
	mu     sync.Mutex
	failed []bool
}

func (o *observations) ObserveInteraction(_ time.Duration, failed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed = append(o.failed, failed)
}

type fakeApprovals map[music.GuildID]bool

func (f fakeApprovals) IsApproved(_ context.Context, g music.GuildID) (bool, error) {
	if g == "999" {
		return false, errors.New("store down")
	}
	return f[g], nil
}

const (
	approvedGuild   = "100000000000000001"
	unapprovedGuild = "100000000000000002"
	ownerID         = "200000000000000001"
	memberID        = "200000000000000002"
)

func echoCommands(run HandlerFunc) []Command {
	return []Command{
		{Name: "echo", Description: "Echo text", Run: run, Options: []Option{
			{Name: "text", Description: "Text", Type: String, Required: true, MaxLength: 10},
			{Name: "times", Description: "Times", Type: Integer, MinValue: 1, MaxValue: 3},
		}},
		{Name: "ping", Description: "Anyone", Access: Everyone, Run: run},
		{Name: "admin", Description: "Owners", Access: Owners, Subcommands: []Command{
			{Name: "do", Description: "Do it", Run: run},
		}},
	}
}

func newTestRouter(t *testing.T, run HandlerFunc) (*Router, *recorder, *bytes.Buffer) {
	t.Helper()
	rt, rec, logs, _ := newObservedRouter(t, run)
	return rt, rec, logs
}

func newObservedRouter(t *testing.T, run HandlerFunc) (*Router, *recorder, *bytes.Buffer, *observations) {
	t.Helper()
	rec, obs := newRecorder(), &observations{}
	var logs bytes.Buffer
	rt, err := NewRouter(RouterConfig{
		Commands:   echoCommands(run),
		Components: []Component{{Prefix: "page", Run: run}},
		Approvals:  fakeApprovals{approvedGuild: true},
		Owners:     []music.UserID{ownerID},
		Responder:  rec,
		Observer:   obs,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt, rec, &logs, obs
}

func command(guild, user, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return &discordgo.Interaction{
		ID:      "300000000000000001",
		Type:    discordgo.InteractionApplicationCommand,
		GuildID: guild,
		Member:  &discordgo.Member{User: &discordgo.User{ID: user, Username: "someone"}},
		Data:    discordgo.ApplicationCommandInteractionData{Name: name, Options: opts},
	}
}

func str(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func num(name string, v float64) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionInteger, Value: v}
}

func sub(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

func echo(_ context.Context, r *Request) (Reply, error) {
	n, _ := r.Int("times")
	return Reply{Content: r.Command + ":" + r.String("text") + ":" + strings.Repeat("!", n)}, nil
}

func TestRouterAnswers(t *testing.T) {
	tests := []struct {
		name          string
		in            *discordgo.Interaction
		wantContent   string // substring
		wantEphemeral bool
	}{
		{"ok", command(approvedGuild, memberID, "echo", str("text", "hi"), num("times", 2)), "echo:hi:!!", false},
		{"unknown command", command(approvedGuild, memberID, "nope"), "Unknown command /nope", true},
		{"unknown option", command(approvedGuild, memberID, "echo", str("text", "hi"), str("color", "red")), `no option "color"`, true},
		{"missing required", command(approvedGuild, memberID, "echo"), `needs the option "text"`, true},
		{"too long", command(approvedGuild, memberID, "echo", str("text", strings.Repeat("é", 11))), "too long: 11 characters, at most 10", true},
		{"wrong type", command(approvedGuild, memberID, "echo", str("text", "hi"), str("times", "two")), "whole number", true},
		{"fraction", command(approvedGuild, memberID, "echo", str("text", "hi"), num("times", 1.5)), "whole number", true},
		{"out of range", command(approvedGuild, memberID, "echo", str("text", "hi"), num("times", 4)), "between 1 and 3", true},
		{"duplicate option", command(approvedGuild, memberID, "echo", str("text", "a"), str("text", "b")), "given twice", true},
		{"unapproved guild", command(unapprovedGuild, memberID, "echo", str("text", "hi")), "/request-access", true},
		{"everyone in unapproved guild", command(unapprovedGuild, memberID, "ping"), "ping::", false},
		{"guild-only in DM", &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, User: &discordgo.User{ID: memberID},
			Data: discordgo.ApplicationCommandInteractionData{Name: "echo", Options: []*discordgo.ApplicationCommandInteractionDataOption{str("text", "x")}}}, "not in direct messages", true},
		{"owner subcommand", command(unapprovedGuild, ownerID, "admin", sub("do")), "admin do::", false},
		{"owner command by member", command(approvedGuild, memberID, "admin", sub("do")), "Only the bot's owners", true},
		{"missing subcommand", command(approvedGuild, ownerID, "admin"), "needs a subcommand: do", true},
		{"unknown subcommand", command(approvedGuild, ownerID, "admin", sub("undo")), `no subcommand "undo"`, true},
		{"guild ID not a snowflake", command("not-a-guild", memberID, "echo", str("text", "hi")), "not a valid guild ID", true},
		{"user ID not a snowflake", command(approvedGuild, "-1", "echo", str("text", "hi")), "not a valid user ID", true},
		{"store down", command("999", memberID, "echo", str("text", "hi")), "error ID", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, rec, _ := newTestRouter(t, echo)
			rt.HandleInteraction(context.Background(), tt.in)
			resp := rec.only(t)
			if resp.Type != discordgo.InteractionResponseChannelMessageWithSource {
				t.Errorf("response type = %d, want %d", resp.Type, discordgo.InteractionResponseChannelMessageWithSource)
			}
			if !strings.Contains(resp.Data.Content, tt.wantContent) {
				t.Errorf("content = %q, want it to contain %q", resp.Data.Content, tt.wantContent)
			}
			if got := resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0; got != tt.wantEphemeral {
				t.Errorf("ephemeral = %v, want %v", got, tt.wantEphemeral)
			}
		})
	}
}

func TestRouterMapsErrors(t *testing.T) {
	tests := []struct {
		name       string
		run        HandlerFunc
		want       string
		wantLogged bool
	}{
		{"user error", func(context.Context, *Request) (Reply, error) {
			return Reply{}, music.Errorf(music.EINVALID, "Bad URL.")
		}, "Bad URL.", false},
		{"internal error", func(context.Context, *Request) (Reply, error) {
			return Reply{}, errors.New("disk on fire")
		}, "Something went wrong on our side while running /ping. (error ID `", true},
		{"unavailable", func(context.Context, *Request) (Reply, error) {
			return Reply{}, music.Errorf(music.EUNAVAILABLE, "db down")
		}, "db down while running /ping. (error ID `", true},
		{"panic", func(context.Context, *Request) (Reply, error) {
			panic("boom")
		}, "Something went wrong", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, rec, logs, obs := newObservedRouter(t, tt.run)
			rt.HandleInteraction(context.Background(), command(approvedGuild, memberID, "ping"))
			resp := rec.only(t)
			if len(obs.failed) != 1 || obs.failed[0] != tt.wantLogged {
				t.Errorf("observed failures = %v, want [%v]", obs.failed, tt.wantLogged)
			}
			if !strings.Contains(resp.Data.Content, tt.want) || resp.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
				t.Fatalf("reply = %q (flags %d), want ephemeral containing %q", resp.Data.Content, resp.Data.Flags, tt.want)
			}
			if !tt.wantLogged {
				if logs.Len() != 0 {
					t.Errorf("user error was logged: %s", logs)
				}
				return
			}
			// The ID the user sees is the one in the log.
			id := resp.Data.Content[strings.Index(resp.Data.Content, "`")+1 : strings.LastIndex(resp.Data.Content, "`")]
			if len(id) != 8 || !strings.Contains(logs.String(), "error_id="+id) {
				t.Errorf("error ID %q not found in log:\n%s", id, logs)
			}
		})
	}
}

func TestRouterDefersSlowHandlers(t *testing.T) {
	tests := []struct {
		name  string
		reply Reply
		check func(t *testing.T, rec *recorder)
	}{
		{"public reply edits the placeholder", Reply{Content: "done"}, func(t *testing.T, rec *recorder) {
			if len(rec.edits) != 1 || *rec.edits[0].Content != "done" {
				t.Fatalf("edits = %+v, want one edit with content done", rec.edits)
			}
		}},
		{"ephemeral reply replaces the placeholder", Reply{Content: "oops", Ephemeral: true}, func(t *testing.T, rec *recorder) {
			if rec.deletes != 1 || len(rec.followups) != 1 || rec.followups[0].Flags != discordgo.MessageFlagsEphemeral || rec.followups[0].Content != "oops" {
				t.Fatalf("deletes = %d, follow-ups = %+v; want the placeholder deleted and one ephemeral follow-up", rec.deletes, rec.followups)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *recorder
			slow := func(ctx context.Context, _ *Request) (Reply, error) {
				select {
				case <-rec.deferred: // reply only once the router gave up waiting
				case <-ctx.Done():
					return Reply{}, ctx.Err()
				}
				return tt.reply, nil
			}
			rt, r, _ := newTestRouter(t, slow)
			rec = r
			rt.AckAfter = 0
			rt.HandleInteraction(context.Background(), command(approvedGuild, memberID, "ping"))
			if len(rec.responses) != 1 || rec.responses[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
				t.Fatalf("responses = %+v, want one deferral", rec.responses)
			}
			tt.check(t, rec)
		})
	}
}

// A deferred handler's progress edits its placeholder EditEvery apart at
// most, the deferral counting as the first edit, with the latest text;
// unchanged progress is not sent again, and the reply goes at once.
func TestRouterShowsProgressAtABoundedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		say := make(chan string)
		handler := func(_ context.Context, r *Request) (Reply, error) {
			for text := range say {
				r.Progress(text)
			}
			return Reply{Content: "Queued 500 tracks from position 3."}, nil
		}
		rt, rec, _ := newTestRouter(t, handler)
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			rt.HandleInteraction(context.Background(), command(approvedGuild, memberID, "ping"))
		}()
		time.Sleep(rt.AckAfter)
		synctest.Wait()
		<-rec.deferred
		deferredAt := time.Now()

		say <- "Queueing… 40 of 500"
		say <- "Queueing… 120 of 500"
		synctest.Wait()
		rec.mu.Lock()
		early := len(rec.edits)
		rec.mu.Unlock()
		if early != 0 {
			t.Fatalf("edited %d times within EditEvery of the deferral", early)
		}
		time.Sleep(rt.EditEvery) // the first edit may go: the latest text
		synctest.Wait()
		say <- "Queueing… 300 of 500" // too soon after it: waits
		synctest.Wait()
		time.Sleep(10 * rt.EditEvery) // one edit for it, none for no change
		synctest.Wait()
		close(say)
		<-done

		var got []string
		for _, e := range rec.edits {
			got = append(got, *e.Content)
		}
		want := []string{"Queueing… 120 of 500", "Queueing… 300 of 500", "Queued 500 tracks from position 3."}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("edits (-want +got):\n%s", diff)
		}
		wantAt := []time.Duration{rt.AckAfter + rt.EditEvery, rt.AckAfter + 2*rt.EditEvery, rt.AckAfter + 11*rt.EditEvery}
		for i, at := range rec.editedAt {
			if got := at.Sub(start); got != wantAt[i] {
				t.Errorf("edit %d at %v, want %v (the deferral at %v)", i, got, wantAt[i], deferredAt.Sub(start))
			}
		}
	})
}

func TestRouterComponents(t *testing.T) {
	tests := []struct {
		name          string
		guild         string
		wantType      discordgo.InteractionResponseType
		wantContent   string // substring
		wantEphemeral bool
	}{
		{"approved guild updates the message", approvedGuild, discordgo.InteractionResponseUpdateMessage, "page:2::", false},
		{"unapproved guild is refused", unapprovedGuild, discordgo.InteractionResponseChannelMessageWithSource, "/request-access", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, rec, _ := newTestRouter(t, echo)
			rt.HandleInteraction(context.Background(), &discordgo.Interaction{
				Type:    discordgo.InteractionMessageComponent,
				GuildID: tt.guild,
				Member:  &discordgo.Member{User: &discordgo.User{ID: memberID}},
				Data:    discordgo.MessageComponentInteractionData{CustomID: "page:2", ComponentType: discordgo.ButtonComponent},
			})
			resp := rec.only(t)
			if resp.Type != tt.wantType || !strings.Contains(resp.Data.Content, tt.wantContent) {
				t.Errorf("response = type %d %q, want type %d containing %q", resp.Type, resp.Data.Content, tt.wantType, tt.wantContent)
			}
			if got := resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0; got != tt.wantEphemeral {
				t.Errorf("ephemeral = %v, want %v", got, tt.wantEphemeral)
			}
		})
	}
}

func TestRouterSerialisesEachGuild(t *testing.T) {
	const first, second, later = memberID, ownerID, "200000000000000003"
	started := make(chan *Request, 4)
	release := make(chan struct{})
	handler := func(ctx context.Context, r *Request) (Reply, error) {
		started <- r
		if r.User == first {
			<-release
		}
		return Reply{Content: "ok"}, nil
	}
	rt, rec, _ := newTestRouter(t, handler)
	rt.approvals = fakeApprovals{approvedGuild: true, unapprovedGuild: true}

	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		rt.HandleInteraction(context.Background(), command(approvedGuild, first, "ping"))
	}()
	if r := <-started; r.User != first {
		t.Fatalf("first started %s", r.User)
	}
	// While the first command holds the guild, a second one of the same
	// guild waits, here until its context ends: its handler never runs,
	// whenever its goroutine gets to the lock.
	ctx, cancel := context.WithCancel(context.Background())
	secondDone := make(chan struct{})
	go func() {
		defer close(secondDone)
		rt.HandleInteraction(ctx, command(approvedGuild, second, "ping"))
	}()
	// Another guild is not held up by the busy one.
	rt.HandleInteraction(context.Background(), command(unapprovedGuild, second, "ping"))
	if r := <-started; r.Guild != unapprovedGuild {
		t.Fatalf("started %s/%s, want the other guild's command", r.Guild, r.User)
	}
	cancel()
	<-secondDone
	select {
	case r := <-started:
		t.Fatalf("the second command of guild %s ran while the first held it (user %s)", approvedGuild, r.User)
	default:
	}
	close(release)
	<-firstDone
	rt.HandleInteraction(context.Background(), command(approvedGuild, later, "ping"))
	if r := <-started; r.User != later {
		t.Fatalf("started %s, want the command after the first finished", r.User)
	}
	if got := len(rec.responses); got != 4 {
		t.Errorf("%d responses, want one per interaction (4)", got)
	}
	if len(rt.locks.m) != 0 {
		t.Errorf("guild locks left behind: %d", len(rt.locks.m))
	}
}
