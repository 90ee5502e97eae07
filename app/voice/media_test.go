package voice_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/transport"
	"github.com/iddv/timmybot/app/voice/voicetest"
)

// loopbackPair returns a receiving socket on loopback, closed when t ends,
// and a socket connected to it for the connection to send on.
func loopbackPair(t *testing.T) (sink, udp *net.UDPConn) {
	t.Helper()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	udp, err = net.DialUDP("udp", nil, sink.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	return sink, udp
}

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
			sink, udp := loopbackPair(t)
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

// Play ends with the context's error soon after its context ends, and then
// sends the closing silence on the ticks that follow.
func TestPlayStopsWhenItsContextEnds(t *testing.T) {
	key := bytes.Repeat([]byte{7}, transport.KeySize)
	sink, udp := loopbackPair(t)
	ticks := make(chan time.Time)
	conn, err := voice.OpenMedia(voice.Config{
		Pacer: func() (<-chan time.Time, func()) { return ticks, func() {} },
	}, voice.Media{UDP: udp, SSRC: 42, Mode: transport.ModeAES256GCM, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(t.Context())
	played := make(chan error, 1)
	go func() { played <- conn.Play(ctx, &voicetest.Frames{N: 1 << 20}) }()
	cipher, err := transport.NewCipher(transport.ModeAES256GCM, key)
	if err != nil {
		t.Fatal(err)
	}
	packets := make(chan []byte, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := sink.Read(buf)
			if err != nil {
				return
			}
			p, err := cipher.Open(nil, buf[:n])
			if err != nil {
				t.Error(err)
				return
			}
			select {
			case packets <- p.Payload:
			case <-t.Context().Done():
				return
			}
		}
	}()
	ticks <- time.Now()
	<-packets
	cancel()

	// Ticks keep coming until Play returns, as a clock's do.
	var err2 error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(5 * time.Second)
	for played != nil {
		select {
		case err2 = <-played:
			played = nil
		case <-tick.C:
			select {
			case ticks <- time.Now():
			default:
			}
		case <-timeout:
			t.Fatal("Play did not end after its context did")
		}
	}
	if !errors.Is(err2, context.Canceled) {
		t.Fatalf("Play = %v, want context.Canceled", err2)
	}
	silence := []byte{0xF8, 0xFF, 0xFE}
	audio, quiet := 0, 0
	for quiet < 5 {
		select {
		case p := <-packets:
			if bytes.Equal(p, silence) {
				quiet++
			} else {
				audio++
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d silence frames closed the stream, want 5", quiet)
		}
	}
	if audio > 2 {
		t.Errorf("%d frames of audio went out after the context ended, want at most 2", audio)
	}
}
