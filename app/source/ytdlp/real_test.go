package ytdlp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/servertest"
)

// realYTDLP returns the installed yt-dlp, or ends the test: under CI=true
// its absence fails the test.
func realYTDLP(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("yt-dlp")
	if err != nil {
		servertest.Unavailable(t, "yt-dlp", "install it (Debian: apt-get install -y yt-dlp): "+err.Error())
	}
	return path
}

// The real yt-dlp, with its generic extractors, on a loopback host: a bare
// audio file and a page that embeds one.
func TestRealYTDLP(t *testing.T) {
	path := realYTDLP(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /song.webm", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/webm")
		_, _ = w.Write([]byte("\x1a\x45\xdf\xa3 not really audio"))
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>A page</title></head><body><audio src="/song.webm"></audio></body></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	r := mustNew(t, Config{Path: path, Sites: []string{"127.0.0.1"}})
	tests := []struct {
		name, page string
	}{
		{"audio file", srv.URL + "/song.webm"},
		{"page embedding audio", srv.URL + "/page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := r.Resolve(context.Background(), tt.page)
			if err != nil {
				t.Fatal(err)
			}
			if info.StreamURL != srv.URL+"/song.webm" {
				t.Errorf("stream URL = %q", info.StreamURL)
			}
			if info.PageURL != tt.page {
				t.Errorf("page URL = %q, want %q", info.PageURL, tt.page)
			}
			if info.Title == "" {
				t.Error("no title")
			}
		})
	}

	t.Run("missing page", func(t *testing.T) {
		_, err := r.Resolve(context.Background(), srv.URL+"/gone")
		wantFailure(t, err, ReasonRemoved)
	})
}

// The real yt-dlp reads an RSS feed of audio files as a playlist, whose
// items carry its #__youtubedl_smuggle= fragment and the feed's durations.
func TestRealYTDLPFeed(t *testing.T) {
	path := realYTDLP(t)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		// The third item is on a host yt-dlp is not given for this bot.
		_, _ = fmt.Fprintf(w, feedXML, srv.URL, srv.URL, "https://audio.example", srv.URL)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	feed := srv.URL + "/feed.xml"

	song := func(name string, seconds int) music.Track {
		return music.Track{Title: "Song " + strings.ToUpper(name), URL: srv.URL + "/" + name + ".ogg", Duration: time.Duration(seconds) * time.Second, Source: Source}
	}
	tests := []struct {
		name      string
		maxTracks int
		want      []music.Track
		wantNote  string
	}{
		{"the whole feed", 0, []music.Track{song("a", 61), song("b", 62), song("d", 64)}, "Left out 1 track on a site TimmyBot does not play from."},
		{"cut", 2, []music.Track{song("a", 61), song("b", 62)}, "Only the first 2 of its 4 tracks were taken (the limit is 2). Left out 1 track on a site TimmyBot does not play from."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, Config{Path: path, Sites: []string{"127.0.0.1"}, MaxTracks: tt.maxTracks})
			wantTracks(t, r, feed, tt.want, tt.wantNote)
		})
	}
}

// feedXML is a podcast feed of four audio files, its base URLs to fill in.
const feedXML = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Songs</title><link>http://127.0.0.1/</link><description>Four songs</description>
<item><title>Song A</title><enclosure url="%s/a.ogg" type="audio/ogg" length="1000"/><itunes:duration>00:01:01</itunes:duration></item>
<item><title>Song B</title><enclosure url="%s/b.ogg" type="audio/ogg" length="1000"/><itunes:duration>00:01:02</itunes:duration></item>
<item><title>Song C</title><enclosure url="%s/c.ogg" type="audio/ogg" length="1000"/><itunes:duration>00:01:03</itunes:duration></item>
<item><title>Song D</title><enclosure url="%s/d.ogg" type="audio/ogg" length="1000"/><itunes:duration>00:01:04</itunes:duration></item>
</channel></rss>`
