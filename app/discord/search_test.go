package discord

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// fakeSearcher answers searches from a table; words listed in slow block
// until the caller gives up. It records the words it was asked.
type fakeSearcher struct {
	results map[string][]music.Track
	slow    map[string]bool

	mu    sync.Mutex
	asked []string
}

func (f *fakeSearcher) Search(ctx context.Context, words string, n int) ([]music.Track, error) {
	f.mu.Lock()
	f.asked = append(f.asked, words)
	f.mu.Unlock()
	if f.slow[words] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	found := f.results[words]
	return found[:min(n, len(found))], nil
}

func (f *fakeSearcher) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func yt(id, title string, d time.Duration) music.Track {
	return music.Track{Title: title, URL: "https://www.youtube.com/watch?v=" + id, Duration: d, Source: "ytdlp"}
}

// newPlayRouter routes the real command table with searches answered by s.
func newPlayRouter(t *testing.T, s Searcher, clock *storetest.Clock) (*Router, *recorder, *Handlers) {
	t.Helper()
	h := &Handlers{Now: clock.Now, recent: newRecentSearches(s, clock.Now)}
	rt, rec := newHandlersRouter(t, h, approvedGuild)
	return rt, rec, h
}

// newHandlersRouter routes h's command table, in the approved guild.
func newHandlersRouter(t *testing.T, h *Handlers, approved music.GuildID) (*Router, *recorder) {
	t.Helper()
	rec := newRecorder()
	rt, err := NewRouter(RouterConfig{
		Commands: h.Commands(), Components: h.Components(),
		Approvals: fakeApprovals{approved: true}, Responder: rec,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt, rec
}

// typing is the autocomplete interaction Discord sends while the user types
// /play query:<typed>.
func typing(guild, typed string) *discordgo.Interaction {
	return &discordgo.Interaction{
		ID: "300000000000000009", Type: discordgo.InteractionApplicationCommandAutocomplete, GuildID: guild,
		Member: &discordgo.Member{User: &discordgo.User{ID: memberID}},
		Data: discordgo.ApplicationCommandInteractionData{Name: "play", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "query", Type: discordgo.ApplicationCommandOptionString, Value: typed, Focused: true},
		}},
	}
}

// suggestions returns the one autocomplete answer sent, as name → value.
func suggestions(t *testing.T, rec *recorder) []Choice {
	t.Helper()
	resp := rec.only(t)
	if resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
		t.Fatalf("response type = %d, want %d", resp.Type, discordgo.InteractionApplicationCommandAutocompleteResult)
	}
	got := []Choice{}
	for _, c := range resp.Data.Choices {
		got = append(got, Choice{Name: c.Name, Value: fmt.Sprint(c.Value)})
	}
	return got
}

func TestAutocomplete(t *testing.T) {
	rick := yt("dQw4w9WgXcQ", "Never Gonna Give You Up", 213*time.Second)
	other := yt("yPYZpwSpKmA", "Together Forever", 0)
	rickChoice := Choice{Name: "Never Gonna Give You Up (3:33)", Value: rick.URL}
	otherChoice := Choice{Name: "Together Forever", Value: other.URL}
	long := music.Track{Title: "Long", URL: "https://www.youtube.com/watch?v=" + strings.Repeat("x", 100)}
	many := make([]music.Track, 12)
	for i := range many {
		many[i] = yt(fmt.Sprintf("id%02d", i), fmt.Sprintf("Song %d", i), 0)
	}
	tests := []struct {
		name string
		// earlier are searches made before (through /search, say).
		earlier   []string
		guild     string
		typed     string
		wantNames []Choice
		wantAsked []string // searches, earlier ones included
	}{
		{name: "a new search", guild: approvedGuild, typed: "never gonna", wantNames: []Choice{rickChoice, otherChoice}, wantAsked: []string{"never gonna"}},
		{name: "cached: no second search", guild: approvedGuild, earlier: []string{"Never  Gonna"}, typed: "never gonna", wantNames: []Choice{rickChoice, otherChoice}, wantAsked: []string{"Never  Gonna"}},
		{name: "slow search: the related cached answer in time", guild: approvedGuild, earlier: []string{"never gonna"}, typed: "never gonna give", wantNames: []Choice{rickChoice, otherChoice}, wantAsked: []string{"never gonna", "never gonna give"}},
		{name: "slow search, nothing cached: no suggestions", guild: approvedGuild, typed: "never gonna give", wantNames: []Choice{}, wantAsked: []string{"never gonna give"}},
		{name: "too short to search", guild: approvedGuild, typed: "ne", wantNames: []Choice{}},
		{name: "too short, but a related search is cached", guild: approvedGuild, earlier: []string{"never gonna"}, typed: "ne", wantNames: []Choice{rickChoice, otherChoice}, wantAsked: []string{"never gonna"}},
		{name: "a URL is not searched", guild: approvedGuild, typed: "https://youtu.be/x", wantNames: []Choice{}},
		{name: "unapproved guild: no search", guild: unapprovedGuild, typed: "never gonna", wantNames: []Choice{}},
		{name: "at most 10", guild: approvedGuild, earlier: []string{"many"}, typed: "many", wantNames: trackChoices(many[:10]), wantAsked: []string{"many"}},
		{name: "a URL too long for a choice is left out", guild: approvedGuild, typed: "long", wantNames: []Choice{}, wantAsked: []string{"long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSearcher{
				results: map[string][]music.Track{"never gonna": {rick, other}, "Never  Gonna": {rick, other}, "many": many, "long": {long}},
				slow:    map[string]bool{"never gonna give": true},
			}
			rt, rec, h := newPlayRouter(t, s, storetest.NewClock())
			rt.AutocompleteTimeout = 50 * time.Millisecond
			for _, words := range tt.earlier {
				if _, err := h.recent.Search(context.Background(), words, 25); err != nil {
					t.Fatal(err)
				}
			}
			rt.HandleInteraction(context.Background(), typing(tt.guild, tt.typed))
			if diff := cmp.Diff(tt.wantNames, suggestions(t, rec)); diff != "" {
				t.Errorf("choices (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAsked, s.calls()); diff != "" {
				t.Errorf("searches (-want +got):\n%s", diff)
			}
			if err := rec.respondCtxErrs[0]; err != nil {
				t.Errorf("answer sent with a spent context: %v", err)
			}
		})
	}
}

