package discord

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// gatedLinks resolves each link only as the test says: a step on the
// link's gate reports progress, or, with tracks, ends the resolution.
type gatedLinks struct {
	mu    sync.Mutex
	gates map[string]chan linkStep
	// unwind, when set, holds a cancelled resolution until it is closed.
	unwind chan struct{}
}

type linkStep struct {
	done, total int
	tracks      []music.Track
}

func (g *gatedLinks) gate(link string) chan linkStep {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = map[string]chan linkStep{}
	}
	if g.gates[link] == nil {
		g.gates[link] = make(chan linkStep)
	}
	return g.gates[link]
}

func (g *gatedLinks) Handles(query string) bool {
	return strings.HasPrefix(query, "https://www.deezer.com/")
}

func (g *gatedLinks) Resolve(ctx context.Context, link string) ([]music.Track, string, error) {
	for {
		select {
		case s := <-g.gate(link):
			if s.tracks != nil {
				return s.tracks, "", nil
			}
			music.ReportProgress(ctx, s.done, s.total)
		case <-ctx.Done():
			if g.unwind != nil {
				<-g.unwind
			}
			return nil, "", ctx.Err()
		}
	}
}

func files(prefix string, n int) []music.Track {
	tracks := make([]music.Track, n)
	for i := range tracks {
		tracks[i] = music.Track{Title: fmt.Sprint(prefix, i), URL: fmt.Sprintf("https://audio.example/%s%d.mp3", prefix, i), Source: "http"}
	}
	return tracks
}

// stalledAudio plays every track for as long as the player lets it.
type stalledAudio struct{}

func (stalledAudio) Open(ctx context.Context, _ music.Track, _ time.Duration, _ player.Effects) (player.Frames, error) {
	return stalledFrames{ctx}, nil
}

type stalledFrames struct{ ctx context.Context }

func (f stalledFrames) ReadFrame() ([]byte, error) {
	<-f.ctx.Done()
	return nil, f.ctx.Err()
}

func (stalledFrames) Close() error { return nil }

// transcript is a responder that keeps, per interaction, the texts shown:
// the response, each edit, each follow-up.
type transcript struct {
	mu    sync.Mutex
	texts map[string][]string
}

func (tr *transcript) add(i *discordgo.Interaction, text string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.texts == nil {
		tr.texts = map[string][]string{}
	}
	tr.texts[i.ID] = append(tr.texts[i.ID], text)
}

func (tr *transcript) of(id string) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.texts[id]...)
}

func (tr *transcript) InteractionRespond(i *discordgo.Interaction, resp *discordgo.InteractionResponse, _ ...discordgo.RequestOption) error {
	text := "(deferred)"
	if resp.Data != nil {
		text = resp.Data.Content + embedsText(resp.Data.Embeds)
	}
	tr.add(i, text)
	return nil
}

func (tr *transcript) InteractionResponseEdit(i *discordgo.Interaction, e *discordgo.WebhookEdit, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	text := *e.Content
	if e.Embeds != nil {
		text += embedsText(*e.Embeds)
	}
	tr.add(i, text)
	return &discordgo.Message{}, nil
}

func (tr *transcript) InteractionResponseDelete(*discordgo.Interaction, ...discordgo.RequestOption) error {
	return nil
}

func (tr *transcript) FollowupMessageCreate(i *discordgo.Interaction, _ bool, p *discordgo.WebhookParams, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	tr.add(i, p.Content+embedsText(p.Embeds))
	return &discordgo.Message{}, nil
}

// playFixture routes the real command table in testGuild, where user 200
// listens with the bot, links resolving as the test says.
type playFixture struct {
	h     *Handlers
	queue music.QueueStore
	links *gatedLinks
	rt    *Router
	said  *transcript
	ids   int
}

// newPlayFixture makes the fixture; playing gives the guild a player
// already (one that plays each track until stopped), else the guild has
// none and the bot cannot join voice.
func newPlayFixture(t *testing.T, playing bool) *playFixture {
	t.Helper()
	h, store := userHandlers(t)
	f := &playFixture{h: h, queue: store, links: &gatedLinks{}, said: &transcript{}}
	h.Links = f.links
	h.plays = h.audio.bot.plays
	if playing {
		p := player.New(player.Config{Guild: testGuild, Queue: store, Opener: stalledAudio{}})
		t.Cleanup(func() { _ = p.Close() })
		h.audio.guilds = map[music.GuildID]*guildAudio{testGuild: {guild: testGuild, player: p}}
	}
	rt, _ := newHandlersRouter(t, h, testGuild)
	rt.respond = f.said
	rt.AckAfter, rt.EditEvery = 0, 0 // defer at once, show every change
	f.rt = rt
	return f
}

