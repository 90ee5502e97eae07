package ytdlp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// searchJSON is the shape of yt-dlp's --flat-playlist answer for
// "ytsearch3:never gonna" (trimmed): one entry has no usable URL.
const searchJSON = `{"id":"never gonna","title":"never gonna","_type":"playlist","extractor_key":"YoutubeSearch",
"entries":[
{"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","title":"Rick Astley - Never Gonna Give You Up (Official Video)","duration":213.0,"channel":"Rick Astley","uploader":null,
 "thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=a","height":94,"width":168},{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=b","height":202,"width":360}]},
{"_type":"url","ie_key":"Youtube","id":"x","url":"not a url","title":"Broken"},
{"_type":"url","ie_key":"Youtube","id":"yPYZpwSpKmA","url":"https://www.youtube.com/watch?v=yPYZpwSpKmA","title":"","duration":null,"channel":null,"uploader":"Someone"}]}`

// searchArgs is what every search passes before "--".
var searchArgs = []string{"--ignore-config", "--flat-playlist", "--dump-single-json", "--no-warnings", "--socket-timeout", "10"}

func TestSearch(t *testing.T) {
	f := newFake(t, searchJSON, "", 0)
	r := mustNew(t, Config{Path: f.path})
	got, err := r.Search(context.Background(), "  never gonna ", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []music.Track{
		{Title: "Rick Astley - Never Gonna Give You Up (Official Video)", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Duration: 213 * time.Second, Source: Source, ArtworkURL: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=b"},
		{Title: "https://www.youtube.com/watch?v=yPYZpwSpKmA", URL: "https://www.youtube.com/watch?v=yPYZpwSpKmA", Source: Source},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	args, _ := f.argv(t)
	if diff := cmp.Diff(append(append([]string{}, searchArgs...), "--", "ytsearch3:never gonna"), args); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}

	t.Run("at most n", func(t *testing.T) {
		got, err := r.Search(context.Background(), "never gonna", 1)
		if err != nil || len(got) != 1 || got[0].URL != want[0].URL {
			t.Errorf("got %v, %v; want the first result only", got, err)
		}
	})
}

// Hostile words stay one argument after "--", behind the bot's prefix and
// count; what cannot be searched for is refused before yt-dlp starts.
func TestSearchHostileQueries(t *testing.T) {
	tests := []struct {
		name, words string
		word        string // the argument after "--"; "" when refused
	}{
		{"exec", "--exec id", "scsearch5:--exec id"},
		{"leading dashes", "---o /etc/passwd", "scsearch5:---o /etc/passwd"},
		{"search count in the words", "ytsearch99999:never gonna", "scsearch5:ytsearch99999:never gonna"},
		{"a URL", "https://evil.example/x", "scsearch5:https://evil.example/x"},
		{"empty", "   ", ""},
		{"NUL byte", "a\x00--exec=id", ""},
		{"newline", "a\n--exec=id", ""},
		{"over the maximum length", strings.Repeat("é", 41), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, searchJSON, "", 0)
			r := mustNew(t, Config{Path: f.path, SearchPrefix: "scsearch", MaxQueryLen: 40})
			_, err := r.Search(context.Background(), tt.words, 5)
			args, ran := f.argv(t)
			if tt.word == "" {
				if music.ErrorCode(err) != music.EINVALID || ran {
					t.Fatalf("err = %v, ran = %v %q; want refused before yt-dlp starts", err, ran, args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(append(append([]string{}, searchArgs...), "--", tt.word), args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchRefuses(t *testing.T) {
	tests := []struct {
		name, stdout string
		n            int
	}{
		{"not JSON", "ERROR", 5},
		{"one video, not results", videoJSON, 5},
		{"no results asked", searchJSON, 0},
		{"too many results asked", searchJSON, MaxSearchResults + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.stdout, "", 0)
			r := mustNew(t, Config{Path: f.path})
			if _, err := r.Search(context.Background(), "x", tt.n); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestSearchPrefixConfig(t *testing.T) {
	for _, prefix := range []string{"ytsearch5", "yt search", "--exec", "ytsearch:", "YTSEARCH"} {
		t.Run(prefix, func(t *testing.T) {
			if _, err := New(Config{SearchPrefix: prefix}); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// A search that fails says that nothing matched its words, or why it could
// not search; a page failing the same way keeps its page's message.
func TestSearchFailureMessages(t *testing.T) {
	tests := []struct {
		name, stdout, stderr string
		status               int
		wantSearch           string
		wantPage             string
	}{
		{name: "unclassified error", stderr: "ERROR: [youtube:search] something broke\n", status: 1,
			wantSearch: `Nothing matched "lost song".`, wantPage: "TimmyBot could not find the audio on that page."},
		{name: "unreadable answer", stdout: "not json", wantSearch: `Nothing matched "lost song".`, wantPage: "TimmyBot could not find the audio on that page."},
		{name: "video unavailable", stderr: "ERROR: Video unavailable\n", status: 1,
			wantSearch: `Nothing matched "lost song".`, wantPage: "That video is unavailable: it was removed or never existed."},
		{name: "bot check", stderr: "ERROR: Sign in to confirm you're not a bot\n", status: 1,
			wantSearch: messages[ReasonBotCheck].Message, wantPage: messages[ReasonBotCheck].Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.stdout, tt.stderr, tt.status)
			r := mustNew(t, Config{Path: f.path})
			_, err := r.Search(context.Background(), " lost song ", 3)
			if got := music.ErrorMessage(err); got != tt.wantSearch {
				t.Errorf("Search: %q, want %q", got, tt.wantSearch)
			}
			_, err = r.Candidates(context.Background(), "lost song", 3)
			if got := music.ErrorMessage(err); got != tt.wantSearch {
				t.Errorf("Candidates: %q, want %q", got, tt.wantSearch)
			}
			_, err = r.Resolve(context.Background(), "https://www.youtube.com/watch?v=x")
			if got := music.ErrorMessage(err); got != tt.wantPage {
				t.Errorf("Resolve: %q, want %q", got, tt.wantPage)
			}
		})
	}
}
