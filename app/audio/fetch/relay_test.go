package fetch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ffmpegClient stands in for ffmpeg: a plain client with no proxy.
var ffmpegClient = &http.Client{Transport: &http.Transport{}}

func startRelay(t *testing.T) *Relay {
	t.Helper()
	r, err := StartRelay(NewClient(allowTestHost, Limits{}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func relayGet(t *testing.T, localURL string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, localURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ffmpegClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestRelayPassesRangeThrough(t *testing.T) {
	content := testContent(10_000)
	upstream := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "upstream-secret"})
		http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(content))
	}))
	relay := startRelay(t)
	local, release := relay.Register(upstream.URL+"/a.ogg", nil)
	defer release()

	if u, err := url.Parse(local); err != nil || u.Hostname() != "127.0.0.1" || len(strings.TrimPrefix(u.Path, "/r/")) < 26 {
		t.Fatalf("local URL %q is not a loopback URL with an unguessable token", local)
	}
	tests := []struct {
		name         string
		rangeHeader  string
		wantStatus   int
		wantRange    string
		wantBody     []byte
		wantAccepted string
	}{
		{"whole file", "", http.StatusOK, "", content, "bytes"},
		{"middle", "bytes=100-199", http.StatusPartialContent, "bytes 100-199/10000", content[100:200], "bytes"},
		{"from an offset", "bytes=9000-", http.StatusPartialContent, "bytes 9000-9999/10000", content[9000:], "bytes"},
		{"past the end", "bytes=20000-", http.StatusRequestedRangeNotSatisfiable, "bytes */10000", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.rangeHeader != "" {
				h.Set("Range", tt.rangeHeader)
			}
			resp, body := relayGet(t, local, h)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Range") != tt.wantRange {
				t.Errorf("status %d, Content-Range %q; want %d, %q", resp.StatusCode, resp.Header.Get("Content-Range"), tt.wantStatus, tt.wantRange)
			}
			if tt.wantBody != nil && !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body of %d bytes differs from the %d expected", len(body), len(tt.wantBody))
			}
			if got := resp.Header.Get("Accept-Ranges"); tt.wantAccepted != "" && got != tt.wantAccepted {
				t.Errorf("Accept-Ranges = %q", got)
			}
			if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
				t.Errorf("the relay passed the upstream's cookies on: %q", c)
			}
		})
	}
}

func TestRelayRefuses(t *testing.T) {
	upstream := startServer(t, "127.0.0.1:0", http.HandlerFunc(redirector))
	internal := &hits{}
	hidden := startServer(t, "127.0.0.2:0", internal)
	relay := startRelay(t)

	live, releaseLive := relay.Register(upstream.URL, nil)
	defer releaseLive()
	released, release := relay.Register(upstream.URL, nil)
	release()
	guarded, releaseGuarded := relay.Register(hidden.URL, nil)
	defer releaseGuarded()
	liveURL, _ := url.Parse(live)

	tests := []struct {
		name       string
		url        string
		host       string // Host header; the relay's own when empty
		method     string
		wantStatus int
		wantBody   string
	}{
		{"registered", live, "", http.MethodGet, http.StatusOK, "audio"},
		{"unknown token", "http://" + liveURL.Host + "/r/" + strings.Repeat("A", 26), "", http.MethodGet, http.StatusNotFound, "404 page not found\n"},
		{"released token", released, "", http.MethodGet, http.StatusNotFound, "404 page not found\n"},
		{"other path", "http://" + liveURL.Host + strings.TrimPrefix(liveURL.Path, "/r"), "", http.MethodGet, http.StatusNotFound, "404 page not found\n"},
		{"foreign Host header", live, "attacker.example:80", http.MethodGet, http.StatusNotFound, "404 page not found\n"},
		{"POST", live, "", http.MethodPost, http.StatusMethodNotAllowed, "method not allowed\n"},
		{"upstream the guard refuses", guarded, "", http.MethodGet, http.StatusBadGateway, msgLoopback + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := ffmpegClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.url, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if n := internal.n.Load(); n != 0 {
		t.Errorf("the refused upstream was reached %d times", n)
	}
}

// Releasing a registration ends the stream ffmpeg is reading from it.
func TestRelayReleaseEndsStreams(t *testing.T) {
	upstream := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil { // an endless radio stream
			w.Write(make([]byte, 1024))
			http.NewResponseController(w).Flush()
		}
	}))
	relay, err := StartRelay(NewClient(allowTestHost, Limits{LiveStreams: true}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	local, release := relay.Register(upstream.URL, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, local, nil)
	resp, err := ffmpegClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	release()
	_, err = io.Copy(io.Discard, resp.Body)
	if ctx.Err() != nil {
		t.Fatalf("the stream did not end on release (%v)", err)
	}
}
