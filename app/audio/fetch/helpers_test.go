package fetch

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// allowTestHost opens exactly the address the test audio servers listen on;
// 127.0.0.2, which Linux also routes to lo, stays refused.
var allowTestHost = Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// startServer serves h on addr ("127.0.0.1:0", "127.0.0.2:0" or a fixed port).
func startServer(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// hits counts requests, for servers that must never be reached.
type hits struct{ n atomic.Int64 }

func (h *hits) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.n.Add(1)
	fmt.Fprint(w, "internal secret")
}

// testContent is a deterministic file of n random bytes.
func testContent(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// lookupTable answers each host with its addresses, request after request
// in turn (the last answer repeats), as a rebinding DNS server would.
func lookupTable(answers map[string][][]netip.Addr) lookupFunc {
	var mu sync.Mutex
	calls := map[string]int{}
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		seq, ok := answers[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		i := min(calls[host], len(seq)-1)
		calls[host]++
		return seq[i], nil
	}
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// portOf returns the port of a test server.
func portOf(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	_, port, err := net.SplitHostPort(ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// flakyFile serves content with Range support and breaks the connection of
// request i once it has sent up to byte dropAt[i] of the file; request i is
// answered for the Range serveRange[i] instead of its own when there is one
// ("" is the whole file, as a server that does not do ranges sends).
type flakyFile struct {
	content      []byte
	dropAt       []int64
	serveRange   map[int]string
	acceptRanges bool

	mu       sync.Mutex
	requests []http.Header
}

func (f *flakyFile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	i := len(f.requests)
	f.requests = append(f.requests, r.Header.Clone())
	f.mu.Unlock()
	if rng, ok := f.serveRange[i]; ok {
		r.Header.Set("Range", rng)
	}
	start := rangeStart(r.Header.Get("Range"))
	if i < len(f.dropAt) {
		w = &dropWriter{ResponseWriter: w, left: f.dropAt[i] - start}
	}
	if !f.acceptRanges {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
		w.Write(f.content)
		return
	}
	w.Header().Set("ETag", `"v1"`)
	http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(f.content))
}

func (f *flakyFile) ranges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, h := range f.requests {
		out = append(out, h.Get("Range"))
	}
	return out
}

func rangeStart(h string) int64 {
	first, _, _ := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	n, _ := strconv.ParseInt(first, 10, 64)
	return n
}

// dropWriter sends left bytes, flushes them and then aborts the connection.
type dropWriter struct {
	http.ResponseWriter
	left int64
}

func (w *dropWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= w.left {
		w.left -= int64(len(p))
		return w.ResponseWriter.Write(p)
	}
	w.ResponseWriter.Write(p[:w.left])
	http.NewResponseController(w.ResponseWriter).Flush()
	panic(http.ErrAbortHandler)
}

// noWait is the fake clock of the resume backoff: it records the waits.
type noWait struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *noWait) wait(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	return nil
}
