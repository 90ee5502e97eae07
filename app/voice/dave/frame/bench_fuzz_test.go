package frame

import (
	"bytes"
	"testing"
)

func BenchmarkEncryptOpus120(b *testing.B) {
	enc := NewEncryptor(newTestRatchet(b, 1))
	opus := bytes.Repeat([]byte{0x5A}, 120)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(opus)))
	for b.Loop() {
		var err error
		if buf, err = enc.EncryptOpus(buf[:0], opus); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecryptOpus120(b *testing.B) {
	enc := NewEncryptor(newTestRatchet(b, 1))
	opus := bytes.Repeat([]byte{0x5A}, 120)
	frames := make([][]byte, 4096)
	for i := range frames {
		f, err := enc.EncryptOpus(nil, opus)
		if err != nil {
			b.Fatal(err)
		}
		frames[i] = f
	}
	out := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(opus)))
	i := 0
	var dec *Decryptor
	for b.Loop() {
		// Each frame decrypts once; a new Decryptor per pass avoids replays.
		if i%len(frames) == 0 {
			dec = NewDecryptor(nil)
			dec.TransitionToRatchet(newTestRatchet(b, 1))
		}
		var err error
		if out, err = dec.Decrypt(out[:0], frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// FuzzDecrypt feeds arbitrary frames to a Decryptor holding the key of the
// seed frames, passthrough off: it must never panic, and what it accepts is a
// protocol frame whose plaintext has the length of its media part.
func FuzzDecrypt(f *testing.F) {
	enc := NewEncryptor(newTestRatchet(f, 1))
	for _, media := range [][]byte{{0x01}, bytes.Repeat([]byte{0x5A}, 120)} {
		frame, err := enc.EncryptOpus(nil, media)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add(Silence)
	f.Add([]byte{0xFA, 0xFA})
	f.Fuzz(func(t *testing.T, frame []byte) {
		dec := NewDecryptor(nil)
		dec.TransitionToRatchet(newTestRatchet(t, 1))
		got, err := dec.Decrypt(nil, frame)
		if err != nil {
			return
		}
		if _, perr := Parse(frame); perr == nil && len(got) != len(frame)-int(frame[len(frame)-3]) {
			t.Fatalf("decrypted %d bytes from a %d-byte frame", len(got), len(frame))
		}
	})
}
