package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// headerHost serves "audio" only to requests that carry the Referer and
// cookie a site's stream wants, and records the headers of each request.
type headerHost struct {
	mu   sync.Mutex
	seen []http.Header
}

func (h *headerHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	got := r.Header.Clone()
	got.Set("Host", r.Host)
	h.seen = append(h.seen, got)
	h.mu.Unlock()
	if r.Header.Get("Referer") != "https://www.example.com/" || r.Header.Get("Cookie") != "session=s3cret" {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "audio/ogg")
	_, _ = io.WriteString(w, "audio")
}

func (h *headerHost) last() http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[len(h.seen)-1]
}

// The headers a resolver gives reach the audio host, through Open and the
// relay alike, less Host, hop-by-hop headers, the bot's own and invalid
// ones; the cookie's value never reaches the log.
func TestForwardedHeaders(t *testing.T) {
	host := &headerHost{}
	srv := startServer(t, "127.0.0.1:0", host)
	client := NewClient(allowTestHost, Limits{})
	var logs bytes.Buffer
	relay, err := StartRelay(client, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	given := http.Header{
		"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64)"}, "Referer": {"https://www.example.com/"}, "Cookie": {"session=s3cret"},
		"Accept-Language": {"en-us,en;q=0.5"}, "Sec-Fetch-Mode": {"navigate"},
		"Host": {"evil.example"}, "Connection": {"keep-alive, X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"timeout=5"},
		"Transfer-Encoding": {"chunked"}, "Upgrade": {"websocket"}, "Proxy-Authorization": {"Basic eA=="}, "Te": {"trailers"},
		"Range": {"bytes=3-"}, "Accept-Encoding": {"gzip"}, "Content-Length": {"9"},
		"X-Split": {"a\r\nX-Injected: 1"}, "Bad Name": {"x"},
	}
	want := map[string]string{
		"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Referer": "https://www.example.com/", "Cookie": "session=s3cret",
		"Accept-Language": "en-us,en;q=0.5", "Sec-Fetch-Mode": "navigate", "Accept-Encoding": "identity",
		"Host": strings.TrimPrefix(srv.URL, "http://"),
	}
	fetchers := []struct {
		name string
		get  func(t *testing.T, header http.Header) (int, string)
	}{
		{"open", func(t *testing.T, header http.Header) (int, string) {
			b, err := Open(context.Background(), client, srv.URL+"/a.ogg", header, 0)
			if err != nil {
				return statusOf(err), ""
			}
			defer b.Close()
			body, _ := io.ReadAll(b)
			return http.StatusOK, string(body)
		}},
		{"relay", func(t *testing.T, header http.Header) (int, string) {
			local, release := relay.Register(srv.URL+"/a.ogg", header)
			defer release()
			resp, err := http.Get(local)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}},
	}
	for _, f := range fetchers {
		t.Run(f.name, func(t *testing.T) {
			if code, _ := f.get(t, nil); code != http.StatusForbidden {
				t.Errorf("without the headers: %d, want the host's 403", code)
			}
			code, body := f.get(t, given)
			if code != http.StatusOK || body != "audio" {
				t.Fatalf("with the headers: %d %q", code, body)
			}
			got := map[string]string{}
			for name := range host.last() {
				got[name] = host.last().Get(name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers at the host (-want +got):\n%s", diff)
			}
		})
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log holds the cookie:\n%s", logs.String())
	}
}

func statusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}
