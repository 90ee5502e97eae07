package transport

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/chacha20poly1305"
)

var testKey = bytes.Repeat([]byte{0x42}, KeySize)

func TestChooseMode(t *testing.T) {
	tests := []struct {
		name    string
		offered []string
		want    string
		wantErr bool
	}{
		{"both: AES preferred", []string{ModeXChaCha20Poly1305, "xsalsa20_poly1305_lite_rtpsize", ModeAES256GCM}, ModeAES256GCM, false},
		{"only xchacha", []string{"xsalsa20_poly1305", ModeXChaCha20Poly1305}, ModeXChaCha20Poly1305, false},
		{"none supported", []string{"xsalsa20_poly1305", "aead_aes256_gcm"}, "", true},
		{"empty", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseMode(tt.offered)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ChooseMode = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// referenceAEAD builds the mode's AEAD straight from the libraries, apart
// from NewCipher, to check the packet layout independently.
func referenceAEAD(t *testing.T, mode string) cipher.AEAD {
	t.Helper()
	if mode == ModeXChaCha20Poly1305 {
		a, err := chacha20poly1305.NewX(testKey)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	block, err := aes.NewCipher(testKey)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// withRoom is a packet ready to seal: room for the header, then payload.
func withRoom(payload []byte) []byte { return append(make([]byte, HeaderSize), payload...) }

// Seal encrypts the payload where it lies: a packet with room for the tag
// and counter comes back in the same memory.
func TestSealInPlace(t *testing.T) {
	for _, mode := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		c, err := NewCipher(mode, testKey)
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte("dave protocol frame bytes")
		pkt := append(make([]byte, HeaderSize, 256), payload...)
		got := c.Seal(pkt, Header{SSRC: 1}, 9)
		if &got[0] != &pkt[0] {
			t.Errorf("%s: the packet was sealed in new memory", mode)
		}
		opened, err := c.Open(nil, got)
		if err != nil || !bytes.Equal(opened.Payload, payload) {
			t.Errorf("%s: opened %q, %v; want %q", mode, opened.Payload, err, payload)
		}
	}
}

func TestSealLayout(t *testing.T) {
	for _, mode := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		t.Run(mode, func(t *testing.T) {
			c, err := NewCipher(mode, testKey)
			if err != nil {
				t.Fatal(err)
			}
			payload := []byte("dave protocol frame bytes")
			h := Header{Sequence: 0xBEEF, Timestamp: 0x01020304, SSRC: 0xA1B2C3D4}
			got := c.Seal(withRoom(payload), h, 0x00000107)

			header := []byte{0x80, 0x78, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xA1, 0xB2, 0xC3, 0xD4}
			ref := referenceAEAD(t, mode)
			nonce := make([]byte, ref.NonceSize())
			copy(nonce, []byte{0x00, 0x00, 0x01, 0x07})
			want := append(append([]byte{}, header...), ref.Seal(nil, nonce, payload, header)...)
			want = append(want, 0x00, 0x00, 0x01, 0x07)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("packet (-want +got):\n%s", diff)
			}
			p, err := c.Open(nil, got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Packet{Header: h, Counter: 0x107, Payload: payload}, p, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("Open (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenExtensionAndCSRC builds a packet as Discord's clients send it to
// the server, with a CSRC and a header extension whose body is encrypted.
func TestOpenExtensionAndCSRC(t *testing.T) {
	for _, mode := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		t.Run(mode, func(t *testing.T) {
			header := []byte{0x80 | extensionBit | 1, 0x78, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5, 0xCC, 0xCC, 0xCC, 0xCC, 0xBE, 0xDE, 0x00, 0x01}
			ext := []byte{0x10, 0xAA, 0x00, 0x00}
			opus := []byte{0xFC, 0xFF, 0xFE, 0x01}
			ref := referenceAEAD(t, mode)
			nonce := make([]byte, ref.NonceSize())
			nonce[3] = 9
			packet := append(append([]byte{}, header...), ref.Seal(nil, nonce, append(append([]byte{}, ext...), opus...), header)...)
			packet = append(packet, 0, 0, 0, 9)

			c, err := NewCipher(mode, testKey)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Open(nil, packet)
			if err != nil {
				t.Fatal(err)
			}
			want := Packet{Header: Header{Sequence: 7, Timestamp: 9, SSRC: 5}, Counter: 9, Extension: ext, Payload: opus}
			if diff := cmp.Diff(want, p, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("Open (-want +got):\n%s", diff)
			}
			// The extension preamble is authenticated: changing it fails.
			packet[19] = 0x02
			if _, err := c.Open(nil, packet); !errors.Is(err, ErrAuth) {
				t.Errorf("tampered preamble: err %v, want ErrAuth", err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	c, err := NewCipher(ModeAES256GCM, testKey)
	if err != nil {
		t.Fatal(err)
	}
	good := c.Seal(withRoom([]byte("payload")), Header{Sequence: 1, Timestamp: 2, SSRC: 3}, 4)
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		want   error
	}{
		{"header changed", func(b []byte) []byte { b[3] ^= 1; return b }, ErrAuth},
		{"counter changed", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, ErrAuth},
		{"ciphertext changed", func(b []byte) []byte { b[HeaderSize] ^= 1; return b }, ErrAuth},
		{"truncated to header", func(b []byte) []byte { return b[:HeaderSize+3] }, ErrShortPacket},
		{"shorter than a header", func(b []byte) []byte { return b[:5] }, ErrShortPacket},
		{"version 1", func(b []byte) []byte { b[0] = 0x40; return b }, ErrNotRTP},
		{"CSRC count past the end", func(b []byte) []byte { b[0] |= 0x0F; return b[:HeaderSize+8] }, ErrShortPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Open(nil, tt.mangle(bytes.Clone(good)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	other, err := NewCipher(ModeAES256GCM, bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(nil, good); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong key: err %v, want ErrAuth", err)
	}
}

func TestNewCipherRejects(t *testing.T) {
	if _, err := NewCipher(ModeAES256GCM, testKey[:16]); err == nil {
		t.Error("16-byte key accepted")
	}
	if _, err := NewCipher("xsalsa20_poly1305", testKey); err == nil {
		t.Error("xsalsa20 accepted")
	}
}

func TestPacketizer(t *testing.T) {
	c, err := NewCipher(ModeXChaCha20Poly1305, testKey)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPacketizer(c, 77, 0xFFFE, 0xFFFFFFFF-959)
	var got []Header
	var counters []uint32
	for i := range 3 {
		pkt := p.Packet(withRoom([]byte{byte(i)}))
		opened, err := c.Open(nil, pkt)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(opened.Payload, []byte{byte(i)}) {
			t.Fatalf("packet %d payload %x", i, opened.Payload)
		}
		got = append(got, opened.Header)
		counters = append(counters, opened.Counter)
	}
	want := []Header{
		{Sequence: 0xFFFE, Timestamp: 0xFFFFFFFF - 959, SSRC: 77},
		{Sequence: 0xFFFF, Timestamp: 0, SSRC: 77},
		{Sequence: 0, Timestamp: 960, SSRC: 77},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint32{0, 1, 2}, counters); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

func TestDiscovery(t *testing.T) {
	req := AppendDiscoveryRequest(nil, 0xDEADBEEF)
	if len(req) != DiscoverySize || binary.BigEndian.Uint16(req) != 1 || binary.BigEndian.Uint16(req[2:]) != 70 {
		t.Fatalf("request %x", req)
	}
	if ssrc, err := ParseDiscoveryRequest(req); err != nil || ssrc != 0xDEADBEEF {
		t.Fatalf("ParseDiscoveryRequest = %x, %v", ssrc, err)
	}
	for _, addr := range []string{"203.0.113.7:50123", "[2001:db8::1]:1"} {
		ap := netip.MustParseAddrPort(addr)
		resp := AppendDiscoveryResponse(nil, 9, ap)
		ssrc, got, err := ParseDiscoveryResponse(resp)
		if err != nil || ssrc != 9 || got != ap {
			t.Errorf("response for %v parsed as %d %v %v", ap, ssrc, got, err)
		}
	}
	bad := [][]byte{
		nil,
		req[:73],
		req, // a request is not a response
		append(binary.BigEndian.AppendUint16(nil, 2), make([]byte, 72)...), // length 0
		AppendDiscoveryResponse(nil, 1, netip.AddrPort{})[:DiscoverySize],  // "invalid IP"
	}
	for i, b := range bad {
		if _, _, err := ParseDiscoveryResponse(b); err == nil {
			t.Errorf("bad response %d parsed", i)
		}
	}
}

func BenchmarkSealAES120(b *testing.B)     { benchSeal(b, ModeAES256GCM) }
func BenchmarkSealXChaCha120(b *testing.B) { benchSeal(b, ModeXChaCha20Poly1305) }

func benchSeal(b *testing.B, mode string) {
	c, err := NewCipher(mode, testKey)
	if err != nil {
		b.Fatal(err)
	}
	p := NewPacketizer(c, 1, 0, 0)
	frame := bytes.Repeat([]byte{0x5A}, 120)
	buf := make([]byte, HeaderSize, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.Packet(append(buf[:HeaderSize], frame...))
	}
}

// FuzzOpen feeds arbitrary packets to Open: no panics, and an accepted
// packet's payload lies inside the packet's size.
func FuzzOpen(f *testing.F) {
	c, err := NewCipher(ModeAES256GCM, testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Seal(withRoom([]byte{0xF8, 0xFF, 0xFE}), Header{Sequence: 1, Timestamp: 960, SSRC: 7}, 3))
	f.Add([]byte{0x90, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, packet []byte) {
		c, err := NewCipher(ModeAES256GCM, testKey)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Open(nil, packet)
		if err == nil && len(p.Payload)+len(p.Extension)+HeaderSize+16+4 > len(packet) {
			t.Fatalf("opened %d+%d bytes from a %d-byte packet", len(p.Extension), len(p.Payload), len(packet))
		}
		_, _, _ = ParseDiscoveryResponse(packet)
	})
}

func TestOpenPadding(t *testing.T) {
	header := []byte{0x80 | paddingBit, 0x78, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}
	ref := referenceAEAD(t, ModeAES256GCM)
	nonce := make([]byte, ref.NonceSize())
	seal := func(plain []byte) []byte {
		pkt := append(append([]byte{}, header...), ref.Seal(nil, nonce, plain, header)...)
		return append(pkt, 0, 0, 0, 0)
	}
	c, err := NewCipher(ModeAES256GCM, testKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Open(nil, seal([]byte{0xAA, 0xBB, 0, 0, 3}))
	if err != nil || !bytes.Equal(p.Payload, []byte{0xAA, 0xBB}) {
		t.Fatalf("padded packet = %x, %v; want aabb", p.Payload, err)
	}
	if _, err := c.Open(nil, seal([]byte{0xAA, 9})); !errors.Is(err, ErrShortPacket) {
		t.Fatalf("padding longer than the payload: err %v", err)
	}
}
