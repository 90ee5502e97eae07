package ytdlp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/audio/fetch"
)

// The headers yt-dlp gives for the chosen format (at the top of its JSON,
// or in that format's entry) reach the audio host that wants them, when
// the stream is fetched the way the audio pipeline fetches it; the
// cookie's value reaches no log.
func TestStreamHeadersReachTheAudioHost(t *testing.T) {
	audioHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "Mozilla/5.0 test" || r.Header.Get("Referer") != "https://www.bandcamp.com/" || r.Header.Get("Cookie") != "session=s3cret" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "audio")
	}))
	t.Cleanup(audioHost.Close)
	const headers = `{"User-Agent":"Mozilla/5.0 test","Referer":"https://www.bandcamp.com/","Cookie":"session=s3cret","Host":"evil.example","Connection":"close"}`
	tests := []struct{ name, json string }{
		{"top-level", `{"_type":"video","title":"T","format_id":"mp3","url":"` + audioHost.URL + `/a.mp3","http_headers":` + headers + `}`},
		{"the chosen format's", `{"_type":"video","title":"T","format_id":"mp3","url":"` + audioHost.URL + `/a.mp3",
			"formats":[{"format_id":"flac","http_headers":{"User-Agent":"other"}},{"format_id":"mp3","http_headers":` + headers + `}]}`},
	}
	client := fetch.NewClient(fetch.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, fetch.DefaultLimits())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := newFake(t, tt.json, "", 0)
			r := mustNew(t, Config{Path: f.path, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			u, header, err := r.StreamURL(context.Background(), "https://artist.bandcamp.com/track/t")
			if err != nil {
				t.Fatal(err)
			}
			b, err := fetch.Open(context.Background(), client, u, header, 0)
			if err != nil {
				t.Fatalf("fetching the stream: %v", err)
			}
			defer b.Close()
			if body, _ := io.ReadAll(b); string(body) != "audio" {
				t.Errorf("body %q", body)
			}
			if strings.Contains(logs.String(), "s3cret") {
				t.Errorf("the log holds the cookie:\n%s", logs.String())
			}
		})
	}
}
