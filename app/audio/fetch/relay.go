package fetch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Relay serves user URLs to ffmpeg on loopback, so that ffmpeg never opens
// a user URL itself: each registered URL gets an unguessable local address
// for as long as it is registered, and every request to it is fetched
// upstream through the guarded client, Range passed through so ffmpeg can
// seek. It listens on 127.0.0.1 only.
type Relay struct {
	client  *http.Client
	log     *slog.Logger
	addr    string
	server  *http.Server
	stopped chan struct{}

	mu     sync.Mutex
	routes map[string]*route
}

type route struct {
	upstream string
	header   http.Header
	released context.Context // done once the registration is released
}

// upstreamHeaders are the response headers ffmpeg needs to read and seek;
// everything else the upstream sends (cookies above all) stays behind.
var upstreamHeaders = []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified"}

// StartRelay listens on a free loopback port and serves until Close.
// client should be the guarded client from NewClient.
func StartRelay(client *http.Client, log *slog.Logger) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting audio relay: %w", err)
	}
	r := &Relay{
		client:  client,
		log:     log,
		addr:    ln.Addr().String(),
		stopped: make(chan struct{}),
		routes:  map[string]*route{},
	}
	r.server = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(r.stopped)
		if err := r.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("audio relay stopped", slog.Any("err", err))
		}
	}()
	return r, nil
}

// Close stops the relay and the requests it is serving.
func (r *Relay) Close() error {
	err := r.server.Close()
	<-r.stopped
	if err != nil {
		return fmt.Errorf("closing audio relay: %w", err)
	}
	return nil
}

// Register hands out a local URL that serves upstreamURL, fetched with
// header as Open sends it, until release is called; release also ends the
// requests to it that are still running.
func (r *Relay) Register(upstreamURL string, header http.Header) (localURL string, release func()) {
	token := rand.Text()
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.routes[token] = &route{upstream: upstreamURL, header: header, released: ctx}
	r.mu.Unlock()
	return "http://" + r.addr + "/r/" + token, func() {
		r.mu.Lock()
		delete(r.routes, token)
		r.mu.Unlock()
		cancel()
	}
}

// ServeHTTP answers GET and HEAD for registered tokens and 404 for anything
// else, including a Host header other than the relay's own address, which
// is what a web page using DNS rebinding against loopback would send.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	token, ok := strings.CutPrefix(req.URL.Path, "/r/")
	r.mu.Lock()
	rt := r.routes[token]
	r.mu.Unlock()
	if !ok || rt == nil || req.Host != r.addr {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(rt.released, cancel)()

	up, err := http.NewRequestWithContext(ctx, req.Method, rt.upstream, nil)
	if err != nil {
		http.Error(w, "bad upstream URL", http.StatusBadGateway)
		return
	}
	up.Header.Set("User-Agent", userAgent)
	setForwarded(up, rt.header)
	up.Header.Set("Accept-Encoding", "identity")
	for _, h := range []string{"Range", "If-Range"} {
		if v := req.Header.Get(h); v != "" {
			up.Header.Set(h, v)
		}
	}
	resp, err := r.client.Do(up)
	if err != nil {
		r.log.Warn("audio relay: upstream failed", slog.Any("err", err))
		http.Error(w, music.ErrorMessage(err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range upstreamHeaders {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		r.log.Warn("audio relay: copying upstream", slog.Any("err", err))
	}
}
