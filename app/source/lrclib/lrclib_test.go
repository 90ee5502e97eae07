package lrclib

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// fakeLRCLIB is a test double of LRCLIB's API: /api/get answers the tracks
// it holds by exact name and artist, 404 otherwise, in LRCLIB's documented
// JSON; /api/search answers the queries it holds; status forces an error
// status on every request.
type fakeLRCLIB struct {
	get     map[[2]string]string // {track, artist} -> JSON
	search  map[string]string    // q -> JSON array
	status  int
	queries []url.Values
}

func (f *fakeLRCLIB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.queries = append(f.queries, r.URL.Query())
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"code":500,"name":"InternalError","message":"Something went wrong"}`))
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/get":
		body, ok := f.get[[2]string{q.Get("track_name"), q.Get("artist_name")}]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":404,"name":"TrackNotFound","message":"Failed to find specified track"}`))
			return
		}
		_, _ = w.Write([]byte(body))
	case "/api/search":
		body, ok := f.search[q.Get("q")]
		if !ok {
			body = "[]"
		}
		_, _ = w.Write([]byte(body))
	default:
		http.NotFound(w, r)
	}
}

const rickJSON = `{"id":3396226,"trackName":"Never Gonna Give You Up","artistName":"Rick Astley","albumName":"Whenever You Need Somebody","duration":213.0,"instrumental":false,
"plainLyrics":"We're no strangers to love\nYou know the rules and so do I",
"syncedLyrics":"[00:18.84] We're no strangers to love\n[00:22.96] You know the rules and so do I\n[00:27.08] A full commitment's what I'm thinking of"}`

const plainOnlyJSON = `[{"id":1,"trackName":"Song","artistName":"Band","albumName":"A","duration":100,"instrumental":false,"plainLyrics":"","syncedLyrics":null},
{"id":2,"trackName":"Song","artistName":"Band","albumName":"B","duration":100,"instrumental":false,"plainLyrics":"First line\nSecond line","syncedLyrics":null}]`

