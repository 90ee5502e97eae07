package voice_test

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/transport"
	"github.com/iddv/timmybot/app/voice/voicetest"
)

// A connection from OpenMedia sends what Play is given as sealed RTP to its
// UDP peer, one packet per tick, reports each send's lateness from the
// tick's due time, and ends Play with ErrClosed when closed.
func TestOpenMedia(t *testing.T) {
	key := bytes.Repeat([]byte{7}, transport.KeySize)
	tests := []struct {
		name string
		mode string
	}{
		{"aes-gcm", transport.ModeAES256GCM},
		{"xchacha20", transport.ModeXChaCha20Poly1305},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			udp, err := net.DialUDP("udp", nil, sink.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			ticks := make(chan time.Time)
			var lateness []time.Duration
			conn, err := voice.OpenMedia(voice.Config{
				Pacer:       func() (<-chan time.Time, func()) { return ticks, func() {} },
				OnFrameSent: func(late time.Duration) { lateness = append(lateness, late) },
			}, voice.Media{UDP: udp, SSRC: 42, Mode: tt.mode, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			src := &voicetest.Frames{N: 1 << 20}
			played := make(chan error, 1)
			go func() { played <- conn.Play(t.Context(), src) }()

			const late = time.Hour // far beyond any scheduling delay
			cipher, err := transport.NewCipher(tt.mode, key)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			var seq uint16
			for i := range 3 {
				ticks <- time.Now().Add(-late)
				if err := sink.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				n, err := sink.Read(buf)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				p, err := cipher.Open(nil, buf[:n])
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if p.Header.SSRC != 42 || !bytes.Equal(p.Payload, voicetest.OpusFrame(i)) {
					t.Fatalf("frame %d: SSRC %d payload %x, want 42 and %x", i, p.Header.SSRC, p.Payload, voicetest.OpusFrame(i))
				}
				if i > 0 && p.Header.Sequence != seq+1 {
					t.Errorf("frame %d: sequence %d after %d", i, p.Header.Sequence, seq)
				}
				seq = p.Header.Sequence
			}
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
			ticks <- time.Now() // Play looks at the connection on its next tick
			if err := <-played; !errors.Is(err, voice.ErrClosed) {
				t.Fatalf("Play = %v after Close, want ErrClosed", err)
			}
			if !src.Closed() {
				t.Error("Play did not close its source")
			}
			if len(lateness) != 3 {
				t.Fatalf("OnFrameSent called %d times for 3 frames", len(lateness))
			}
			for i, l := range lateness {
				if l < late {
					t.Errorf("frame %d reported %v late, want at least %v", i, l, late)
				}
			}
		})
	}
}
