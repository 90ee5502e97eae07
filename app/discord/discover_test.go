package discord

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/lrclib"
	"github.com/iddv/timmybot/app/storetest"
)

// fakePages resolves every YouTube page to a track titled after its URL.
type fakePages struct{ resolved []string }

func (f *fakePages) Handles(u *url.URL) bool { return u.Hostname() == "www.youtube.com" }

func (f *fakePages) Tracks(_ context.Context, page string) ([]music.Track, string, error) {
	f.resolved = append(f.resolved, page)
	return []music.Track{{Title: "resolved " + page, URL: page, Source: "ytdlp"}}, "", nil
}

func TestTracksForWords(t *testing.T) {
	rick := yt("dQw4w9WgXcQ", "Never Gonna Give You Up", 0)
	tests := []struct {
		name, query string
		want        music.Track
		wantCode    string
		wantAsked   []string
	}{
		{name: "words play the first result", query: " never gonna ", want: music.Track{Title: "resolved " + rick.URL, URL: rick.URL, Source: "ytdlp", RequestedBy: memberID}, wantAsked: []string{"never gonna"}},
		{name: "nothing found", query: "zzzz", wantCode: music.ENOTFOUND, wantAsked: []string{"zzzz"}},
		{name: "a URL is not searched", query: "https://www.youtube.com/watch?v=x", want: music.Track{Title: "resolved https://www.youtube.com/watch?v=x", URL: "https://www.youtube.com/watch?v=x", Source: "ytdlp", RequestedBy: memberID}},
		{name: "a URL with spaces is words", query: "https://x y", wantCode: music.ENOTFOUND, wantAsked: []string{"https://x y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {rick, yt("b", "B", 0)}}}
			h := &Handlers{Pages: &fakePages{}, recent: newRecentSearches(s, storetest.NewClock().Now)}
			got, _, err := h.tracksFor(context.Background(), tt.query, memberID)
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("err = %v, code %q, want %q", err, code, tt.wantCode)
			}
			var want []music.Track
			if tt.wantCode == "" {
				want = []music.Track{tt.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("track (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAsked, s.calls()); diff != "" {
				t.Errorf("searches (-want +got):\n%s", diff)
			}
		})
	}
}

// Without a searcher /play takes URLs only, and /play's query has no
// autocomplete.
func TestPlayWithoutSearch(t *testing.T) {
	h := &Handlers{}
	if _, _, err := h.tracksFor(context.Background(), "never gonna", memberID); music.ErrorCode(err) != music.EINVALID {
		t.Errorf("err = %v, want invalid URL", err)
	}
	for _, c := range h.Commands() {
		if c.Name == "search" || c.Name == "lyrics" {
			t.Errorf("/%s offered without its service", c.Name)
		}
		if c.Name == "play" && c.Options[0].Autocomplete != nil {
			t.Error("/play query autocompletes without a searcher")
		}
	}
}

func TestSearchCommand(t *testing.T) {
	rick := yt("dQw4w9WgXcQ", "Never *Gonna*", 213*time.Second)
	long := music.Track{Title: "Long", URL: "https://www.youtube.com/watch?v=" + strings.Repeat("x", 80)}
	s := &fakeSearcher{results: map[string][]music.Track{"never gonna": {rick, long, yt("b", "B", 0)}}}
	rt, rec, _ := newPlayRouter(t, s, storetest.NewClock())
	rt.HandleInteraction(context.Background(), command(approvedGuild, memberID, "search", str("query", "never gonna")))
	resp := rec.only(t)
	if len(resp.Data.Embeds) != 1 {
		t.Fatalf("reply %+v, want one embed", resp.Data)
	}
	wantText := "1. [Never \\*Gonna\\*](https://www.youtube.com/watch?v=dQw4w9WgXcQ) `3:33`\n2. [B](https://www.youtube.com/watch?v=b)"
	if got := resp.Data.Embeds[0].Description; got != wantText {
		t.Errorf("description = %q, want %q", got, wantText)
	}
	row := resp.Data.Components[0].(discordgo.ActionsRow)
	var ids []string
	for _, b := range row.Components {
		ids = append(ids, b.(discordgo.Button).CustomID)
	}
	if diff := cmp.Diff([]string{"pick:https://www.youtube.com/watch?v=dQw4w9WgXcQ", "pick:https://www.youtube.com/watch?v=b"}, ids); diff != "" {
		t.Errorf("buttons (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"never gonna"}, s.calls()); diff != "" {
		t.Errorf("searches (-want +got):\n%s", diff)
	}
}

func TestSearchPickRefusesNonURLs(t *testing.T) {
	h := &Handlers{}
	for _, id := range []string{"pick:", "pick:never gonna", "pick:--exec id"} {
		t.Run(id, func(t *testing.T) {
			_, err := h.searchPick(context.Background(), &Request{Command: id})
			if music.ErrorCode(err) != music.EINVALID {
				t.Errorf("err = %v, want refused", err)
			}
		})
	}
}

func TestLyricsNothingPlaying(t *testing.T) {
	h := &Handlers{audio: &playback{}, Lyrics: lyricsFunc(func(lrclib.Query) (lrclib.Lyrics, error) {
		t.Error("looked up lyrics with nothing playing")
		return lrclib.Lyrics{}, nil
	})}
	_, err := h.lyrics(context.Background(), &Request{Guild: approvedGuild})
	if music.ErrorMessage(err) != "Nothing is playing." {
		t.Errorf("err = %v", err)
	}
}

type lyricsFunc func(lrclib.Query) (lrclib.Lyrics, error)

func (f lyricsFunc) Find(_ context.Context, q lrclib.Query) (lrclib.Lyrics, error) { return f(q) }

func TestLyricsEmbed(t *testing.T) {
	synced := []lrclib.Line{}
	for i := range 20 {
		synced = append(synced, lrclib.Line{At: time.Duration(i) * 10 * time.Second, Text: "line " + string(rune('a'+i))})
	}
	synced[12].Text = ""
	tests := []struct {
		name   string
		lyrics lrclib.Lyrics
		pos    time.Duration
		want   string
	}{
		{"synced around the position", lrclib.Lyrics{Synced: synced, Plain: "ignored"}, 105 * time.Second,
			"`0:40` line e\n`0:50` line f\n`1:00` line g\n`1:10` line h\n`1:20` line i\n`1:30` line j\n`1:40` **▶ line k**\n`1:50` line l\n`2:00` ♪\n`2:10` line n\n`2:20` line o\n`2:30` line p\n`2:40` line q"},
		{"plain", lrclib.Lyrics{Plain: "We're *no* strangers"}, time.Minute, `We're \*no\* strangers`},
		{"instrumental", lrclib.Lyrics{Instrumental: true}, 0, "*Instrumental*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, lyricsEmbed(tt.lyrics, tt.pos).Description); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("long plain lyrics fit the embed", func(t *testing.T) {
		got := lyricsEmbed(lrclib.Lyrics{Plain: strings.Repeat("*_", 5000)}, 0).Description
		if n := utf8.RuneCountInString(got); n > 4096 {
			t.Errorf("description has %d characters, Discord allows 4096", n)
		}
	})
}
