package fetch

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// redirector sends /go?to=X to X and serves "audio" elsewhere.
func redirector(w http.ResponseWriter, r *http.Request) {
	if to := r.URL.Query().Get("to"); to != "" {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	fmt.Fprint(w, "audio")
}

func TestClientRefusesRedirects(t *testing.T) {
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(redirector))
	internal := &hits{}
	hidden := startServer(t, "127.0.0.2:0", internal)
	port := portOf(t, hidden)
	client := newClient(allowTestHost, Limits{}, lookupTable(map[string][][]netip.Addr{
		"rebind.test": {addrs("127.0.0.2")},
	}))

	tests := []struct {
		name, to, want string
	}{
		{"metadata", "http://169.254.169.254/latest/meta-data/", msgLinkLocal},
		{"other loopback address", "http://127.0.0.2:" + port + "/", msgLoopback},
		{"mapped other loopback address", "http://[::ffff:127.0.0.2]:" + port + "/", msgLoopback},
		{"name resolving to loopback", "http://rebind.test:" + port + "/", msgLoopback},
		{"credentials to the allowed host", "http://user:hunter2@" + audio.Listener.Addr().String() + "/", msgCredentials},
		{"file", "file:///etc/passwd", "Only http:// and https:// URLs can be played, not file:."},
		{"localhost", "http://localhost:" + port + "/", msgLocalhost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(audio.URL + "/go?to=" + url.QueryEscape(tt.to))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("redirect to %s answered %s", tt.to, resp.Status)
			}
			if got := music.ErrorMessage(err); got != tt.want {
				t.Errorf("redirect to %s: message %q, want %q (err %v)", tt.to, got, tt.want, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
	if n := internal.n.Load(); n != 0 {
		t.Errorf("the refused server was reached %d times", n)
	}
}

func TestClientRedirectLimit(t *testing.T) {
	// /hop/N redirects to /hop/N-1; /hop/0 is the file.
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		fmt.Fprint(w, "audio")
	}))
	client := NewClient(allowTestHost, Limits{})
	tests := []struct {
		hops    int
		wantErr string
	}{
		{0, ""},
		{MaxRedirects, ""},
		{MaxRedirects + 1, "That URL redirects more than 5 times."},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.hops), func(t *testing.T) {
			resp, err := client.Get(audio.URL + "/hop/" + strconv.Itoa(tt.hops))
			if err == nil {
				defer resp.Body.Close()
			}
			if got := music.ErrorMessage(err); got != tt.wantErr {
				t.Fatalf("%d redirects: error %v, want %q", tt.hops, err, tt.wantErr)
			}
		})
	}
}

// The dialer itself refuses: no URL check runs on these dials.
func TestDialerChecksConnectedAddress(t *testing.T) {
	allowed := startServer(t, "127.0.0.1:0", http.HandlerFunc(redirector))
	refused := startServer(t, "127.0.0.2:0", &hits{})
	d := newClient(allowTestHost, Limits{}, lookupTable(map[string][][]netip.Addr{
		"refused.test": {addrs("127.0.0.2")},
		"mixed.test":   {addrs("127.0.0.2", "127.0.0.1")},
	})).Transport.(*guardedTransport).next.(*http.Transport).DialContext

	tests := []struct {
		name, address string
		wantErr       string
	}{
		{"allowed literal", allowed.Listener.Addr().String(), ""},
		{"refused literal", refused.Listener.Addr().String(), msgLoopback},
		{"refused literal, mapped", "[::ffff:127.0.0.2]:" + portOf(t, refused), msgLoopback},
		{"name resolving to a refused address", "refused.test:" + portOf(t, refused), msgLoopback},
		{"refused address skipped for an allowed one", "mixed.test:" + portOf(t, allowed), ""},
		{"unknown name", "nowhere.test:80", "TimmyBot could not find the host of that URL."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := d(context.Background(), "tcp", tt.address)
			if err == nil {
				conn.Close()
			}
			if got := music.ErrorMessage(err); got != tt.wantErr {
				t.Errorf("dialing %s: %v, want %q", tt.address, err, tt.wantErr)
			}
		})
	}
}

func TestDialerRefusesOtherNetworks(t *testing.T) {
	d := &guardedDialer{policy: Policy{}}
	for _, network := range []string{"udp4", "udp6", "unix", "ip4:icmp"} {
		if err := d.control(network, "8.8.8.8:53", nil); music.ErrorMessage(err) != "TimmyBot fetches audio over TCP only." {
			t.Errorf("control(%s) = %v", network, err)
		}
	}
	if err := d.control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(tcp4, public address) = %v", err)
	}
}

