package dave_test

import (
	"testing"

	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
)

// FuzzSessionBinary feeds hostile binary gateway payloads to a session that is
// in an established group: errors are fine, panics and lost readiness are not.
// Seeds live in testdata/fuzz.
func FuzzSessionBinary(f *testing.F) {
	f.Fuzz(func(t *testing.T, op byte, payload []byte) {
		h := newHarness(t)
		a := h.connect(1)
		h.connect(2)
		ops := []int{dave.OpExternalSender, dave.OpProposals, dave.OpAnnounceCommitTransition, dave.OpWelcome}
		replies, _ := a.HandleMessage(dave.Message{Op: ops[int(op)%len(ops)], Binary: payload})
		for _, r := range replies {
			if _, err := h.net.GW.Handle(1, r); err != nil {
				t.Fatalf("session sent the gateway something invalid: %v", err)
			}
		}
		if !a.Ready() {
			t.Fatal("session lost its send key")
		}
	})
}

// newHarnessB is newHarness for benchmarks.
func newHarnessB(b *testing.B) (*davetest.Network, map[uint64]*dave.Session) {
	gw, err := davetest.NewGateway(channelID)
	if err != nil {
		b.Fatal(err)
	}
	net := davetest.NewNetwork(gw)
	sessions := map[uint64]*dave.Session{}
	for _, id := range []uint64{1, 2} {
		s, err := dave.NewSession(dave.Config{UserID: id, ChannelID: channelID})
		if err != nil {
			b.Fatal(err)
		}
		sessions[id] = s
		if err := net.Connect(davetest.Local{ID: id, Session: s}); err != nil {
			b.Fatal(err)
		}
	}
	return net, sessions
}

// BenchmarkSessionEncryptOpus is the session's share of the per-frame send
// cost: its lock around the frame encryptor, for a 120-byte Opus frame.
func BenchmarkSessionEncryptOpus(b *testing.B) {
	_, s := newHarnessB(b)
	opus := make([]byte, 120)
	opus[0] = 0x78
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(opus)))
	for b.Loop() {
		out, err := s[1].EncryptOpus(dst[:0], opus)
		if err != nil {
			b.Fatal(err)
		}
		dst = out
	}
}

// BenchmarkSessionDecrypt is the receive side for the same frames.
func BenchmarkSessionDecrypt(b *testing.B) {
	_, s := newHarnessB(b)
	opus := make([]byte, 120)
	opus[0] = 0x78
	const frames = 4096
	wire := make([][]byte, frames)
	for i := range wire {
		w, err := s[1].EncryptOpus(nil, opus)
		if err != nil {
			b.Fatal(err)
		}
		wire[i] = w
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == frames {
			b.StopTimer()
			for j := range wire {
				w, err := s[1].EncryptOpus(nil, opus)
				if err != nil {
					b.Fatal(err)
				}
				wire[j] = w
			}
			i = 0
			b.StartTimer()
		}
		out, err := s[2].Decrypt(1, dst[:0], wire[i])
		if err != nil {
			b.Fatal(err)
		}
		dst = out
		i++
	}
}
