package frame

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestRatchet(t testing.TB, seed byte) *Ratchet {
	t.Helper()
	secret := bytes.Repeat([]byte{seed}, BaseSecretSize)
	r, err := NewRatchet(secret)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeClock is a settable clock for key expiry.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func TestULEB128(t *testing.T) {
	tests := []struct {
		name string
		v    uint64
		enc  []byte
	}{
		{"zero", 0, []byte{0x00}},
		{"one byte max", 127, []byte{0x7F}},
		{"two bytes", 128, []byte{0x80, 0x01}},
		{"624485", 624485, []byte{0xE5, 0x8E, 0x26}},
		{"uint32 max", 0xFFFFFFFF, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}},
		{"uint64 max", ^uint64(0), []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.enc, appendULEB128(nil, tt.v)); diff != "" {
				t.Errorf("encoding (-want +got):\n%s", diff)
			}
			v, n, err := readULEB128(append(tt.enc, 0xAA))
			if err != nil || v != tt.v || n != len(tt.enc) {
				t.Errorf("read = %d, %d, %v; want %d, %d", v, n, err, tt.v, len(tt.enc))
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x80}, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, bytes.Repeat([]byte{0x80}, 11)} {
		if _, _, err := readULEB128(bad); err == nil {
			t.Errorf("readULEB128(%x) succeeded", bad)
		}
	}
}

// TestEncryptOpusLayout checks a frame byte for byte against AES-128-GCM
// applied by hand with the generation 0 key.
func TestEncryptOpusLayout(t *testing.T) {
	opus := []byte("an opus frame of some length, 40 bytes!!")
	enc := NewEncryptor(newTestRatchet(t, 7))
	var got []byte
	var err error
	for range 2 {
		if got, err = enc.EncryptOpus(got[:0], opus); err != nil {
			t.Fatal(err)
		}
	}
	// Second frame: truncated nonce 2, little-endian in the nonce's last 4 bytes.
	key, _ := newTestRatchet(t, 7).Key(0)
	block, _ := aes.NewCipher(key[:])
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	nonce[8] = 2
	sealed := gcm.Seal(nil, nonce, opus, nil)
	want := append([]byte{}, sealed[:len(opus)+8]...)
	want = append(want, 0x02, 8+1+1+2, 0xFA, 0xFA)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("frame (-want +got):\n%s", diff)
	}
	p, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if p.Nonce != 2 || len(p.AppendRanges(nil)) != 0 || !bytes.Equal(p.Media, sealed[:len(opus)]) {
		t.Errorf("Parse = nonce %d, ranges %v, media %x", p.Nonce, p.AppendRanges(nil), p.Media)
	}
}

