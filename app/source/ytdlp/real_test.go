package ytdlp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

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
