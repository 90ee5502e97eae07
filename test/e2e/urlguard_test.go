package e2e

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiohost"
)

// sentinel is a TCP listener on loopback that counts who connects to it.
type sentinel struct {
	port     string
	contacts atomic.Int32
}

func startSentinel(t testing.TB) *sentinel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &sentinel{port: port}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.contacts.Add(1)
			c.Close()
		}
	}()
	return s
}

// TestPlayRefusesHostileURLs plays URLs that lead to the cloud metadata
// service, to loopback in its many spellings and to the bot's own metrics,
// with the default fetch policy: each is refused in an ephemeral reply
// saying why, nothing is queued, the bot joins no channel, and nothing
// connects to the loopback sentinel or the bot's HTTP server's metrics.
func TestPlayRefusesHostileURLs(t *testing.T) {
	t.Parallel()
	h := startHarness(t, setup{defaultPolicy: true})
	s := startSentinel(t)
	_, botPort, _ := net.SplitHostPort(h.bot.httpAddr)
	const (
		loopback = "That URL leads to a loopback address, which TimmyBot does not fetch."
		metadata = "That URL leads to a link-local (cloud metadata) address, which TimmyBot does not fetch."
		notation = "That URL's host is a numeric host in an unusual notation; write an address as four decimal numbers, such as 192.0.2.1."
		local    = "That URL points at this machine (localhost), which TimmyBot does not fetch."
		userinfo = "URLs with a user name or password are not accepted; remove the part before the @."
	)
	tests := []struct{ url, want string }{
		{"http://169.254.169.254/", metadata},
		{"http://169.254.169.254/latest/meta-data/iam/security-credentials/", metadata},
		{"http://[::ffff:169.254.169.254]/", metadata},
		{"http://169.254.170.2/", metadata},
		{"http://0x7f000001/", notation},
		{"http://127.1/", notation},
		{"http://2130706433/", notation},
		{"http://localhost/", local},
		{"https://example.com@127.0.0.1/", userinfo},
		{"http://127.0.0.1:8080/metrics", loopback},
		{"http://127.0.0.1:" + botPort + "/metrics", loopback},
		{"http://127.0.0.1:" + s.port + "/", loopback},
		{"http://[::ffff:127.0.0.1]:" + s.port + "/", loopback},
		{"http://[::1]:" + s.port + "/", loopback},
		{"http://0x7f000001:" + s.port + "/", notation},
		{"http://127.1:" + s.port + "/", notation},
		{"http://2130706433:" + s.port + "/", notation},
		{"http://localhost:" + s.port + "/", local},
		{"http://sub.localhost:" + s.port + "/", local},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			msg := h.do(t, h.approved.ID, memberID, "play", opt("query", tt.url))
			if msg.Content != tt.want || !msg.Ephemeral() {
				t.Errorf("/play answered %q (ephemeral %v), want %q", msg.Content, msg.Ephemeral(), tt.want)
			}
		})
	}
	if q := h.do(t, h.approved.ID, memberID, "queue"); len(q.Embeds) != 1 || !strings.HasPrefix(q.Embeds[0].Description, "The queue is empty.") {
		t.Errorf("/queue after the refusals answered %+v, want an empty queue", q)
	}
	if reqs := h.fake.VoiceStateRequests(); len(reqs) != 0 {
		t.Errorf("the bot asked to join voice: %+v", reqs)
	}
	time.Sleep(200 * time.Millisecond) // a late fetch would have connected by now
	if n := s.contacts.Load(); n != 0 {
		t.Errorf("the sentinel was contacted %d times", n)
	}
}

// TestRedirectToMetadataIsRefused plays a URL on an allowed host that
// redirects to the cloud metadata address: the fetch refuses the redirect,
// and the channel hears why the track was skipped.
func TestRedirectToMetadataIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := audiohost.Start(t)
	h.play(t, host.URL(audiohost.Redirect), "Playing **redirect**.")
	const want = "Skipped **redirect**: That URL leads to a link-local (cloud metadata) address, which TimmyBot does not fetch."
	text := h.approved.Channels[0].ID
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range h.fake.Messages(text) {
			if m.Content == want {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no notice %q in %+v\n%s", want, h.fake.Messages(text), h.bot.logs)
}