// TestEncryptorKey checks the keyless states a session keeps its
// Encryptor in: zero, and after a downgrade to no ratchet.
func TestEncryptorKey(t *testing.T) {
	opus := []byte("an opus frame")
	var enc Encryptor
	if enc.HasKey() {
		t.Fatal("the zero Encryptor has a key")
	}
	if _, err := enc.EncryptOpus(nil, opus); !errors.Is(err, ErrNoKey) {
		t.Fatalf("zero Encryptor: err %v, want ErrNoKey", err)
	}
	enc.SetRatchet(newTestRatchet(t, 7))
	if !enc.HasKey() {
		t.Fatal("no key after SetRatchet")
	}
	if _, err := enc.EncryptOpus(nil, opus); err != nil {
		t.Fatal(err)
	}
	enc.SetRatchet(nil)
	if enc.HasKey() {
		t.Fatal("a key after SetRatchet(nil)")
	}
	if _, err := enc.EncryptOpus(nil, opus); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after SetRatchet(nil): err %v, want ErrNoKey", err)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		media  []byte
		ranges []Range
	}{
		{"one byte", []byte{0x42}, nil},
		{"opus 120 bytes", bytes.Repeat([]byte{0xAB}, 120), nil},
		{"large", bytes.Repeat([]byte{0x01, 0x02, 0x03}, 400), nil},
		{"ranges", []byte("HEADERpayload-to-hideTRAILERmore"), []Range{{0, 6}, {21, 7}}},
		{"range at end", []byte("0123456789"), []Range{{8, 2}}},
		{"all unencrypted", []byte("meta"), []Range{{0, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := NewEncryptor(newTestRatchet(t, 1))
			dec := NewDecryptor(nil)
			dec.TransitionToRatchet(newTestRatchet(t, 1))
			for i := range 3 {
				frame, err := enc.seal(nil, tt.media, tt.ranges)
				if err != nil {
					t.Fatal(err)
				}
				if !IsProtocolFrame(frame) {
					t.Fatalf("frame %d fails the protocol frame check", i)
				}
				if diff := cmp.Diff(tt.ranges, mustParse(Parse(frame)).AppendRanges(nil)); diff != "" {
					t.Errorf("ranges (-want +got):\n%s", diff)
				}
				for _, r := range tt.ranges {
					if !bytes.Equal(frame[r.Offset:r.Offset+r.Size], tt.media[r.Offset:r.Offset+r.Size]) {
						t.Errorf("unencrypted range %v changed", r)
					}
				}
				got, err := dec.Decrypt(nil, frame)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if diff := cmp.Diff(tt.media, got); diff != "" {
					t.Fatalf("frame %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func mustParse(p Parsed, err error) Parsed {
	if err != nil {
		panic(err)
	}
	return p
}

func TestDecryptRejects(t *testing.T) {
	opus := bytes.Repeat([]byte{0x11}, 60)
	frame := func(t *testing.T) []byte {
		f, err := NewEncryptor(newTestRatchet(t, 1)).EncryptOpus(nil, opus)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name   string
		mangle func(t *testing.T, f []byte) []byte
		want   error
	}{
		{"flipped ciphertext", func(t *testing.T, f []byte) []byte { f[3] ^= 1; return f }, ErrAuth},
		{"flipped tag", func(t *testing.T, f []byte) []byte { f[len(opus)+1] ^= 0x80; return f }, ErrAuth},
		{"no marker", func(t *testing.T, f []byte) []byte { return f[:len(f)-1] }, ErrPassthrough},
		{"plain opus", func(t *testing.T, f []byte) []byte { return opus }, ErrPassthrough},
		{"supplemental size too big", func(t *testing.T, f []byte) []byte { f[len(f)-3] = 0xFF; return f }, ErrPassthrough},
		{"generation too far ahead", func(t *testing.T, f []byte) []byte {
			// Rewrite the nonce 1 to 0xFF000001: generation 255, beyond the gap.
			return append(append(f[:len(opus)+TagSize:len(opus)+TagSize], appendULEB128(nil, 0xFF000001)...), 8+5+1+2, 0xFA, 0xFA)
		}, ErrGeneration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := NewDecryptor(nil)
			dec.TransitionToRatchet(newTestRatchet(t, 1))
			_, err := dec.Decrypt(nil, tt.mangle(t, frame(t)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		dec := NewDecryptor(nil)
		dec.TransitionToRatchet(newTestRatchet(t, 2))
		if _, err := dec.Decrypt(nil, frame(t)); !errors.Is(err, ErrAuth) {
			t.Fatalf("err %v, want ErrAuth", err)
		}
	})
	t.Run("no ratchet", func(t *testing.T) {
		if _, err := NewDecryptor(nil).Decrypt(nil, frame(t)); !errors.Is(err, ErrNoKey) {
			t.Fatalf("err %v, want ErrNoKey", err)
		}
	})
}

func TestReplayAndReorder(t *testing.T) {
	enc := NewEncryptor(newTestRatchet(t, 1))
	var frames [][]byte
	for i := range 5 {
		f, err := enc.EncryptOpus(nil, []byte{byte(i), 1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	dec := NewDecryptor(nil)
	dec.TransitionToRatchet(newTestRatchet(t, 1))
	steps := []struct {
		frame int
		want  error
	}{
		{0, nil}, {0, ErrReplay}, {3, nil}, {1, nil}, {1, ErrReplay}, {2, nil}, {4, nil}, {3, ErrReplay}, {2, ErrReplay},
	}
	for i, s := range steps {
		got, err := dec.Decrypt(nil, frames[s.frame])
		if !errors.Is(err, s.want) {
			t.Fatalf("step %d (frame %d): err %v, want %v", i, s.frame, err, s.want)
		}
		if err == nil && got[0] != byte(s.frame) {
			t.Fatalf("step %d: decrypted frame %d", i, got[0])
		}
	}
}

func TestSilenceAndPassthrough(t *testing.T) {
	clk := newClock()
	dec := NewDecryptor(clk.now)
	enc := NewEncryptor(newTestRatchet(t, 1))
	silence, err := enc.EncryptOpus(nil, Silence)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(silence, Silence) {
		t.Fatalf("silence encrypted to %x", silence)
	}
	if got, err := dec.Decrypt(nil, Silence); err != nil || !bytes.Equal(got, Silence) {
		t.Fatalf("silence decrypt = %x, %v", got, err)
	}
	plain := []byte{0xFC, 0x01, 0x02}
	if _, err := dec.Decrypt(nil, plain); !errors.Is(err, ErrPassthrough) {
		t.Fatalf("plain frame with passthrough off: %v", err)
	}
	dec.SetPassthrough(true)
	if got, err := dec.Decrypt(nil, plain); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain frame with passthrough on = %x, %v", got, err)
	}
	dec.SetPassthrough(false)
	clk.advance(KeyExpiry - time.Millisecond)
	if _, err := dec.Decrypt(nil, plain); err != nil {
		t.Fatalf("plain frame within the grace: %v", err)
	}
	clk.advance(2 * time.Millisecond)
	if _, err := dec.Decrypt(nil, plain); !errors.Is(err, ErrPassthrough) {
		t.Fatalf("plain frame after the grace: %v", err)
	}
}

func TestEpochTransitionExpiry(t *testing.T) {
	clk := newClock()
	dec := NewDecryptor(clk.now)
	dec.TransitionToRatchet(newTestRatchet(t, 1))
	oldEnc := NewEncryptor(newTestRatchet(t, 1))
	newEnc := NewEncryptor(newTestRatchet(t, 2))
	encrypt := func(e *Encryptor) []byte {
		f, err := e.EncryptOpus(nil, []byte("media"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if _, err := dec.Decrypt(nil, encrypt(oldEnc)); err != nil {
		t.Fatal(err)
	}
	dec.TransitionToRatchet(newTestRatchet(t, 2))
	if _, err := dec.Decrypt(nil, encrypt(newEnc)); err != nil {
		t.Fatalf("new epoch frame: %v", err)
	}
	clk.advance(KeyExpiry)
	if _, err := dec.Decrypt(nil, encrypt(oldEnc)); err != nil {
		t.Fatalf("old epoch frame within expiry: %v", err)
	}
	clk.advance(time.Millisecond)
	if _, err := dec.Decrypt(nil, encrypt(oldEnc)); !errors.Is(err, ErrAuth) {
		t.Fatalf("old epoch frame after expiry: err %v, want ErrAuth", err)
	}
	if _, err := dec.Decrypt(nil, encrypt(newEnc)); err != nil {
		t.Fatalf("new epoch frame after old expiry: %v", err)
	}
}

func TestGenerationRollover(t *testing.T) {
	clk := newClock()
	enc := NewEncryptor(newTestRatchet(t, 1))
	dec := NewDecryptor(clk.now)
	dec.TransitionToRatchet(newTestRatchet(t, 1))
	// Jump to the last frames of generation 0 without sealing 2^24 frames.
	enc.counter = 1<<generationShift - 4
	var frames [][]byte // frames 0-2 in generation 0, 3-4 in generation 1
	for range 5 {
		f, err := enc.EncryptOpus(nil, []byte("media"))
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if enc.gen != 1 {
		t.Fatalf("encryptor generation %d, want 1", enc.gen)
	}
	if _, err := enc.ratchet.Key(0); !errors.Is(err, ErrKeyErased) {
		t.Errorf("encryptor kept generation 0's key: %v", err)
	}
	// A late generation 0 frame is accepted within the expiry, then refused.
	for _, i := range []int{0, 3, 1, 4} {
		if _, err := dec.Decrypt(nil, frames[i]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	clk.advance(KeyExpiry + time.Millisecond)
	if _, err := dec.Decrypt(nil, frames[2]); !errors.Is(err, ErrGeneration) {
		t.Fatalf("late generation 0 frame after expiry: err %v, want ErrGeneration", err)
	}
}

func TestParseRejects(t *testing.T) {
	tail := func(supp byte) []byte { return []byte{supp, 0xFA, 0xFA} }
	tag := make([]byte, TagSize)
	build := func(media []byte, footer ...byte) []byte {
		f := append(append([]byte{}, media...), tag...)
		f = append(f, footer...)
		return append(f, tail(byte(TagSize+len(footer)+3))...)
	}
	tests := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"short", []byte{0xFA, 0xFA}},
		{"supplemental below minimum", append(make([]byte, 20), tail(5)...)},
		{"unterminated nonce", build([]byte("media"), 0x80)},
		{"nonce above 32 bits", build([]byte("media"), 0x80, 0x80, 0x80, 0x80, 0x10)},
		{"range past media", build([]byte("media"), 0x01, 0x03, 0x05)},
		{"ranges overlap", build([]byte("media"), 0x01, 0x00, 0x03, 0x02, 0x01)},
		{"ranges descend", build([]byte("media"), 0x01, 0x03, 0x01, 0x00, 0x01)},
		{"range size missing", build([]byte("media"), 0x01, 0x03)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.frame); !errors.Is(err, ErrNotProtocolFrame) {
				t.Fatalf("err %v, want ErrNotProtocolFrame", err)
			}
		})
	}
	if _, err := Parse(build([]byte("media"), 0x01, 0x00, 0x02, 0x03, 0x02)); err != nil {
		t.Fatalf("valid ranges rejected: %v", err)
	}
}