// start sends a command as user 200 and returns its interaction ID and a
// channel closed once it was answered.
func (f *playFixture) start(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (string, <-chan struct{}) {
	f.ids++
	i := command(string(testGuild), string(testUser), name, opts...)
	i.ID = fmt.Sprint(400000000000000000 + f.ids)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.rt.HandleInteraction(context.Background(), i)
	}()
	return i.ID, done
}

// startPlay sends /play query:link and returns once it is resolving.
func (f *playFixture) startPlay(link string) (string, <-chan struct{}) {
	id, done := f.start("play", str("query", link))
	synctest.Wait()
	return id, done
}

// titles lists the guild's queue.
func (f *playFixture) titles(t *testing.T) []string {
	t.Helper()
	page, err := f.queue.Page(context.Background(), testGuild, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Entries {
		out = append(out, e.Track.Title)
	}
	return out
}

func last(texts []string) string {
	if len(texts) == 0 {
		return ""
	}
	return texts[len(texts)-1]
}

// A /play of a long list is deferred, shows its progress, and ends with
// where the tracks went; meanwhile the guild's other commands are
// answered.
func TestPlayShowsProgressAndHoldsNoOneUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newPlayFixture(t, true)
		const link = "https://www.deezer.com/playlist/1"
		play, played := f.startPlay(link)
		gate := f.links.gate(link)
		gate <- linkStep{done: 120, total: 500}
		synctest.Wait()

		// The play holds no lock while it resolves: /queue answers now (were
		// it waiting, the bubble would deadlock here).
		queue, answered := f.start("queue")
		<-answered
		if got := last(f.said.of(queue)); !strings.Contains(got, "empty") {
			t.Errorf("/queue during the play answered %q, want the empty queue", got)
		}

		gate <- linkStep{tracks: files("a", 3)}
		<-played
		want := []string{"(deferred)", "Queueing… 120 of 500", "Queued 3 tracks from position 1."}
		if diff := cmp.Diff(want, f.said.of(play)); diff != "" {
			t.Errorf("/play showed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a0", "a1", "a2"}, f.titles(t)); diff != "" {
			t.Errorf("queue (-want +got):\n%s", diff)
		}
	})
}

// Two plays started back to back land in that order, whichever finishes
// resolving first; the second says it waits.
func TestPlaysLandInTheOrderTheyStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newPlayFixture(t, true)
		const first, second = "https://www.deezer.com/playlist/1", "https://www.deezer.com/album/2"
		_, firstDone := f.startPlay(first)
		secondID, secondDone := f.startPlay(second)

		f.links.gate(second) <- linkStep{tracks: files("b", 2)}
		synctest.Wait()
		if got := f.titles(t); len(got) != 0 {
			t.Fatalf("the second play landed before the first: queue %v", got)
		}
		if got := last(f.said.of(secondID)); got != "Waiting for the /play before this one to be queued…" {
			t.Errorf("the waiting play shows %q", got)
		}
		f.links.gate(first) <- linkStep{tracks: files("a", 2)}
		<-firstDone
		<-secondDone
		if diff := cmp.Diff([]string{"a0", "a1", "b0", "b1"}, f.titles(t)); diff != "" {
			t.Errorf("queue (-want +got):\n%s", diff)
		}
		if got := last(f.said.of(secondID)); got != "Queued 2 tracks from position 3." {
			t.Errorf("second play answered %q", got)
		}
	})
}

// /stop and /clear cancel the plays in flight: nothing lands after them,
// and both say so. A play started after them is not touched.
func TestStopAndClearCancelPlaysInFlight(t *testing.T) {
	tests := []struct {
		command  string
		wantText string
	}{
		{"stop", "Stopped: cancelled 1 /play still being queued."},
		{"clear", "Cleared the queue (0 tracks). Cancelled 1 /play still being queued."},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newPlayFixture(t, false)
				const link = "https://www.deezer.com/playlist/1"
				play, played := f.startPlay(link)
				stop, stopped := f.start(tt.command)
				<-stopped
				<-played
				if got := last(f.said.of(stop)); got != tt.wantText {
					t.Errorf("/%s answered %q, want %q", tt.command, got, tt.wantText)
				}
				if got, want := last(f.said.of(play)), "Not queued: /stop or /clear ran while it was being queued."; got != want {
					t.Errorf("/play answered %q, want %q", got, want)
				}
				if got := f.titles(t); len(got) != 0 {
					t.Errorf("queue %v after /%s, want it empty", got, tt.command)
				}
				if n := f.h.plays.cancelGuild(testGuild); n != 0 {
					t.Errorf("%d plays still in flight", n)
				}
			})
		})
	}
}

