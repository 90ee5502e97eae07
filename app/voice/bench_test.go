package voice

import (
	"bytes"
	"testing"

	"github.com/iddv/timmybot/app/voice/dave/frame"
	"github.com/iddv/timmybot/app/voice/transport"
)

// frameE2EE is the DAVE media path alone: a sender ratchet's Encryptor.
type frameE2EE struct {
	passthrough
	enc *frame.Encryptor
}

func (f frameE2EE) EncryptOpus(dst, opus []byte) ([]byte, error) { return f.enc.EncryptOpus(dst, opus) }

// BenchmarkFramePath measures what each 20 ms frame costs Play before the
// UDP write: DAVE frame encryption, RTP header and transport encryption, for
// a 120-byte Opus frame. Target: under 2 µs and no allocations.
func BenchmarkFramePath(b *testing.B) {
	for _, mode := range []string{transport.ModeAES256GCM, transport.ModeXChaCha20Poly1305} {
		b.Run(mode, func(b *testing.B) {
			r, err := frame.NewRatchet(bytes.Repeat([]byte{1}, frame.BaseSecretSize))
			if err != nil {
				b.Fatal(err)
			}
			ciph, err := transport.NewCipher(mode, bytes.Repeat([]byte{2}, transport.KeySize))
			if err != nil {
				b.Fatal(err)
			}
			c := &Conn{e2ee: frameE2EE{enc: frame.NewEncryptor(r)}}
			s := &sender{c: c}
			m := &media{ssrc: 1, pk: transport.NewPacketizer(ciph, 1, 0, 0)}
			opus := bytes.Repeat([]byte{0x5A}, 120)
			if _, err := s.packet(m, opus); err != nil { // grow the buffers once
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.packet(m, opus); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/frame")
		})
	}
}