// A name that resolves to the allowed host first and to a refused one the
// next time (DNS rebinding) cannot reach the refused one.
func TestClientRefusesRebinding(t *testing.T) {
	// Connection: close, so that the second request dials again.
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		redirector(w, r)
	}))
	internal := &hits{}
	startServer(t, "127.0.0.2:"+portOf(t, audio), internal)
	client := newClient(allowTestHost, Limits{}, lookupTable(map[string][][]netip.Addr{
		"audio.test": {addrs("127.0.0.1"), addrs("127.0.0.2")},
	}))
	target := "http://audio.test:" + portOf(t, audio) + "/a.ogg"

	first, err := Open(context.Background(), client, target, nil, 0)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	if b, err := io.ReadAll(first); err != nil || string(b) != "audio" {
		t.Fatalf("first read = %q, %v", b, err)
	}
	first.Close()

	_, err = Open(context.Background(), client, target, nil, 0)
	if got := music.ErrorMessage(err); got != msgLoopback {
		t.Errorf("second open after rebinding: %v, want %q", err, msgLoopback)
	}
	if n := internal.n.Load(); n != 0 {
		t.Errorf("the rebound address was reached %d times", n)
	}
}

// TestMain points every proxy variable at a server that counts what reaches
// it, before any test runs: net/http reads the environment only once.
func TestMain(m *testing.M) {
	proxy := httptest.NewServer(&proxyHits)
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		os.Setenv(v, proxy.URL)
	}
	code := m.Run()
	proxy.Close()
	os.Exit(code)
}

var proxyHits hits

func TestClientIgnoresProxyEnvironment(t *testing.T) {
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(redirector))
	// A name, not 127.0.0.1: proxies are never used for loopback literals.
	client := newClient(allowTestHost, Limits{}, lookupTable(map[string][][]netip.Addr{"audio.test": {addrs("127.0.0.1")}}))

	resp, err := client.Get("http://audio.test:" + portOf(t, audio) + "/a.ogg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "audio" || proxyHits.n.Load() != 0 {
		t.Errorf("got %q with %d proxy requests, want the file directly", b, proxyHits.n.Load())
	}
}

func TestClientVerifiesTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(redirector))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	ts.StartTLS()
	defer ts.Close()
	_, err := NewClient(allowTestHost, Limits{}).Get(ts.URL)
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		t.Errorf("GET of a server with a self-signed certificate: %v, want an unknown-authority error", err)
	}
}

func TestClientAsksForNoCompression(t *testing.T) {
	seen := make(chan []string, 1)
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Values("Accept-Encoding")
	}))
	resp, err := NewClient(allowTestHost, Limits{}).Get(audio.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-seen; len(got) != 0 {
		t.Errorf("Accept-Encoding = %q; compressed bodies would break lengths and ranges", got)
	}
}

func TestByteLimit(t *testing.T) {
	const limit = 1000
	content := testContent(5000)
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Path == "/stream" { // no Content-Length: a live stream
			for i := 0; i < n; i += 100 {
				w.Write(content[i : i+100])
				http.NewResponseController(w).Flush()
			}
			return
		}
		http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(content[:n]))
	}))
	tests := []struct {
		name        string
		path        string
		offset      int64
		part        int64 // when set, OpenRange of this length at offset
		liveStreams bool
		wantBytes   int
		wantErr     string
	}{
		{"stated size at the limit", "/file?n=1000", 0, 0, false, 1000, ""},
		{"stated size over the limit", "/file?n=1001", 0, 0, false, 0, "That file is larger than the 1000-byte limit."},
		{"seek in a file over the limit", "/file?n=5000", 4500, 0, false, 0, "That file is larger than the 1000-byte limit."},
		{"part of a file over the limit", "/file?n=5000", 2000, 1000, false, 1000, ""},
		{"part over the limit", "/file?n=5000", 2000, 1001, false, 0, "That file is larger than the 1000-byte limit."},
		{"stream over the limit", "/stream?n=5000", 0, 0, false, limit, "That file is larger than the 1000-byte limit."},
		{"stream under the limit", "/stream?n=900", 0, 0, false, 900, ""},
		{"live stream, no byte cap", "/stream?n=5000", 0, 0, true, 5000, ""},
		{"live streams still cap stated sizes", "/file?n=1001", 0, 0, true, 0, "That file is larger than the 1000-byte limit."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := NewClient(allowTestHost, Limits{MaxBytes: limit, LiveStreams: tt.liveStreams})
			open := func() (*Body, error) { return Open(context.Background(), client, audio.URL+tt.path, nil, tt.offset) }
			if tt.part > 0 {
				open = func() (*Body, error) {
					return OpenRange(context.Background(), client, audio.URL+tt.path, nil, tt.offset, tt.part)
				}
			}
			b, err := open()
			var n int64
			if err == nil {
				n, err = io.Copy(io.Discard, b)
				b.Close()
			}
			if got := music.ErrorMessage(err); got != tt.wantErr || int(n) != tt.wantBytes {
				t.Errorf("read %d bytes, error %v; want %d bytes, %q", n, err, tt.wantBytes, tt.wantErr)
			}
		})
	}
}
