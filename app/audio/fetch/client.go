package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// MaxRedirects is how many redirects one request may follow.
const MaxRedirects = 5

// Timeouts of the guarded client. Bodies have none: a stream plays for as
// long as its context allows.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 15 * time.Second
)

// lookupFunc resolves a host name to addresses; tests replace the system
// resolver with one that answers what they need.
type lookupFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// NewClient returns the HTTP client for user URLs: every connection's
// address is checked against policy after DNS; every request URL, the first
// and each redirect (at most MaxRedirects), passes Policy.CheckURL; bodies
// are capped by limits (see Limits). It takes no proxy from the environment,
// verifies TLS, keeps no cookies and asks for no compression, so that
// lengths and byte ranges are those of the file.
func NewClient(policy Policy, limits Limits) *http.Client {
	return newClient(policy, limits, net.DefaultResolver.LookupNetIP)
}

func newClient(policy Policy, limits Limits, lookup lookupFunc) *http.Client {
	d := &guardedDialer{
		policy: policy,
		lookup: lookup,
		dialer: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
	}
	d.dialer.Control = d.control
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would connect in our stead, past the guard
		DialContext:            d.dialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           32,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: &guardedTransport{next: transport, policy: policy, limits: limits.withDefaults()},
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return music.Errorf(music.EINVALID, "That URL redirects more than %d times.", MaxRedirects)
			}
			return nil
		},
	}
}

// guardedDialer checks, in Control, the address of the socket the kernel is
// about to connect, whatever resolved it: that check is the guard. It
// resolves names itself only so that tests can stand in for DNS.
type guardedDialer struct {
	policy Policy
	lookup lookupFunc
	dialer net.Dialer
}

func (d *guardedDialer) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", address, err)
	}
	addrs, err := d.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, addr := range addrs {
		conn, err := d.dialer.DialContext(ctx, network, net.JoinHostPort(addr.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("dialing %s: %w", host, errors.Join(errs...))
}

func (d *guardedDialer) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	lookupNetwork := map[string]string{"tcp4": "ip4", "tcp6": "ip6"}[network]
	if lookupNetwork == "" {
		lookupNetwork = "ip"
	}
	addrs, err := d.lookup(ctx, lookupNetwork, host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, errors.Join(
			music.Errorf(music.EUNAVAILABLE, "TimmyBot could not find the host of that URL."), err))
	}
	return addrs, nil
}

// control runs for every connection attempt with the address the socket
// will connect to, whatever resolved it.
func (d *guardedDialer) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return music.Errorf(music.EINVALID, "TimmyBot fetches audio over TCP only.")
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("checking dial address %q: %w", address, err)
	}
	return d.policy.CheckAddr(ap.Addr())
}

// guardedTransport checks each request's URL, the first and every redirect,
// and caps response bodies at the byte limit.
type guardedTransport struct {
	next   http.RoundTripper
	policy Policy
	limits Limits
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.policy.CheckURL(req.URL.String()); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if total := statedSize(resp, isPart(req.Context())); total > t.limits.MaxBytes {
		resp.Body.Close()
		return nil, t.limits.tooLarge()
	} else if total < 0 && !t.limits.LiveStreams {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.limits.MaxBytes, limits: t.limits}
	}
	return resp, nil
}

// statedSize is the size of the whole file as the response states it: the
// total of a Content-Range, else the Content-Length of a full answer; -1 when
// unknown. For a request of a part (see withPart), a partial answer's size
// is the part's own.
func statedSize(resp *http.Response, part bool) int64 {
	if resp.StatusCode == http.StatusPartialContent && !part {
		if cr, err := parseContentRange(resp.Header.Get("Content-Range")); err == nil {
			return cr.total
		}
		return -1
	}
	return resp.ContentLength
}

// partKey marks the context of a request for an exact part of a file
// (OpenRange): an HLS segment cut from one file of a whole stream. The byte
// limit bounds the part, not the file, whose other parts are other segments
// the HLS client counts against the limit itself. A seek (Open at an
// offset) is no part: the track is the whole file.
type partKey struct{}

func withPart(ctx context.Context) context.Context { return context.WithValue(ctx, partKey{}, true) }

func isPart(ctx context.Context) bool { return ctx.Value(partKey{}) != nil }

// cappedBody fails a body of unknown length once it passes the byte limit.
type cappedBody struct {
	io.ReadCloser
	left   int64
	limits Limits
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, b.limits.tooLarge()
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// contentRange is a parsed "bytes first-last/total"; total is -1 for "*".
type contentRange struct {
	first, last, total int64
}

func parseContentRange(s string) (contentRange, error) {
	bad := fmt.Errorf("malformed Content-Range %q", s)
	var cr contentRange
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return cr, bad
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok {
		return cr, bad
	}
	first, last, ok := strings.Cut(span, "-")
	if !ok {
		return cr, bad
	}
	var err1, err2, err3 error
	cr.first, err1 = strconv.ParseInt(first, 10, 64)
	cr.last, err2 = strconv.ParseInt(last, 10, 64)
	cr.total = -1
	if total != "*" {
		cr.total, err3 = strconv.ParseInt(total, 10, 64)
	}
	if errors.Join(err1, err2, err3) != nil || cr.first < 0 || cr.last < cr.first || (cr.total >= 0 && cr.last >= cr.total) {
		return contentRange{}, bad
	}
	return cr, nil
}
