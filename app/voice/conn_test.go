package voice_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/voice"
)

// A voice server that accepts and never answers: Connect gives up when its
// context ends, and the connection's goroutines end with it.
func TestConnectGivesUpWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	conn, err := voice.Connect(ctx, voice.Config{Params: voice.Params{
		GuildID: "1", UserID: "2", SessionID: "s", Token: "t", Endpoint: ln.Addr().String(),
	}})
	if !errors.Is(err, context.DeadlineExceeded) || conn != nil {
		t.Fatalf("Connect = %v, %v; want a deadline error", conn, err)
	}
	// The half-open TLS handshake was abandoned: the server side sees EOF.
	c := <-accepted
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the client kept the connection open after Connect returned")
			}
			return
		}
	}
}