func newClient(t *testing.T, f *fakeLRCLIB) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFind(t *testing.T) {
	rick := Lyrics{
		Track: "Never Gonna Give You Up", Artist: "Rick Astley", Duration: 213 * time.Second,
		Plain: "We're no strangers to love\nYou know the rules and so do I",
		Synced: []Line{
			{18840 * time.Millisecond, "We're no strangers to love"},
			{22960 * time.Millisecond, "You know the rules and so do I"},
			{27080 * time.Millisecond, "A full commitment's what I'm thinking of"},
		},
	}
	tests := []struct {
		name  string
		fake  fakeLRCLIB
		query Query
		want  Lyrics
		code  string // the error's code, "" for none
		// wantQueries are the query strings sent, in order.
		wantQueries []string
	}{
		{
			name:        "exact match from a video title",
			fake:        fakeLRCLIB{get: map[[2]string]string{{"Never Gonna Give You Up", "Rick Astley"}: rickJSON}},
			query:       Query{Title: "Rick Astley - Never Gonna Give You Up (Official Music Video)", Duration: 212600 * time.Millisecond},
			want:        rick,
			wantQueries: []string{"artist_name=Rick+Astley&duration=213&track_name=Never+Gonna+Give+You+Up"},
		},
		{
			name:        "404 from get falls back to search, skipping records without lyrics",
			fake:        fakeLRCLIB{search: map[string]string{"Band Song": plainOnlyJSON}},
			query:       Query{Title: "Band - Song"},
			want:        Lyrics{Track: "Song", Artist: "Band", Duration: 100 * time.Second, Plain: "First line\nSecond line"},
			wantQueries: []string{"artist_name=Band&track_name=Song", "q=Band+Song"},
		},
		{
			name:        "title without an artist only searches",
			fake:        fakeLRCLIB{search: map[string]string{"Song": plainOnlyJSON}},
			query:       Query{Title: "Song [Lyrics]"},
			want:        Lyrics{Track: "Song", Artist: "Band", Duration: 100 * time.Second, Plain: "First line\nSecond line"},
			wantQueries: []string{"q=Song"},
		},
		{
			name:        "nothing anywhere",
			query:       Query{Title: "Nobody - Nothing"},
			code:        music.ENOTFOUND,
			wantQueries: []string{"artist_name=Nobody&track_name=Nothing", "q=Nobody+Nothing"},
		},
		{
			name:        "500",
			fake:        fakeLRCLIB{status: http.StatusInternalServerError},
			query:       Query{Title: "Rick Astley - Never Gonna Give You Up"},
			code:        music.EUNAVAILABLE,
			wantQueries: []string{"artist_name=Rick+Astley&track_name=Never+Gonna+Give+You+Up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, &tt.fake)
			got, err := c.Find(context.Background(), tt.query)
			if code := music.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: code %q, want %q", err, code, tt.code)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lyrics (-want +got):\n%s", diff)
			}
			var sent []string
			for _, q := range tt.fake.queries {
				sent = append(sent, q.Encode())
			}
			if diff := cmp.Diff(tt.wantQueries, sent); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindNotFoundMessage(t *testing.T) {
	c := newClient(t, &fakeLRCLIB{})
	_, err := c.Find(context.Background(), Query{Title: "x"})
	if !errors.Is(err, ErrNotFound) || music.ErrorMessage(err) != "No lyrics found for this track." {
		t.Errorf("err = %v (%q)", err, music.ErrorMessage(err))
	}
}

func TestFindTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Find(context.Background(), Query{Title: "a - b"})
	if music.ErrorCode(err) != music.EUNAVAILABLE {
		t.Errorf("err = %v, want unavailable", err)
	}
}

func TestNewRefusesBadBaseURL(t *testing.T) {
	for _, base := range []string{"ftp://lrclib.net", "lrclib.net", "http://"} {
		t.Run(base, func(t *testing.T) {
			if _, err := New(Config{BaseURL: base}); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestParseLRC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Line
	}{
		{"centiseconds", "[00:18.84] We're no strangers\n[01:02.50]Next", []Line{{18840 * time.Millisecond, "We're no strangers"}, {62500 * time.Millisecond, "Next"}}},
		{"milliseconds and no fraction", "[00:01.005] a\n[00:02] b", []Line{{1005 * time.Millisecond, "a"}, {2 * time.Second, "b"}}},
		{"metadata and blank lines dropped", "[ar:Rick]\n\n[00:01.00] a\nno tag", []Line{{time.Second, "a"}}},
		{"repeated tags, sorted", "[00:03.00][00:01.00] chorus\n[00:02.00] verse", []Line{{time.Second, "chorus"}, {2 * time.Second, "verse"}, {3 * time.Second, "chorus"}}},
		{"instrumental gap", "[00:01.00] a\n[00:05.00]", []Line{{time.Second, "a"}, {5 * time.Second, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ParseLRC(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	var lines []Line
	for i := range 10 {
		lines = append(lines, Line{At: time.Duration(i+1) * time.Second, Text: string(rune('a' + i))})
	}
	tests := []struct {
		name        string
		pos         time.Duration
		from, to    int // lines[from:to]
		wantCurrent int
	}{
		{"before the first line", 500 * time.Millisecond, 0, 3, -1},
		{"first line", time.Second, 0, 3, 0},
		{"middle", 5500 * time.Millisecond, 2, 7, 2},
		{"last line", time.Minute, 7, 10, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cur := Window(lines, tt.pos, 2, 2)
			if diff := cmp.Diff(lines[tt.from:tt.to], got); diff != "" || cur != tt.wantCurrent {
				t.Errorf("current %d, want %d; lines (-want +got):\n%s", cur, tt.wantCurrent, diff)
			}
		})
	}
}