// Autocomplete changes nothing, so it does not wait for the guild's
// running command.
func TestAutocompleteTakesNoGuildLock(t *testing.T) {
	s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {yt("a", "A", 0)}}}
	rt, rec, _ := newPlayRouter(t, s, storetest.NewClock())
	unlock, err := rt.locks.lock(context.Background(), approvedGuild)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	rt.HandleInteraction(context.Background(), typing(approvedGuild, "never gonna"))
	if got := suggestions(t, rec); len(got) != 1 {
		t.Errorf("choices = %v, want the search's", got)
	}
}

// Remembered searches expire.
func TestRecentSearchesExpire(t *testing.T) {
	clock := storetest.NewClock()
	s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {yt("a", "A", 0)}}}
	c := newRecentSearches(s, clock.Now)
	ctx := context.Background()
	c.Suggest(ctx, "never gonna")
	clock.Advance(recentSearchesTTL - time.Second)
	c.Suggest(ctx, "never gonna")
	if n := len(s.calls()); n != 1 {
		t.Fatalf("%d searches before expiry, want 1", n)
	}
	clock.Advance(time.Second)
	c.Suggest(ctx, "never gonna")
	if n := len(s.calls()); n != 2 {
		t.Errorf("%d searches after expiry, want 2", n)
	}
}

// The least recently used search goes first when the cache is full.
func TestRecentSearchesEvictLeastRecentlyUsed(t *testing.T) {
	s := &fakeSearcher{results: map[string][]music.Track{}}
	for i := range recentSearchesSize + 1 {
		s.results[fmt.Sprintf("words %d", i)] = []music.Track{yt(fmt.Sprint(i), "T", 0)}
	}
	c := newRecentSearches(s, storetest.NewClock().Now)
	ctx := context.Background()
	for i := range recentSearchesSize {
		_, _ = c.Search(ctx, fmt.Sprintf("words %d", i), 1)
	}
	c.cached("words 0") // used: now the most recent
	_, _ = c.Search(ctx, fmt.Sprintf("words %d", recentSearchesSize), 1)
	if _, exact := c.cached("words 0"); !exact {
		t.Error("the recently used search was evicted")
	}
	if _, exact := c.cached("words 1"); exact {
		t.Error("the least recently used search was kept")
	}
	if n := c.order.Len(); n != recentSearchesSize {
		t.Errorf("%d searches kept, want %d", n, recentSearchesSize)
	}
}

// Discord sends autocomplete interactions only for options registered
// with autocomplete on.
func TestPlayQueryRegistersAutocomplete(t *testing.T) {
	h := &Handlers{recent: newRecentSearches(&fakeSearcher{}, storetest.NewClock().Now)}
	table, err := newCommandTable(h.Commands())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range table.applicationCommands() {
		for _, o := range c.Options {
			if want := c.Name == "play" && o.Name == "query"; o.Autocomplete != want {
				t.Errorf("/%s %s: autocomplete %v, want %v", c.Name, o.Name, o.Autocomplete, want)
			}
		}
	}
}

// While autocompleteSearches searches run, autocomplete answers from memory
// instead of starting another.
func TestAutocompleteSearchesAreBounded(t *testing.T) {
	s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {yt("a", "A", 0)}}}
	c := newRecentSearches(s, storetest.NewClock().Now)
	for range autocompleteSearches {
		c.suggesting <- struct{}{}
	}
	if got := c.Suggest(context.Background(), "never gonna"); len(got) != 0 || len(s.calls()) != 0 {
		t.Errorf("with every slot taken: choices %v, searches %v; want none", got, s.calls())
	}
	<-c.suggesting
	if got := c.Suggest(context.Background(), "never gonna"); len(got) != 1 {
		t.Errorf("with a slot free: choices %v, want the search's", got)
	}
}

// Discord refuses to register an option whose description is empty or
// longer than 100 characters; the table refuses it first.
func TestOptionDescriptionsChecked(t *testing.T) {
	run := func(context.Context, *Request) (Reply, error) { return Reply{}, nil }
	for _, desc := range []string{"", strings.Repeat("x", 101)} {
		_, err := newCommandTable([]Command{{Name: "x", Description: "x", Run: run, Options: []Option{{Name: "o", Description: desc, Type: String}}}})
		if err == nil {
			t.Errorf("description of %d characters accepted", len(desc))
		}
	}
}
