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
	t.Cleanup(h.recent.close)
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
	return typingOption(guild, memberID, "query", typed)
}

// typingOption is the autocomplete interaction Discord sends while user
// types /play option:<typed>.
func typingOption(guild, user, option, typed string) *discordgo.Interaction {
	return &discordgo.Interaction{
		ID: "300000000000000009", Type: discordgo.InteractionApplicationCommandAutocomplete, GuildID: guild,
		Member: &discordgo.Member{User: &discordgo.User{ID: user}},
		Data: discordgo.ApplicationCommandInteractionData{Name: "play", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: option, Type: discordgo.ApplicationCommandOptionString, Value: typed, Focused: true},
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

// Find answers from the remembered search when it has enough tracks, and
// searches otherwise.
func TestFindUsesRememberedSearch(t *testing.T) {
	rick, other := yt("a", "A", 0), yt("b", "B", 0)
	tests := []struct {
		name      string
		earlier   string // a search made before, through autocomplete
		words     string
		n         int
		want      []music.Track
		wantAsked []string
	}{
		{name: "remembered: no search", earlier: "never gonna", words: " Never  gonna", n: 1, want: []music.Track{rick}, wantAsked: []string{"never gonna"}},
		{name: "remembered, too few tracks: a search", earlier: "never gonna", words: "never gonna", n: 5, want: []music.Track{rick, other}, wantAsked: []string{"never gonna", "never gonna"}},
		{name: "only a related search remembered: a search", earlier: "never", words: "never gonna", n: 1, want: []music.Track{rick}, wantAsked: []string{"never", "never gonna"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {rick, other}, " Never  gonna": {rick, other}, "never": {other}}}
			c := newRecentSearches(s, storetest.NewClock().Now)
			c.Suggest(context.Background(), tt.earlier)
			got, err := c.Find(context.Background(), tt.words, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAsked, s.calls()); diff != "" {
				t.Errorf("searches (-want +got):\n%s", diff)
			}
		})
	}
}

// gatedSearcher answers "never gonna" once release is closed, or gives up
// when ctx ends first.
type gatedSearcher struct {
	fakeSearcher
	release chan struct{}
}

func (g *gatedSearcher) Search(ctx context.Context, words string, n int) ([]music.Track, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.fakeSearcher.Search(ctx, words, n)
}

// A search slower than the answer's deadline runs on and is remembered, so
// that the next keystroke finds it; close stops one that is still running.
func TestSlowAutocompleteSearchIsRemembered(t *testing.T) {
	rick := yt("a", "Never Gonna Give You Up", 0)
	s := &gatedSearcher{fakeSearcher: fakeSearcher{results: map[string][]music.Track{"never gonna": {rick}}}, release: make(chan struct{})}
	c := newRecentSearches(s, storetest.NewClock().Now)
	late, cancel := context.WithCancel(context.Background())
	cancel() // the answer's deadline passed before the search was done
	if got := c.Suggest(late, "never gonna"); len(got) != 0 {
		t.Fatalf("choices %v before the search was done", got)
	}
	close(s.release)
	c.running.Wait()
	// The next keystroke's answer is due at once: only memory can serve it.
	if got := c.Suggest(late, "never gonna"); len(got) != 1 || got[0].Value != rick.URL {
		t.Errorf("next keystroke: choices %v, want the slow search's", got)
	}
	if asked := s.calls(); len(asked) != 1 {
		t.Errorf("searches %v, want the one", asked)
	}

	stuck := &gatedSearcher{release: make(chan struct{})}
	c = newRecentSearches(stuck, storetest.NewClock().Now)
	c.Suggest(late, "never gonna")
	closed := make(chan struct{})
	go func() { c.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second): // far below the search's own bound
		t.Fatal("close did not stop the running search")
	}
	if len(c.suggesting) != 0 {
		t.Error("the stopped search kept its slot")
	}
}