// A play cancelled while it waited for the guild's lock (as /stop
// cancels, holding it) does not land once it gets the lock.
func TestACancelledPlayDoesNotLandAfterTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newPlayFixture(t, true)
		const link = "https://www.deezer.com/playlist/1"
		play, played := f.startPlay(link)
		unlock, err := f.rt.locks.lock(context.Background(), testGuild)
		if err != nil {
			t.Fatal(err)
		}
		f.links.gate(link) <- linkStep{tracks: files("a", 2)}
		synctest.Wait() // the play waits for the lock
		f.h.plays.cancelGuild(testGuild)
		unlock()
		<-played
		if got := f.titles(t); len(got) != 0 {
			t.Errorf("queue %v: the cancelled play landed", got)
		}
		if got, want := last(f.said.of(play)), "Not queued: /stop or /clear ran while it was being queued."; got != want {
			t.Errorf("/play answered %q, want %q", got, want)
		}
	})
}

// Close cancels a play in flight, waits for its handler to return, and
// refuses new plays.
func TestCloseCancelsPlaysInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newPlayFixture(t, false)
		f.links.unwind = make(chan struct{})
		play, played := f.startPlay("https://www.deezer.com/playlist/1")
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			_ = f.h.audio.bot.Close() // never opened: closing its gateway fails
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while the play was still unwinding")
		default:
		}
		close(f.links.unwind)
		<-closed
		<-played
		want := "TimmyBot is shutting down"
		if got := last(f.said.of(play)); !strings.HasPrefix(got, want) {
			t.Errorf("/play answered %q, want %q", got, want)
		}
		late, answered := f.start("play", str("query", "https://www.deezer.com/playlist/2"))
		<-answered
		if got := last(f.said.of(late)); !strings.HasPrefix(got, want) {
			t.Errorf("/play after Close answered %q, want %q", got, want)
		}
	})
}

// /play of a playlist's page queues its tracks in order with the
// resolver's note; next: moves only a single track; tracks longer than
// the duration limit are refused alone and left out of a list.
func TestPlayPageTracks(t *testing.T) {
	const hour = time.Hour
	song := func(name string, d time.Duration) music.Track {
		return music.Track{Title: name, URL: "https://www.youtube.com/watch?v=" + name, Duration: d, Source: "ytdlp"}
	}
	tests := []struct {
		name      string
		tracks    []music.Track
		note      string
		next      bool
		want      string
		wantQueue []string
	}{
		{name: "a playlist", tracks: []music.Track{song("a", hour), song("b", 0), song("c", 2*hour)},
			want: "Queued 3 tracks from position 3.", wantQueue: []string{"q0", "q1", "a", "b", "c"}},
		{name: "a playlist with the resolver's note", tracks: []music.Track{song("a", 0), song("b", 0)}, note: "Only the first 2 of its 9 tracks were taken (the limit is 2).",
			want: "Queued 2 tracks from position 3. Only the first 2 of its 9 tracks were taken (the limit is 2).", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "next keeps a list at the end", tracks: []music.Track{song("a", 0), song("b", 0)}, next: true,
			want: "Queued 2 tracks from position 3.", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "next moves a single track", tracks: []music.Track{song("a", 0)}, next: true,
			want: "Queued **a** at position 2.", wantQueue: []string{"q0", "a", "q1"}},
		{name: "a track over the limit", tracks: []music.Track{song("a", 2*hour+time.Second)},
			want: "That track is longer than the 2-hour limit.", wantQueue: []string{"q0", "q1"}},
		{name: "a list's track over the limit", tracks: []music.Track{song("a", 0), song("long", 3*hour), song("b", 0)}, note: "Left out 1 track on a site TimmyBot does not play from.",
			want: "Queued 2 tracks from position 3. Left out 1 track on a site TimmyBot does not play from. Left out 1 track longer than the 2-hour limit.", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "a list's tracks over the limit", tracks: []music.Track{song("long", 3*hour), song("a", 0), song("longer", 4*hour)},
			want: "Queued **a** at position 3. Left out 2 tracks longer than the 2-hour limit.", wantQueue: []string{"q0", "q1", "a"}},
		{name: "a list of tracks over the limit", tracks: []music.Track{song("long", 3*hour), song("longer", 4*hour)},
			want: "Every track of that list is longer than the 2-hour limit.", wantQueue: []string{"q0", "q1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newPlayFixture(t, true)
				f.h.Pages = &pages{host: "www.youtube.com", tracks: tt.tracks, note: tt.note}
				f.h.MaxTrackDuration = 2 * hour
				if _, err := f.queue.Enqueue(context.Background(), testGuild, files("q", 2)...); err != nil {
					t.Fatal(err)
				}
				opts := []*discordgo.ApplicationCommandInteractionDataOption{str("query", "https://www.youtube.com/playlist?list=PL1")}
				if tt.next {
					opts = append(opts, boolean("next", true))
				}
				id, done := f.start("play", opts...)
				<-done
				if got := last(f.said.of(id)); got != tt.want {
					t.Errorf("/play answered %q, want %q", got, tt.want)
				}
				if diff := cmp.Diff(tt.wantQueue, f.titles(t)); diff != "" {
					t.Errorf("queue (-want +got):\n%s", diff)
				}
			})
		})
	}
}
